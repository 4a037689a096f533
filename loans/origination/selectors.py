"""Lists of applications and borrowers through the role scope."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from fund.scoping import Scope, scope_filter
from loans.models import (
    Borrower,
    LoanApplication,
)

# --------------------------------------------------------------------------------------------
# Lists through the scope


def own_fund_first(qs: QuerySet, scope: Scope) -> QuerySet:
    """The scope's rows; fund-wide scopes filter on the row's own ``fund`` (indexed with the
    status, the date, the id) instead of joining every grassroots union to read its fund —
    the same rows, since a loan or application belongs to the fund of its union."""
    if scope.is_fund_wide:
        return qs.filter(fund_id=scope.fund_id)
    return scope_filter(qs, scope)


def application_list(*, scope: Scope, status: str | None = None) -> QuerySet:
    qs = own_fund_first(LoanApplication.objects.all(), scope).select_related(
        "borrower", "product", "grassroots_union"
    )
    return qs.filter(status=status) if status else qs


def borrower_list(*, scope: Scope) -> QuerySet:
    return scope_filter(Borrower.objects.all(), scope).select_related("grassroots_union")


def borrower_search(*, scope: Scope, q: str = "", grassroots_union_id: int | None = None):
    """The members' list as its page filters it, by name: `q` a part of the name or the start
    of a citizen-id or phone number; the page and its export read the same rows."""
    qs = borrower_list(scope=scope).order_by("name_key", "id")
    q = (q or "").strip()
    if q:
        qs = qs.filter(
            Q(full_name__icontains=q) | Q(national_id__startswith=q) | Q(phone__startswith=q)
        )
    if grassroots_union_id is not None:
        qs = qs.filter(grassroots_union_id=grassroots_union_id)
    return qs
