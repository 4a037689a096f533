"""Checks of the values a loan service is given (text, dates, counts, choices, amounts), each
refusal a ``LoanError`` naming its field, and the audit log's plain form of a value."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from djmoney.money import Money

from accounting.errors import lazy_join, translatable
from accounting.money import to_dong
from loans.errors import (
    LoanError,
)


def audit_plain(value):
    """A value as the audit log stores it: amounts as whole-đồng strings, dates ISO, rows by id."""
    if isinstance(value, Money):
        value = value.amount
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")  # 6.6000 and 6.6 are the same rate
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "pk"):
        return value.pk
    return value


def audit_snapshot(obj, fields) -> dict:
    return {f: audit_plain(getattr(obj, f)) for f in fields}


def audit_changes(before: dict, obj) -> dict:
    """``{"field": [old, new]}`` for the fields of `before` that differ on `obj` now."""
    after = audit_snapshot(obj, before)
    return {f: [old, after[f]] for f, old in before.items() if after[f] != old}


def full_clean(obj, *, rows_held: bool = False, **kwargs) -> None:
    """full_clean() with the first problem as a LoanError naming its field.

    `rows_held`: the related rows are instances the service has just read (or locked) in this
    transaction, so their existence is not checked again (a query per foreign key; the
    database's foreign keys guard it anyway)."""
    if rows_held:
        kwargs["exclude"] = [
            *kwargs.get("exclude", ()),
            *(f.name for f in obj._meta.concrete_fields if f.is_relation),
        ]
    try:
        obj.full_clean(**kwargs)
    except ValidationError as e:
        # The messages as Django keeps them (lazy, with their params), put together when shown.
        field, errors = next(iter(e.error_dict.items()))
        raise LoanError(
            lazy_join(" ", [translatable(err.message, err.params) for err in errors]),
            field=None if field == "__all__" else field,
        ) from None


def clean_text(value, *, field: str, label: str, required: bool = False, max_length: int = 255):
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise LoanError(_("%(label)s phải là chuỗi ký tự."), field=field, params={"label": label})
    value = " ".join(value.split())
    if required and not value:
        raise LoanError(_("%(label)s không được để trống."), field=field, params={"label": label})
    if len(value) > max_length:
        raise LoanError(
            _("%(label)s dài quá %(max)s ký tự."),
            field=field,
            params={"label": label, "max": max_length},
        )
    return value


def clean_date(value, *, field: str, label: str, required: bool = True) -> date | None:
    if value is None and not required:
        return None
    if isinstance(value, datetime) or not isinstance(value, date):
        raise LoanError(
            _("%(label)s phải là một ngày, nhận được %(value)s."),
            field=field,
            params={"label": label, "value": repr(value)},
        )
    return value


def clean_count(value, *, field: str, label: str, minimum: int = 0, maximum: int = 32767) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise LoanError(
            _("%(label)s phải là số nguyên, nhận được %(value)s."),
            field=field,
            params={"label": label, "value": repr(value)},
        )
    if not minimum <= value <= maximum:
        raise LoanError(
            _("%(label)s phải từ %(min)s đến %(max)s."),
            field=field,
            params={"label": label, "min": minimum, "max": maximum},
        )
    return value


def clean_positive_dong(value, *, field: str, label: str) -> Decimal:
    amount = to_dong(value, field=field)
    if amount <= 0:
        raise LoanError(
            _("%(label)s phải lớn hơn 0, nhận được %(value)s."),
            field=field,
            params={"label": label, "value": value},
        )
    return amount


def clean_choice(value, choices, *, field: str, label: str) -> str:
    values = {c.value if hasattr(c, "value") else c[0] for c in choices}
    if not isinstance(value, str) or value not in values:
        raise LoanError(
            _("%(label)s không hợp lệ: %(value)s."),
            field=field,
            params={"label": label, "value": repr(value)},
        )
    return value


def refuse_unknown_fields(values: dict, known) -> None:
    """A service's ``**fields`` hold only fields it can change."""
    if unknown := set(values) - set(known):
        raise LoanError(
            _("Trường không sửa được: %(fields)s."),
            field="fields",
            params={"fields": ", ".join(sorted(unknown))},
        )
