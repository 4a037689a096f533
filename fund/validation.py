"""Checks of the values a service is given (text, dates, counts, choices, amounts, a row's own
validation), each refusal of the caller's error class (``LoanError``, ``FundError``) naming its
field, so that a refusal reads the same whichever app refuses."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from accounting.dates import backdate_reason_check, backdate_window_start
from accounting.errors import ApplicationError, lazy_join, translatable
from accounting.money import to_dong


def full_clean(obj, *, error: type[ApplicationError], rows_held: bool = False, **kwargs) -> None:
    """full_clean() with the first problem as an `error` naming its field.

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
        raise error(
            lazy_join(" ", [translatable(err.message, err.params) for err in errors]),
            field=None if field == "__all__" else field,
        ) from None


def clean_text(
    value,
    *,
    error: type[ApplicationError],
    field: str,
    label: str,
    required: bool = False,
    max_length: int = 255,
):
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise error(_("%(label)s phải là chuỗi ký tự."), field=field, params={"label": label})
    value = " ".join(value.split())
    if required and not value:
        raise error(_("%(label)s không được để trống."), field=field, params={"label": label})
    if len(value) > max_length:
        raise error(
            _("%(label)s dài quá %(max)s ký tự."),
            field=field,
            params={"label": label, "max": max_length},
        )
    return value


# Phone numbers are read as Vietnamese ones unless they carry a country code, and stored in E.164
# ("+84912345678"), the form SMS gateways take; shown in the national form (``phone_display``).
PHONE_REGION = "VN"


def phone_e164(text: str) -> str:
    """`text` as an E.164 number; ValueError when it is not a valid number (letters, too short, a
    number no network gives out). The one phone rule, used by services and imports."""
    try:
        number = phonenumbers.parse(text, PHONE_REGION)
    except phonenumbers.NumberParseException:
        raise ValueError(text) from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError(text)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


PHONE_INVALID = _("%(label)s không phải số điện thoại hợp lệ: '%(value)s'.")


def clean_phone(value, *, error: type[ApplicationError], field: str, label: str) -> str:
    """A phone number as E.164, or "" when none is given; an invalid one is refused, naming
    the field."""
    value = clean_text(value, error=error, field=field, label=label, max_length=32)
    if not value:
        return ""
    try:
        return phone_e164(value)
    except ValueError:
        raise error(PHONE_INVALID, field=field, params={"label": label, "value": value}) from None


def clean_email(
    value, *, error: type[ApplicationError], field: str, label: str, required: bool = False
) -> str:
    """An e-mail address (lower-cased domain), or "" when none is given and none is required;
    an invalid one is refused, naming the field."""
    value = clean_text(
        value, error=error, field=field, label=label, required=required, max_length=254
    )
    if not value:
        return ""
    try:
        validate_email(value)
    except ValidationError:
        raise error(
            _("%(label)s không phải địa chỉ e-mail hợp lệ: '%(value)s'."),
            field=field,
            params={"label": label, "value": value},
        ) from None
    local, _at, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


def phone_display(value: str) -> str:
    """A stored number as people write it: national form for Vietnamese numbers ("0912 345
    678"), international for others; text that is not a number (older rows) as it is."""
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, PHONE_REGION)
    except phonenumbers.NumberParseException:
        return value
    fmt = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if phonenumbers.region_code_for_number(number) == PHONE_REGION
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, fmt)


def clean_date(
    value, *, error: type[ApplicationError], field: str, label: str, required: bool = True
) -> date | None:
    if value is None and not required:
        return None
    if isinstance(value, datetime) or not isinstance(value, date):
        raise error(
            _("%(label)s phải là một ngày, nhận được %(value)s."),
            field=field,
            params={"label": label, "value": repr(value)},
        )
    return value


def clean_count(
    value,
    *,
    error: type[ApplicationError],
    field: str,
    label: str,
    minimum: int = 0,
    maximum: int = 32767,
) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise error(
            _("%(label)s phải là số nguyên, nhận được %(value)s."),
            field=field,
            params={"label": label, "value": repr(value)},
        )
    if not minimum <= value <= maximum:
        raise error(
            _("%(label)s phải từ %(min)s đến %(max)s."),
            field=field,
            params={"label": label, "min": minimum, "max": maximum},
        )
    return value


def clean_positive_dong(value, *, error: type[ApplicationError], field: str, label: str) -> Decimal:
    amount = to_dong(value, field=field)
    if amount <= 0:
        raise error(
            _("%(label)s phải lớn hơn 0, nhận được %(value)s."),
            field=field,
            params={"label": label, "value": value},
        )
    return amount


def clean_choice(value, choices, *, error: type[ApplicationError], field: str, label: str) -> str:
    values = {c.value if hasattr(c, "value") else c[0] for c in choices}
    if not isinstance(value, str) or value not in values:
        raise error(
            _("%(label)s không hợp lệ: %(value)s."),
            field=field,
            params={"label": label, "value": repr(value)},
        )
    return value


def refuse_unknown_fields(values: dict, known, *, error: type[ApplicationError]) -> None:
    """A service's ``**fields`` hold only fields it can change."""
    if unknown := set(values) - set(known):
        raise error(
            _("Trường không sửa được: %(fields)s."),
            field="fields",
            params={"fields": ", ".join(sorted(unknown))},
        )


def fund_backdate_window_start(fund) -> date:
    """The first day of `fund`'s open window (``Fund.backdate_open_months``): a posting or a
    decision dated before it needs a reason (``accounting.dates.backdate_window_start``)."""
    return backdate_window_start(fund.backdate_open_months)


def backdate_reason_clean(
    fund, day: date, reason, *, field: str, label, error: type[ApplicationError] | None = None
) -> str:
    """The back-dating rule with `fund`'s window (``Fund.backdate_open_months``): "" when `day`
    is in the window, else the reason the posting or decision keeps; no reason, a refusal
    naming `field` (``accounting.dates.backdate_reason_check``)."""
    return backdate_reason_check(
        day,
        reason,
        window_start=fund_backdate_window_start(fund),
        field=field,
        label=label,
        error=error,
    )
