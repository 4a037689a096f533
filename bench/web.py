"""Web benchmark (`make bench-web`, PostgreSQL); prints one JSON line at the end.

With 100,000 loans loaded (the quarterly-report benchmark's federation: 45 superior unions,
9,360 grassroots unions, borrowers, applications, loans and their ledger, plus a 12-installment
schedule per loan written by one INSERT … SELECT), the app is served by gunicorn exactly as in
production (DEBUG off) and 8 concurrent clients, each signed in with its own session, request
the fund officer's dashboard, the loan list, a loan page (a random loan each time) and the
auditor's trial balance in turn. Printed: median and p95 latency per page (target p95 under
300 ms). Then bench/web_api.py measures API repayments posted per second.

The database named in BENCH_DATABASE_URL (default trovon_bench_web) is dropped, created,
migrated and dropped again at the end. Sizes: BENCH_REPORT_LOANS (100,000 loans),
BENCH_CLIENTS (8), BENCH_ROUNDS (25 rounds of the four pages per client).
"""

from __future__ import annotations

import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
os.environ.setdefault("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/trovon_bench_web")
sys.path.insert(0, str(BENCH))

import jobs_report  # noqa: E402  (sets up the environment for Django and the database)

CLIENTS = int(os.environ.get("BENCH_CLIENTS", 8))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 25))
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


def session_cookie(username: str, role: str, fund) -> str:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from fund.models import OfficerProfile

    user = get_user_model().objects.create_user(username, password="bench-only-password")
    OfficerProfile.objects.create(user=user, fund=fund, role=role)
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def start_server() -> subprocess.Popen:
    env = dict(os.environ, DEBUG="0", ALLOWED_HOSTS="127.0.0.1,localhost")
    env.setdefault("SECURE_SSL_REDIRECT", "0")  # plain HTTP on loopback, behind no proxy
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--workers",
            "3",
            "--threads",
            "3",
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


def measure(pages: dict[str, object], cookies: dict[str, str]) -> dict:
    timings: dict[str, list[float]] = {name: [] for name in pages}
    errors: list[str] = []
    lock = threading.Lock()

    def client(seed: int) -> None:
        rng = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
        try:
            for _ in range(ROUNDS):
                for name, path in pages.items():
                    p = path(rng) if callable(path) else path
                    elapsed = fetch(conn, p, cookies[name])
                    with lock:
                        timings[name].append(elapsed)
        except Exception as e:  # noqa: BLE001 — reported in the figures
            with lock:
                errors.append(repr(e))
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    t = time.perf_counter()
    for th in threads:
        th.start()
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
    return out


def main() -> None:
    started = time.perf_counter()
    info = jobs_report._conninfo()
    jobs_report.recreate_database(info)
    import django

    django.setup()
    from django.core.management import call_command

    figures: dict = {}
    server = None
    try:
        call_command("migrate", verbosity=0)
        t = time.perf_counter()
        built = jobs_report.build_federation()
        figures["installments"] = add_schedules()
        figures["build_seconds"] = round(time.perf_counter() - t, 1)
        from fund.models import Role
        from loans.models import Loan

        fund = built["fund"]
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
        # Warm up each page once (imports, templates, PostgreSQL caches), then measure.
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
        for name, path in pages.items():
            fetch(conn, path(random.Random(0)) if callable(path) else path, cookies[name])
        conn.close()
        figures.update(measure(pages, cookies))
        figures["clients"] = CLIENTS
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
    api = subprocess.run(
        [sys.executable, str(BENCH / "web_api.py")], stdout=subprocess.PIPE, text=True
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
