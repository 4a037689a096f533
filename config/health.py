"""/healthz and /readyz: is the process alive, and can it serve and do its work.

``/healthz`` answers 200 while the process runs (no database, no Redis): compose restarts a web
process that stops answering it. ``/readyz`` checks what serving needs (the database answers,
every migration is applied: a 503 otherwise) and reports what the fund's work needs (Redis for
the workers, the last close of business and the last seal within their thresholds,
settings.READYZ_*): a failure there makes the answer "degraded" with a 200, because pages keep
working without them, unless ``?strict=1`` is asked (monitoring), which answers 503.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

_migrations_applied = False


def check_database() -> dict:
    started = time.monotonic()
    with connection.cursor() as cur:
        cur.execute("SELECT 1")
        cur.fetchone()
    return {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}


def check_migrations() -> dict:
    """All migrations applied (remembered once true: a deploy restarts the processes)."""
    global _migrations_applied
    if not _migrations_applied:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if plan:
            return {"ok": False, "unapplied": len(plan)}
        _migrations_applied = True
    return {"ok": True}


def check_redis() -> dict:
    url = settings.CELERY_BROKER_URL
    if not url:
        return {"ok": True, "detail": "no broker configured (tasks run in the web process)"}
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5).ping()
    except (redis.RedisError, OSError) as exc:
        return {"ok": False, "detail": type(exc).__name__}
    return {"ok": True}


def check_close_of_business() -> dict:
    from loans.servicing.selectors import close_of_business_lags

    limit = settings.READYZ_CLOSE_OF_BUSINESS_MAX_LAG_DAYS
    funds = [
        {
            "fund": lag.fund_id,
            "last": lag.last_date.isoformat() if lag.last_date else None,
            "lag_days": lag.lag_days,
        }
        for lag in close_of_business_lags()
    ]
    late = [f for f in funds if f["lag_days"] is not None and f["lag_days"] > limit]
    return {"ok": not late, "max_lag_days": limit, "funds": funds}


def check_seal() -> dict:
    from accounting.selectors import ledger_seal_lag_seconds

    lag = ledger_seal_lag_seconds()
    limit = settings.READYZ_SEAL_MAX_LAG_SECONDS
    return {"ok": lag <= limit, "lag_seconds": round(lag), "max_lag_seconds": limit}


CRITICAL = {"database": check_database, "migrations": check_migrations}
REPORTED = {
    "redis": check_redis,
    "close_of_business": check_close_of_business,
    "seal": check_seal,
}


def readiness() -> tuple[int, dict]:
    """(HTTP status, body) of /readyz."""
    checks: dict[str, dict] = {}
    for name, check in CRITICAL.items():
        try:
            checks[name] = check()
        except Exception as exc:  # noqa: BLE001 - a failed check is the answer, not a 500
            checks[name] = {"ok": False, "detail": type(exc).__name__}
        if not checks[name]["ok"]:
            return 503, {"status": "unavailable", "checks": checks}
    for name, check in REPORTED.items():
        try:
            checks[name] = check()
        except Exception as exc:  # noqa: BLE001
            checks[name] = {"ok": False, "detail": type(exc).__name__}
    degraded = [name for name in REPORTED if not checks[name]["ok"]]
    return 200, {"status": "degraded" if degraded else "ok", "checks": checks}
