"""The schedule engine against hand-computed tables and, with hypothesis, its invariants.

The oracles here are independent of the engine: expected due dates come from plain calendar
arithmetic, expected interest from `fractions.Fraction` (exact), and the hand tables were worked
out on paper (the working is in the comments).
"""

import calendar
import os
import subprocess
import sys
import textwrap
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from accounting.errors import ApplicationError
from loans.schedules import (
    Frequency,
    Installment,
    Method,
    RatePeriod,
    ScheduleError,
    ScheduleTerms,
    ScheduleTotals,
    due_dates,
    interest_total_expected,
    periodic_rate,
    schedule_generate,
    schedule_totals,
    schedule_validate,
)

D = Decimal


def make_terms(**overrides) -> ScheduleTerms:
    values = {
        "principal": D(12_000_000),
        "installments": 12,
        "method": Method.EQUAL_PRINCIPAL,
        "rate": D("0.55"),
        "rate_period": RatePeriod.MONTH,
        "frequency": Frequency.MONTHLY,
        "disbursed_on": date(2026, 1, 15),
    }
    values.update(overrides)
    return ScheduleTerms(**values)


def rows(schedule: list[Installment]) -> list[tuple]:
    """(number, due date, principal, interest, total, balance after) as plain ints and dates."""
    return [
        (
            i.number,
            i.due_date,
            int(i.principal),
            int(i.interest),
            int(i.total),
            int(i.balance_after),
        )
        for i in schedule
    ]


def exact_rate(terms: ScheduleTerms) -> Fraction:
    """The periodic rate from first principles, as an exact fraction."""
    yearly = Fraction(terms.rate) / 100 * (12 if terms.rate_period == RatePeriod.MONTH else 1)
    return yearly / (12 if terms.frequency == Frequency.MONTHLY else 52)


def round_half_up(value: Fraction) -> int:
    floor = value.numerator // value.denominator
    return floor + (1 if value - floor >= Fraction(1, 2) else 0)


def expected_monthly(start: date, i: int) -> date:
    """Month ``i`` after ``start``, clamped to the month's end (no code shared with the engine)."""
    year, month = start.year + (start.month - 1 + i) // 12, (start.month - 1 + i) % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


# --- hand-computed tables ----------------------------------------------------------------------


def test_equal_principal_12_million_over_12_months_at_0_55_percent_a_month():
    # Principal 12,000,000 / 12 = 1,000,000 a month. Interest = balance before the payment
    # × 0.55 %: 12,000,000 × 0.0055 = 66,000; 11,000,000 → 60,500; … 1,000,000 → 5,500.
    # Total interest 0.0055 × 1,000,000 × (12 + 11 + … + 1 = 78) = 429,000.
    terms = make_terms(disbursed_on=date(2026, 1, 15))
    schedule = schedule_generate(terms)
    assert rows(schedule) == [
        (1, date(2026, 2, 15), 1_000_000, 66_000, 1_066_000, 11_000_000),
        (2, date(2026, 3, 15), 1_000_000, 60_500, 1_060_500, 10_000_000),
        (3, date(2026, 4, 15), 1_000_000, 55_000, 1_055_000, 9_000_000),
        (4, date(2026, 5, 15), 1_000_000, 49_500, 1_049_500, 8_000_000),
        (5, date(2026, 6, 15), 1_000_000, 44_000, 1_044_000, 7_000_000),
        (6, date(2026, 7, 15), 1_000_000, 38_500, 1_038_500, 6_000_000),
        (7, date(2026, 8, 15), 1_000_000, 33_000, 1_033_000, 5_000_000),
        (8, date(2026, 9, 15), 1_000_000, 27_500, 1_027_500, 4_000_000),
        (9, date(2026, 10, 15), 1_000_000, 22_000, 1_022_000, 3_000_000),
        (10, date(2026, 11, 15), 1_000_000, 16_500, 1_016_500, 2_000_000),
        (11, date(2026, 12, 15), 1_000_000, 11_000, 1_011_000, 1_000_000),
        (12, date(2027, 1, 15), 1_000_000, 5_500, 1_005_500, 0),
    ]
    assert schedule_totals(schedule) == ScheduleTotals(
        count=12, principal=D(12_000_000), interest=D(429_000), total=D(12_429_000)
    )
    assert interest_total_expected(terms) == D(429_000)


def test_annuity_10_million_over_6_months_at_0_6_percent_a_month():
    # r = 0.006; (1.006)^2 = 1.012036; ^3 = 1.018108216; ^6 = 1.018108216^2 = 1.036544339486…
    # A = 10,000,000 × 0.006 × 1.0365443394… / 0.0365443394… = 1,701,841.1399… → 1,701,841.
    # Month 1: 10,000,000 × 0.006 = 60,000;       principal 1,701,841 − 60,000 = 1,641,841
    #          balance 8,358,159
    # Month 2: 8,358,159 × 0.006 = 50,148.954 → 50,149; principal 1,651,692; balance 6,706,467
    # Month 3: 6,706,467 × 0.006 = 40,238.802 → 40,239; principal 1,661,602; balance 5,044,865
    # Month 4: 5,044,865 × 0.006 = 30,269.19  → 30,269; principal 1,671,572; balance 3,373,293
    # Month 5: 3,373,293 × 0.006 = 20,239.758 → 20,240; principal 1,681,601; balance 1,691,692
    # Month 6: 1,691,692 × 0.006 = 10,150.152 → 10,150; principal = the whole 1,691,692,
    #          total 1,701,842 (one đồng of residue from rounding A down).
    terms = make_terms(
        principal=D(10_000_000),
        installments=6,
        method=Method.ANNUITY,
        rate=D("0.6"),
        disbursed_on=date(2026, 3, 10),
    )
    assert rows(schedule_generate(terms)) == [
        (1, date(2026, 4, 10), 1_641_841, 60_000, 1_701_841, 8_358_159),
        (2, date(2026, 5, 10), 1_651_692, 50_149, 1_701_841, 6_706_467),
        (3, date(2026, 6, 10), 1_661_602, 40_239, 1_701_841, 5_044_865),
        (4, date(2026, 7, 10), 1_671_572, 30_269, 1_701_841, 3_373_293),
        (5, date(2026, 8, 10), 1_681_601, 20_240, 1_701_841, 1_691_692),
        (6, date(2026, 9, 10), 1_691_692, 10_150, 1_701_842, 0),
    ]
    # 60,000 + 50,149 + 40,239 + 30,269 + 20,240 + 10,150
    assert interest_total_expected(terms) == D(211_047)


def test_flat_5_million_over_10_weeks_at_7_8_percent_a_year():
    # Weekly rate 7.8 % / 52 = 0.15 %; flat interest on the original principal every week:
    # 5,000,000 × 0.0015 = 7,500. Principal 5,000,000 / 10 = 500,000. Disbursed Monday
    # 2 March 2026, due every Monday after. Total interest 10 × 7,500 = 75,000.
    terms = make_terms(
        principal=D(5_000_000),
        installments=10,
        method=Method.FLAT,
        rate=D("7.8"),
        rate_period=RatePeriod.YEAR,
        frequency=Frequency.WEEKLY,
        disbursed_on=date(2026, 3, 2),
    )
    schedule = schedule_generate(terms)
    assert rows(schedule) == [
        (n, date(2026, 3, 2) + timedelta(weeks=n), 500_000, 7_500, 507_500, 5_000_000 - 500_000 * n)
        for n in range(1, 11)
    ]
    assert schedule_totals(schedule).interest == D(75_000)


def test_equal_principal_odd_amount_residue_goes_to_the_last_installment():
    # 1,000,003 / 3 = 333,334 rounded down (3 × 333,334 = 1,000,002); the last takes 333,335.
    # Interest at 0.6 %: 1,000,003 × 0.006 = 6,000.018 → 6,000; 666,669 × 0.006 = 4,000.014
    # → 4,000; 333,335 × 0.006 = 2,000.01 → 2,000.
    terms = make_terms(principal=D(1_000_003), installments=3, rate=D("0.6"))
    assert rows(schedule_generate(terms)) == [
        (1, date(2026, 2, 15), 333_334, 6_000, 339_334, 666_669),
        (2, date(2026, 3, 15), 333_334, 4_000, 337_334, 333_335),
        (3, date(2026, 4, 15), 333_335, 2_000, 335_335, 0),
    ]


def test_interest_is_rounded_half_up_per_installment():
    # 1,000,000 over 12 at 0.55 %: 1,000,000 / 12 = 83,333 (residue 4, so the last principal
    # is 83,337). First interest 1,000,000 × 0.0055 = 5,500; then the balance is 916,667 and
    # 916,667 × 0.0055 = 5,041.6685 → 5,042.
    terms = make_terms(principal=D(1_000_000), installments=12)
    schedule = schedule_generate(terms)
    assert (int(schedule[0].interest), int(schedule[1].interest)) == (5_500, 5_042)
    assert [int(i.principal) for i in schedule] == [83_333] * 11 + [83_337]

    # 1,100 × 0.05 % = 0.55 đồng → 1; after 550 repaid, 550 × 0.05 % = 0.275 → 0.
    tiny = make_terms(principal=D(1_100), installments=2, rate=D("0.05"))
    assert rows(schedule_generate(tiny)) == [
        (1, date(2026, 2, 15), 550, 1, 551, 550),
        (2, date(2026, 3, 15), 550, 0, 550, 0),
    ]


def test_principal_and_interest_grace_table():
    # 6,000,000 over 6 months, equal principal at 0.65 %/month, 2 months without principal,
    # interest of the first month deferred. Amortised over 4 months: 1,500,000 each.
    # Interest per month: 6,000,000 × 0.0065 = 39,000 (months 1, 2, 3: the balance is still
    # 6,000,000 during month 3), then 4,500,000 → 29,250, 3,000,000 → 19,500, 1,500,000 → 9,750.
    # Month 1's 39,000 is collected in month 2: 78,000. Total 39,000 × 3 + 58,500 = 175,500.
    terms = make_terms(
        principal=D(6_000_000),
        installments=6,
        rate=D("0.65"),
        principal_grace=2,
        interest_grace=1,
    )
    assert rows(schedule_generate(terms)) == [
        (1, date(2026, 2, 15), 0, 0, 0, 6_000_000),
        (2, date(2026, 3, 15), 0, 78_000, 78_000, 6_000_000),
        (3, date(2026, 4, 15), 1_500_000, 39_000, 1_539_000, 4_500_000),
        (4, date(2026, 5, 15), 1_500_000, 29_250, 1_529_250, 3_000_000),
        (5, date(2026, 6, 15), 1_500_000, 19_500, 1_519_500, 1_500_000),
        (6, date(2026, 7, 15), 1_500_000, 9_750, 1_509_750, 0),
    ]
    assert interest_total_expected(terms) == D(175_500)


def test_disbursed_31_january_falls_due_at_each_month_end():
    terms = make_terms(principal=D(13_000_000), installments=13, disbursed_on=date(2024, 1, 31))
    assert [i.due_date for i in schedule_generate(terms)] == [
        date(2024, 2, 29),  # leap year: clamped to the 29th
        date(2024, 3, 31),  # back to the 31st: counted from 31 Jan, not from 29 Feb
        date(2024, 4, 30),
        date(2024, 5, 31),
        date(2024, 6, 30),
        date(2024, 7, 31),
        date(2024, 8, 31),
        date(2024, 9, 30),
        date(2024, 10, 31),
        date(2024, 11, 30),
        date(2024, 12, 31),
        date(2025, 1, 31),
        date(2025, 2, 28),  # not a leap year
    ]


def test_disbursed_29_february_keeps_the_29th_and_clamps_in_common_years():
    dates = due_dates(start=date(2024, 2, 29), count=48, frequency=Frequency.MONTHLY)
    assert dates[:3] == [date(2024, 3, 29), date(2024, 4, 29), date(2024, 5, 29)]
    assert dates[11] == date(2025, 2, 28)
    assert dates[12] == date(2025, 3, 29)
    assert dates[23] == date(2026, 2, 28)
    assert dates[47] == date(2028, 2, 29)  # the next leap year


def test_weekly_due_dates_cross_month_and_year_ends():
    assert due_dates(start=date(2024, 12, 25), count=3, frequency=Frequency.WEEKLY) == [
        date(2025, 1, 1),
        date(2025, 1, 8),
        date(2025, 1, 15),
    ]


@pytest.mark.parametrize(
    ("rate", "rate_period", "frequency", "expected"),
    [
        ("0.55", RatePeriod.MONTH, Frequency.MONTHLY, "0.0055"),
        ("6.6", RatePeriod.YEAR, Frequency.MONTHLY, "0.0055"),
        ("7.8", RatePeriod.YEAR, Frequency.WEEKLY, "0.0015"),
        ("0.65", RatePeriod.MONTH, Frequency.WEEKLY, "0.0015"),  # 0.65 × 12 / 52 = 0.15 %
        ("0", RatePeriod.YEAR, Frequency.WEEKLY, "0"),
    ],
)
def test_periodic_rate_conventions(rate, rate_period, frequency, expected):
    terms = make_terms(rate=D(rate), rate_period=rate_period, frequency=frequency)
    assert periodic_rate(terms) == D(expected)


def test_periodic_rate_that_does_not_terminate_is_shown_to_34_digits():
    terms = make_terms(rate=D("7"), rate_period=RatePeriod.YEAR)  # 7 % / 12
    assert periodic_rate(terms) == D("0.005833333333333333333333333333333333")


def test_zero_rate_annuity_is_equal_principal_without_interest():
    terms = make_terms(principal=D(1_000_003), installments=3, method=Method.ANNUITY, rate=D(0))
    assert rows(schedule_generate(terms)) == [
        (1, date(2026, 2, 15), 333_334, 0, 333_334, 666_669),
        (2, date(2026, 3, 15), 333_334, 0, 333_334, 333_335),
        (3, date(2026, 4, 15), 333_335, 0, 333_335, 0),
    ]


def test_single_installment_repays_everything_with_one_period_of_interest():
    for method in Method:
        schedule = schedule_generate(make_terms(installments=1, method=method))
        assert rows(schedule) == [(1, date(2026, 2, 15), 12_000_000, 66_000, 12_066_000, 0)]


def test_last_period_of_grace_collects_all_deferred_interest():
    # 4 periods, interest grace 3: the last installment carries all four months' interest.
    terms = make_terms(
        principal=D(4_000_000), installments=4, method=Method.FLAT, rate=D("1"), interest_grace=3
    )
    assert [int(i.interest) for i in schedule_generate(terms)] == [0, 0, 0, 160_000]


def test_tiny_annuity_never_goes_negative():
    # A payment that rounds down to 0 đồng: everything is repaid with the last installment.
    terms = make_terms(principal=D(5), installments=60, method=Method.ANNUITY, rate=D("2"))
    schedule = schedule_generate(terms)
    assert all(i.principal >= 0 and i.interest >= 0 for i in schedule)
    assert sum(i.principal for i in schedule) == D(5)
    assert schedule[-1].balance_after == 0


# --- bad terms ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"principal": D("1000000.5")}, "principal"),
        ({"principal": D(0)}, "principal"),
        ({"principal": D(-1_000_000)}, "principal"),
        ({"principal": 1_000_000.0}, "principal"),
        ({"principal": "1000000"}, "principal"),
        ({"principal": D("NaN")}, "principal"),
        ({"principal": D(10) ** 20}, "principal"),
        ({"installments": 0}, "installments"),
        ({"installments": -3}, "installments"),
        ({"installments": 12.0}, "installments"),
        ({"installments": True}, "installments"),
        ({"installments": 601}, "installments"),
        ({"rate": D("-0.01")}, "rate"),
        ({"rate": 0.55}, "rate"),
        ({"rate": D("100.01")}, "rate"),
        ({"rate": D("Infinity")}, "rate"),
        ({"method": "declining"}, "method"),
        ({"method": ["annuity"]}, "method"),
        ({"rate_period": "day"}, "rate_period"),
        ({"frequency": "daily"}, "frequency"),
        ({"principal_grace": 12}, "principal_grace"),
        ({"principal_grace": -1}, "principal_grace"),
        ({"interest_grace": 12}, "interest_grace"),
        ({"interest_grace": 13}, "interest_grace"),
        ({"disbursed_on": datetime(2026, 1, 15, 9, 0)}, "disbursed_on"),
        ({"disbursed_on": "2026-01-15"}, "disbursed_on"),
        ({"disbursed_on": date(9999, 6, 1)}, "disbursed_on"),
    ],
)
def test_bad_terms_are_refused_naming_the_field(overrides, field):
    terms = make_terms(**overrides)
    with pytest.raises(ScheduleError) as excinfo:
        schedule_validate(terms)
    assert excinfo.value.field == field
    assert excinfo.value.message
    with pytest.raises(ScheduleError):
        schedule_generate(terms)


def test_schedule_error_is_an_application_error():
    with pytest.raises(ApplicationError) as excinfo:
        schedule_generate(make_terms(installments=0))
    assert excinfo.value.as_dict()["code"] == "schedule_invalid"


def test_plain_strings_and_ints_are_accepted_where_they_are_exact():
    # Terms read back from a database or a form may hold the enum values as plain strings and
    # whole amounts as ints; both are exact, so they give the same schedule.
    loose = make_terms(
        principal=12_000_000, method="equal_principal", rate_period="month", frequency="monthly"
    )
    assert schedule_generate(loose) == schedule_generate(make_terms())


def test_module_is_pure_python_without_django():
    code = "import sys, loans.schedules; print(any(m.startswith('django') for m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


def test_a_refusal_is_put_together_in_the_language_where_it_is_shown():
    from django.utils import translation

    with pytest.raises(ScheduleError) as excinfo:
        schedule_validate(make_terms(principal_grace=12))
    error = excinfo.value
    with translation.override("vi"):
        assert str(error) == "Ân hạn gốc 12 kỳ phải ít hơn số kỳ trả nợ (12)."
    with translation.override("en"):
        assert str(error) == (
            "Principal grace of 12 installments must be shorter than the number of "
            "installments (12)."
        )
        assert error.as_dict()["field"] == "principal_grace"


def test_without_django_a_refusal_stays_in_vietnamese():
    """The lazy message needs no settings: a script on the pure module gets the source text."""
    code = textwrap.dedent(
        """
        from datetime import date
        from decimal import Decimal
        import loans.schedules as s

        terms = s.ScheduleTerms(
            principal=Decimal(1), installments=0, method="flat", rate=Decimal(1),
            rate_period="month", frequency="monthly", disbursed_on=date(2026, 1, 1),
        )
        try:
            s.schedule_validate(terms)
        except s.ScheduleError as e:
            print(e)
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert result.stdout.strip() == "Số kỳ trả nợ phải từ 1 trở lên.", result.stderr


# --- properties ----------------------------------------------------------------------------------

ODD_PRINCIPALS = [1_000_003, 1_000_001, 9_999_999, 33_333_337, 49_999_999, 50_000_000]


@st.composite
def start_dates(draw) -> date:
    """Any date, with extra weight on the 28th–31st of months and on leap years."""
    if draw(st.booleans()):
        return draw(st.dates(min_value=date(2000, 1, 1), max_value=date(2060, 12, 31)))
    year = draw(st.sampled_from([2023, 2024, 2025, 2028, 2100]))
    month = draw(st.integers(1, 12))
    day = draw(st.integers(28, calendar.monthrange(year, month)[1]))
    return date(year, month, day)


@st.composite
def schedule_terms(draw, *, method=None) -> ScheduleTerms:
    frequency = draw(st.sampled_from(Frequency))
    count = draw(st.integers(1, 60 if frequency == Frequency.MONTHLY else 156))
    rate_period = draw(st.sampled_from(RatePeriod))
    # 0–2 %/month or 0–24 %/year in hundredths of a percent.
    top = 200 if rate_period == RatePeriod.MONTH else 2_400
    rate = D(draw(st.integers(0, top))) / 100
    principal = draw(st.one_of(st.integers(1_000_000, 50_000_000), st.sampled_from(ODD_PRINCIPALS)))
    grace = st.integers(0, count - 1)
    return ScheduleTerms(
        principal=D(principal),
        installments=count,
        method=method or draw(st.sampled_from(Method)),
        rate=rate,
        rate_period=rate_period,
        frequency=frequency,
        disbursed_on=draw(start_dates()),
        principal_grace=draw(st.one_of(st.just(0), grace)),
        interest_grace=draw(st.one_of(st.just(0), grace)),
    )


PROPERTY_SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(schedule_terms())
def test_every_schedule_repays_the_principal_exactly_in_whole_dong(terms):
    schedule = schedule_generate(terms)
    assert [i.number for i in schedule] == list(range(1, terms.installments + 1))
    assert sum(i.principal for i in schedule) == terms.principal
    balance = terms.principal
    for installment in schedule:
        for amount in (installment.principal, installment.interest, installment.balance_after):
            assert isinstance(amount, Decimal)
            assert amount == amount.to_integral_value() and amount.as_tuple().exponent == 0
            assert amount >= 0
        assert installment.total == installment.principal + installment.interest
        assert installment.balance_after == balance - installment.principal <= balance
        balance = installment.balance_after
    assert schedule[-1].balance_after == 0
    assert all(i.principal == 0 for i in schedule[: terms.principal_grace])


@PROPERTY_SETTINGS
@given(schedule_terms())
def test_due_dates_increase_and_monthly_ones_are_clamped_from_the_start_date(terms):
    dates = [i.due_date for i in schedule_generate(terms)]
    assert all(a < b for a, b in zip(dates, dates[1:], strict=False))
    start = terms.disbursed_on
    if terms.frequency == Frequency.WEEKLY:
        assert dates == [start + timedelta(days=7 * n) for n in range(1, len(dates) + 1)]
    else:
        assert dates == [expected_monthly(start, n) for n in range(1, len(dates) + 1)]
        for due in dates:
            assert due.day == min(start.day, calendar.monthrange(due.year, due.month)[1])


@PROPERTY_SETTINGS
@given(schedule_terms())
def test_interest_follows_the_method_exactly_before_deferral(terms):
    """Without interest grace, each period's interest is round-half-up of the exact rational
    interest on the method's basis: the balance outstanding during the period, or the original
    principal for flat."""
    undeferred = schedule_generate(replace(terms, interest_grace=0))
    rate = exact_rate(terms)
    balance = terms.principal
    for installment in undeferred:
        basis = terms.principal if terms.method == Method.FLAT else balance
        assert installment.interest == round_half_up(Fraction(basis) * rate)
        balance = installment.balance_after


@PROPERTY_SETTINGS
@given(schedule_terms())
def test_interest_grace_defers_interest_and_never_forgives_it(terms):
    schedule = schedule_generate(terms)
    undeferred = schedule_generate(replace(terms, interest_grace=0))
    grace = terms.interest_grace
    assert [i.principal for i in schedule] == [i.principal for i in undeferred]
    assert [i.due_date for i in schedule] == [i.due_date for i in undeferred]
    assert all(i.interest == 0 for i in schedule[:grace])
    assert schedule[grace].interest == sum(i.interest for i in undeferred[: grace + 1])
    assert [i.interest for i in schedule[grace + 1 :]] == [
        i.interest for i in undeferred[grace + 1 :]
    ]
    expected = interest_total_expected(terms)
    assert schedule_totals(schedule).interest == expected
    assert expected == interest_total_expected(replace(terms, interest_grace=0))


@PROPERTY_SETTINGS
@given(schedule_terms(method=Method.EQUAL_PRINCIPAL))
def test_equal_principal_installments_differ_at_most_by_the_residue(terms):
    amortising = schedule_generate(terms)[terms.principal_grace :]
    periods = len(amortising)
    share = terms.principal // periods
    residue = terms.principal - share * periods
    assert residue < periods
    assert [i.principal for i in amortising] == [share] * (periods - 1) + [share + residue]


@PROPERTY_SETTINGS
@given(schedule_terms(method=Method.FLAT))
def test_flat_interest_is_the_same_every_period(terms):
    undeferred = schedule_generate(replace(terms, interest_grace=0))
    flat = round_half_up(Fraction(terms.principal) * exact_rate(terms))
    assert {int(i.interest) for i in undeferred} == {flat}
    amortising = undeferred[terms.principal_grace :]
    assert len({i.principal for i in amortising[:-1]}) <= 1


@PROPERTY_SETTINGS
@given(schedule_terms(method=Method.ANNUITY))
def test_annuity_installments_are_equal_except_the_last(terms):
    undeferred = schedule_generate(replace(terms, interest_grace=0))
    amortising = undeferred[terms.principal_grace :]
    periods, rate = len(amortising), exact_rate(terms)
    if rate:
        growth = (1 + rate) ** periods
        exact_payment = Fraction(terms.principal) * rate * growth / (growth - 1)
    else:
        exact_payment = Fraction(int(terms.principal), periods)
    payment = exact_payment.numerator // exact_payment.denominator
    assert {int(i.total) for i in amortising[:-1]} <= {payment}
    # The last installment absorbs the rounding of the payment and of each period's interest:
    # at most 1.5 đồng a period, grown by the interest on it.
    drift = Fraction(3, 2) * periods * (1 + rate) ** periods
    assert abs(amortising[-1].total - payment) <= drift
    # Grace periods before amortisation collect interest on the whole principal.
    grace_interest = round_half_up(Fraction(terms.principal) * rate)
    assert all(i.interest == grace_interest for i in undeferred[: terms.principal_grace])


@PROPERTY_SETTINGS
@given(schedule_terms(method=Method.ANNUITY))
def test_annuity_total_interest_is_close_to_the_exact_value(terms):
    periods = terms.installments - terms.principal_grace
    rate = exact_rate(terms)
    grace_interest = terms.principal_grace * Fraction(terms.principal) * rate
    if rate:
        growth = (1 + rate) ** periods
        exact = Fraction(terms.principal) * rate * growth / (growth - 1) * periods
    else:
        exact = Fraction(terms.principal)
    exact_interest = exact - Fraction(terms.principal) + grace_interest
    total = schedule_totals(schedule_generate(terms)).interest
    assert abs(Fraction(total) - exact_interest) <= terms.installments * (1 + rate) ** periods


@settings(max_examples=200, deadline=None)
@given(
    st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)),
    st.integers(1, 600),
)
def test_monthly_due_dates_over_long_terms(start, count):
    dates = due_dates(start=start, count=count, frequency=Frequency.MONTHLY)
    assert len(dates) == count
    assert dates == [expected_monthly(start, n) for n in range(1, count + 1)]
    assume(count >= 12)
    assert dates[11].replace(day=1) == date(start.year + 1, start.month, 1)
