"""The dashboard's chart: a value axis with its figures, a category axis, each bar's value,
the unit and the date the figures are as of, and the exact amounts in a table under it."""

import re

import pytest
from django.urls import reverse

from loans.tests.factories import today
from loans.web.charts import BAR, PLOT_HEIGHT, nice_step, quarter_chart, quarter_chart_narrow

# At a 360 px screen the chart is drawn 302 px wide: the page's padding (.75rem each side), the
# card's (1rem) and its border.
DRAWN_AT_360 = 360 - 2 * 12 - 2 * 16 - 2


@pytest.mark.parametrize(
    ("top", "step"), [(1, 1), (4, 1), (7, 2), (12, 5), (60, 20), (455, 100), (15_220, 5_000)]
)
def test_nice_step(top, step):
    assert nice_step(top) == step


def test_chart_geometry_axis_and_values():
    bars = [
        {"label": "Quý I/2026", "planned": 15_000_000_000, "achieved": 15_220_000_000},
        {"label": "Quý II/2026", "planned": 15_000_000_000, "achieved": 4_499_999},
        {"label": "Quý III/2026", "planned": 0, "achieved": 0},
    ]
    chart = quarter_chart(bars)
    # 15.220 millions at most: ticks every 5.000 up to 20.000, from the base line up.
    assert [t["label"] for t in chart["ticks"]] == ["0", "5.000", "10.000", "15.000", "20.000"]
    assert chart["ticks"][0]["y"] == chart["base_y"]
    assert chart["ticks"][-1]["y"] == chart["base_y"] - PLOT_HEIGHT == chart["top_y"]
    q1, q2, q3 = chart["bars"]
    assert (q1["achieved_value"], q2["achieved_value"], q3["planned_value"]) == ("15.220", "4", "0")
    assert q1["achieved_h"] == PLOT_HEIGHT * 15_220 // 20_000
    assert q3["planned_h"] == 0 and q3["percent"] == "—"
    assert q1["percent"] == "101,47%"
    # Bars of a quarter do not overlap, nor do quarters.
    assert q1["achieved_x"] >= q1["planned_x"] + BAR
    assert q2["planned_x"] > q1["achieved_x"] + BAR


def _text_width(text: str, font: int) -> float:
    """A generous estimate of a figure's width: DejaVu Sans' digits are 0.64 em wide."""
    return len(text) * 0.64 * font


@pytest.mark.parametrize(
    "amounts",
    [
        [(15_000_000_000, 15_220_000_000), (15_000_000_000, 4_499_999), (0, 0), (9, 9)],
        [(900_000_000_000, 1_000_000), (0, 2_345_678_000_000)],
        [(1_000_000, 0)],
    ],
)
def test_narrow_chart_reads_at_360_px_and_nothing_overlaps(amounts):
    bars = [
        {"label": f"Quý {'I' * (n + 1)}/2026", "planned": p, "achieved": a}
        for n, (p, a) in enumerate(amounts)
    ]
    c = quarter_chart_narrow(bars)
    font = c["font"]
    # Its type reads at 12 px on a phone; the wide chart's would be scaled down to about 5 px.
    assert font * DRAWN_AT_360 / c["width"] >= 12
    if len(bars) == 4:
        assert 11 * DRAWN_AT_360 / quarter_chart(bars)["width"] < 6
    # The value axis: its figures side by side without touching, inside the drawing.
    ticks = c["ticks"]
    assert ticks[0]["x"] == c["left"] and ticks[-1]["x"] == c["right"] and len(ticks) <= 5
    for a, b in zip(ticks, ticks[1:], strict=False):
        room = (_text_width(a["label"], font) + _text_width(b["label"], font)) / 2
        assert b["x"] - a["x"] >= room + 4, (a, b)
    assert ticks[0]["x"] - _text_width("0", font) / 2 >= 0
    assert ticks[-1]["x"] + _text_width(ticks[-1]["label"], font) / 2 <= c["width"]
    assert c["tick_y"] - font >= c["base_y"]
    bottom = c["top_y"]
    for b in c["bars"]:
        # Each quarter: its name, then its two bars, each value right after its bar, on screen.
        assert b["label_y"] - font >= bottom
        assert b["planned_y"] >= b["label_y"] + 3
        assert b["achieved_y"] >= b["planned_y"] + c["bar"]
        for key in ("planned", "achieved"):
            assert b[f"{key}_value_x"] >= c["left"] + b[f"{key}_w"]
            assert b[f"{key}_value_x"] + _text_width(b[f"{key}_value"], font) <= c["width"]
            assert b[f"{key}_y"] <= b[f"{key}_value_y"] <= b[f"{key}_y"] + c["bar"]
        bottom = b["achieved_y"] + c["bar"]
    assert bottom <= c["base_y"]
    # The longest bar ends at the axis' last figure at most; lengths follow the amounts.
    longest = max(max(p, a) for p, a in amounts)
    for b, (p, a) in zip(c["bars"], amounts, strict=True):
        for key, amount in (("planned", p), ("achieved", a)):
            assert c["left"] + b[f"{key}_w"] <= c["right"]
            assert (b[f"{key}_w"] == max(b["planned_w"], b["achieved_w"])) == (amount >= max(p, a))
            if amount == longest:
                assert b[f"{key}_w"] >= (c["right"] - c["left"]) // 2


@pytest.mark.django_db
def test_dashboard_chart_has_axes_values_unit_and_date(as_user, officers, loan):
    body = as_user(officers.fund).get(reverse("loans:dashboard")).content.decode()
    svg = body[body.index("<svg") : body.index("</svg>")]
    assert 'data-testid="value-axis"' in svg and 'data-testid="category-axis"' in svg
    ticks = re.findall(r'<text class="tick"[^>]*>([^<]+)</text>', svg)
    assert ticks[0] == "0" and len(ticks) >= 3
    values = re.findall(r'<text class="bar-value"[^>]*>([^<]+)</text>', svg)
    assert "12" in values  # the 12-million loan, in millions over its bar
    assert "triệu đồng" in svg and "style=" not in svg  # CSP: no inline style
    as_of = f"đến ngày {today():%d/%m/%Y}"
    assert as_of in body[body.index('data-testid="chart-as-of"') :]
    table = body[body.index('data-testid="chart-table"') :]
    assert "12.000.000 ₫" in table[: table.index("</table>")]
    # The phone's drawing of the same figures: its own viewBox, its type at 13 units.
    narrow = body[body.index('data-testid="chart-narrow"') :]
    narrow = narrow[: narrow.index("</svg>")]
    assert 'viewBox="0 0 320 ' in body and "12" in re.findall(
        r'class="bar-value"[^>]*>([^<]+)<', narrow
    )
    assert set(re.findall(r'font-size="(\d+)"', narrow)) == {"13"} and "style=" not in narrow
    assert "triệu đồng" in narrow and "Kế hoạch" in narrow


@pytest.mark.django_db
def test_dashboard_chart_in_english(as_user, officers, loan):
    c = as_user(officers.fund)
    c.cookies["django_language"] = "en"
    body = c.get(reverse("loans:dashboard"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "millions of VND" in body and "million VND" in body


@pytest.mark.django_db
def test_each_dashboard_figure_says_its_date(as_user, officers, loan):
    body = as_user(officers.fund).get(reverse("loans:dashboard")).content.decode()
    day = today()
    quarter_start = day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)

    def label(testid):
        start = body.index(f'data-testid="{testid}"')
        return body[body.index(">", start) + 1 : body.index("</div>", start)]

    assert label("as-of-capital") == f"đến ngày {day:%d/%m/%Y}"
    assert label("as-of-quarter") == f"từ {quarter_start:%d/%m/%Y} đến {day:%d/%m/%Y}"
    assert label("as-of-outstanding").endswith(f"đến ngày {day:%d/%m/%Y}")
    assert label("as-of-jobs") == f"từ 01/01/{day.year} đến {day:%d/%m/%Y}"
    assert body.count("đang chờ, lúc mở trang") == 2
