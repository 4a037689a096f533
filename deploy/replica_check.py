"""The read replica, for real (deploy/replica_test.sh starts a primary and a streaming replica
made from it by pg_basebackup): the auditor's pages, the reports and the exports read from the
replica, writes never go there (it is read-only: a write routed there would fail), a request
reads its own writes from the primary, and every other page reads from the primary alone."""

import os
import sys
import time

import django

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connections, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from config import db_router  # noqa: E402
from fund.models import Fund, OfficerProfile, Role  # noqa: E402


def check(condition, message):
    if not condition:
        raise SystemExit(f"replica check FAILED: {message}")
    print(f"ok: {message}")


def wait_replica(predicate, what):
    for _ in range(100):
        if predicate():
            return
        time.sleep(0.1)
    raise SystemExit(f"replica check FAILED: the replica never saw {what}")


with connections["replica"].cursor() as cur:
    cur.execute("SELECT pg_is_in_recovery()")
    check(cur.fetchone()[0], "the replica is a hot standby (read-only)")

call_command("migrate", verbosity=0)
# Password sign-in only: the second factor has its own tests (tests/security).
fund = Fund.objects.create(
    code="RPL", name="Quỹ thử", federation_name="LĐLĐ thử", two_factor_required=False
)
user = get_user_model().objects.create_user("kiemtoan_rpl", password="Replica-pass-2027!")
OfficerProfile.objects.create(user=user, fund=fund, role=Role.AUDITOR)
wait_replica(
    lambda: get_user_model().objects.using("replica").filter(pk=user.pk).exists(), "the user"
)
client = Client(HTTP_HOST="localhost")
client.force_login(user)


def touched(ctx, table_prefix):
    return [q["sql"] for q in ctx.captured_queries if table_prefix in q["sql"]]


for url in ("/audit/trial-balance/", "/audit/trial-balance/?format=xlsx", "/reports/"):
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections["replica"]) as replica,
    ):
        response = client.get(url)
    check(response.status_code == 200, f"{url} answers 200 ({response.status_code})")
    check(len(replica.captured_queries) > 0, f"{url} read from the replica")
    check(
        not touched(primary, '"accounting_') and not touched(primary, '"reports_'),
        f"{url} read no book or report from the primary",
    )

with (
    CaptureQueriesContext(connections["default"]) as primary,
    CaptureQueriesContext(connections["replica"]) as replica,
):
    response = client.get("/loans/")
check(response.status_code in (200, 403), f"/loans/ answers ({response.status_code})")
check(not replica.captured_queries, "a page outside reports/audit/exports reads the primary only")

# Inside a replica-readable request: writes go to the primary (the standby would refuse them),
# a read after a write sees it, and reads inside a transaction stay on the primary.
token = db_router._reads_on_replica.set(True)
wrote = db_router._wrote.set(False)
try:
    with CaptureQueriesContext(connections["replica"]) as replica:
        Fund.objects.count()
    check(len(replica.captured_queries) == 1, "a plain read goes to the replica")
    with transaction.atomic(), CaptureQueriesContext(connections["replica"]) as replica:
        Fund.objects.select_for_update().filter(pk=fund.pk).first()
    check(not replica.captured_queries, "a read inside a transaction stays on the primary")
    Fund.objects.create(code="RPL2", name="Quỹ mới", federation_name="LĐLĐ thử")
    check(True, "a write during a replica-readable request went to the primary")
    with CaptureQueriesContext(connections["replica"]) as replica:
        seen = Fund.objects.filter(code="RPL2").exists()
    check(seen and not replica.captured_queries, "the request reads its own write (primary)")
finally:
    db_router._wrote.reset(wrote)
    db_router._reads_on_replica.reset(token)
print("replica check passed")
