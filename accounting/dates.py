"""Value dates: the one rule for the date a money posting carries (docs/ledger.md, "Value dates").

The fund keeps its books in Hà Nội: "today" is the calendar day in Asia/Ho_Chi_Minh, whatever
the server's or the user's clock says. No posting is dated after today; a posting that follows
another (a disbursement its approval, a repayment the disbursement, a reversal what it
reverses) is not dated before it. The ledger kernel refuses a future-dated entry and a reversal
dated before its entry for every caller; the services call `value_date_check` first so that the
refusal names their own field (``disbursed_on``, ``paid_on``…).

Back-dating: a posting or a decision dated before the fund's open window (by default the
current month in Hà Nội: before its 1st) needs a reason, which the journal entry and the audit
log keep (`backdate_reason_check`). The kernel knows no fund: the caller passes the window's
first day (``fund.validation.backdate_reason`` reads it from the fund's setting).
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounting.errors import ValueDateRefused

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


def business_today() -> date:
    """Today in Hà Nội (the frozen clock of the tests moves it, through ``timezone.now``)."""
    return timezone.localdate(timezone=HANOI)


# The longest reason a back-dated posting keeps (``JournalEntry.backdated_reason``).
BACKDATE_REASON_MAX = 500


def backdate_window_start(months: int = 0, *, today: date | None = None) -> date:
    """The first day a posting may carry without a reason: the 1st of the month `months`
    months before the current month in Hà Nội (0: the current month, the default window)."""
    today = today or business_today()
    index = today.year * 12 + today.month - 1 - max(0, int(months))
    return date(index // 12, index % 12 + 1, 1)


def backdate_reason_check(
    day: date,
    reason,
    *,
    window_start: date,
    field: str,
    label,
    error: type[ValueDateRefused] | None = None,
) -> str:
    """The reason a posting dated `day` keeps: "" when `day` is in the window (from
    `window_start`), the reason's text (spaces collapsed) when it is before. A day before the
    window without a reason is refused (`error`, a ``ValueDateRefused`` by default), naming
    `field` (the date's) and the rule."""
    error = error or ValueDateRefused
    if reason is None:
        reason = ""
    if not isinstance(reason, str):
        raise error(
            _("Lý do ghi sổ lùi ngày phải là chuỗi ký tự."),
            field=field,
            code="backdate_reason",
        )
    reason = " ".join(reason.split())
    if day >= window_start:
        return ""
    if not reason:
        raise error(
            _(
                "%(label)s %(day)s trước ngày %(start)s, đầu kỳ đang mở: ghi sổ lùi ngày phải "
                "nêu lý do."
            ),
            field=field,
            code="backdate_reason",
            params={
                "label": label,
                "day": f"{day:%d/%m/%Y}",
                "start": f"{window_start:%d/%m/%Y}",
            },
        )
    if len(reason) > BACKDATE_REASON_MAX:
        raise error(
            _("Lý do ghi sổ lùi ngày dài quá %(max)s ký tự."),
            field=field,
            code="backdate_reason",
            params={"max": BACKDATE_REASON_MAX},
        )
    return reason


def value_date_check(
    day,
    *,
    field: str,
    label,
    not_before: date | None = None,
    not_before_what=None,
    error: type[ValueDateRefused] | None = None,
) -> date:
    """`day` if it may carry a posting or a decision: a date, not after today in Hà Nội, and not
    before `not_before` (the date of what it follows, `not_before_what` naming it). Else the
    refusal (`error`, a ``ValueDateRefused`` by default) naming `field`."""
    error = error or ValueDateRefused
    if isinstance(day, datetime) or not isinstance(day, date):
        raise error(
            _("%(label)s phải là một ngày, nhận được %(value)s."),
            field=field,
            code="value_date",
            params={"label": label, "value": repr(day)},
        )
    today = business_today()
    if day > today:
        raise error(
            _("%(label)s %(day)s sau ngày hôm nay %(today)s (giờ Hà Nội)."),
            field=field,
            code="value_date_future",
            params={"label": label, "day": f"{day:%d/%m/%Y}", "today": f"{today:%d/%m/%Y}"},
        )
    if not_before is not None and day < not_before:
        raise error(
            _("%(label)s %(day)s trước ngày %(what)s %(before)s."),
            field=field,
            code="value_date_order",
            params={
                "label": label,
                "day": f"{day:%d/%m/%Y}",
                "what": not_before_what,
                "before": f"{not_before:%d/%m/%Y}",
            },
        )
    return day
