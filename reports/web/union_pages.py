"""A union's own pages: a superior union's and a grassroots union's attainment against plan, loan
book, arrears and portfolio at risk, and the quarterly report's tables on the web.

The attainment figures are the quarterly report's (``reports.quarterly``), never computed again
here: a superior union's page shows its report, a grassroots union's page its row in its
superior union's report. The loan book, the arrears and PAR are the loans selectors read through
the reader's scope narrowed to the union (``fund.scoping.scope_narrowed``).

Who sees what: fund officers and auditors every union of the fund; a superior union's officer
their superior union and its grassroots unions; a grassroots union's officer their own union.
Another union's page is a 404 (the quarterly report of a superior union also stays with its
superior union: a grassroots officer sees only their own row of it, on their union's page).
"""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Count, Sum
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounting.dates import business_today
from fund.access import ALL_ROLES, READERS_FUND_WIDE, access
from fund.attainment import INDICATOR_LABELS
from fund.labels import quarter_name
from fund.models import GrassrootsUnion, Role, SuperiorUnion
from fund.scoping import scope_narrowed, superior_union_scope_filter
from fund.union_io import unions_matching
from loans.models import Loan, LoanStatus
from loans.servicing.portfolio import PAR_DAYS, portfolio_report
from loans.servicing.selectors import (
    active_book_totals,
    arrears_lines,
    business_date,
    loan_list,
    longest_in_arrears,
)
from reports.exports import Share, export_filename, export_format, table_response
from reports.quarterly import MONEY_INDICATORS, quarterly_report_figures, quarterly_unit_row
from reports.selectors import quarterly_report_list
from reports.services import quarterly_report_documents, report_file_stem
from reports.web.views import CONTENT_TYPES, REPORT_READERS

PAGE_SIZE = 25
# The quarterly report's table of units on a page (a superior union has up to ~300 grassroots
# unions): as many rows a page as the PAR page's.
UNITS_PAGE_SIZE = 50
UNITS_PAGE = "units_page"
OVERDUE_SHOWN = 10  # the longest overdue loans shown on a union's page; the rest: loans:overdue
# What the loan book's table shows of a loan (reports/_loan_book.html).
LOAN_BOOK_COLUMNS = (
    "borrower__full_name",
    "grassroots_union__code",
    "grassroots_union__name",
    "disbursed_on",
    "principal",
    "principal_currency",
    "outstanding_principal",
    "outstanding_principal_currency",
    "debt_group",
)


def _quarter(request) -> tuple[int, int]:
    """The quarter asked for (``?quarter=2025-1``), else the current one."""
    try:
        year, quarter = (int(x) for x in request.GET.get("quarter", "").split("-"))
        if 2000 <= year <= 2100 and 1 <= quarter <= 4:
            return year, quarter
    except (TypeError, ValueError):
        pass
    today = business_today()
    return today.year, (today.month - 1) // 3 + 1


def _quarter_choices(year: int, quarter: int) -> list[tuple[str, str, bool]]:
    """The current and the seven quarters before it (and the one asked, if older), newest
    first: (value, label, selected)."""
    today = business_today()
    y, q = today.year, (today.month - 1) // 3 + 1
    out = []
    for _i in range(8):
        out.append((y, q))
        y, q = (y, q - 1) if q > 1 else (y - 1, 4)
    if (year, quarter) not in out:
        out.append((year, quarter))
    return [(f"{y}-{q}", quarter_name(q, y), (y, q) == (year, quarter)) for y, q in out]


def superior_union_in_scope(scope, pk) -> SuperiorUnion:
    """The superior union `pk` when the reader may see it, else 404."""
    try:
        return superior_union_scope_filter(SuperiorUnion.objects.all(), scope).get(pk=pk)
    except (SuperiorUnion.DoesNotExist, ValueError, TypeError):
        raise Http404(_("Không tìm thấy.")) from None


def grassroots_union_in_scope(scope, pk) -> GrassrootsUnion:
    try:
        gu = GrassrootsUnion.objects.select_related("superior_union").get(pk=pk)
    except (GrassrootsUnion.DoesNotExist, ValueError, TypeError):
        raise Http404(_("Không tìm thấy.")) from None
    if not scope.allows_grassroots_union(gu):
        raise Http404(_("Không tìm thấy."))
    return gu


def union_filter_of(request):
    """The union a page is narrowed to by ``?superior_union=`` or ``?grassroots_union=`` (the
    PAR page): (the narrowed scope, the union or None, the query string naming it). Another
    union's id: 404."""
    scope = request.scope
    if gu_id := request.GET.get("grassroots_union"):
        gu = grassroots_union_in_scope(scope, gu_id)
        narrowed = scope_narrowed(scope, grassroots_union=gu)
        return narrowed, gu, f"grassroots_union={gu.pk}"
    if su_id := request.GET.get("superior_union"):
        su = superior_union_in_scope(scope, su_id)
        return scope_narrowed(scope, superior_union=su), su, f"superior_union={su.pk}"
    return scope, None, ""


def _indicator_rows(figures) -> list[tuple]:
    """(label, indicator line, whether it is an amount) in the report's order."""
    return [(i.label, i, i.indicator in MONEY_INDICATORS) for i in figures.indicators]


def _loan_book(request, scope, *, par_query: str) -> dict:
    """The union's active loans (paged), its arrears as of the business date (the last close
    of business, as every page and the API) and its PAR at that date."""
    as_of = business_date(fund_id=scope.fund_id)
    book = active_book_totals(scope=scope)
    # The page's ids first, then those 25 loans with their member and union: PostgreSQL would
    # join every active loan of the union to its member before keeping 25. The count is the
    # totals' (a second count of the same rows otherwise).
    active = loan_list(scope=scope, status=LoanStatus.ACTIVE)
    paginator = Paginator(
        active.order_by("-disbursed_on", "-id").values_list("pk", flat=True), PAGE_SIZE
    )
    paginator.count = book.loans
    page = paginator.get_page(request.GET.get("page"))
    by_id = active.only(*LOAN_BOOK_COLUMNS).in_bulk(page.object_list)
    page.object_list = [by_id[pk] for pk in page.object_list]
    query = request.GET.copy()
    query.pop("page", None)
    par = portfolio_report(scope=scope, as_of=as_of, by="fund")  # the last closed date's
    return {
        "loans": page,
        "query": query.urlencode(),
        "loan_count": book.loans,
        "loan_outstanding": book.outstanding,
        "overdue": book.arrears,
        "overdue_lines": arrears_lines(
            longest_in_arrears(scope=scope, limit=OVERDUE_SHOWN, ids=book.longest_ids),
            as_of=as_of,
        ),
        "par": par,
        "par_days": PAR_DAYS,
        "par_query": par_query,
        "figures_as_of": {"date": as_of},
    }


def _stored_reports(scope, *, year: int, quarter: int, superior_union_id: int | None):
    """The stored PDF/XLSX of that quarter's report, newest generation first (none yet: [])."""
    return list(
        quarterly_report_list(scope=scope)
        .filter(year=year, quarter=quarter, superior_union_id=superior_union_id)
        .order_by("-generation", "-id")[:1]
    )


def _figures(request, scope, *, superior_union_id: int | None):
    """The quarterly report's figures of the quarter asked for (the fund's or a superior
    union's)."""
    year, quarter = _quarter(request)
    return quarterly_report_figures(
        fund_id=scope.fund_id, year=year, quarter=quarter, superior_union_id=superior_union_id
    )


def _quarter_context(year: int, quarter: int) -> dict:
    """The quarter shown and its picker."""
    return {
        "quarters": _quarter_choices(year, quarter),
        "quarter_value": f"{year}-{quarter}",
        "quarter_title": quarter_name(quarter, year),
    }


def _report_context(request, scope, *, superior_union_id: int | None) -> dict:
    """The quarter asked for, its picker and the quarterly report's figures of the fund or of
    a superior union, with the report's table of units paged (``?units_page=``,
    ``UNITS_PAGE_SIZE`` a page; its total row is the whole unit's, and the stored PDF/XLSX hold
    every row)."""
    figures = _figures(request, scope, superior_union_id=superior_union_id)
    query = request.GET.copy()
    query.pop(UNITS_PAGE, None)
    quarter = _quarter_context(figures.year, figures.quarter)
    units_page = Paginator(figures.units, UNITS_PAGE_SIZE).get_page(request.GET.get(UNITS_PAGE))
    # (row, link to the unit's page in the same quarter) for the page's rows, then (the whole
    # unit's row, None): the table renders both in one loop.
    unit_page = (
        "reports:grassroots_union_page"
        if figures.unit_kind == "grassroots_union"
        else "reports:superior_union_page"
    )
    in_quarter = f"?quarter={quarter['quarter_value']}"
    return {
        "figures": figures,
        **quarter,
        "indicator_rows": _indicator_rows(figures),
        "units_page": units_page,
        "unit_lines": [
            *((u, reverse(unit_page, args=[u.unit_id]) + in_quarter) for u in units_page),
            (figures.total_row(), None),
        ],
        "units_query": query.urlencode(),
        "units_param": UNITS_PAGE,
    }


def _units_export(figures, fmt: str):
    """The report's table of units, every row and the total, as XLSX or CSV (real numbers:
    amounts in đồng, shares as fractions)."""
    unit = (
        _("Công đoàn cơ sở") if figures.unit_kind == "grassroots_union" else _("Công đoàn cấp trên")
    )
    headers = [
        _("Mã"),
        unit,
        _("Kế hoạch năm"),
        _("Doanh số quý"),
        _("% kế hoạch năm"),
        _("Số khoản vay"),
        _("Lượt thành viên"),
        _("Việc làm (dự án)"),
        _("Việc làm (xác nhận)"),
        _("Lũy kế năm"),
        _("Tăng/giảm so cùng kỳ"),
        _("Dư nợ cuối quý"),
        _("Nợ quá hạn"),
        _("Tỷ lệ quá hạn"),
    ]
    total = figures.total_row()
    rows = [
        [
            u.code if u is not total else "",
            u.name if u is not total else _("Tổng"),
            u.plan_year,
            u.disbursed,
            Share.of_percent(u.percent_of_year),
            u.loans,
            u.borrowers,
            u.jobs_created,
            u.jobs_confirmed,
            u.ytd_disbursed,
            Share.of_percent(u.growth),
            u.outstanding,
            u.overdue,
            Share.of_percent(u.overdue_rate),
        ]
        for u in [*figures.units, total]
    ]
    return table_response(
        format=fmt,
        filename=export_filename(
            "bao-cao-quy-theo-don-vi", f"{figures.year}-{figures.quarter}", figures.unit_code
        ),
        headers=headers,
        rows=rows,
        title=f"{quarter_name(figures.quarter, figures.year)} · {figures.unit_name}",
    )


def _union_context(request, union, *, report: dict, narrowed, par_query: str) -> dict:
    """What a superior union's and a grassroots union's page both show: the union's figures of
    the quarterly report (`report`) and its loan book (`narrowed`: the reader's scope narrowed to
    the union), linked to its PAR (`par_query`)."""
    return {"union": union, **report, **_loan_book(request, narrowed, par_query=par_query)}


@require_GET
@access((Role.FUND_OFFICER, Role.AUDITOR, Role.SUPERIOR_OFFICER))
def superior_union_page(request, pk):
    scope = request.scope
    su = superior_union_in_scope(scope, pk)
    if fmt := export_format(request):
        return _units_export(_figures(request, scope, superior_union_id=su.pk), fmt)
    context = _union_context(
        request,
        su,
        report=_report_context(request, scope, superior_union_id=su.pk),
        narrowed=scope_narrowed(scope, superior_union=su),
        par_query=f"superior_union={su.pk}",
    )
    context["fund_wide"] = scope.is_fund_wide
    return render(request, "reports/superior_union.html", context)


@require_GET
@access(ALL_ROLES)
def grassroots_union_page(request, pk):
    scope = request.scope
    gu = grassroots_union_in_scope(scope, pk)
    year, quarter = _quarter(request)
    # The union's row of its superior union's report: the same figures, the same plan rules,
    # read for this union alone.
    row = quarterly_unit_row(
        fund_id=scope.fund_id, year=year, quarter=quarter, grassroots_union_id=gu.pk
    )
    context = _union_context(
        request,
        gu,
        report={**_quarter_context(year, quarter), "row": row, "labels": INDICATOR_LABELS},
        narrowed=scope_narrowed(scope, grassroots_union=gu),
        par_query=f"grassroots_union={gu.pk}",
    )
    context["superior_visible"] = scope.allows_superior_union(gu.superior_union)
    return render(request, "reports/grassroots_union.html", context)


def _report_document(request, scope, kind: str, *, superior_union_id: int | None):
    """The whole report as a PDF or XLSX made now, in the reader's language, from the figures
    the page shows (the stored files are the Vietnamese ones the federation files)."""
    if kind not in CONTENT_TYPES:
        raise Http404(_("Không tìm thấy."))
    year, quarter = _quarter(request)
    made = quarterly_report_documents(
        fund_id=scope.fund_id,
        year=year,
        quarter=quarter,
        superior_union_id=superior_union_id,
        kinds=(kind,),
    )
    stem = report_file_stem(
        year=year,
        quarter=quarter,
        unit_code=made.figures.unit_code,
        generated_at=made.generated_at,
    )
    language = get_language() or settings.LANGUAGE_CODE
    response = HttpResponse(made.files[kind], content_type=CONTENT_TYPES[kind])
    response["Content-Disposition"] = f'attachment; filename="{stem}-{language}.{kind}"'
    return response


@require_GET
@access(REPORT_READERS)
def quarterly_web(request):
    """The quarterly report's tables on the web: the fund's (fund officers and auditors) or a
    superior union's (``?superior_union=``; a superior union's officer: their own)."""
    scope = request.scope
    su = None
    if su_id := request.GET.get("superior_union"):
        su = superior_union_in_scope(scope, su_id)
    elif scope.superior_union_id is not None:
        su = superior_union_in_scope(scope, scope.superior_union_id)
    if fmt := export_format(request):
        return _units_export(_figures(request, scope, superior_union_id=su.pk if su else None), fmt)
    if kind := request.GET.get("document"):
        return _report_document(request, scope, kind, superior_union_id=su.pk if su else None)
    context = _report_context(request, scope, superior_union_id=su.pk if su else None)
    figures = context["figures"]
    context.update(
        union=su,
        stored=_stored_reports(
            scope,
            year=figures.year,
            quarter=figures.quarter,
            superior_union_id=su.pk if su else None,
        ),
        superior_unions=(
            SuperiorUnion.objects.filter(fund_id=scope.fund_id).order_by("code")
            if scope.is_fund_wide
            else []
        ),
    )
    return render(request, "reports/quarterly_web.html", context)


@require_GET
@access(READERS_FUND_WIDE)
def superior_union_list(request):
    """The fund's superior unions, searchable, paged, each with its grassroots unions and loan
    book, linked to its page."""
    scope = request.scope
    q = (request.GET.get("q") or "").strip()
    unions = unions_matching(
        SuperiorUnion.objects.filter(fund_id=scope.fund_id).order_by("code"), q
    ).annotate(gus=Count("grassroots_unions"))
    page = Paginator(unions, PAGE_SIZE).get_page(request.GET.get("page"))
    ids = [u.pk for u in page.object_list]
    book = {
        r["superior_union_id"]: r
        for r in Loan.objects.filter(
            fund_id=scope.fund_id, superior_union_id__in=ids, status=LoanStatus.ACTIVE
        )
        .values("superior_union_id")
        .annotate(n=Count("id"), outstanding=Sum("outstanding_principal"))
        .order_by()
    }
    rows = [
        {
            "union": u,
            "loans": book.get(u.pk, {}).get("n", 0),
            "outstanding": book.get(u.pk, {}).get("outstanding") or 0,
        }
        for u in page.object_list
    ]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "reports/superior_unions.html",
        {"page": page, "rows": rows, "q": q, "query": query.urlencode()},
    )


@require_GET
@access(ALL_ROLES)
def my_union(request):
    """A union officer's own union page; fund officers and auditors: the superior unions."""
    scope = request.scope
    if scope.grassroots_union_id is not None:
        return redirect("reports:grassroots_union_page", scope.grassroots_union_id)
    if scope.superior_union_id is not None:
        return redirect("reports:superior_union_page", scope.superior_union_id)
    return redirect("reports:superior_union_list")
