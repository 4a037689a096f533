"""The dashboard's bar chart as server-drawn SVG geometry (no script, no inline style: the
Content Security Policy forbids both). Amounts are whole đồng; the bars and the axis are drawn
in millions of đồng (a scale for the eye only, rounded half up with integers), and every bar
carries its exact amount in its tooltip and in the table printed under the chart.

Two drawings of the same figures: `quarter_chart`, upright bars side by side, for a screen of
40rem and more, and `quarter_chart_narrow`, bars lying one under the other, for a phone: its
viewBox is about as wide as the chart is drawn at 360 px (about 300 px), so its 13-unit type
reads at about 12 px rather than being scaled down to half (the stylesheet shows one or the
other by the screen's width)."""

from __future__ import annotations

from accounting.formatting import format_vnd
from fund.attainment import percent_display, percent_of

MILLION = 1_000_000
PLOT_HEIGHT = 200
LEFT, TOP, BOTTOM = 78, 40, 44  # room for the axis' values, the legend and the labels
SLOT, BAR = 128, 42
# The narrow drawing: its width in viewBox units, its type size, the room on the left (half the
# "0" of the axis) and on the right of the longest bar (its value), bars' thickness and each
# quarter's band (its name, then the two bars).
NARROW_WIDTH, NARROW_FONT = 320, 13
NARROW_LEFT, NARROW_VALUE_ROOM = 8, 52
NARROW_TOP, NARROW_BAR, NARROW_BAND = 48, 16, 66


def _millions(amount: int) -> int:
    """Whole millions, half up (integers only)."""
    return (int(amount) + MILLION // 2) // MILLION


def nice_step(top: int, ticks: int = 5) -> int:
    """The step of an axis from 0 to at least `top` in about `ticks` steps: 1, 2 or 5 times a
    power of ten (at least 1)."""
    rough = max(1, -(-top // ticks))
    power = 1
    while power * 10 <= rough:
        power *= 10
    for m in (1, 2, 5, 10):
        if m * power >= rough:
            return m * power
    return 10 * power  # pragma: no cover - the loop always returns


def _axis(bars: list[dict], ticks: int = 5) -> tuple[int, int]:
    """The value axis' top and step, in millions, for the bars' largest amount."""
    top = max([_millions(b[k]) for b in bars for k in ("planned", "achieved")] + [1])
    step = nice_step(top, ticks)
    return -(-top // step) * step, step


def quarter_chart(bars: list[dict]) -> dict:
    """Geometry of the planned/achieved bars per quarter with a value axis (ticks and their
    values in millions of đồng), a category axis (the quarters) and each bar's value above it.

    `bars`: ``{"label", "planned", "achieved"}`` with amounts in đồng."""
    axis_top, step = _axis(bars)
    base_y = TOP + PLOT_HEIGHT

    def y_of(millions: int) -> int:
        return base_y - PLOT_HEIGHT * millions // axis_top

    ticks = [
        {"y": y_of(v), "label": format_vnd(v, symbol=False)} for v in range(0, axis_top + 1, step)
    ]
    out = []
    for i, b in enumerate(bars):
        x = LEFT + 12 + i * SLOT
        row = {"label": b["label"], "label_x": x + BAR + 2, "planned": b["planned"]}
        row["achieved"] = b["achieved"]
        for key, dx in (("planned", 0), ("achieved", BAR + 4)):
            m = _millions(b[key])
            y = y_of(m)
            row[f"{key}_x"], row[f"{key}_y"], row[f"{key}_h"] = x + dx, y, base_y - y
            row[f"{key}_value"] = format_vnd(m, symbol=False)
            row[f"{key}_value_x"], row[f"{key}_value_y"] = x + dx + BAR // 2, y - 4
        row["percent"] = percent_display(percent_of(b["achieved"], b["planned"]))
        out.append(row)
    width = LEFT + 12 + SLOT * len(bars)
    return {
        "bars": out,
        "ticks": ticks,
        "width": width,
        "height": base_y + BOTTOM,
        "base_y": base_y,
        "top_y": TOP,
        "left": LEFT,
        "bar": BAR,
        "label_y": base_y + 18,
        "unit_x": 4,
        "unit_y": TOP - 16,
    }


def quarter_chart_narrow(bars: list[dict]) -> dict:
    """The same figures for a phone: each quarter's name, then its planned and achieved bars
    lying from the category axis on the left, each value right after its bar, and the value
    axis (four steps at most, so its figures have room) along the bottom."""
    axis_top, step = _axis(bars, ticks=4)
    plot = NARROW_WIDTH - NARROW_LEFT - NARROW_VALUE_ROOM
    base_y = NARROW_TOP + NARROW_BAND * len(bars)

    def length(millions: int) -> int:
        return plot * millions // axis_top

    out = []
    for i, b in enumerate(bars):
        band = NARROW_TOP + i * NARROW_BAND
        row = {"label": b["label"], "label_y": band + NARROW_FONT, "planned": b["planned"]}
        row["achieved"] = b["achieved"]
        for key, dy in (("planned", 20), ("achieved", 20 + NARROW_BAR + 4)):
            m = _millions(b[key])
            w = length(m)
            row[f"{key}_y"], row[f"{key}_w"] = band + dy, w
            row[f"{key}_value"] = format_vnd(m, symbol=False)
            row[f"{key}_value_x"] = NARROW_LEFT + w + 4
            row[f"{key}_value_y"] = band + dy + NARROW_BAR - 3
        out.append(row)
    ticks = [
        {"x": NARROW_LEFT + length(v), "label": format_vnd(v, symbol=False)}
        for v in range(0, axis_top + 1, step)
    ]
    return {
        "bars": out,
        "ticks": ticks,
        "width": NARROW_WIDTH,
        "height": base_y + 24,
        "font": NARROW_FONT,
        "left": NARROW_LEFT,
        "right": NARROW_LEFT + plot,
        "top_y": NARROW_TOP,
        "base_y": base_y,
        "tick_y": base_y + 17,
        "bar": NARROW_BAR,
        "unit_y": 15,
        "legend_y": 26,
    }
