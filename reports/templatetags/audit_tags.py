"""Vietnamese presentation in the auditor's templates: ``{{ x|vnd }}``, ``{{ d|date_vi }}``."""

from django import template

from accounting.formatting import LOCAL_TZ, format_date_vi, format_vnd

register = template.Library()


@register.filter
def vnd(value):
    """15220000000 -> '15.220.000.000 ₫'; empty for None."""
    if value is None or value == "":
        return ""
    return format_vnd(value)


@register.filter
def vnd_or_blank(value):
    """An amount, or nothing when it is zero (the blank cells of a trial balance)."""
    if value in (None, "") or not value:
        return ""
    return format_vnd(value)


@register.filter
def date_vi(value):
    if value in (None, ""):
        return ""
    return format_date_vi(value)


@register.filter
def datetime_vi(value):
    """An aware datetime on the fund's calendar: '31/03/2026 14:05:09'."""
    if value in (None, ""):
        return ""
    local = value.astimezone(LOCAL_TZ) if value.tzinfo else value
    return f"{format_date_vi(local)} {local:%H:%M:%S}"


MAX_INDENT = 6


@register.filter
def indent(depth):
    """CSS class that indents an account row by its depth in the chart ("depth-0" … "depth-6";
    deeper accounts share the last step). A class, not a style attribute: the Content Security
    Policy allows no inline styles."""
    try:
        return f"depth-{min(max(int(depth), 0), MAX_INDENT)}"
    except (TypeError, ValueError):
        return "depth-0"
