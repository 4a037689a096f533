"""Loan terms that are data: the repayment allocation order and the debt-group table.

Both live on the product as JSON and are copied onto each loan when it is granted, so that a
product change never alters an existing loan. Validators raise Django's ``ValidationError`` (the
models' ``full_clean`` calls them) with a translatable message and its ``params``;
``debt_group_for`` and ``provision_rate_for`` are what the daily classification reads.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Buckets a repayment is allocated to, and the default order (penalty first, current principal
# last): overdue amounts are cleared before current ones, interest before principal.
ALLOCATION_BUCKETS = (
    "penalty",
    "overdue_interest",
    "overdue_principal",
    "current_interest",
    "current_principal",
)


def default_allocation_order() -> list[str]:
    return list(ALLOCATION_BUCKETS)


# Circular 14/2024/TT-NHNN (microfinance) thresholds with the provision rates of Decree
# 86/2024/NĐ-CP. ``min_days``: the first day past due of the group; ``reschedulings``: the
# rescheduling that puts a loan in the group at least; ``interest_waived``: a loan whose interest
# was waived is at least in this group (``loans.servicing.arrears`` applies both floors).
def default_debt_groups() -> list[dict]:
    return [
        {"group": 1, "min_days": 0, "provision_rate": "0"},
        {"group": 2, "min_days": 10, "provision_rate": "2", "reschedulings": 1},
        {"group": 3, "min_days": 30, "provision_rate": "25", "interest_waived": True},
        {"group": 4, "min_days": 90, "provision_rate": "50", "reschedulings": 2},
        {"group": 5, "min_days": 180, "provision_rate": "100", "reschedulings": 3},
    ]


_DEBT_GROUP_KEYS = {"group", "min_days", "provision_rate", "reschedulings", "interest_waived"}


def validate_allocation_order(value) -> None:
    if not isinstance(value, list) or sorted(value) != sorted(ALLOCATION_BUCKETS):
        raise ValidationError(
            _("Thứ tự phân bổ tiền trả nợ phải gồm đúng một lần mỗi khoản: %(buckets)s."),
            code="allocation_order",
            params={"buckets": ", ".join(ALLOCATION_BUCKETS)},
        )


def _rate(value, n: int) -> Decimal:
    try:
        rate = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError(
            _("Nhóm nợ dòng %(row)s: tỷ lệ trích lập '%(value)s' không hợp lệ."),
            params={"row": n, "value": value},
        ) from None
    if not rate.is_finite() or not 0 <= rate <= 100:
        raise ValidationError(
            _("Nhóm nợ dòng %(row)s: tỷ lệ trích lập phải từ 0 đến 100%%."), params={"row": n}
        )
    return rate


def validate_debt_groups(value) -> None:
    """Groups 1, 2, … in order; the first starts at day 0; days and rates never decrease."""
    if not isinstance(value, list) or not 2 <= len(value) <= 10:
        raise ValidationError(_("Bảng nhóm nợ phải là danh sách từ 2 đến 10 nhóm."))
    prev_days, prev_rate = -1, Decimal(-1)
    for n, row in enumerate(value, start=1):
        if not isinstance(row, dict) or not {"group", "min_days", "provision_rate"} <= set(row):
            raise ValidationError(
                _("Nhóm nợ dòng %(row)s phải có group, min_days và provision_rate."),
                params={"row": n},
            )
        if set(row) - _DEBT_GROUP_KEYS:
            raise ValidationError(
                _("Nhóm nợ dòng %(row)s: khóa không xác định %(keys)s."),
                params={"row": n, "keys": sorted(set(row) - _DEBT_GROUP_KEYS)},
            )
        if row["group"] != n:
            raise ValidationError(
                _("Nhóm nợ dòng %(row)s phải là nhóm %(row)s."), params={"row": n}
            )
        days = row["min_days"]
        if isinstance(days, bool) or not isinstance(days, int) or days < 0:
            raise ValidationError(
                _("Nhóm nợ %(group)s: số ngày quá hạn phải là số nguyên không âm."),
                params={"group": n},
            )
        if n == 1 and days != 0:
            raise ValidationError(_("Nhóm nợ 1 phải bắt đầu từ 0 ngày quá hạn."))
        if days <= prev_days:
            raise ValidationError(
                _("Nhóm nợ %(group)s: số ngày quá hạn phải lớn hơn nhóm trước."),
                params={"group": n},
            )
        rate = _rate(row["provision_rate"], n)
        if rate < prev_rate:
            raise ValidationError(
                _("Nhóm nợ %(group)s: tỷ lệ trích lập không được nhỏ hơn nhóm trước."),
                params={"group": n},
            )
        resched = row.get("reschedulings")
        if resched is not None and (
            isinstance(resched, bool) or not isinstance(resched, int) or resched < 1
        ):
            raise ValidationError(
                _("Nhóm nợ %(group)s: số lần cơ cấu lại phải là số nguyên dương."),
                params={"group": n},
            )
        if not isinstance(row.get("interest_waived", False), bool):
            raise ValidationError(
                _("Nhóm nợ %(group)s: interest_waived phải là true hoặc false."),
                params={"group": n},
            )
        prev_days, prev_rate = days, rate


def debt_group_for(days_past_due: int, table: list[dict]) -> int:
    """The group of a loan `days_past_due` days late under `table` (by days only)."""
    group = 1
    for row in table:
        if days_past_due >= row["min_days"]:
            group = row["group"]
    return group


def provision_rate_for(group: int, table: list[dict]) -> Decimal:
    """The provision rate of `group` in percent (Decimal('25') for 25 %)."""
    for row in table:
        if row["group"] == group:
            return Decimal(str(row["provision_rate"]))
    raise ValueError(f"no debt group {group} in the table")
