"""Portfolio at risk (PAR 1/30/60/90) and arrears ageing as of a closed business date, for the
fund, by superior union, grassroots union or product, within the reader's scope; XLSX and CSV
exports with real numbers (amounts in đồng, shares as fractions with a percent format)."""

from __future__ import annotations

from datetime import date

from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from fund.access import ALL_ROLES, access
from loans.servicing.portfolio import (
    BUCKETS,
    DIMENSION_LABELS,
    PAR_DAYS,
    closed_dates,
    portfolio_report,
    portfolio_units,
)
from reports.exports import Share, export_filename, export_format, table_response
from reports.web.union_pages import union_filter_of

# Rows of a page by union or product (the exports hold every row).
PAGE_SIZE = 50


def _as_of(request, dates: list[date]) -> date | None:
    """The closed date asked for (ISO, from the page's list), else the latest closed date."""
    asked = request.GET.get("as_of") or ""
    try:
        day = date.fromisoformat(asked)
    except ValueError:
        return dates[0] if dates else None
    return day if day in dates else (dates[0] if dates else None)


def _export_rows(report):
    for row in [*report.rows, report.total]:
        yield [
            row.code,
            row.name,
            *row.loans,
            *row.outstanding,
            row.total_loans,
            row.total_outstanding,
            row.overdue_principal,
            *(
                Share(v) if v is not None else None
                for _days, amount, count in row.par
                for v in (amount, count)
            ),
        ]


@require_GET
@access(ALL_ROLES)
def portfolio_at_risk(request):
    # ``?superior_union=`` or ``?grassroots_union=``: one union's loans (a union's page links
    # here); another union's id is a 404.
    scope, union, union_query = union_filter_of(request)
    dates = closed_dates(fund_id=scope.fund_id)
    as_of = _as_of(request, dates)
    by = request.GET.get("by") or "fund"
    if by not in DIMENSION_LABELS:
        by = "fund"
    if fmt := export_format(request):
        report = portfolio_report(scope=scope, as_of=as_of, by=by)
        buckets = [str(label) for _n, _lo, _hi, label in BUCKETS]
        headers = [
            _("Mã"),
            _("Đơn vị"),
            *(_("Số khoản: %(bucket)s") % {"bucket": b} for b in buckets),
            *(_("Dư nợ: %(bucket)s") % {"bucket": b} for b in buckets),
            _("Số khoản vay"),
            _("Dư nợ gốc"),
            _("Gốc quá hạn"),
            *(
                label % {"days": d}
                for d in PAR_DAYS
                for label in (_("PAR %(days)s theo dư nợ"), _("PAR %(days)s theo số khoản"))
            ),
        ]
        title = _("Danh mục có rủi ro và tuổi nợ ngày %(day)s") % {
            "day": f"{as_of:%d/%m/%Y}" if as_of else "—"
        }
        return table_response(
            format=fmt,
            filename=export_filename("par-tuoi-no", as_of, by, union.code if union else None),
            headers=headers,
            rows=_export_rows(report),
            title=title,
        )
    # A page reads only its units' rows (by code), plus the scope's total.
    page = None
    if by == "fund":
        report = portfolio_report(scope=scope, as_of=as_of, by=by)
    else:
        page = Paginator(portfolio_units(scope=scope, as_of=as_of, by=by), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        report = portfolio_report(scope=scope, as_of=as_of, by=by, units=list(page.object_list))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "report": report,
        "page": page,
        "query": query.urlencode(),
        "dates": dates,
        "buckets": BUCKETS,
        "par_days": PAR_DAYS,
        "dimensions": DIMENSION_LABELS.items(),
        "union": union,
        "union_query": union_query,
        "union_field": union_query.partition("=")[0],
    }
    return render(request, "reports/portfolio_at_risk.html", context)
