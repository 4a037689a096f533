"""The web benchmark's pages timed one at a time in one process (no gunicorn, no other client):
what each page costs by itself, steadier than the latencies of `make bench-web` while others
share the machine. Prints one JSON line: per page the median and the fastest of BENCH_REPEAT
requests (10), the CPU per request of this process and of its PostgreSQL backend (from /proc:
steady while others share the machine, where the latencies are not) and the number of queries.

Reads an existing database and never drops it: a 100,000-loan database kept by bench/web.py
(``BENCH_KEEP=1``, or a copy of its template, ``BENCH_SAVE_TEMPLATE``), named by
BENCH_DATABASE_URL. ``BENCH_PROFILE=<page>`` also prints that page's cProfile (the 40 costliest
functions by cumulative time).

    BENCH_DATABASE_URL=postgres://…/trovon_perf_bench .venv/bin/python bench/web_single.py
"""

from __future__ import annotations

import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("CACHE_URL", "")  # the cache answers "miss": each count read afresh

import web  # noqa: E402  (sets up the environment for Django and the database)

REPEAT = int(os.environ.get("BENCH_REPEAT", 10))


def main() -> None:
    web.jobs_report._conninfo()  # refuses the "postgres" database
    web.collect_static(os.environ)  # DEBUG off: pages name static files through the manifest
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from fund.models import Fund

    fund = Fund.objects.get(code="HN")
    pages, cookies = web.inbox_pages(fund)
    more, more_cookies = web.union_pages(fund)
    pages.update(more)
    cookies.update(more_cookies)
    profile = os.environ.get("BENCH_PROFILE", "")
    figures: dict = {"repeat": REPEAT, "load_average_1min": round(os.getloadavg()[0], 2)}
    for name, path in pages.items():
        client = Client(HTTP_ACCEPT_LANGUAGE="vi")
        client.cookies[settings.SESSION_COOKIE_NAME] = cookies[name].split("=", 1)[1]
        with CaptureQueriesContext(connection) as ctx:  # the first request warms up
            r = client.get(path)
        queries = len(ctx.captured_queries)  # before the next request resets the log
        if r.status_code != 200:
            raise SystemExit(f"GET {path} answered {r.status_code}")
        with connection.cursor() as cur:
            cur.execute("SELECT pg_backend_pid()")
            backend = cur.fetchone()[0]
        times = []
        app_cpu, db_cpu = time.process_time(), web._cpu_seconds(backend)
        for _ in range(REPEAT):
            t = time.perf_counter()
            client.get(path)
            times.append(time.perf_counter() - t)
        app_cpu = (time.process_time() - app_cpu) / REPEAT
        db_cpu = (web._cpu_seconds(backend) - db_cpu) / REPEAT
        figures[f"{name}_median_ms"] = round(statistics.median(times) * 1000, 1)
        figures[f"{name}_min_ms"] = round(min(times) * 1000, 1)
        figures[f"{name}_cpu_ms_app"] = round(app_cpu * 1000, 1)
        figures[f"{name}_cpu_ms_db"] = round(db_cpu * 1000, 1)
        figures[f"{name}_queries"] = queries
        web.log(
            f"{name:>18}: median {figures[f'{name}_median_ms']} ms, CPU app "
            f"{figures[f'{name}_cpu_ms_app']} + db {figures[f'{name}_cpu_ms_db']} ms, "
            f"{queries} queries"
        )
        if name == profile:
            prof = cProfile.Profile()
            prof.runcall(client.get, path)
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats(
                os.environ.get("BENCH_PROFILE_SORT", "cumulative")
            ).print_stats(40)
            print(out.getvalue())
    print(json.dumps({"bench": "web_single", **figures}, ensure_ascii=False))


if __name__ == "__main__":
    main()
