"""A worker killed in the middle of a task (OOM, a host lost): the task is acknowledged late,
so its message stays in Redis and another worker runs it once the visibility timeout has run
out — minutes in production (CELERY_VISIBILITY_TIMEOUT), three seconds here."""

import os
import signal
import time

import psycopg
import pytest
from django.db import connection

from fund.models import OutboxMessage
from fund.tasks import outbox_relay_task

pytestmark = [pytest.mark.postgres]
VISIBILITY = "3"


def _blocked_on(cur, table: str) -> bool:
    cur.execute(
        "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
        "WHERE NOT l.granted AND c.relname = %s",
        [table],
    )
    return cur.fetchone()[0] > 0


def test_a_killed_worker_s_task_is_run_by_another_worker(celery_worker_factory):
    row = OutboxMessage.objects.create(task_name="accounting.tasks.ledger_seal_task", args=[])
    db = connection.settings_dict
    locker = psycopg.connect(
        host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"],
        dbname=db["NAME"], autocommit=False,
    )  # fmt: skip
    watcher = psycopg.connect(
        host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"],
        dbname=db["NAME"], autocommit=True,
    )  # fmt: skip
    try:
        # The task will wait on this lock: it is in the middle of its work when its worker dies.
        locker.execute("LOCK TABLE fund_outboxmessage IN ACCESS EXCLUSIVE MODE")
        first = celery_worker_factory("doomed", CELERY_VISIBILITY_TIMEOUT=VISIBILITY)
        outbox_relay_task.apply_async()
        deadline = time.monotonic() + 30
        with watcher.cursor() as cur:
            while not _blocked_on(cur, "fund_outboxmessage"):
                assert time.monotonic() < deadline, "the task never started"
                time.sleep(0.2)
        started = time.monotonic()  # the task runs: its message was delivered before this
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        killed_at = time.monotonic()
        locker.rollback()
        row.refresh_from_db()
        assert row.status == OutboxMessage.Status.PENDING  # the dead worker did not finish it
        # Redis hands unacknowledged messages back when a worker starts and then only on every
        # tenth of its 10-second polls (kombu's restore_visible): a rescuer that comes up before
        # the message's visibility timeout has run out would not see it for 100 s. So it starts
        # once the timeout is over, as a worker started after a lost host does.
        time.sleep(max(0.0, float(VISIBILITY) + 0.5 - (time.monotonic() - started)))
        celery_worker_factory("rescuer", CELERY_VISIBILITY_TIMEOUT=VISIBILITY)
        while time.monotonic() - killed_at < 60:
            row.refresh_from_db()
            if row.status == OutboxMessage.Status.PUBLISHED:
                break
            time.sleep(0.5)
        assert row.status == OutboxMessage.Status.PUBLISHED, "the task was not redelivered"
    finally:
        locker.close()
        watcher.close()
