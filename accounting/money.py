"""The one place that turns user input into money.

VND has no minor unit (Babel's currency precision for VND is 0), so every amount in trovon is a
whole number of đồng held as a `Decimal` with exponent 0. Input with a fraction of a đồng is
refused, never rounded: rounding is a business rule that belongs to the schedule, not to input.
"""

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


def to_dong(value, *, field: str = "amount", currency: str = CURRENCY) -> Decimal:
    """Whole đồng as a Decimal, or `InvalidAmount` naming `field`.

    Accepts int, Decimal, a numeric string or a `Money`; floats are refused because they cannot
    be trusted to hold an amount exactly.
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
        raise InvalidAmount(
            _("Số tiền %(value)s vượt quá 20 chữ số."), field=field, params={"value": value}
        )
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


# Amounts hold at most 20 digits, like the ledger's postings.
AMOUNT_DIGITS = 20


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
