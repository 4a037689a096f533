"""The dashboard's chart: a value axis with its figures, a category axis, each bar's value,
the unit and the date the figures are as of, and the exact amounts in a table under it."""

import re

import pytest
from django.urls import reverse

from loans.tests.factories import today
from loans.web.charts import BAR, PLOT_HEIGHT, nice_step, quarter_chart


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
