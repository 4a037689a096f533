"""Value dates: the one rule for the date a money posting carries (docs/ledger.md, "Value dates").

The fund keeps its books in Hà Nội: "today" is the calendar day in Asia/Ho_Chi_Minh, whatever
the server's or the user's clock says. No posting is dated after today; a posting that follows
another (a disbursement its approval, a repayment the disbursement, a reversal what it
reverses) is not dated before it. The ledger kernel refuses a future-dated entry and a reversal
dated before its entry for every caller; the services call `value_date_check` first so that the
refusal names their own field (``disbursed_on``, ``paid_on``…).
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
