"""The one place that turns user input into money.

VND has no minor unit (Babel's currency precision for VND is 0), so every amount in trovon is a
whole number of đồng held as a `Decimal` with exponent 0. Input with a fraction of a đồng is
refused, never rounded: rounding is a business rule that belongs to the schedule, not to input.
"""

import re
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField
from djmoney.money import Money

from accounting.errors import InvalidAmount, WrongCurrency

CURRENCY = "VND"
ZERO = Decimal(0)
# Postings hold at most 20 digits (``models.AMOUNT_DIGITS``); refuse more here, with a message,
# rather than let the database raise an overflow.
MAX_AMOUNT = Decimal(10) ** 20 - 1
# Amounts hold at most 20 digits, like the ledger's postings.
AMOUNT_DIGITS = 20


def to_dong(value, *, field: str = "amount", currency: str = CURRENCY) -> Decimal:
    """Whole đồng as a Decimal, or `InvalidAmount` naming `field`.

    For amounts the code itself holds (an int, a Decimal, a `Money`, a Decimal's string): floats
    are refused because they cannot be trusted to hold an amount exactly. Text typed by people
    goes through `parse_amount_text`, JSON of the API through `parse_amount_api`.
    """
    if isinstance(value, Money):
        if str(value.currency) != currency:
            raise WrongCurrency(
                _("Tiền tệ %(currency)s không hợp lệ, chỉ nhận %(accepted)s."),
                field=field,
                params={"currency": str(value.currency), "accepted": currency},
            )
        value = value.amount
    if isinstance(value, bool) or isinstance(value, float):
        raise InvalidAmount(_("Số tiền phải là số nguyên đồng, không dùng số thực."), field=field)
    try:
        amount = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        raise _invalid(value, field) from None
    if not amount.is_finite():
        raise _invalid(value, field)
    if abs(amount) > MAX_AMOUNT:
        raise _too_long(field)
    if amount != amount.to_integral_value():
        raise InvalidAmount(
            _("Số tiền %(value)s có phần lẻ của đồng; VND không có đơn vị nhỏ hơn đồng."),
            field=field,
            params={"value": value},
        )
    return amount.quantize(Decimal(1))


def _invalid(value, field: str) -> InvalidAmount:
    return InvalidAmount(
        _("Số tiền không hợp lệ: %(value)s."), field=field, params={"value": repr(value)}
    )


def _too_long(field: str) -> InvalidAmount:
    return InvalidAmount(_("Số tiền vượt quá 20 chữ số."), field=field)


# --------------------------------------------------------------------------------------------
# The one amount rule (docs/ledger.md, "Amounts people type"). Two entry points, one rule:
# whole đồng in ASCII digits. People (forms, imports, commands) may group thousands with "." the
# Vietnamese way and add "₫"/"đ" and spaces; the API takes a JSON integer or a string of digits.

# Digits, or digits in groups of three separated by "." with no leading zero ("1.000.000").
_PEOPLE_AMOUNT = re.compile(r"(?:[0-9]+|[1-9][0-9]{0,2}(?:\.[0-9]{3})+)", re.ASCII)
_API_AMOUNT = re.compile(r"[0-9]+", re.ASCII)
# The currency may be written before or after the number; spaces (also the no-break kinds that
# spreadsheets and word processors put between digits and symbol) around it are ignored.
_SYMBOLS = ("₫", "đ", "Đ", "VND", "vnd", "VNĐ", "vnđ")
_SPACES = " \t\u00a0\u202f\u2009"


def _refuse_text(field: str) -> InvalidAmount:
    return InvalidAmount(
        _(
            "Số tiền chỉ gồm chữ số, đơn vị đồng, có thể tách nghìn bằng dấu chấm (ví dụ "
            "2.000.000); không có phần lẻ, dấu phẩy, dấu +/- hay số mũ."
        ),
        field=field,
    )


def _checked(amount: int, *, field: str, allow_zero: bool) -> Decimal:
    if amount > MAX_AMOUNT:
        raise _too_long(field)
    if amount == 0 and not allow_zero:
        raise InvalidAmount(_("Số tiền phải lớn hơn 0."), field=field)
    return Decimal(amount)


def parse_amount_text(text, *, field: str = "amount", allow_zero: bool = True) -> Decimal:
    """Whole đồng from text a person typed (a form, an imported cell, a command's argument).

    Accepts ASCII digits, optionally grouped by thousands with "." ("1.000.000"), with an
    optional "₫"/"đ"/"VND" before or after and spaces around. Refuses, naming `field`: empty
    text, a decimal part, a comma, an exponent, a sign, "_", a dot that does not separate
    thousands ("1.5", "1.00", "1.0000"), digits of other scripts, more than 20 digits.
    """
    if not isinstance(text, str):
        raise _refuse_text(field)
    value = text.strip(_SPACES)
    for symbol in _SYMBOLS:
        if value.endswith(symbol):
            value = value[: -len(symbol)].rstrip(_SPACES)
            break
        if value.startswith(symbol):
            value = value[len(symbol) :].lstrip(_SPACES)
            break
    if not value:
        raise InvalidAmount(_("Chưa nhập số tiền."), field=field)
    if not _PEOPLE_AMOUNT.fullmatch(value):
        raise _refuse_text(field)
    digits = value.replace(".", "")
    if len(digits.lstrip("0")) > AMOUNT_DIGITS:
        raise _too_long(field)
    return _checked(int(digits), field=field, allow_zero=allow_zero)


def parse_amount_api(value, *, field: str = "amount", allow_zero: bool = True) -> Decimal:
    """Whole đồng from the API's JSON: an integer, or a string of ASCII digits only.

    Refuses, naming `field`: true/false, a number with a fraction or an exponent (any JSON
    float), a sign, spaces, dots or any other character in a string, more than 20 digits.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise InvalidAmount(_("Số tiền không được âm."), field=field)
        return _checked(value, field=field, allow_zero=allow_zero)
    if isinstance(value, str) and _API_AMOUNT.fullmatch(value):
        if len(value.lstrip("0")) > AMOUNT_DIGITS:
            raise _too_long(field)
        return _checked(int(value), field=field, allow_zero=allow_zero)
    raise InvalidAmount(
        _(
            "Số tiền phải là số nguyên JSON hoặc chuỗi chỉ gồm chữ số (đồng), không có dấu "
            "chấm, dấu phẩy, dấu +/-, số mũ hay phần lẻ."
        ),
        field=field,
    )


# A spreadsheet's number cell holds a float; above this it no longer holds every whole number.
_EXACT_FLOAT = 2**53


def parse_amount_cell(value, *, field: str = "amount", allow_zero: bool = True) -> Decimal:
    """Whole đồng from a cell of an imported table (CSV text, or an XLSX cell's value).

    Text follows `parse_amount_text`; a spreadsheet number must be a whole number of đồng
    (a number cell with a fraction is refused, never rounded).
    """
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise _refuse_text(field)
        return _checked(value, field=field, allow_zero=allow_zero)
    if isinstance(value, float):
        if not value.is_integer() or not (0 <= value < _EXACT_FLOAT):
            raise _refuse_text(field)
        return _checked(int(value), field=field, allow_zero=allow_zero)
    if value is None:
        value = ""
    return parse_amount_text(value, field=field, allow_zero=allow_zero)


def vnd(value) -> Money:
    """A `Money` in VND from whole đồng (validated by `to_dong`)."""
    return Money(to_dong(value), CURRENCY)


def amount_of(value) -> Decimal:
    """The whole-đồng Decimal of a `Money` (or of a Decimal/None, for aggregates)."""
    if value is None:
        return ZERO
    if isinstance(value, Money):
        return value.amount
    return value


def money_field(verbose_name, **kwargs):
    """A model field for a whole-đồng amount: a `MoneyField` in VND with no decimal places."""
    kwargs.setdefault("default", 0)
    return MoneyField(
        verbose_name,
        max_digits=AMOUNT_DIGITS,
        decimal_places=0,
        default_currency=CURRENCY,
        **kwargs,
    )
