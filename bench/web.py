"""Web benchmark (`make bench-web`, PostgreSQL); prints one JSON line at the end.

With 100,000 loans loaded (the quarterly-report benchmark's federation: 45 superior unions,
9,360 grassroots unions, borrowers, applications, loans and their ledger, plus a 12-installment
schedule per loan written by one INSERT … SELECT, and each loan's own journal — disbursement and
three repayments, ~1.1 million ledger lines with their loan-book rows, netting to zero so the
federation's balances stay), the app is served by gunicorn exactly as in production (DEBUG off,
deploy/gunicorn.conf.py) and 8 concurrent clients, each signed in with its own session, request
the fund officer's dashboard, the loan list, a loan page (a random loan each time), the
auditor's trial balance and the inbox of a fund, a superior union's and a grassroots union's
officer (``inbox_pages``), a superior union's page and a grassroots union's page as their
officers open them and the fund officer's PAR page by grassroots union (``union_pages``) in
turn. Printed: median and p95 latency per page (target p95 under 300 ms), and the CPU per
request of the gunicorn workers and of the PostgreSQL backends (read from /proc, so the
database must run on this host; far steadier than latency while others share the machine).
Then bench/web_api.py measures API repayments posted per second.

The database named in BENCH_DATABASE_URL (default trovon_bench_web) is dropped, created,
migrated and dropped again at the end. Sizes: BENCH_REPORT_LOANS (100,000 loans),
BENCH_CLIENTS (8), BENCH_ROUNDS (25 rounds of the pages per client, after BENCH_WARMUP_ROUNDS (1)
untimed). bench/web_single.py times the same pages one at a time in one process, against a
database kept with BENCH_KEEP=1.

Building 100,000 loans takes minutes; BENCH_SAVE_TEMPLATE=<name> keeps a copy of the built
database under that name, and BENCH_TEMPLATE=<name> starts from such a copy
(``CREATE DATABASE … TEMPLATE``, then ``migrate`` for migrations added since) instead of building.
The API benchmark uses its own database (the pages' name with ``_api`` appended).
"""

from __future__ import annotations

import atexit
import http.client
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
os.environ.setdefault("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/trovon_bench_web")
sys.path.insert(0, str(BENCH))

import jobs_report  # noqa: E402  (sets up the environment for Django and the database)

CLIENTS = int(os.environ.get("BENCH_CLIENTS", 8))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 25))
# Rounds each client runs first, untimed: a worker's first requests compile templates, open its
# database connection and fill PostgreSQL's caches, which a serving site has long done (with 8
# clients and 10 rounds those 8 cold requests a page would be its slowest 10%: its p95).
WARMUP_ROUNDS = int(os.environ.get("BENCH_WARMUP_ROUNDS", 1))
PORT = int(os.environ.get("BENCH_PORT", 8765))
log = jobs_report.log


def add_schedules() -> int:
    """Twelve monthly installments per loan, set-based (the loan page shows the schedule)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO loans_installment (
                loan_id, number, schedule_version, due_date,
                principal_due, principal_due_currency, interest_due, interest_due_currency,
                savings_due, savings_due_currency, principal_paid, principal_paid_currency,
                interest_paid, interest_paid_currency, penalty_due, penalty_due_currency,
                penalty_paid, penalty_paid_currency, savings_paid, savings_paid_currency,
                balance_after, balance_after_currency, status, overdue)
            SELECT l.id, g.n, 1, (l.disbursed_on + make_interval(months => g.n))::date,
                   l.principal / 12, 'VND', 100000, 'VND', 0, 'VND', 0, 'VND',
                   0, 'VND', 0, 'VND', 0, 'VND', 0, 'VND',
                   l.principal - l.principal / 12 * g.n, 'VND', 'pending', false
            FROM loans_loan l CROSS JOIN generate_series(1, 12) AS g(n)
            """
        )
        count = cur.rowcount
        cur.execute("ANALYZE")
    return count


def add_ledger_lines() -> int:
    """Each loan's own journal, set-based: its disbursement (Dr 1283 / Cr 1121) and three
    repayments (Dr 1121 / Cr 1283 principal / Cr 5151 interest), with the loan-book rows that
    point at them (the loan page lists them). The principal repaid equals the principal lent,
    so the balances the federation's ledger already carries do not move, but the journal holds
    the ~1.1 million lines of a real book of this size (the trial balance reads them)."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "SELECT code, id FROM accounting_account WHERE code IN ('1121', '1283', '5151')"
        )
        acc = dict(cur.fetchall())
        cur.execute(
            """
            CREATE TEMP TABLE bench_ops ON COMMIT DROP AS
            SELECT l.id AS loan_id, l.fund_id, l.superior_union_id AS su,
                   l.grassroots_union_id AS gu, k,
                   (l.disbursed_on + make_interval(months => k))::date AS d,
                   CASE WHEN k = 0 THEN l.principal
                        WHEN k < 3 THEN round(l.principal / 3)
                        ELSE l.principal - 2 * round(l.principal / 3) END AS p,
                   CASE WHEN k = 0 THEN 0 ELSE 100000 END AS i,
                   l.id::text || '-' || k AS doc
            FROM loans_loan l CROSS JOIN generate_series(0, 3) AS g(k)
            """
        )
        cur.execute(
            """
            INSERT INTO accounting_journalentry (effective_date, recorded_at, memo,
                document_type, document_id, idempotency_key, request_hash)
            SELECT d, now(), CASE WHEN k = 0 THEN 'Giải ngân' ELSE 'Thu nợ' END,
                   'bench', doc, 'bench-web-' || doc, md5(doc)
            FROM bench_ops
            """
        )
        cur.execute(
            """
            CREATE TEMP TABLE bench_legs ON COMMIT DROP AS
            SELECT e.id AS entry_id, o.*
            FROM bench_ops o JOIN accounting_journalentry e
              ON e.document_type = 'bench' AND e.document_id = o.doc
            """
        )
        cur.execute(
            """
            INSERT INTO accounting_posting (entry_id, account_id, amount, amount_currency,
                effective_date, fund_id, superior_union_id, grassroots_union_id, subledger)
            SELECT entry_id, a.account, a.amount, 'VND', d, fund_id, su, gu,
                   CASE WHEN a.account = %(loans)s THEN 'loan:' || loan_id ELSE '' END
            FROM bench_legs, LATERAL (VALUES
                (%(loans)s, CASE WHEN k = 0 THEN p ELSE -p END),
                (%(bank)s, CASE WHEN k = 0 THEN -p ELSE p + i END),
                (%(income)s, -i)) AS a(account, amount)
            WHERE a.amount <> 0
            ORDER BY entry_id
            """,
            {"loans": acc["1283"], "bank": acc["1121"], "income": acc["5151"]},
        )
        lines = cur.rowcount
        cur.execute(
            """
            INSERT INTO loans_loantransaction (loan_id, kind, effective_date,
                principal_change, principal_change_currency, interest, interest_currency,
                penalty, penalty_currency, savings, savings_currency, journal_entry_id,
                created_at)
            SELECT loan_id, CASE WHEN k = 0 THEN 'disbursement' ELSE 'repayment' END, d,
                   CASE WHEN k = 0 THEN p ELSE -p END, 'VND', i, 'VND', 0, 'VND', 0, 'VND',
                   entry_id, now()
            FROM bench_legs
            """
        )
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    return lines


def session_cookie(username: str, role: str, fund, **unit) -> str:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from fund.models import OfficerProfile
    from tests.helpers import two_factor_pass

    user = get_user_model().objects.filter(username=username).first()
    if user is None:  # a database copied from a template already has the bench's users
        user = get_user_model().objects.create_user(username, password="bench-only-password")
        OfficerProfile.objects.create(user=user, fund=fund, role=role, **unit)
    client = Client()
    client.force_login(user)
    two_factor_pass(client, user)  # fund officers and auditors: the second factor passed
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def _admin(info: dict):
    import psycopg

    return psycopg.connect(**{**info, "dbname": "postgres"}, autocommit=True)


def create_from_template(info: dict, template: str) -> None:
    with _admin(info) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{info["dbname"]}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{info["dbname"]}" TEMPLATE "{template}"')


def save_template(info: dict, template: str) -> None:
    from django.db import connections

    connections.close_all()  # CREATE DATABASE … TEMPLATE needs the source without sessions
    with _admin(info) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{template}" TEMPLATE "{info["dbname"]}"')


def inbox_pages(fund) -> tuple[dict, dict]:
    """The inbox of a fund officer, of a superior union's officer and of a grassroots union's
    officer (``loans.web.inbox``): the page counts every queue of the role afresh, so it is
    measured as each role's start page. Returns (pages, cookies)."""
    from fund.models import GrassrootsUnion, Role

    gu = GrassrootsUnion.objects.filter(superior_union__fund=fund).order_by("pk").first()
    su = gu.superior_union
    cookies = {
        "inbox_fund": session_cookie("bench-quy", Role.FUND_OFFICER, fund),
        "inbox_superior": session_cookie(
            "bench-capten", Role.SUPERIOR_OFFICER, fund, superior_union=su
        ),
        "inbox_grassroots": session_cookie(
            "bench-cdcs", Role.GRASSROOTS_OFFICER, fund, grassroots_union=gu
        ),
    }
    return {name: "/loans/inbox/" for name in cookies}, cookies


def union_pages(fund) -> tuple[dict, dict]:
    """A superior union's page (its quarterly report's attainment, grassroots unions' rows, loan
    book, arrears and PAR: ``reports.web.union_pages``) as its officer opens it, its largest
    grassroots union's page as that union's officer opens it, and the fund officer's PAR page
    by grassroots union. The PAR page reads the snapshot of a closed date:
    yesterday is recorded as closed and its snapshot written, as the close of business does.
    Returns (pages, cookies)."""
    from datetime import timedelta

    from django.db.models import Count
    from django.utils import timezone

    from fund.models import GrassrootsUnion, Role, SuperiorUnion
    from loans.models import CloseOfBusinessRun, Loan
    from loans.servicing.portfolio import portfolio_snapshot_write

    closed = timezone.localdate() - timedelta(days=1)
    CloseOfBusinessRun.objects.get_or_create(
        fund=fund,
        business_date=closed,
        defaults={"status": CloseOfBusinessRun.Status.DONE, "finished_at": timezone.now()},
    )
    portfolio_snapshot_write(fund_id=fund.pk, business_date=closed)
    from django.db import connection

    with connection.cursor() as cur:  # as autovacuum soon does after the close of business
        cur.execute("VACUUM ANALYZE loans_portfoliosnapshot")
    # The largest superior union: the page's figures are grouped over its loans.
    biggest = (
        Loan.objects.filter(fund=fund)
        .values("superior_union_id")
        .annotate(n=Count("id"))
        .order_by("-n", "superior_union_id")
        .first()
    )
    su = SuperiorUnion.objects.get(pk=biggest["superior_union_id"])
    # Its largest grassroots union: the page reads its row of the superior union's report.
    gu = GrassrootsUnion.objects.get(
        pk=Loan.objects.filter(superior_union=su)
        .values("grassroots_union_id")
        .annotate(n=Count("id"))
        .order_by("-n", "grassroots_union_id")
        .first()["grassroots_union_id"]
    )
    cookies = {
        "union_page": session_cookie(
            "bench-capten-union", Role.SUPERIOR_OFFICER, fund, superior_union=su
        ),
        "grassroots_page": session_cookie(
            "bench-cdcs-union", Role.GRASSROOTS_OFFICER, fund, grassroots_union=gu
        ),
        "par_page": session_cookie("bench-quy-par", Role.FUND_OFFICER, fund),
    }
    pages = {
        "union_page": f"/reports/unions/superior/{su.pk}/",
        "grassroots_page": f"/reports/unions/{gu.pk}/",
        "par_page": "/reports/portfolio-at-risk/?by=grassroots_union",
    }
    return pages, cookies


def collect_static(env: dict) -> None:
    """With DEBUG off the pages name static files through collectstatic's manifest, which a
    fresh checkout lacks (a 500 on every page): collect into a temporary STATIC_ROOT, removed
    when the benchmark ends."""
    root = tempfile.mkdtemp(prefix="trovon-bench-static-")
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    env["STATIC_ROOT"] = root
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=str(BENCH.parent),
        env=env,
        check=True,
    )


def start_server() -> subprocess.Popen:
    env = dict(os.environ, DEBUG="0", ALLOWED_HOSTS="127.0.0.1,localhost")
    env.setdefault("SECURE_SSL_REDIRECT", "0")  # plain HTTP on loopback, behind no proxy
    collect_static(env)
    # A Redis cache like production's (sessions and the login throttle live there); BENCH_CACHE_URL
    # picks the Redis database, "" runs without one.
    cache_url = os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/0")
    if cache_url:
        env["CACHE_URL"] = cache_url
    env["GUNICORN_BIND"] = f"127.0.0.1:{PORT}"
    env["FORWARDED_ALLOW_IPS"] = "127.0.0.1"
    if workers := os.environ.get("BENCH_GUNICORN_WORKERS"):
        env["WEB_CONCURRENCY"] = workers
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            # Production's settings (workers: one a core and one); BENCH_GUNICORN_WORKERS
            # and BENCH_GUNICORN_THREADS to try others.
            "--config",
            "deploy/gunicorn.conf.py",
            "--threads",
            os.environ.get("BENCH_GUNICORN_THREADS", "1"),
            "--log-level",
            "warning",
        ],
        cwd=str(BENCH.parent),
        env=env,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", PORT), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("gunicorn did not start")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far, from /proc (0 once it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def cpu_snapshot(server: subprocess.Popen, info: dict) -> dict[str, dict[int, float]]:
    """CPU used so far by the gunicorn workers and by the PostgreSQL backends serving the
    benchmark's database (both on this host): the work per request, which the latencies of a
    shared two-core machine only hint at."""
    import psycopg

    with psycopg.connect(**info, autocommit=True) as c:
        pids = [
            r[0]
            for r in c.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            )
        ]
    return {
        "app": {p: _cpu_seconds(p) for p in [server.pid, *_children(server.pid)]},
        "db": {p: _cpu_seconds(p) for p in pids},
    }


def cpu_per_request(before: dict, after: dict, requests: int) -> dict:
    out = {}
    for side in ("app", "db"):
        used = sum(t - before[side].get(p, 0.0) for p, t in after[side].items())
        out[f"cpu_ms_per_request_{side}"] = round(used * 1000 / max(requests, 1), 1)
    return out


def fetch(conn: http.client.HTTPConnection, path: str, cookie: str) -> float:
    headers = {
        "Cookie": cookie,
        "Host": "127.0.0.1",
        "X-Forwarded-Proto": "https",
        "Accept-Language": "vi",
    }
    t = time.perf_counter()
    conn.request("GET", path, headers=headers)
    resp = conn.getresponse()
    resp.read()
    elapsed = time.perf_counter() - t
    if resp.status != 200:
        raise RuntimeError(f"GET {path} answered {resp.status}")
    return elapsed


def measure(pages: dict[str, object], cookies: dict[str, str], snapshot) -> tuple[dict, tuple]:
    """Each client runs WARMUP_ROUNDS untimed, then ROUNDS timed; `snapshot()` is taken when
    every client has warmed up and again at the end (the CPU of the timed requests only)."""
    timings: dict[str, list[float]] = {name: [] for name in pages}
    errors: list[str] = []
    lock = threading.Lock()
    warmed, go = threading.Barrier(CLIENTS + 1), threading.Barrier(CLIENTS + 1)

    def rounds(conn, rng, n: int, record: bool) -> None:
        for _ in range(n):
            for name, path in pages.items():
                p = path(rng) if callable(path) else path
                elapsed = fetch(conn, p, cookies[name])
                if record:
                    with lock:
                        timings[name].append(elapsed)

    def client(seed: int) -> None:
        rng = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
        try:
            try:
                rounds(conn, rng, WARMUP_ROUNDS, record=False)
            finally:
                warmed.wait()
                go.wait()
            rounds(conn, rng, ROUNDS, record=True)
        except Exception as e:  # noqa: BLE001 — reported in the figures
            with lock:
                errors.append(repr(e))
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for th in threads:
        th.start()
    warmed.wait()
    before = snapshot()
    t = time.perf_counter()
    go.wait()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t
    out: dict = {"requests": sum(len(v) for v in timings.values()), "wall_seconds": round(wall, 1)}
    for name, values in timings.items():
        values.sort()
        if values:
            p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
            out[f"{name}_median_ms"] = round(statistics.median(values) * 1000, 1)
            out[f"{name}_p95_ms"] = round(p95 * 1000, 1)
            out[f"{name}_p95_under_300ms"] = p95 < 0.3
    if errors:
        out["errors"] = errors[:5]
    return out, (before, snapshot())


def main() -> None:
    started = time.perf_counter()
    info = jobs_report._conninfo()
    template = os.environ.get("BENCH_TEMPLATE")
    if template:
        create_from_template(info, template)
    else:
        jobs_report.recreate_database(info)
    import django

    django.setup()
    from django.core.management import call_command

    figures: dict = {}
    server = None
    try:
        call_command("migrate", verbosity=0)
        from fund.models import Fund, Role
        from loans.models import Installment, Loan

        if template:
            from django.db import connection

            with connection.cursor() as cur:
                cur.execute("VACUUM ANALYZE")  # as autovacuum keeps a live database
            fund = Fund.objects.get(code="HN")
            figures["installments"] = Installment.objects.count()
            figures["template"] = template
        else:
            t = time.perf_counter()
            fund = jobs_report.build_federation()["fund"]
            figures["installments"] = add_schedules()
            figures["ledger_lines_added"] = add_ledger_lines()
            figures["build_seconds"] = round(time.perf_counter() - t, 1)
            if os.environ.get("BENCH_SAVE_TEMPLATE"):
                save_template(info, os.environ["BENCH_SAVE_TEMPLATE"])
        ids = list(Loan.objects.values_list("pk", flat=True))
        figures["loans"] = len(ids)
        log(f"built {len(ids)} loans, {figures['installments']} installments")
        officer = session_cookie("bench-quy", Role.FUND_OFFICER, fund)
        auditor = session_cookie("bench-kiemtoan", Role.AUDITOR, fund)
        from django.db import connections

        connections.close_all()
        server = start_server()
        pages = {
            "dashboard": "/loans/dashboard/",
            "loan_list": "/loans/",
            "loan_page": lambda rng: f"/loans/{rng.choice(ids)}/",
            "trial_balance": "/audit/trial-balance/",
        }
        cookies = {"dashboard": officer, "loan_list": officer, "loan_page": officer}
        cookies["trial_balance"] = auditor
        more_pages, more_cookies = inbox_pages(fund)
        pages.update(more_pages)
        cookies.update(more_cookies)
        union_more, union_cookies = union_pages(fund)
        pages.update(union_more)
        cookies.update(union_cookies)
        # Each client warms up (imports, templates, connections, PostgreSQL caches), then
        # measures; the CPU counts from when all are warm.
        measured, (cpu_before, cpu_after) = measure(
            pages, cookies, lambda: (cpu_snapshot(server, info), time.process_time())
        )
        figures.update(measured)
        # Backends opened during the run count from zero; those that closed are missed (none
        # should: CONN_MAX_AGE keeps each thread's connection).
        figures.update(cpu_per_request(cpu_before[0], cpu_after[0], figures["requests"]))
        figures["cpu_ms_per_request_clients"] = round(
            (cpu_after[1] - cpu_before[1]) * 1000 / max(figures["requests"], 1), 1
        )
        figures["clients"] = CLIENTS
        figures["load_average_1min"] = round(os.getloadavg()[0], 2)  # others on the machine
        for name in pages:
            log(
                f"{name:>14}: median {figures.get(f'{name}_median_ms')} ms, "
                f"p95 {figures.get(f'{name}_p95_ms')} ms"
            )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if not jobs_report.KEEP:
            jobs_report.drop_database(info)
    figures["seconds"] = round(time.perf_counter() - started, 1)
    if os.environ.get("BENCH_API", "1") == "0":  # pages only, while iterating on them
        print(json.dumps({"bench": "web", **figures}, ensure_ascii=False))
        return
    api_env = dict(os.environ, BENCH_DATABASE_URL=os.environ["BENCH_DATABASE_URL"] + "_api")
    api = subprocess.run(
        [sys.executable, str(BENCH / "web_api.py")], stdout=subprocess.PIPE, text=True, env=api_env
    )
    lines = api.stdout.strip().splitlines()
    print("\n".join(lines[:-1]), flush=True)
    try:
        figures["api"] = json.loads(lines[-1])
    except (IndexError, ValueError):
        figures["api"] = {"error": f"bench/web_api.py exit {api.returncode}"}
    print(json.dumps({"bench": "web", **figures}, ensure_ascii=False))


if __name__ == "__main__":
    main()
