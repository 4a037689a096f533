"""CPU and queries per page of the web benchmark, measured in-process (no server, no clients).

Runs on a copy of the web benchmark's database (``BENCH_TEMPLATE``, default
trovon_bench_web_tpl, saved by ``BENCH_SAVE_TEMPLATE=… bench/web.py``) with the settings the
benchmark serves with (DEBUG off, a Redis cache when BENCH_CACHE_URL is set). For each page of
bench/web.py — and a trivial page, for the cost every request pays — it prints the median app
CPU (``time.process_time``) over BENCH_PROFILE_REPEAT requests and the mean CPU of the
PostgreSQL backend serving them (read from /proc: the database must run on this host), then,
in a separate pass, the queries and their time. CPU is what the two-core box runs out of under
the benchmark's eight clients, and it is far steadier than latency while others use the machine.

``BENCH_PROFILE_PAGE=<name>`` also profiles that page's CPU (cProfile on process_time) and
prints the top functions (BENCH_PROFILE_SORT: tottime or cumulative). BENCH_PROFILE_ONLY=a,b
measures only those pages; BENCH_PROFILE_REUSE=1 reuses the copy a BENCH_KEEP=1 run left. The
copy is dropped at the end (kept with BENCH_KEEP=1).
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
os.environ.setdefault(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/trovon_bench_web_profile"
)
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
if os.environ.get("BENCH_CACHE_URL"):
    os.environ["CACHE_URL"] = os.environ["BENCH_CACHE_URL"]
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))

import jobs_report  # noqa: E402  (sets up the environment for Django and the database)
import web  # noqa: E402

REPEAT = int(os.environ.get("BENCH_PROFILE_REPEAT", 30))


def main() -> None:
    info = jobs_report._conninfo()
    template = os.environ.get("BENCH_TEMPLATE", "trovon_bench_web_tpl")
    if os.environ.get("BENCH_PROFILE_REUSE") != "1":
        web.create_from_template(info, template)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from fund.models import Fund, Role
    from loans.models import Loan
    from tests.helpers import two_factor_pass

    try:
        call_command("migrate", verbosity=0)
        fund = Fund.objects.get(code="HN")
        ids = list(Loan.objects.values_list("pk", flat=True))
        clients = {}
        for name, role in (("bench-quy", Role.FUND_OFFICER), ("bench-kiemtoan", Role.AUDITOR)):
            web.session_cookie(name, role, fund)  # creates the user on a fresh build
            from django.contrib.auth import get_user_model

            c = Client(HTTP_ACCEPT_LANGUAGE="vi")
            user = get_user_model().objects.get(username=name)
            c.force_login(user)
            two_factor_pass(c, user)
            clients[name] = c
        rng = random.Random(1)
        loan_ids = [rng.choice(ids) for _ in range(REPEAT)]
        pages = {
            "trivial": ("bench-quy", lambda i: "/accounts/password/"),
            "dashboard": ("bench-quy", lambda i: "/loans/dashboard/"),
            "loan_list": ("bench-quy", lambda i: "/loans/"),
            "loan_page": ("bench-quy", lambda i: f"/loans/{loan_ids[i]}/"),
            "trial_balance": ("bench-kiemtoan", lambda i: "/audit/trial-balance/"),
        }
        only = os.environ.get("BENCH_PROFILE_ONLY")
        if only:
            pages = {k: v for k, v in pages.items() if k in only.split(",")}
        out: dict = {"loans": len(ids), "repeat": REPEAT}

        def backend_cpu() -> float:
            """CPU seconds used so far by this connection's PostgreSQL backend (same host)."""
            with connection.cursor() as cur:
                cur.execute("SELECT pg_backend_pid()")
                pid = cur.fetchone()[0]
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

        def get(user, path):
            r = clients[user].get(path)
            if r.status_code != 200:
                raise SystemExit(f"GET {path} answered {r.status_code}")
            return r

        for name, (user, path) in pages.items():
            get(user, path(0))  # warm up: imports, templates, PostgreSQL's caches
            cpu, wall = [], []
            pg0 = backend_cpu()
            for i in range(REPEAT):
                c0, w0 = time.process_time(), time.perf_counter()
                get(user, path(i))
                cpu.append(time.process_time() - c0)
                wall.append(time.perf_counter() - w0)
            pg = (backend_cpu() - pg0) / REPEAT
            n = min(REPEAT, 10)
            with CaptureQueriesContext(connection) as ctx:
                for i in range(n):
                    get(user, path(i))
            sql = sum(float(q["time"]) for q in ctx.captured_queries)
            out[name] = {
                "cpu_ms": round(statistics.median(cpu) * 1000, 1),
                "pg_cpu_ms": round(pg * 1000, 1),
                "wall_ms": round(statistics.median(wall) * 1000, 1),
                "queries": round(len(ctx.captured_queries) / n, 1),
                "sql_ms": round(sql * 1000 / n, 1),
                "bytes": len(get(user, path(0)).content),
            }
            print(name, out[name], flush=True)
        profile = os.environ.get("BENCH_PROFILE_PAGE")
        if profile:
            import cProfile
            import pstats

            user, path = pages[profile]
            profiler = cProfile.Profile(time.process_time)  # CPU, not waiting
            profiler.enable()
            for i in range(REPEAT):
                get(user, path(i))
            profiler.disable()
            stats = pstats.Stats(profiler)
            # BENCH_PROFILE_FILTER: a regular expression on "path:line(function)", e.g. the
            # project's own code only: '^(?!.*site-packages)'.
            restrictions = [os.environ[k] for k in ("BENCH_PROFILE_FILTER",) if k in os.environ]
            stats.sort_stats(os.environ.get("BENCH_PROFILE_SORT", "tottime")).print_stats(
                *restrictions, int(os.environ.get("BENCH_PROFILE_LINES", 40))
            )
        out["load_average_1min"] = round(os.getloadavg()[0], 2)
        print(json.dumps({"bench": "web_profile", **out}, ensure_ascii=False))
    finally:
        from django.db import connections

        connections.close_all()
        if not jobs_report.KEEP:
            jobs_report.drop_database(info)


if __name__ == "__main__":
    main()
