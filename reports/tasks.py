"""Quarterly report tasks (thin: ids in, one service call).

Every publish goes through the transactional outbox (``fund.outbox``), so a Redis outage
delays the reports instead of losing them. Beat asks ``quarterly_reports_due_task`` every quarter
of an hour; on the 2nd of January, April, July and October from 06:00 it queues, once per fund
and quarter, ``quarterly_reports_fund_task``: the fund's report first, which then queues every
superior union's report (``quarterly_report_task``, run in parallel), each e-mailing its report.
"""

from celery import shared_task

from accounting.dates import business_today
from reports.services import (
    previous_quarter,
    quarterly_report_generate_and_email,
    quarterly_reports_fund_queue_unions,
    quarterly_reports_queue,
    quarterly_reports_schedule,
)


@shared_task(
    name="reports.tasks.quarterly_report_task",
    acks_late=True,
    autoretry_for=(ConnectionError,),
    retry_backoff=True,
    max_retries=5,
)
def quarterly_report_task(fund_id, year, quarter, superior_union_id=None):
    """Generate, store and e-mail one quarterly report; returns the report's id."""
    report = quarterly_report_generate_and_email(
        fund_id=fund_id, year=year, quarter=quarter, superior_union_id=superior_union_id
    )
    return report.pk


@shared_task(
    name="reports.tasks.quarterly_reports_fund_task",
    acks_late=True,
    autoretry_for=(ConnectionError,),
    retry_backoff=True,
    max_retries=5,
)
def quarterly_reports_fund_task(fund_id, year, quarter):
    """The fund's report, then every superior union's report queued (through the outbox)."""
    report = quarterly_report_generate_and_email(
        fund_id=fund_id, year=year, quarter=quarter, superior_union_id=None
    )
    quarterly_reports_fund_queue_unions(fund_id=fund_id, year=year, quarter=quarter)
    return report.pk


@shared_task(name="reports.tasks.quarterly_reports_after_close_task", acks_late=True)
def quarterly_reports_after_close_task(year=None, quarter=None):
    """Every fund's reports of the quarter that has just closed (or of `year`/`quarter`),
    queued now through the outbox; returns how many funds."""
    if year is None or quarter is None:
        year, quarter = previous_quarter(business_today())
    return quarterly_reports_queue(year=year, quarter=quarter)


@shared_task(name="reports.tasks.quarterly_reports_due_task", acks_late=True)
def quarterly_reports_due_task():
    """Beat, every quarter of an hour: the due quarter's reports, queued once (or nothing)."""
    due = quarterly_reports_schedule()
    return list(due) if due else None
