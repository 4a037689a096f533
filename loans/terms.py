"""Loan terms that are data: the repayment allocation order and the debt-group table.

Both live on the product as JSON and are copied onto each loan when it is granted, so that a
product change never alters an existing loan. Validators raise Django's ``ValidationError`` (the
models' ``full_clean`` calls them); ``debt_group_for`` and ``provision_rate_for`` are what the
daily classification reads.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError

# Buckets a repayment is allocated to, and the default order (penalty first, current principal
# last): overdue amounts are cleared before current ones, interest before principal.
ALLOCATION_BUCKETS = (
    "penalty",
    "overdue_interest",
    "overdue_principal",
    "current_interest",
    "current_principal",
)
ALLOCATION_LABELS = {
    "penalty": "Lãi phạt",
    "overdue_interest": "Lãi quá hạn",
    "overdue_principal": "Gốc quá hạn",
    "current_interest": "Lãi trong hạn",
    "current_principal": "Gốc trong hạn",
}


def default_allocation_order() -> list[str]:
    return list(ALLOCATION_BUCKETS)


# Circular 14/2024/TT-NHNN (microfinance) thresholds with the provision rates of Decree
# 86/2024/NĐ-CP. ``min_days``: the first day past due of the group; ``reschedulings``: the
# rescheduling that puts a loan in the group at least; ``interest_waived``: a loan whose interest
# was waived is at least in this group (``loans.servicing`` applies both floors).
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
            "Thứ tự phân bổ tiền trả nợ phải gồm đúng một lần mỗi khoản: "
            + ", ".join(ALLOCATION_BUCKETS)
            + ".",
            code="allocation_order",
        )


def _rate(value, n: int) -> Decimal:
    try:
        rate = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError(
            f"Nhóm nợ dòng {n}: tỷ lệ trích lập '{value}' không hợp lệ."
        ) from None
    if not rate.is_finite() or not 0 <= rate <= 100:
        raise ValidationError(f"Nhóm nợ dòng {n}: tỷ lệ trích lập phải từ 0 đến 100%.")
    return rate


def validate_debt_groups(value) -> None:
    """Groups 1, 2, … in order; the first starts at day 0; days and rates never decrease."""
    if not isinstance(value, list) or not 2 <= len(value) <= 10:
        raise ValidationError("Bảng nhóm nợ phải là danh sách từ 2 đến 10 nhóm.")
    prev_days, prev_rate = -1, Decimal(-1)
    for n, row in enumerate(value, start=1):
        if not isinstance(row, dict) or not {"group", "min_days", "provision_rate"} <= set(row):
            raise ValidationError(f"Nhóm nợ dòng {n} phải có group, min_days và provision_rate.")
        if set(row) - _DEBT_GROUP_KEYS:
            raise ValidationError(
                f"Nhóm nợ dòng {n}: khóa không xác định {sorted(set(row) - _DEBT_GROUP_KEYS)}."
            )
        if row["group"] != n:
            raise ValidationError(f"Nhóm nợ dòng {n} phải là nhóm {n}.")
        days = row["min_days"]
        if isinstance(days, bool) or not isinstance(days, int) or days < 0:
            raise ValidationError(f"Nhóm nợ {n}: số ngày quá hạn phải là số nguyên không âm.")
        if n == 1 and days != 0:
            raise ValidationError("Nhóm nợ 1 phải bắt đầu từ 0 ngày quá hạn.")
        if days <= prev_days:
            raise ValidationError(f"Nhóm nợ {n}: số ngày quá hạn phải lớn hơn nhóm trước.")
        rate = _rate(row["provision_rate"], n)
        if rate < prev_rate:
            raise ValidationError(f"Nhóm nợ {n}: tỷ lệ trích lập không được nhỏ hơn nhóm trước.")
        resched = row.get("reschedulings")
        if resched is not None and (
            isinstance(resched, bool) or not isinstance(resched, int) or resched < 1
        ):
            raise ValidationError(f"Nhóm nợ {n}: số lần cơ cấu lại phải là số nguyên dương.")
        if not isinstance(row.get("interest_waived", False), bool):
            raise ValidationError(f"Nhóm nợ {n}: interest_waived phải là true hoặc false.")
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
