"""Due dates on the fund's working days: a product moves a due date that falls on a day off to
the next working day (or the one before, or keeps it); checked by hand around Tết 2026 and 2027."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from fund.calendar import days_off_between
from fund.services import calendar_day_set
from loans.origination.applications import application_schedule_terms
from loans.origination.products import loan_product_update, product_terms
from loans.schedules import DayOffRule, add_months, move_off_days_off, schedule_generate
from loans.tests.factories import today
from loans.tests.helpers import lend

pytestmark = pytest.mark.django_db


def schedule(org, product, on, term=6):
    product.refresh_from_db()
    terms = application_schedule_terms(
        product_terms(product), amount=Decimal(12_000_000), term=term, on=on, fund_id=org.fund.pk
    )
    return schedule_generate(terms)


@pytest.mark.parametrize(
    "rule, expected",
    [
        # 19/02/2026 is the 3rd day of Tết, 19/04 and 19/07 are Sundays.
        ("keep", ["19/02", "19/03", "19/04", "19/05", "19/06", "19/07"]),
        ("following", ["23/02", "19/03", "20/04", "19/05", "19/06", "20/07"]),
        ("preceding", ["13/02", "19/03", "17/04", "19/05", "19/06", "17/07"]),
    ],
)
def test_a_monthly_schedule_around_tet_2026(org, officers, product, rule, expected):
    loan_product_update(product=product, day_off_rule=rule, actor=officers.fund)
    rows = schedule(org, product, date(2026, 1, 19))
    assert [f"{r.due_date:%d/%m}" for r in rows] == expected
    # Interest is per period: moving a date changes no amount.
    keep = schedule(org, product, date(2026, 1, 19)) if rule == "keep" else None
    assert sum(r.total for r in rows) == Decimal(12_000_000) + sum(r.interest for r in rows)
    assert keep is None or rows == keep


def test_tet_2027_and_a_weekly_schedule_across_it_stay_strictly_increasing(org, officers, product):
    loan_product_update(product=product, day_off_rule="following", actor=officers.fund)
    rows = schedule(org, product, date(2027, 1, 6), term=2)
    # 06/02/2027 is a Saturday inside Tết (04–10/02): the next working day is Thursday 11/02;
    # 06/03/2027 is a Saturday: Monday 08/03.
    assert [r.due_date for r in rows] == [date(2027, 2, 11), date(2027, 3, 8)]
    off = days_off_between(org.fund.pk, date(2027, 1, 28), date(2027, 3, 31))
    weekly = [date(2027, 1, 28) + timedelta(days=7 * i) for i in range(1, 4)]
    moved = move_off_days_off(
        weekly, start=date(2027, 1, 28), days_off=off, rule=DayOffRule.FOLLOWING
    )
    # 04/02 (Tết) moves to 11/02, which was the next week's date: that one goes to 12/02.
    assert moved == [date(2027, 2, 11), date(2027, 2, 12), date(2027, 2, 18)]
    back = move_off_days_off(
        [date(2027, 2, 6)], start=date(2027, 2, 3), days_off=off, rule=DayOffRule.PRECEDING
    )
    assert back == [date(2027, 2, 11)]  # before it lies only the disbursement day: forward


def test_a_day_the_fund_adds_moves_the_due_dates_of_loans_disbursed_after(
    chain, org, officers, capital
):
    loan_product_update(product=chain.product, day_off_rule="following", actor=officers.fund)
    on = today()
    nominal = add_months(on, 1)
    off = days_off_between(org.fund.pk, nominal, nominal + timedelta(days=40))
    first_working = nominal
    while first_working in off:
        first_working += timedelta(days=1)
    calendar_day_set(fund=org.fund, day=first_working, working=False, actor=officers.fund)
    loan = lend(chain, chain.borrower, 12_000_000, on, term=6)
    first = loan.installments.order_by("number").first().due_date
    assert first > first_working
    assert first not in days_off_between(org.fund.pk, first, first)
    assert loan.day_off_rule == "following"
