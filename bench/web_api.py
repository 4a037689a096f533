"""API benchmark (`python bench/web_api.py`): repayments posted per second through the REST API;
prints one JSON line at the end (the lead combines it with the pages' benchmark, bench/web.py).

On PostgreSQL, with production settings (DEBUG off), a fund like bench/loans.py's (members
imported, applications taken through the chain, loans disbursed through the services), then
``POST /api/v1/repayments/create/`` with a fund officer's token and an Idempotency-Key, through
Django's full request stack (middleware, DRF, token authentication, the access rule, the scope
lookup, the input serializer, ``repayment_post`` with its ledger entry and loan-book rows, the
output serializer): one client, then 4 clients in threads; then one remittance of a grassroots
union as a batch (``POST /api/v1/repayment-batches/create/``). In-process (Django's test client
speaks WSGI to the app), so the figures are the application's, without network or TLS.

The database named in BENCH_DATABASE_URL (default trovon_bench_web_api) is dropped, created,
migrated and dropped again. Sizes: BENCH_API_LOANS (default 200 loans), BENCH_API_REPAYMENTS
(default 600 repayments one by one, and as many again in threads).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import threading
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/trovon_bench_web_api"
)
# The application's own cost: no HTTPS redirect in-process (production terminates TLS before).
os.environ["SECURE_SSL_REDIRECT"] = "0"

from bench import loans as loans_bench  # noqa: E402  (sets the production settings and the db)

N_LOANS = int(os.environ.get("BENCH_API_LOANS", 200))
N_REPAYMENTS = int(os.environ.get("BENCH_API_REPAYMENTS", 600))
THREADS = 4
AMOUNT = 200_000


def log(msg: str) -> None:
    print(msg, flush=True)


def _client(token: str):
    from django.test import Client

    return Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Token {token}")


def post_repayments(token: str, loan_ids: list[int], n: int, *, prefix: str, threads: int = 1):
    """POST n repayments round-robin over the loans; returns (done, errors, latencies in ms)."""
    from django.db import connection

    today = date.today().isoformat()
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def work(part: range):
        client = _client(token)
        mine = []
        try:
            for i in part:
                body = {
                    "loan": loan_ids[i % len(loan_ids)],
                    "amount": {"amount": str(AMOUNT), "currency": "VND"},
                    "paid_on": today,
                }
                t = time.perf_counter()
                r = client.post(
                    "/api/v1/repayments/create/",
                    json.dumps(body),
                    content_type="application/json",
                    HTTP_IDEMPOTENCY_KEY=f"{prefix}-{i}",
                )
                mine.append((time.perf_counter() - t) * 1000)
                if r.status_code != 201:
                    with lock:
                        errors.append(f"{r.status_code} {r.content[:200]!r}")
        finally:
            with lock:
                latencies.extend(mine)
            if threads > 1:
                connection.close()

    if threads == 1:
        work(range(n))
    else:
        workers = [
            threading.Thread(target=work, args=(range(k, n, threads),)) for k in range(threads)
        ]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    if errors:
        log(f"errors: {errors[:3]}")
    return len(latencies) - len(errors), len(errors), latencies


def _p95(values: list[float]) -> float:
    return round(statistics.quantiles(values, n=20)[-1], 1) if len(values) > 1 else 0.0


def main() -> None:
    started = time.perf_counter()
    figures: dict = {}
    info = loans_bench._conninfo()
    loans_bench.recreate_database(info)
    import django

    django.setup()
    from django.core.management import call_command

    try:
        call_command("migrate", verbosity=0)
        from knox.models import AuthToken

        from loans.models import Borrower, Loan, Repayment
        from loans.origination.member_import import members_import

        fund, gus, people, makers, product = loans_bench.setup_fund()
        members_import(fund=fund, data=loans_bench.members_csv(gus, N_LOANS), format="csv")
        borrowers = list(Borrower.objects.filter(fund=fund).order_by("pk"))
        apps = loans_bench.through_the_chain(borrowers, product, people, makers)
        done, errors = loans_bench.disburse_all(apps, people["approver"])
        log(f"loans disbursed: {done} ({errors} errors)")
        loan_ids = list(Loan.objects.filter(fund=fund).order_by("pk").values_list("pk", flat=True))
        token = AuthToken.objects.create(people["approver"])[1]

        post_repayments(token, loan_ids, 20, prefix="warm")  # connections, caches, imports
        t, cpu = time.perf_counter(), time.process_time()
        done, errors, lat = post_repayments(token, loan_ids, N_REPAYMENTS, prefix="one")
        elapsed = time.perf_counter() - t
        figures["api_repayments_per_second"] = round(done / elapsed, 1)
        # The application's own CPU per request (the database's not included): a figure that a
        # busy machine distorts less than the wall-clock ones.
        figures["api_repayment_app_cpu_ms"] = round(
            (time.process_time() - cpu) * 1000 / max(done, 1), 1
        )
        figures["api_repayment_ms_median"] = round(statistics.median(lat), 1)
        figures["api_repayment_ms_p95"] = _p95(lat)
        log(f"API repayments, 1 client: {done} in {elapsed:.2f} s ({errors} errors)")

        t = time.perf_counter()
        done_t, errors_t, lat_t = post_repayments(
            token, loan_ids, N_REPAYMENTS, prefix="threads", threads=THREADS
        )
        elapsed = time.perf_counter() - t
        figures[f"api_repayments_per_second_{THREADS}_clients"] = round(done_t / elapsed, 1)
        figures[f"api_repayment_ms_p95_{THREADS}_clients"] = _p95(lat_t)
        log(f"API repayments, {THREADS} clients: {done_t} in {elapsed:.2f} s ({errors_t} errors)")

        # One remittance of a grassroots union: every loan of the union, one request.
        gu = gus[0]
        lines = [
            {"loan": pk, "amount": {"amount": str(AMOUNT), "currency": "VND"}}
            for pk in Loan.objects.filter(grassroots_union=gu).values_list("pk", flat=True)
        ]
        body = {
            "grassroots_union": gu.pk,
            "receipt_number": "UNC-BENCH-1",
            "paid_on": date.today().isoformat(),
            "lines": lines,
        }
        t = time.perf_counter()
        r = _client(token).post(
            "/api/v1/repayment-batches/create/",
            json.dumps(body),
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="batch-1",
        )
        elapsed = time.perf_counter() - t
        figures["api_batch_lines"] = len(lines)
        figures["api_batch_lines_per_second"] = round(len(lines) / elapsed, 1)
        figures["api_batch_ok"] = r.status_code == 201
        log(f"API batch of {len(lines)} lines: {elapsed * 1000:.0f} ms ({r.status_code})")

        figures["repayments"] = Repayment.objects.count()
        figures["errors"] = errors + errors_t + (0 if r.status_code == 201 else 1)
    finally:
        loans_bench.drop_database(info)
    figures["seconds"] = round(time.perf_counter() - started, 1)
    figures["load_average_1min"] = round(os.getloadavg()[0], 1)
    print(json.dumps({"bench": "web_api", **figures}, ensure_ascii=False))


if __name__ == "__main__":
    main()
