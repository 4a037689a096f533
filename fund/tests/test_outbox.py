"""The transactional outbox: rows commit with the caller, survive a broker that is down, and are
published (once per row) when it is back."""

import os
import time

import pytest
from django.db import transaction

from fund.models import OutboxMessage
from fund.outbox import outbox_enqueue, outbox_pending_count, outbox_relay
from tests.helpers import celery_reconfigure

pytestmark = pytest.mark.django_db

TASK = "accounting.tasks.ledger_seal_task"
DEAD_BROKER = "redis://127.0.0.1:1/0"


@pytest.fixture
def broker(settings):
    """Point the Celery app at a broker (not eager); put the old configuration back after."""
    from config.celery import app

    keys = ("CELERY_TASK_ALWAYS_EAGER", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND")
    old = {k: app.conf.get(k) for k in keys}

    def point(url):
        celery_reconfigure(app, CELERY_TASK_ALWAYS_EAGER=False, CELERY_BROKER_URL=url)
        settings.CELERY_TASK_ALWAYS_EAGER = False

    yield point
    celery_reconfigure(app, **old)


def test_rolled_back_caller_leaves_nothing(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            outbox_enqueue(task_name=TASK)
            raise RuntimeError("the request failed")
    assert not OutboxMessage.objects.exists() and callbacks == []


def test_same_key_is_one_row(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        a = outbox_enqueue(task_name=TASK, args=[1], key="k")
        b = outbox_enqueue(task_name=TASK, args=[1], key="k")
    assert a.pk == b.pk and OutboxMessage.objects.count() == 1 and len(callbacks) == 1


def test_eager_without_a_broker_runs_the_task_after_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = outbox_enqueue(task_name=TASK)
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.PUBLISHED and message.task_id


def test_broker_down_the_caller_succeeds_and_the_row_waits(
    broker, django_capture_on_commit_callbacks
):
    broker(DEAD_BROKER)
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        message = outbox_enqueue(task_name=TASK, args=[], kwargs={})
    assert time.monotonic() - started < 5
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.PENDING
    assert message.attempts == 1 and "127.0.0.1:1" in message.last_error
    assert message.available_at > message.created_at
    assert outbox_pending_count() == 1
    # Still down, and not yet due again: the relay leaves it.
    assert outbox_relay() == 0


def test_broker_back_the_relay_publishes_each_row_once(broker):
    import redis

    url = os.environ["TROVON_TEST_REDIS_URL"]  # conftest.py: this process's own
    try:
        r = redis.Redis.from_url(url, socket_connect_timeout=1)
        r.ping()
    except redis.RedisError:
        pytest.skip(f"Redis is not reachable at {url}")
    r.flushdb()
    broker(url)
    for i in range(3):
        OutboxMessage.objects.create(task_name=TASK, args=[], key=f"row-{i}")
    assert outbox_relay() == 3
    assert outbox_relay() == 0
    rows = OutboxMessage.objects.all()
    assert {m.status for m in rows} == {OutboxMessage.Status.PUBLISHED}
    assert len({m.task_id for m in rows}) == 3
    assert r.llen("ledger") == 3  # the ledger tasks' queue (settings.CELERY_TASK_ROUTES)
    r.flushdb()


def test_relay_command_publishes_what_is_pending():
    from io import StringIO

    from django.core.management import call_command

    OutboxMessage.objects.create(task_name=TASK)
    out = StringIO()
    call_command("outbox_relay", stdout=out)
    assert "Đã gửi 1 tác vụ" in out.getvalue()
    assert OutboxMessage.objects.get().status == OutboxMessage.Status.PUBLISHED
