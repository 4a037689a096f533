"""The figures plan attainment reads from the loan book, and the follow-up visits behind
"jobs confirmed"."""

from datetime import timedelta
from decimal import Decimal

import pytest

from accounting.errors import ApplicationError
from fund.attainment import achieved, attainment
from fund.errors import PermissionRefused
from fund.models import AnnualPlan
from fund.services import grassroots_union_move
from loans.errors import LoanError
from loans.servicing.visits import followup_visit_record
from loans.tests.factories import (
    BorrowerFactory,
    DaysFromToday,
    on_run_day,
    today,
)
from loans.tests.helpers import lend

pytestmark = pytest.mark.django_db

D1 = today() - timedelta(days=40)
D2 = today() - timedelta(days=10)


@pytest.fixture
def disbursed(org, chain, capital):
    """Two members of LB-001 (one borrowing twice), one of LB-002; HBT-001 borrows nothing."""
    a = lend(chain, chain.borrower, 10_000_000, D1, planned_jobs=1)
    chain.borrower.refresh_from_db()
    b = lend(chain, BorrowerFactory(grassroots_union=org.lb1), 15_000_000, D2, planned_jobs=2)
    c = lend(
        chain,
        BorrowerFactory(grassroots_union=org.lb2),
        8_000_000,
        D2,
        planned_jobs=3,
        maker=chain.reviewer,
    )
    return a, b, c


def figure(org, indicator, start, end, **unit):
    return achieved(fund=org.fund, indicator=indicator, start=start, end=end, **unit)


def test_the_fund_s_figures_for_a_period(org, disbursed):
    start, end = D1, today()
    assert figure(org, "disbursed_amount", start, end) == Decimal(33_000_000)
    assert figure(org, "loans", start, end) == 3
    assert figure(org, "borrowers", start, end) == 3
    assert figure(org, "grassroots_unions", start, end) == 2
    assert figure(org, "jobs_created", start, end) == 6
    assert figure(org, "disbursed_amount", D1 + timedelta(days=1), end) == Decimal(23_000_000)


def test_a_member_borrowing_twice_counts_once_as_a_borrower(org, chain, disbursed):
    # the member of the loan disbursed ten days ago owes nothing yet, so may borrow again
    lend(chain, disbursed[1].borrower, 5_000_000, today(), planned_jobs=1)
    assert figure(org, "loans", D1, today()) == 4
    assert figure(org, "borrowers", D1, today()) == 3


def test_by_union_as_recorded_at_disbursement_even_after_a_move(org, disbursed):
    grassroots_union_move(grassroots_union=org.lb2, superior_union=org.hbt, effective_date=today())
    assert figure(org, "disbursed_amount", D1, today(), superior_union=org.lb) == 33_000_000
    assert figure(org, "disbursed_amount", D1, today(), superior_union=org.hbt) == 0
    assert figure(org, "loans", D1, today(), grassroots_union=org.lb1) == 2
    assert figure(org, "jobs_created", D1, today(), grassroots_union=org.lb2) == 3


def test_jobs_confirmed_come_from_follow_up_visits_in_the_period(org, officers, disbursed):
    a, b, c = disbursed
    assert figure(org, "jobs_confirmed", D1, today()) == 0
    followup_visit_record(
        loan=a, visited_on=D2, purpose_verified=True, jobs_confirmed=1, actor=officers.grassroots
    )
    followup_visit_record(
        loan=c, visited_on=today(), purpose_verified=True, jobs_confirmed=2, actor=officers.superior
    )
    followup_visit_record(
        loan=c, visited_on=today(), purpose_verified=True, jobs_confirmed=1, note="thêm 1 thợ"
    )
    assert figure(org, "jobs_confirmed", D1, today()) == 4
    assert figure(org, "jobs_confirmed", D1, D2) == 1
    assert figure(org, "jobs_confirmed", D1, today(), grassroots_union=org.lb2) == 3


def test_attainment_against_the_year_plan(org, disbursed):
    year = D2.year
    AnnualPlan.objects.create(fund=org.fund, year=year, disbursed_amount=330_000_000, jobs=60)
    expected = sum(a for a, d in [(10_000_000, D1), (23_000_000, D2)] if d.year == year)
    a = attainment(fund=org.fund, indicator="disbursed_amount", year=year, period="year")
    assert a.achieved == expected
    assert a.percent == (Decimal(expected) * 100 / 330_000_000).quantize(Decimal("0.01"))
    jobs = attainment(fund=org.fund, indicator="jobs_created", year=year, period="year")
    assert jobs.achieved == (1 if D1.year == year else 0) + 5


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"visited_on": DaysFromToday(1)}, "visited_on"),
        ({"visited_on": D1 - timedelta(days=1)}, "visited_on"),
        ({"jobs_confirmed": -1}, "jobs_confirmed"),
        ({"purpose_verified": "yes"}, "purpose_verified"),
    ],
)
def test_bad_visits_are_refused(disbursed, kwargs, field):
    a = disbursed[0]
    with pytest.raises(LoanError) as e:
        followup_visit_record(
            loan=a,
            **{
                "visited_on": today(),
                "purpose_verified": True,
                "jobs_confirmed": 1,
                **on_run_day(kwargs),
            },
        )
    assert e.value.field == field
    assert a.visits.count() == 0


def test_visits_are_recorded_within_the_scope(officers, disbursed):
    c = disbursed[2]  # LB-002
    for who in ("grassroots", "auditor"):
        with pytest.raises(PermissionRefused):
            followup_visit_record(
                loan=c,
                visited_on=today(),
                purpose_verified=True,
                jobs_confirmed=1,
                actor=getattr(officers, who),
            )
    assert c.visits.count() == 0


def test_a_visit_under_an_idempotency_key_is_recorded_once(disbursed):
    a = disbursed[0]
    values = {"loan": a, "visited_on": today(), "purpose_verified": True, "jobs_confirmed": 2}
    first = followup_visit_record(**values, idempotency_key="visit-1")
    again = followup_visit_record(**values, idempotency_key="visit-1")
    assert again.pk == first.pk and a.visits.count() == 1
    with pytest.raises(ApplicationError) as e:  # another request under the same key
        followup_visit_record(**{**values, "jobs_confirmed": 3}, idempotency_key="visit-1")
    assert e.value.field == "idempotency_key" and a.visits.count() == 1
    followup_visit_record(**values)  # without a key: recorded each time
    assert a.visits.count() == 2
