"""The dashboard's cheap selectors equal the slow exact computations they replace, after
disbursements, repayments, a reversal and a close of business."""

from datetime import date, timedelta

import pytest

from fund.attainment import attainment, fund_plan_by_quarter, planned_by_quarter, planned_figure
from fund.models import AnnualPlan
from fund.selectors import capital_available, capital_position, capital_total, loans_outstanding
from fund.services import annual_plan_set, plan_split_set
from loans.models import Installment, Loan
from loans.origination.indicators import (
    disbursed_amount_between,
    disbursed_by_quarter,
    disbursements_by_quarter,
    jobs_created_between,
)
from loans.servicing.close_of_business import close_of_business_run
from loans.servicing.repayments import repayment_post, repayment_reverse
from loans.servicing.selectors import loan_book_arrears
from loans.tests.factories import BorrowerFactory, new_key, today
from loans.tests.helpers import disbursed_loan

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(org, officers, product, loan):
    """Three loans of different ages, two repayments of which one is reversed."""
    for i, (gu, days_ago) in enumerate([(org.lb1, 50), (org.hbt1, 5)]):
        member = BorrowerFactory(grassroots_union=gu, full_name=f"Thành viên {i}")
        disbursed_loan(borrower=member, product=product, officers=officers, days_ago=days_ago)
    kept = repayment_post(
        loan=loan,
        amount=700_000,
        paid_on=today() - timedelta(days=3),
        idempotency_key=new_key("repay"),
        actor=officers.fund,
    )
    wrong = repayment_post(
        loan=loan,
        amount=2_000_000,
        paid_on=today() - timedelta(days=2),
        idempotency_key=new_key("repay"),
        actor=officers.fund,
    )
    repayment_reverse(
        repayment=wrong, reason="Nhập nhầm", idempotency_key=new_key("rev"), actor=officers.checker
    )
    return kept


def test_capital_position_equals_the_separate_selectors(org, book):
    position = capital_position(fund=org.fund)
    assert position.outstanding == loans_outstanding(fund=org.fund) > 0
    assert position.capital == capital_total(fund=org.fund) > 0
    assert position.available == capital_available(fund=org.fund)


def test_loan_book_arrears_equal_the_installments_after_the_close_of_business(org, book):
    assert loan_book_arrears(fund_id=org.fund.pk).as_of is None
    close_of_business_run(fund_id=org.fund.pk, business_date=today())
    fast = loan_book_arrears(fund_id=org.fund.pk)
    # Counted here from the installments: unpaid, in force, due before the business date.
    late = [
        i
        for i in Installment.objects.filter(loan__fund=org.fund, due_date__lt=today())
        if i.schedule_version == i.loan.schedule_version
        and i.principal_due.amount + i.interest_due.amount
        > i.principal_paid.amount + i.interest_paid.amount
    ]
    principal = sum(i.principal_due.amount - i.principal_paid.amount for i in late)
    assert fast.as_of == today()
    assert fast.loans == len({i.loan_id for i in late}) == 2  # the 45- and 50-day-old loans
    assert fast.principal == principal > 0
    # The installments' figure also counts unpaid savings, which do not make a loan late.
    assert fast.amount > 0


def newest_disbursement_year(fund) -> int:
    """The year with loans in it: in the first days of January the book's loans (5 to 50 days
    old) are all of last year."""
    return Loan.objects.filter(fund=fund).latest("disbursed_on").disbursed_on.year


def test_disbursed_by_quarter_equals_the_attainment_source(org, book):
    year = newest_disbursement_year(org.fund)
    by_q = disbursed_by_quarter(fund=org.fund, year=year)
    assert sum(by_q.values()) > 0
    for q in range(1, 5):
        start = date(year, 3 * q - 2, 1)
        end = (start + timedelta(days=95)).replace(day=1) - timedelta(days=1)
        assert by_q[q] == disbursed_amount_between(fund=org.fund, start=start, end=end)
    assert sum(by_q.values()) == disbursed_amount_between(
        fund=org.fund, start=date(year, 1, 1), end=date(year, 12, 31)
    )


def test_disbursements_by_quarter_equal_the_attainment_sources(org, book):
    """The dashboard's one grouped read gives each quarter's disbursement and planned jobs."""
    year = newest_disbursement_year(org.fund)
    by_q = disbursements_by_quarter(fund=org.fund, year=year)
    assert sum(j for _, j in by_q.values()) > 0
    for q in range(1, 5):
        start = date(year, 3 * q - 2, 1)
        end = (start + timedelta(days=95)).replace(day=1) - timedelta(days=1)
        period = {"fund": org.fund, "start": start, "end": end}
        assert by_q[q] == (disbursed_amount_between(**period), jobs_created_between(**period))


def _this_years_plan(org):
    return annual_plan_set(
        fund=org.fund,
        year=today().year,
        disbursed_amount=4_000_000_000,
        borrowers=10,
        loans=10,
        grassroots_unions=2,
        jobs=20,
    )


def test_fund_plan_by_quarter_reads_several_fields_as_planned_by_quarter_does(org):
    year = today().year
    assert fund_plan_by_quarter(plan=None, fields=("jobs",)) == {"jobs": {}}
    plan = _this_years_plan(org)
    plan_split_set(plan=plan, quarter=2, disbursed_amount=1_500_000_000, jobs=7)
    both = fund_plan_by_quarter(
        plan=AnnualPlan.objects.get(pk=plan.pk), fields=("disbursed_amount", "jobs")
    )
    for field in ("disbursed_amount", "jobs"):
        assert both[field] == planned_by_quarter(fund=org.fund, year=year, field=field)
    assert both["jobs"][0] == 20 and both["jobs"][2] == 7


def test_planned_by_quarter_gives_the_planned_figures(org):
    year = today().year
    plan = _this_years_plan(org)
    rows = planned_by_quarter(fund=org.fund, year=year, field="disbursed_amount")
    assert rows == {0: 4_000_000_000}
    plan_split_set(plan=plan, quarter=2, disbursed_amount=1_500_000_000)
    rows = planned_by_quarter(fund=org.fund, year=year, field="disbursed_amount")
    assert rows[2] == 1_500_000_000
    assert planned_figure(fund=org.fund, year=year, field="disbursed_amount") == 4_000_000_000
    for quarters, want in (((2,), 1_500_000_000), ((1,), 0), ((1, 2), 1_500_000_000)):
        assert (
            planned_figure(fund=org.fund, year=year, field="disbursed_amount", quarters=quarters)
            == want
        )
    a = attainment(fund=org.fund, indicator="disbursed_amount", year=year, quarter=2)
    assert (a.planned, a.year_planned) == (1_500_000_000, 4_000_000_000)


def test_attainment_without_last_year_keeps_this_years_figures(org, book):
    year = today().year
    annual_plan_set(
        fund=org.fund,
        year=year,
        disbursed_amount=4_000_000_000,
        borrowers=10,
        loans=10,
        grassroots_unions=2,
        jobs=20,
    )
    q = (today().month - 1) // 3 + 1
    for indicator, period in (("disbursed_amount", "quarter"), ("jobs_created", "ytd")):
        full = attainment(fund=org.fund, indicator=indicator, year=year, quarter=q, period=period)
        short = attainment(
            fund=org.fund, indicator=indicator, year=year, quarter=q, period=period, compare=False
        )
        assert (short.planned, short.achieved, short.percent, short.percent_of_year) == (
            full.planned,
            full.achieved,
            full.percent,
            full.percent_of_year,
        )
        assert (short.previous, short.growth_percent) == (0, None)
