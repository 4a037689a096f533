from datetime import date
from decimal import Decimal

import pytest

from fund import attainment as att
from fund.attainment import (
    attainment,
    growth_display,
    percent_display,
    register_indicator_source,
)
from fund.errors import FundError
from fund.models import AnnualPlan, PlanSplit

pytestmark = pytest.mark.django_db


@pytest.fixture
def sources(monkeypatch):
    """Achieved figures keyed by (unit, start, end) instead of loans."""
    monkeypatch.setattr(att, "_SOURCES", {})
    table = {}

    def disbursed(*, fund, superior_union=None, grassroots_union=None, start, end):
        unit = grassroots_union or superior_union or fund
        return sum(v for (u, d), v in table.items() if u == unit and start <= d <= end)

    register_indicator_source("disbursed_amount", disbursed)
    return table


@pytest.fixture
def plans(org):
    p = AnnualPlan.objects.create(
        fund=org.fund, year=2024, disbursed_amount=60_500_000_000, borrowers=2000, jobs=2300
    )
    AnnualPlan.objects.create(fund=org.fund, year=2023, disbursed_amount=58_000_000_000)
    PlanSplit.objects.create(plan=p, superior_union=org.lb, disbursed_amount=10_000_000_000)
    for q, amount in [(1, 2_000_000_000), (2, 3_000_000_000)]:
        PlanSplit.objects.create(plan=p, superior_union=org.lb, quarter=q, disbursed_amount=amount)
    return p


def test_quarter_against_the_year_plan_with_growth(org, plans, sources):
    sources[(org.fund, date(2024, 2, 10))] = 15_220_000_000
    sources[(org.fund, date(2023, 3, 1))] = 14_730_000_000
    sources[(org.fund, date(2024, 4, 1))] = 1  # outside Q1
    a = attainment(fund=org.fund, indicator="disbursed_amount", year=2024, quarter=1)
    assert (a.start, a.end) == (date(2024, 1, 1), date(2024, 3, 31))
    assert a.planned == 60_500_000_000  # no quarter split: the year's plan
    assert a.achieved == 15_220_000_000
    assert a.percent == Decimal("25.16")
    assert a.percent_display == "25,16%"
    assert a.previous == 14_730_000_000
    assert a.growth_percent == Decimal("3.33")
    assert a.growth_display == "+3,33%"
    assert a.previous_planned == 58_000_000_000


def test_quarter_split_of_a_superior_union(org, plans, sources):
    sources[(org.lb, date(2024, 5, 5))] = 1_500_000_000
    sources[(org.lb, date(2024, 1, 5))] = 2_500_000_000
    q2 = attainment(
        fund=org.fund, indicator="disbursed_amount", year=2024, quarter=2, superior_union=org.lb
    )
    assert (q2.planned, q2.achieved, q2.percent) == (3_000_000_000, 1_500_000_000, Decimal("50.00"))
    assert q2.year_planned == 10_000_000_000 and q2.percent_of_year == Decimal("15.00")
    ytd = attainment(
        fund=org.fund,
        indicator="disbursed_amount",
        year=2024,
        quarter=2,
        period="ytd",
        superior_union=org.lb,
    )
    assert (ytd.start, ytd.end) == (date(2024, 1, 1), date(2024, 6, 30))
    assert (ytd.planned, ytd.achieved, ytd.percent) == (
        5_000_000_000,
        4_000_000_000,
        Decimal("80.00"),
    )
    year = attainment(
        fund=org.fund, indicator="disbursed_amount", year=2024, period="year", superior_union=org.lb
    )
    assert year.planned == 10_000_000_000 and year.quarter is None
    assert year.previous == 0 and year.growth_percent is None and year.growth_display == "—"


def test_no_plan_means_no_percent(org, sources):
    sources[(org.hbt, date(2024, 5, 5))] = 100
    a = attainment(
        fund=org.fund,
        indicator="disbursed_amount",
        year=2024,
        period="year",
        superior_union=org.hbt,
    )
    assert a.planned == 0 and a.percent is None and a.percent_display == "—"


def test_unregistered_indicator_has_achieved_nothing(org, plans, monkeypatch):
    monkeypatch.setattr(att, "_SOURCES", {})
    a = attainment(fund=org.fund, indicator="jobs_confirmed", year=2024, period="year")
    assert (a.planned, a.achieved, a.percent) == (2300, 0, Decimal("0.00"))


def test_bad_arguments(org):
    with pytest.raises(FundError):
        attainment(fund=org.fund, indicator="nope", year=2024, quarter=1)
    with pytest.raises(FundError):
        attainment(fund=org.fund, indicator="loans", year=2024)  # quarter missing
    with pytest.raises(FundError):
        attainment(fund=org.fund, indicator="loans", year=2024, quarter=1, period="month")
    with pytest.raises(ValueError):
        register_indicator_source("nope", lambda **kw: 0)


def test_vietnamese_percent_presentation():
    assert percent_display(Decimal("25.16")) == "25,16%"
    assert percent_display(Decimal("100")) == "100,00%"
    assert growth_display(Decimal("-1.5")) == "-1,50%"
    assert growth_display(Decimal("0")) == "0,00%"
