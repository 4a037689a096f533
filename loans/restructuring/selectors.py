"""Reads of the requests to change a loan's terms."""

from __future__ import annotations

from django.db.models import QuerySet

from fund.scoping import Scope, scope_filter
from loans.models import (
    LoanChangeRequest,
)


def change_request_list(*, scope: Scope, status: str | None = None) -> QuerySet:
    """Requests to change the terms of the loans the scope may see (``loan_list``)."""
    if scope.is_fund_wide:
        qs = LoanChangeRequest.objects.filter(loan__fund_id=scope.fund_id)
    else:
        qs = scope_filter(
            LoanChangeRequest.objects.all(), scope, grassroots_field="loan__grassroots_union"
        )
    return qs.filter(status=status) if status else qs


def change_requests_to_decide(*, scope: Scope) -> QuerySet:
    """The pending requests a fund officer may decide: all of the fund's but their own (the
    requester never decides, ``loans.restructuring.change_requests``); none for other roles."""
    if not scope.can_approve:
        return LoanChangeRequest.objects.none()
    return change_request_list(scope=scope, status=LoanChangeRequest.Status.PENDING).exclude(
        requested_by_id=getattr(scope.user, "pk", None)
    )
