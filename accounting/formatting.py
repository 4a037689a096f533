"""Vietnamese presentation of amounts and percentages: `15.220.000.000 ₫`, `25,16%`."""

from decimal import ROUND_HALF_UP, Decimal


def format_vnd(amount, *, symbol: bool = True) -> str:
    """Whole đồng with dots between thousands: 15220000000 -> '15.220.000.000 ₫'."""
    value = Decimal(getattr(amount, "amount", amount)).quantize(Decimal(1), ROUND_HALF_UP)
    sign = "-" if value < 0 else ""
    text = f"{abs(value):,.0f}".replace(",", ".")
    return f"{sign}{text} ₫" if symbol else f"{sign}{text}"


def format_percent(value, *, places: int = 2) -> str:
    """A percentage with a decimal comma: Decimal('25.16') -> '25,16%'."""
    q = Decimal(value).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
    return f"{q:.{places}f}".replace(".", ",") + "%"
