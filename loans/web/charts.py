"""The dashboard's bar chart as server-drawn SVG geometry (no script, no inline style: the
Content Security Policy forbids both). Amounts are whole đồng; the bars and the axis are drawn
in millions of đồng (a scale for the eye only, rounded half up with integers), and every bar
carries its exact amount in its tooltip and in the table printed under the chart."""

from __future__ import annotations

from accounting.formatting import format_vnd
from fund.attainment import percent_display, percent_of

MILLION = 1_000_000
PLOT_HEIGHT = 200
LEFT, TOP, BOTTOM = 78, 40, 44  # room for the axis' values, the legend and the labels
SLOT, BAR = 128, 42


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


def quarter_chart(bars: list[dict]) -> dict:
    """Geometry of the planned/achieved bars per quarter with a value axis (ticks and their
    values in millions of đồng), a category axis (the quarters) and each bar's value above it.

    `bars`: ``{"label", "planned", "achieved"}`` with amounts in đồng."""
    top = max([_millions(b[k]) for b in bars for k in ("planned", "achieved")] + [1])
    step = nice_step(top)
    axis_top = -(-top // step) * step
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
