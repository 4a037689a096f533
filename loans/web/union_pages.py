"""The list of grassroots unions: paged, searchable by code or name (accents ignored), filtered
by superior union for the fund-wide readers, each union linked to its page (``reports``' union
pages). The figures are read for the page's unions only, so a fund of thousands of grassroots
unions costs the same as one of twenty."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Count, Sum
from django.shortcuts import render

from fund.access import access
from fund.models import GrassrootsUnion, Role, SuperiorUnion
from fund.scoping import scope_filter
from fund.union_io import unions_matching
from loans.models import ApplicationStatus, LoanStatus
from loans.origination.selectors import application_list
from loans.servicing.selectors import arrears_by_union, business_date, loan_list

PAGE_SIZE = 25
UNION_LIST_READERS = (Role.SUPERIOR_OFFICER, Role.FUND_OFFICER, Role.AUDITOR)


@access(UNION_LIST_READERS)
def unions(request):
    scope = request.scope
    q = (request.GET.get("q") or "").strip()
    gus = scope_filter(
        GrassrootsUnion.objects.select_related("superior_union").order_by("code"),
        scope,
        grassroots_field="",
    )
    superior_unions = []
    superior = None
    if scope.is_fund_wide:
        superior_unions = SuperiorUnion.objects.filter(fund_id=scope.fund_id).order_by("code")
        superior = request.GET.get("superior_union") or ""
        if superior.isdigit():
            gus = gus.filter(superior_union_id=int(superior))
    gus = unions_matching(gus, q)
    page = Paginator(gus, PAGE_SIZE).get_page(request.GET.get("page"))
    ids = [gu.pk for gu in page.object_list]
    figures = {
        row["grassroots_union"]: row
        for row in loan_list(scope=scope, status=LoanStatus.ACTIVE)
        .filter(grassroots_union_id__in=ids)
        .order_by()
        .values("grassroots_union")
        .annotate(n=Count("id"), outstanding=Sum("outstanding_principal"))
    }
    submitted = application_list(scope=scope, status=ApplicationStatus.SUBMITTED)
    pending = dict(
        submitted.filter(grassroots_union_id__in=ids)
        .order_by()
        .values("grassroots_union")
        .annotate(n=Count("id"))
        .values_list("grassroots_union", "n")
    )
    late = arrears_by_union(scope=scope)  # as of the business date, as every page
    rows = []
    for gu in page.object_list:
        f = figures.get(gu.pk, {})
        rows.append(
            {
                "union": gu,
                "loans": f.get("n", 0),
                "outstanding": f.get("outstanding") or 0,
                "overdue_loans": late.get(gu.pk, {}).get("loans", 0),
                "overdue": late.get(gu.pk, {}).get("amount", 0),
                "pending": pending.get(gu.pk, 0),
            }
        )
    totals = (
        loan_list(scope=scope, status=LoanStatus.ACTIVE)
        .order_by()
        .aggregate(outstanding=Sum("outstanding_principal"))
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "loans/unions.html",
        {
            "rows": rows,
            "page": page,
            "query": query.urlencode(),
            "q": q,
            "superior_unions": superior_unions,
            "superior": superior,
            "pending_total": submitted.count(),
            "reviewer": scope.role == Role.SUPERIOR_OFFICER,
            "figures_as_of": {"date": business_date(fund_id=scope.fund_id)},
            "outstanding_total": totals["outstanding"] or 0,
        },
    )
