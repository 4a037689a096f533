"""The site's navigation, per role, in one place.

Each entry is (label, URL name, roles). The header shows the entries of the signed-in user's
role whose URL name resolves: pages mounted by other parts of the project (the auditor's pages,
the quarterly reports, the reminder log) appear as soon as their URL conf is merged, and an
entry whose page does not exist yet is simply left out.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.translation import gettext_lazy as _

from fund.access import OFFICER_READERS
from fund.models import Role

FUND = Role.FUND_OFFICER
SUPERIOR = Role.SUPERIOR_OFFICER
GRASSROOTS = Role.GRASSROOTS_OFFICER
AUDITOR = Role.AUDITOR


@dataclass(frozen=True)
class NavEntry:
    label: str
    url_name: str
    roles: tuple[str, ...]


NAVIGATION: tuple[NavEntry, ...] = (
    # Every role that acts: what waits for them (loans.web.inbox), with its count.
    NavEntry(_("Việc cần làm"), "loans:inbox", (FUND, SUPERIOR, GRASSROOTS)),
    # Fund officers
    NavEntry(_("Tổng quan"), "loans:dashboard", (FUND,)),
    NavEntry(_("Chờ phê duyệt"), "loans:approvals", (FUND,)),
    NavEntry(_("Chờ giải ngân"), "loans:disbursements", (FUND,)),
    NavEntry(_("Đề nghị thay đổi"), "loans:change_request_list", (FUND, SUPERIOR, GRASSROOTS)),
    NavEntry(_("Khoản vay"), "loans:loan_list", (FUND, SUPERIOR)),
    NavEntry(_("Thành viên vay"), "loans:borrower_list", (FUND, SUPERIOR)),
    NavEntry(_("Nộp tiền theo đợt"), "loans:remittance", (FUND,)),
    NavEntry(_("Sao kê ngân hàng"), "loans:bank_statements", (FUND, AUDITOR)),
    NavEntry(_("Tiền nộp chưa về"), "loans:remittances_pending", (FUND, SUPERIOR, AUDITOR)),
    NavEntry(_("Kế hoạch"), "fundweb:plans", (FUND,)),
    NavEntry(_("Nguồn vốn"), "fundweb:capital", (FUND,)),
    NavEntry(_("Vốn chờ xác nhận"), "fundweb:capital_requests", (FUND,)),
    NavEntry(_("Khóa sổ cuối năm"), "fundweb:year_closes", (FUND, AUDITOR)),
    NavEntry(_("Lịch làm việc"), "fundweb:calendar", (FUND,)),
    NavEntry(_("Nhật ký nhắc nợ"), "loans:reminder_log", (FUND,)),
    NavEntry(_("Đăng nhập sai"), "fundweb:signin_failures", (FUND,)),
    # Whoever may read the officers' page (auditors too, read-only): its own rule.
    NavEntry(_("Cán bộ"), "fundweb:officers", OFFICER_READERS),
    NavEntry(_("Báo cáo quý"), "reports:report_list", (FUND, SUPERIOR, AUDITOR)),
    NavEntry(_("Nợ có rủi ro (PAR)"), "reports:portfolio_at_risk", (FUND, SUPERIOR, AUDITOR)),
    NavEntry(_("Các công đoàn"), "reports:superior_union_list", (FUND, AUDITOR)),
    NavEntry(_("Nhập công đoàn"), "fundweb:union_import", (FUND,)),
    NavEntry(_("Công đoàn của tôi"), "reports:my_union", (SUPERIOR, GRASSROOTS)),
    # Superior-union officers
    NavEntry(_("CĐCS trực thuộc"), "loans:unions", (SUPERIOR,)),
    NavEntry(_("Chờ thẩm định"), "loans:reviews", (SUPERIOR,)),
    # Grassroots-union officers
    NavEntry(_("Thành viên"), "loans:borrower_list", (GRASSROOTS,)),
    NavEntry(_("Đề nghị vay"), "loans:propose", (GRASSROOTS,)),
    NavEntry(_("Hồ sơ vay"), "loans:application_list", (GRASSROOTS, SUPERIOR)),
    NavEntry(_("Thu nợ tháng"), "loans:collections", (GRASSROOTS,)),
    NavEntry(_("Nợ quá hạn"), "loans:overdue", (GRASSROOTS, SUPERIOR, FUND)),
    # Auditors (and fund officers: the same read-only statements)
    NavEntry(_("Kiểm toán"), "audit:index", (AUDITOR,)),
    NavEntry(_("Cân đối số phát sinh"), "audit:trial_balance", (AUDITOR, FUND)),
    NavEntry(_("Cân đối kế toán"), "audit:balance_sheet", (AUDITOR,)),
    NavEntry(_("Thu nhập – chi phí"), "audit:income_statement", (AUDITOR,)),
    NavEntry(_("Sổ cái"), "audit:general_ledger", (AUDITOR,)),
    NavEntry(_("Kiểm tra chuỗi"), "audit:chain", (AUDITOR,)),
    NavEntry(_("Nhật ký thay đổi"), "audit:audit_log", (AUDITOR,)),
    NavEntry(_("Ghi sổ lùi ngày"), "audit:backdated", (AUDITOR,)),
)

# Where "/" sends each role: the first of these that resolves.
START_PAGES: dict[str, tuple[str, ...]] = {
    FUND: ("loans:inbox", "loans:dashboard"),
    SUPERIOR: ("loans:inbox", "loans:unions"),
    GRASSROOTS: ("loans:inbox", "loans:collections"),
    AUDITOR: ("audit:index", "audit:trial_balance", "password_change"),
}


def _resolves(url_name: str) -> str | None:
    try:
        return reverse(url_name)
    except NoReverseMatch:
        return None


# Resolved entries per (role, URL conf, script prefix): reverse() for every entry on every
# request was a visible share of each page's time. Labels stay lazy (translated at render).
_RESOLVED: dict[tuple, tuple[tuple, ...]] = {}


def _resolved_for(role: str) -> tuple[tuple, ...]:
    key = (role, get_urlconf() or settings.ROOT_URLCONF, get_script_prefix())
    found = _RESOLVED.get(key)
    if found is None:
        found = tuple(
            (entry.label, url, entry.url_name)
            for entry in NAVIGATION
            if role in entry.roles and (url := _resolves(entry.url_name)) is not None
        )
        _RESOLVED[key] = found
    return found


@receiver(setting_changed)
def _forget_resolved(**kwargs) -> None:
    _RESOLVED.clear()


def navigation_for(role: str | None) -> list[dict]:
    """The entries of `role` whose pages exist: [{"label", "url", "url_name"}] (fresh dicts)."""
    if role is None:
        return []
    return [
        {"label": label, "url": url, "url_name": url_name}
        for label, url, url_name in _resolved_for(role)
    ]


def start_page_for(role: str | None) -> str:
    for name in START_PAGES.get(role, ()):
        url = _resolves(name)
        if url is not None:
            return url
    return reverse("password_change")
