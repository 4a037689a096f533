"""Quarterly report tasks (thin: ids in, one service call).

Beat runs ``quarterly_reports_after_close_task`` on the 2nd of January, April, July and October:
for each fund, the fund's report first, then one task per superior union in parallel (a
Celery chain of the fund task and a group), each e-mailing its report.
"""

from celery import chain, group, shared_task
from django.utils import timezone

from fund.models import Fund, SuperiorUnion
from reports.services import previous_quarter, quarterly_report_generate_and_email


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


def quarterly_reports_signature(*, fund_id: int, year: int, quarter: int):
    """The fund report, then every superior union's report in parallel."""
    su_ids = (
        SuperiorUnion.objects.filter(fund_id=fund_id).order_by("code").values_list("id", flat=True)
    )
    fund_task = quarterly_report_task.si(fund_id, year, quarter, None)
    su_tasks = [quarterly_report_task.si(fund_id, year, quarter, su) for su in su_ids]
    return chain(fund_task, group(su_tasks)) if su_tasks else fund_task


@shared_task(name="reports.tasks.quarterly_reports_after_close_task", acks_late=True)
def quarterly_reports_after_close_task(year=None, quarter=None):
    """Every fund's reports of the quarter that has just closed (or of `year`/`quarter`)."""
    if year is None or quarter is None:
        year, quarter = previous_quarter(timezone.localdate())
    ids = []
    for fund_id in Fund.objects.order_by("pk").values_list("pk", flat=True):
        result = quarterly_reports_signature(fund_id=fund_id, year=year, quarter=quarter).delay()
        ids.append(result.id)
    return ids
