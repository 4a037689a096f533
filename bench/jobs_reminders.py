"""Reminders benchmark (`python bench/jobs_reminders.py`); prints one JSON line at the end.

On PostgreSQL: BENCH_INSTALLMENTS (default 100,000) unpaid installments of active loans (five per
loan, in 100 grassroots unions with one officer each), their due dates spread over the windows of
the default stages on the business date, so that every one of them reaches a stage. Measured:

* ``reminders_prepared_per_second`` — ``reminders_prepare`` (one INSERT … SELECT … ON CONFLICT DO
  NOTHING) recording one delivery per installment;
* ``rerun_prepare_ms`` — the same day again (creates nothing: the at-most-once guarantee);
* ``digests_ms`` — one digest per grassroots officer;
* ``sends_per_second`` — ``reminder_deliveries_send`` (claim, compose from the Vietnamese
  template, send, record) for BENCH_SENDS deliveries through a null SMS backend, in batches of
  500 as the tasks do.

Data are generated with bulk inserts (the services are measured by bench/loans.py). The database
named in BENCH_DATABASE_URL (default trovon_bench_reminders) is dropped, created, migrated and
dropped again at the end.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ["DEBUG"] = "0"
os.environ.setdefault("SECRET_KEY", "benchmark-only-" + "x" * 40)
os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/trovon_bench_reminders"
)
os.environ["SMS_BACKEND"] = "bench.jobs_reminders.NullSmsBackend"

import psycopg  # noqa: E402
from psycopg.conninfo import conninfo_to_dict  # noqa: E402

N_INSTALLMENTS = int(os.environ.get("BENCH_INSTALLMENTS", 100_000))
N_SENDS = int(os.environ.get("BENCH_SENDS", 5_000))
PER_LOAN = 5
UNIONS = 100
BUSINESS_DATE = date(2026, 6, 15)


class NullSmsBackend:
    idempotent = True

    def send(self, *, to: str, text: str, key: str) -> str:
        return key


def log(msg: str) -> None:
    print(msg, flush=True)


def _conninfo() -> dict:
    info = conninfo_to_dict(os.environ["DATABASE_URL"])
    if info.get("dbname", "") in ("", "postgres"):
        raise SystemExit("BENCH_DATABASE_URL must name a benchmark database (it is dropped)")
    return info


def recreate_database(info: dict) -> None:
    with psycopg.connect(**{**info, "dbname": "postgres"}, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{info["dbname"]}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{info["dbname"]}"')


def drop_database(info: dict) -> None:
    from django.db import connections

    connections.close_all()
    with psycopg.connect(**{**info, "dbname": "postgres"}, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{info["dbname"]}" WITH (FORCE)')


def due_dates() -> list[date]:
    """Due dates that reach one of the default stages on BUSINESS_DATE (within catch-up)."""
    offsets = [-3, -2, -1, 0, 1, 2, 3, 7, 8, 9, 10, 30, 31, 35, 37]
    return [BUSINESS_DATE - timedelta(days=o) for o in offsets]


def generate() -> int:
    """Fund, unions, officers, borrowers, applications, loans and installments, in bulk."""
    from django.contrib.auth import get_user_model

    from fund.models import Fund, GrassrootsUnion, OfficerProfile, Role, SuperiorUnion
    from loans.models import (
        Borrower,
        Installment,
        Loan,
        LoanApplication,
        LoanProduct,
    )
    from loans.terms import default_allocation_order, default_debt_groups

    # Loans of past months are posted through the services: back-dating needs no reason here.
    fund = Fund.objects.create(
        code="HN", name="Quỹ Trợ vốn CNVCLĐ nghèo Hà Nội", backdate_open_months=120
    )
    su = SuperiorUnion.objects.create(fund=fund, code="LB", name="LĐLĐ quận Long Biên")
    gus = GrassrootsUnion.objects.bulk_create(
        GrassrootsUnion(
            fund=fund,
            superior_union=su,
            code=f"LB-{i:03d}",
            name=f"CĐCS số {i}",
            kind="school",
            contact_name=f"Cán bộ {i}",
            contact_phone=f"02438{i:06d}",
        )
        for i in range(UNIONS)
    )
    User = get_user_model()
    users = User.objects.bulk_create(
        User(username=f"cdcs{i}", email=f"cdcs{i}@example.vn") for i in range(UNIONS)
    )
    OfficerProfile.objects.bulk_create(
        OfficerProfile(user=u, fund=fund, role=Role.GRASSROOTS_OFFICER, grassroots_union=g)
        for u, g in zip(users, gus, strict=True)
    )
    product = LoanProduct.objects.create(
        fund=fund,
        code="TVL",
        name="Cho vay tạo việc làm",
        min_amount=Decimal(2_000_000),
        max_amount=Decimal(50_000_000),
        min_term=6,
        max_term=36,
        rate=Decimal("0.55"),
    )
    n_loans = N_INSTALLMENTS // PER_LOAN
    borrowers = Borrower.objects.bulk_create(
        (
            Borrower(
                fund=fund,
                grassroots_union=gus[i % UNIONS],
                full_name=f"Nguyễn Thị Thành Viên {i}",
                date_of_birth=date(1985, 5, 17),
                sex="female",
                national_id=f"{i:012d}",
                phone=f"09{i:08d}",
                household_status="poor",
            )
            for i in range(n_loans)
        ),
        batch_size=5000,
    )
    common = {"purpose_kind": "crafts", "term": 12}
    apps = LoanApplication.objects.bulk_create(
        (
            LoanApplication(
                fund=fund,
                borrower=b,
                product=product,
                grassroots_union_id=b.grassroots_union_id,
                superior_union=su,
                amount=Decimal(12_000_000),
                purpose="Mua máy may",
                security_kind="group",
                status="disbursed",
                **common,
            )
            for b in borrowers
        ),
        batch_size=5000,
    )
    disbursed = BUSINESS_DATE - timedelta(days=200)
    loans = Loan.objects.bulk_create(
        (
            Loan(
                fund=fund,
                application=a,
                borrower_id=a.borrower_id,
                product=product,
                grassroots_union_id=a.grassroots_union_id,
                superior_union=su,
                principal=Decimal(12_000_000),
                outstanding_principal=Decimal(12_000_000),
                disbursed_on=disbursed,
                maturity_date=disbursed + timedelta(days=365),
                rate=Decimal("0.55"),
                rate_period="month",
                method="equal_principal",
                frequency="monthly",
                penalty_rate_period="year",
                savings_kind="none",
                allocation_order=default_allocation_order(),
                debt_groups=default_debt_groups(),
                **common,
            )
            for a in apps
        ),
        batch_size=5000,
    )
    dues = due_dates()
    Installment.objects.bulk_create(
        (
            Installment(
                loan=loan,
                number=n + 1,
                due_date=dues[(i * PER_LOAN + n) % len(dues)],
                principal_due=Decimal(1_000_000),
                interest_due=Decimal(66_000),
                balance_after=Decimal(12_000_000 - 1_000_000 * (n + 1)),
            )
            for i, loan in enumerate(loans)
            for n in range(PER_LOAN)
        ),
        batch_size=10000,
    )
    return fund.pk


def main() -> None:
    started = time.perf_counter()
    info = _conninfo()
    recreate_database(info)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count

    figures: dict = {}
    try:
        call_command("migrate", verbosity=0)
        t = time.perf_counter()
        fund_id = generate()
        with connection.cursor() as c:
            c.execute("ANALYZE")
        log(f"generated {N_INSTALLMENTS} installments in {time.perf_counter() - t:.1f} s")

        from loans.models import Installment, ReminderDelivery
        from loans.reminders.planning import (
            reminder_deliveries_send,
            reminder_digests_prepare,
            reminders_prepare,
        )

        figures["installments"] = Installment.objects.count()
        t = time.perf_counter()
        prepared = reminders_prepare(fund_id=fund_id, business_date=BUSINESS_DATE)
        elapsed = time.perf_counter() - t
        figures["reminders_prepared"] = prepared
        figures["prepare_seconds"] = round(elapsed, 2)
        figures["reminders_prepared_per_second"] = round(prepared / elapsed)
        log(f"prepared {prepared} reminders in {elapsed:.2f} s ({prepared / elapsed:,.0f}/s)")

        t = time.perf_counter()
        again = reminders_prepare(fund_id=fund_id, business_date=BUSINESS_DATE)
        figures["rerun_prepare_ms"] = round((time.perf_counter() - t) * 1000, 1)
        figures["rerun_created"] = again
        log(f"rerun of the same day: {again} created in {figures['rerun_prepare_ms']} ms")

        t = time.perf_counter()
        figures["digests"] = reminder_digests_prepare(fund_id=fund_id, business_date=BUSINESS_DATE)
        figures["digests_ms"] = round((time.perf_counter() - t) * 1000, 1)
        log(f"{figures['digests']} digests recorded in {figures['digests_ms']} ms")

        ids = list(
            ReminderDelivery.objects.filter(kind="installment")
            .order_by("pk")
            .values_list("pk", flat=True)[:N_SENDS]
        )
        t = time.perf_counter()
        sent = 0
        for start in range(0, len(ids), 500):
            sent += reminder_deliveries_send(ids=ids[start : start + 500]).sent
        elapsed = time.perf_counter() - t
        figures["sends_per_second"] = round(sent / elapsed, 1)
        log(f"sent {sent} reminders (null SMS backend) in {elapsed:.2f} s ({sent / elapsed:.0f}/s)")
        figures["by_stage"] = {
            row["stage"]: row["n"]
            for row in ReminderDelivery.objects.order_by("stage")
            .values("stage")
            .annotate(n=Count("pk"))
        }
    finally:
        drop_database(info)
    figures["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps({"bench": "jobs_reminders", **figures}, ensure_ascii=False))


if __name__ == "__main__":
    main()
