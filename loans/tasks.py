"""Celery tasks of the loan book: thin wrappers taking ids, each calling one service.

Every task names itself: outbox rows and the beat schedule store these names, so they stay the same
when a module moves (the reminder tasks keep the names they had in `loans.reminder_tasks`). All are
idempotent (acks late: a task redelivered after a worker died does nothing twice).
"""

from datetime import date, timedelta

from celery import shared_task
from django.db import InterfaceError, OperationalError

from accounting.dates import business_today
from loans.reminders.planning import (
    reminder_deliveries_send,
    reminders_retry_due,
    reminders_schedule_funds,
)

TRANSIENT = (OperationalError, InterfaceError)
CATCH_UP_TASK = "loans.tasks.close_of_business_catch_up_task"


@shared_task(
    name="loans.tasks.close_of_business_task",
    acks_late=True,
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    max_retries=5,
    retry_jitter=True,
)
def close_of_business_task(fund_id: int, business_date: str) -> dict:
    """Close one business date of one fund
    (``loans.servicing.close_of_business.close_of_business_run``)."""
    from loans.servicing.close_of_business import close_of_business_run

    run = close_of_business_run(fund_id=fund_id, business_date=date.fromisoformat(business_date))
    return {"run_id": run.pk, "status": run.status, "summary": run.summary}


@shared_task(
    name=CATCH_UP_TASK,
    acks_late=True,
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    max_retries=5,
    retry_jitter=True,
)
def close_of_business_catch_up_task(fund_id: int, through_date: str) -> list[int]:
    """Close every missed date of one fund through `through_date`, in order."""
    from loans.servicing.close_of_business import close_of_business_catch_up

    runs = close_of_business_catch_up(
        fund_id=fund_id, through_date=date.fromisoformat(through_date)
    )
    return [r.pk for r in runs]


@shared_task(name="loans.tasks.close_of_business_daily_task", acks_late=True)
def close_of_business_daily_task() -> int:
    """Beat entry: queue the catch-up through yesterday (the day that ended) for each fund, once
    per fund and date, through the outbox (a broker hiccup delays it, never loses it)."""
    from fund.models import Fund
    from fund.outbox import outbox_enqueue

    through = (business_today() - timedelta(days=1)).isoformat()
    ids = list(Fund.objects.order_by("pk").values_list("pk", flat=True))
    for fund_id in ids:
        outbox_enqueue(
            task_name=CATCH_UP_TASK,
            args=[fund_id, through],
            key=f"close-of-business:{fund_id}:{through}",
        )
    return len(ids)


@shared_task(name="loans.reminder_tasks.reminder_deliveries_send_task", acks_late=True)
def reminder_deliveries_send_task(ids: list[int]) -> dict:
    """Send these reminder deliveries (queued through the outbox by ``reminders_schedule``)."""
    return reminder_deliveries_send(ids=ids).as_dict()


@shared_task(name="loans.reminder_tasks.reminders_daily_task", acks_late=True)
def reminders_daily_task(business_date: str | None = None, fund_id: int | None = None) -> list:
    """Beat, every morning after close of business: record the day's reminders, queue sends."""
    on = date.fromisoformat(business_date) if business_date else None
    return [r.as_dict() for r in reminders_schedule_funds(business_date=on, fund_id=fund_id)]


@shared_task(name="loans.reminder_tasks.reminders_retry_task", acks_late=True)
def reminders_retry_task() -> dict:
    """Beat, every 5 minutes: sends due after backoff, and sends interrupted by a dead worker."""
    return reminders_retry_due().as_dict()
