"""Presentation of money, percentages and dates the Vietnamese way: {% load money %}."""

from datetime import date

from django import template

from accounting.formatting import format_date_vi, format_percent, format_vnd
from fund.validation import phone_display

register = template.Library()


@register.filter
def vnd(value):
    """15220000000 -> '15.220.000.000 ₫' (a Money, a Decimal or an int); None -> '—'."""
    return "—" if value is None or value == "" else format_vnd(value)


@register.filter
def vnd_plain(value):
    return "" if value is None or value == "" else format_vnd(value, symbol=False)


@register.filter
def pct(value):
    return "—" if value is None else format_percent(value)


@register.filter
def date_vi(value):
    return format_date_vi(value) if isinstance(value, date) else "—"


def _signed(value):
    from decimal import Decimal

    return Decimal(getattr(value, "amount", value))


@register.filter
def debit(value):
    """The debit side of a signed posting amount (debit > 0), else ''."""
    v = _signed(value)
    return format_vnd(v, symbol=False) if v > 0 else ""


@register.filter
def credit(value):
    """The credit side of a signed posting amount (credit < 0), shown positive, else ''."""
    v = _signed(value)
    return format_vnd(-v, symbol=False) if v < 0 else ""


@register.filter
def phone(value):
    """'+84912345678' -> '0912 345 678'; nothing -> '—'."""
    return phone_display(value) or "—"


@register.filter
def share(value):
    """A fraction as a percentage: Decimal('0.2516') -> '25,16%'; None -> '—'."""
    return "—" if value is None else format_percent(value * 100)
