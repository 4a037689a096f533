"""Lists of applications and borrowers through the role scope."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from fund.models import Role
from fund.scoping import Scope, scope_filter
from loans.models import (
    ApplicationStatus,
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


# --------------------------------------------------------------------------------------------
# What waits for each role (the inbox, loans.web.inbox)


def applications_to_review(*, scope: Scope) -> QuerySet:
    """Applications a superior union's officer has to review (sent by its grassroots unions)."""
    if scope.role != Role.SUPERIOR_OFFICER:
        return LoanApplication.objects.none()
    return application_list(scope=scope, status=ApplicationStatus.SUBMITTED)


def applications_to_approve(*, scope: Scope) -> QuerySet:
    """Applications reviewed by the superior union, waiting for a fund officer's approval."""
    if not scope.can_approve:
        return LoanApplication.objects.none()
    return application_list(scope=scope, status=ApplicationStatus.REVIEWED)


def applications_to_disburse(*, scope: Scope, fund) -> QuerySet:
    """Approved applications waiting to be paid out by this fund officer: not their own
    approvals while the fund separates approving from disbursing (``fund.duties``)."""
    from fund.duties import APPROVER_DISBURSES, duty_applies

    if not scope.can_approve:
        return LoanApplication.objects.none()
    qs = application_list(scope=scope, status=ApplicationStatus.APPROVED)
    if duty_applies(fund, APPROVER_DISBURSES):
        qs = qs.exclude(approved_by_id=getattr(scope.user, "pk", None))
    return qs


def applications_returned(*, scope: Scope) -> QuerySet:
    """Applications the superior union sent back to a grassroots union to complete."""
    if scope.role != Role.GRASSROOTS_OFFICER:
        return LoanApplication.objects.none()
    return application_list(scope=scope, status=ApplicationStatus.RETURNED)
