"""Celery tasks of the loan book: thin wrappers taking ids, each calling one service."""

from datetime import date, timedelta

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

TRANSIENT = (OperationalError, InterfaceError)


@shared_task(
    name="loans.tasks.close_of_business_task",
    acks_late=True,
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    max_retries=5,
    retry_jitter=True,
)
def close_of_business_task(fund_id: int, business_date: str) -> dict:
    """Close one business date of one fund (``loans.cob.close_of_business_run``)."""
    from .cob import close_of_business_run

    run = close_of_business_run(fund_id=fund_id, business_date=date.fromisoformat(business_date))
    return {"run_id": run.pk, "status": run.status, "summary": run.summary}


@shared_task(
    name="loans.tasks.close_of_business_catch_up_task",
    acks_late=True,
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    max_retries=5,
    retry_jitter=True,
)
def close_of_business_catch_up_task(fund_id: int, through_date: str) -> list[int]:
    """Close every missed date of one fund through `through_date`, in order."""
    from .cob import close_of_business_catch_up

    runs = close_of_business_catch_up(
        fund_id=fund_id, through_date=date.fromisoformat(through_date)
    )
    return [r.pk for r in runs]


@shared_task(name="loans.tasks.close_of_business_daily_task", acks_late=True)
def close_of_business_daily_task() -> int:
    """Beat entry: enqueue the catch-up through yesterday (the day that ended) for each fund."""
    from fund.models import Fund

    through = (timezone.localdate() - timedelta(days=1)).isoformat()
    ids = list(Fund.objects.order_by("pk").values_list("pk", flat=True))
    for fund_id in ids:
        close_of_business_catch_up_task.delay(fund_id, through)
    return len(ids)
