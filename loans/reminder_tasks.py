"""Reminder tasks: thin, ids in, one service call each (the logic is in ``loans.reminders``).

All are idempotent (acks late: a task redelivered after a worker died sends nothing twice).
"""

from datetime import date

from celery import shared_task

from .reminders import reminder_deliveries_send, reminders_retry_due, reminders_schedule_funds


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
