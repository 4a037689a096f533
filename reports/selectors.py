"""Report reads through the role scope (fund.scoping).

Who sees which stored quarterly report:
- fund officers and auditors: every report of their fund;
- superior-union officers: their own superior union's reports only (the fund's report lists
  every superior union, so it stays with the fund);
- grassroots-union officers: none (a superior union's report lists the other grassroots unions'
  figures); the download views refuse their role outright.
"""

from django.http import Http404

from fund.models import Role
from fund.scoping import Scope
from reports.models import QuarterlyReport


def quarterly_report_list(*, scope: Scope):
    qs = QuarterlyReport.objects.filter(fund_id=scope.fund_id).select_related("superior_union")
    if scope.role in (Role.FUND_OFFICER, Role.AUDITOR):
        return qs
    if scope.role == Role.SUPERIOR_OFFICER:
        return qs.filter(superior_union_id=scope.superior_union_id)
    return qs.none()


def quarterly_report_get(*, scope: Scope, pk) -> QuarterlyReport:
    """One report inside the scope, or 404 (another unit's report is not said to exist)."""
    try:
        return quarterly_report_list(scope=scope).get(pk=pk)
    except (QuarterlyReport.DoesNotExist, ValueError, TypeError):
        raise Http404("Không tìm thấy báo cáo.") from None
