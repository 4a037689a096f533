"""Transactional outbox: work queued by a request survives a broker (Redis) that is down.

Why: ``task.delay()`` inside a request either runs before the commit (on data that may be rolled
back) or, with ``transaction.on_commit``, is lost when Redis does not answer — and the request
fails or hangs. Instead every service that queues work calls ``outbox_enqueue``: it writes an
``OutboxMessage`` row in the caller's transaction, so the work is recorded exactly when the
change is, and after the commit it tries once to publish the task with a short broker timeout.
When the broker is down the request still succeeds and the row stays ``pending``;
``outbox_relay()`` publishes it later (``manage.py outbox_relay --loop`` is a service of
docker-compose.yml; a beat task also runs it every minute while the broker is up).

Delivery guarantee: at least once. The row is marked published after the broker accepted the
task; a crash in between publishes it again, so the tasks sent through the outbox must be
idempotent (the reminder tasks are: each delivery row is claimed once). Web views that queue
work do it through services that call ``outbox_enqueue``, never through ``delay()`` directly.

With the embedded default (no broker, Celery eager) the task runs in-process after the commit.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from functools import partial

from django.db import IntegrityError, transaction
from django.utils import timezone

from fund.models import OutboxMessage

logger = logging.getLogger(__name__)

# A broker that does not answer must not hold a request: one connection attempt, no retries.
PUBLISH_TRANSPORT_OPTIONS = {"max_retries": 0, "socket_connect_timeout": 2, "socket_timeout": 5}
MAX_BACKOFF_SECONDS = 60


def _celery_app():
    from celery import current_app

    return current_app


def outbox_enqueue(
    *, task_name: str, args=(), kwargs: dict | None = None, key: str | None = None
) -> OutboxMessage:
    """Record a task to run after the caller's transaction commits; publish it then if possible.

    The row commits with the caller's changes or not at all. A second call with the same `key`
    returns the first row and publishes nothing more. Broker errors are never raised here: the
    row stays pending for `outbox_relay`.
    """
    fields = {"task_name": task_name, "args": list(args), "kwargs": dict(kwargs or {}), "key": key}
    if key is not None:
        existing = OutboxMessage.objects.filter(key=key).first()
        if existing is not None:
            return existing
    try:
        with transaction.atomic():
            message = OutboxMessage.objects.create(**fields)
    except IntegrityError:
        if key is None:
            raise
        return OutboxMessage.objects.get(key=key)
    transaction.on_commit(partial(_publish_after_commit, message.pk))
    return message


def _publish_after_commit(pk: int) -> None:
    try:
        outbox_relay(ids=[pk])
    except Exception:  # noqa: BLE001 - the committed request must not fail; the relay retries
        logger.exception("outbox: publishing message %s after commit failed", pk)


def outbox_relay(*, ids: list[int] | None = None, limit: int = 500) -> int:
    """Publish pending messages (all due ones, or those in `ids`); return how many were published.

    Rows are claimed with ``SELECT … FOR UPDATE SKIP LOCKED`` so that several relays (and the
    publish after commit) never publish one row twice at the same time. The first broker error
    stops the batch: the row records the error and is retried after a short backoff.
    """
    app = _celery_app()
    now = timezone.now()
    eager_runs: list[OutboxMessage] = []
    published = 0
    with transaction.atomic():
        qs = OutboxMessage.objects.select_for_update(skip_locked=True).filter(
            status=OutboxMessage.Status.PENDING
        )
        qs = qs.filter(pk__in=ids) if ids is not None else qs.filter(available_at__lte=now)
        rows = list(qs.order_by("id")[:limit])
        if not rows:
            return 0
        if app.conf.task_always_eager:
            # No broker: the tasks run in this process once the claim has committed.
            for row in rows:
                _mark_published(row, str(uuid.uuid4()), now)
            eager_runs = rows
            published = len(rows)
        else:
            published = _publish_rows(app, rows, now)
    for row in eager_runs:
        try:
            _task(app, row.task_name).apply(args=row.args, kwargs=row.kwargs, task_id=row.task_id)
        except Exception:  # noqa: BLE001 - the task's own failure handling records it
            logger.exception("outbox: eager task %s (message %s) failed", row.task_name, row.pk)
    return published


def _task(app, name: str):
    """The registered task; outside a worker the task modules are imported on first need."""
    if name not in app.tasks:
        app.loader.import_default_modules()  # fires Celery's autodiscovery
    return app.tasks[name]


def _publish_rows(app, rows: list[OutboxMessage], now) -> int:
    options = {**(app.conf.broker_transport_options or {}), **PUBLISH_TRANSPORT_OPTIONS}
    published = 0
    with app.connection_for_write(transport_options=options) as conn:
        for row in rows:
            task_id = str(uuid.uuid4())
            try:
                # No result is awaited (the row keeps the task id): the result backend is not
                # touched, so a Redis that is down costs one short connection attempt here, not
                # the backend's reconnection loop in the web process.
                app.send_task(
                    row.task_name,
                    args=row.args,
                    kwargs=row.kwargs,
                    task_id=task_id,
                    retry=False,
                    connection=conn,
                    ignore_result=True,
                )
            except Exception as exc:  # noqa: BLE001 - broker down: keep the row, note why
                row.attempts += 1
                row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                delay = min(MAX_BACKOFF_SECONDS, 2**row.attempts)
                row.available_at = now + timedelta(seconds=delay)
                row.save(update_fields=["attempts", "last_error", "available_at"])
                logger.warning("outbox: broker unavailable, %s stays pending: %s", row.pk, exc)
                break
            _mark_published(row, task_id, now)
            published += 1
    return published


def _mark_published(row: OutboxMessage, task_id: str, now) -> None:
    row.status = OutboxMessage.Status.PUBLISHED
    row.task_id = task_id
    row.published_at = now
    row.save(update_fields=["status", "task_id", "published_at"])


def outbox_pending_count() -> int:
    return OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING).count()
