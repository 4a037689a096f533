"""Each role's inbox: what waits for the signed-in officer, each item with its count and the
list where it is done.

The counts come from the domain's selectors (one per item, each through the officer's scope,
so another union's rows are never counted): applications to review (superior union), to approve
and to disburse (fund), change requests to decide and capital moves to confirm (the four-eyes
queues: never the officer's own), remittances not seen on the bank statement and bank receipts
not matched (fund; a superior union sees its unions' late remittances), returned applications
to complete (grassroots union) and reminders that failed (fund).

The navigation shows the same counts (``inbox_counts_cached``): read once and kept in the cache
for ``COUNTS_SECONDS`` per officer, so that a page of the site costs no count query while the
cache holds them; the inbox page itself always counts afresh and refreshes the cache.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.core.cache import cache
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from fund.access import WRITERS, access
from fund.models import Role
from fund.scoping import Scope
from fund.selectors import capital_requests_to_confirm
from loans.origination.selectors import (
    applications_returned,
    applications_to_approve,
    applications_to_disburse,
    applications_to_review,
)
from loans.reminders.selectors import reminder_deliveries_failed
from loans.restructuring.selectors import change_requests_to_decide
from loans.servicing.remittances import (
    receipts_unmatched,
    remittance_wait_date,
    remittances_not_received_count,
)

FUND, SUPERIOR, GRASSROOTS = Role.FUND_OFFICER, Role.SUPERIOR_OFFICER, Role.GRASSROOTS_OFFICER
COUNTS_SECONDS = 60


@dataclass(frozen=True)
class Item:
    key: str
    label: str
    url_name: str
    query: str
    roles: tuple[str, ...]
    count: Callable[[Scope, object], int]  # (scope, fund) -> how many wait


ITEMS: tuple[Item, ...] = (
    Item(
        "reviews",
        _("Hồ sơ chờ thẩm định"),
        "loans:reviews",
        "",
        (SUPERIOR,),
        lambda scope, fund: applications_to_review(scope=scope).order_by().count(),
    ),
    Item(
        "approvals",
        _("Hồ sơ chờ phê duyệt"),
        "loans:approvals",
        "",
        (FUND,),
        lambda scope, fund: applications_to_approve(scope=scope).order_by().count(),
    ),
    Item(
        "disbursements",
        _("Hồ sơ chờ giải ngân"),
        "loans:disbursements",
        "",
        (FUND,),
        lambda scope, fund: applications_to_disburse(scope=scope, fund=fund).order_by().count(),
    ),
    Item(
        "change_requests",
        _("Đề nghị thay đổi chờ quyết định"),
        "loans:change_request_list",
        "",
        (FUND,),
        lambda scope, fund: change_requests_to_decide(scope=scope).order_by().count(),
    ),
    Item(
        "capital_requests",
        _("Nghiệp vụ vốn chờ xác nhận"),
        "fundweb:capital_requests",
        "",
        (FUND,),
        lambda scope, fund: capital_requests_to_confirm(fund=fund, user=scope.user).count(),
    ),
    Item(
        "receipts_unmatched",
        _("Tiền về tài khoản chưa khớp đợt nộp"),
        "loans:bank_statements",
        "",
        (FUND,),
        lambda scope, fund: receipts_unmatched(scope=scope).order_by().count(),
    ),
    Item(
        "remittances_pending",
        _("Tiền nộp chưa thấy trên sao kê"),
        "loans:remittances_pending",
        "",
        (FUND, SUPERIOR),
        lambda scope, fund: remittances_not_received_count(
            scope=scope, on=remittance_wait_date(fund_id=scope.fund_id)
        ),
    ),
    Item(
        "returned",
        _("Hồ sơ bị trả lại cần bổ sung"),
        "loans:application_list",
        "status=returned",
        (GRASSROOTS,),
        lambda scope, fund: applications_returned(scope=scope).order_by().count(),
    ),
    Item(
        "reminders_failed",
        _("Nhắc nợ gửi không được"),
        "loans:reminder_log",
        "",
        (FUND,),
        lambda scope, fund: reminder_deliveries_failed(scope=scope).order_by().count(),
    ),
)


def _fund_of(user):
    return user.officer.fund  # read with the user (config.auth_backend)


def inbox_counts(scope: Scope) -> dict[str, int]:
    """{item key: how many wait} for the officer of `scope`: one count query per item of the
    role (none for an auditor)."""
    fund = _fund_of(scope.user)
    counts = {item.key: item.count(scope, fund) for item in ITEMS if scope.role in item.roles}
    cache.set(_cache_key(scope), counts, COUNTS_SECONDS)
    return counts


def _cache_key(scope: Scope) -> str:
    return f"inbox-counts:{scope.user.pk}:{scope.role}"


def inbox_counts_cached(scope: Scope) -> dict[str, int]:
    """``inbox_counts``, from the cache while it holds them (at most ``COUNTS_SECONDS`` old)."""
    counts = cache.get(_cache_key(scope))
    return counts if counts is not None else inbox_counts(scope)


def inbox_total(counts: dict[str, int]) -> int:
    return sum(counts.values())


def nav_badges(scope: Scope) -> dict[str, int]:
    """{URL name: count} for the navigation: each item's list, and the inbox with the total."""
    counts = inbox_counts_cached(scope)
    badges: dict[str, int] = {"loans:inbox": inbox_total(counts)}
    for item in ITEMS:
        if item.key in counts and not item.query:
            badges[item.url_name] = badges.get(item.url_name, 0) + counts[item.key]
    return badges


@access(WRITERS)
def inbox(request):
    """What waits for the officer: each item of their role with its count and its list."""
    counts = inbox_counts(request.scope)
    rows = []
    for item in ITEMS:
        if item.key not in counts:
            continue
        url = reverse(item.url_name)
        rows.append(
            {
                "key": item.key,
                "label": item.label,
                "count": counts[item.key],
                "url": f"{url}?{item.query}" if item.query else url,
            }
        )
    return render(request, "loans/inbox.html", {"rows": rows, "total": inbox_total(counts)})
