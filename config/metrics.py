"""Prometheus metrics at /metrics (config/probes.py; a bearer token, settings.METRICS_TOKEN).

Requests (count by method and status, latency) and database queries (count, time) are counted
in each process; under gunicorn's several workers set ``PROMETHEUS_MULTIPROC_DIR`` to an empty,
writable directory (docker-compose.yml does) so that the scrape adds all the workers up. The
business figures are read from the database at each scrape, so they are the same whichever
process answers: close-of-business lag and duration per fund, reminders by status, the sealing
lag and the outbox backlog.
"""

from __future__ import annotations

import os
import time

from django.db import connection
from django.utils import timezone
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily

REQUESTS = Counter("trovon_http_requests_total", "HTTP requests", ["method", "status"])
LATENCY = Histogram(
    "trovon_http_request_duration_seconds",
    "Time to answer a request",
    ["method"],
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
DB_QUERIES = Counter("trovon_db_queries_total", "Database queries run by requests")
DB_SECONDS = Counter("trovon_db_query_seconds_total", "Time spent in database queries")


class MetricsMiddleware:
    """Counts each request, its time and its database queries (settings.MIDDLEWARE)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.monotonic()
        queries = QueryCounter()
        with connection.execute_wrapper(queries):
            response = self.get_response(request)
        method = request.method
        method = method if method in {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"} else "other"
        REQUESTS.labels(method, str(response.status_code)).inc()
        LATENCY.labels(method).observe(time.monotonic() - started)
        DB_QUERIES.inc(queries.count)
        DB_SECONDS.inc(queries.seconds)
        return response


class QueryCounter:
    """A database execute wrapper counting a request's queries and their time."""

    def __init__(self):
        self.count = 0
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.monotonic()
        try:
            return execute(sql, params, many, context)
        finally:
            self.count += 1
            self.seconds += time.monotonic() - started


class BusinessCollector:
    """The fund's figures, read at scrape time."""

    def collect(self):
        from accounting.selectors import ledger_seal_lag_seconds
        from fund.integrity import integrity_check_latest
        from fund.outbox import outbox_pending_count
        from loans.reminders.selectors import reminder_status_counts
        from loans.servicing.selectors import close_of_business_lags

        lag = GaugeMetricFamily(
            "trovon_close_of_business_lag_days",
            "Days between yesterday and the fund's last done close of business (-1: never run)",
            labels=["fund"],
        )
        took = GaugeMetricFamily(
            "trovon_close_of_business_duration_seconds",
            "How long the fund's last done close of business took",
            labels=["fund"],
        )
        for row in close_of_business_lags():
            lag.add_metric([str(row.fund_id)], -1 if row.lag_days is None else row.lag_days)
            if row.duration_seconds is not None:
                took.add_metric([str(row.fund_id)], row.duration_seconds)
        yield lag
        yield took
        reminders = GaugeMetricFamily(
            "trovon_reminders", "Reminder deliveries by status", labels=["status"]
        )
        for status, count in reminder_status_counts().items():
            reminders.add_metric([status], count)
        yield reminders
        yield GaugeMetricFamily(
            "trovon_ledger_seal_lag_seconds",
            "Age of the oldest journal entry not yet sealed into the hash chain",
            value=ledger_seal_lag_seconds(),
        )
        yield GaugeMetricFamily(
            "trovon_outbox_pending",
            "Outbox messages not yet published",
            value=outbox_pending_count(),
        )
        check = integrity_check_latest()
        yield GaugeMetricFamily(
            "trovon_integrity_ok",
            "Last verification of the books (chain and heads, turnover, checkpoints, audit "
            "log): 1 passed, 0 failed, -1 never run",
            value=-1 if check is None else int(check.ok),
        )
        yield GaugeMetricFamily(
            "trovon_integrity_age_seconds",
            "Seconds since the last verification of the books (-1: never run)",
            value=-1 if check is None else (timezone.now() - check.at).total_seconds(),
        )


def render() -> tuple[bytes, str]:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY as registry
    return generate_latest(registry) + generate_latest(_business()), CONTENT_TYPE_LATEST


def _business() -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(BusinessCollector())
    return registry
