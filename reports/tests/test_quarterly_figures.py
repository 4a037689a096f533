"""The quarterly report's figures, checked by hand on a small federation (see fixtures.LOANS):

Q1/2025: LB-001 30 + 20 million (3 and… jobs 2 + 1), LB-002 10 million (3 jobs), HBT-001 15
million (1 job) → 75 million to 4 members of 3 grassroots unions, 7 jobs; Q1/2024: 20 million
(LB-001, 1 job); the year plan 400 million (LB 250, HBT 150).
"""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounting.services import credit, debit, journal_entry_post
from fund.attainment import attainment
from fund.errors import FundError
from fund.models import GrassrootsUnion
from fund.services import plan_split_set
from fund.tests.factories import GrassrootsUnionFactory, SuperiorUnionFactory
from loans.models import Loan
from loans.servicing.visits import followup_visit_record
from reports.quarterly import quarterly_report_figures
from reports.tests.fixtures import lend

pytestmark = pytest.mark.django_db
M = 1_000_000
Q1 = (date(2025, 1, 1), date(2025, 3, 31))


def figures(fed, **kw):
    return quarterly_report_figures(fund_id=fed.org.fund.pk, year=2025, quarter=1, **kw)


def test_fund_figures_by_hand(federation):
    f = figures(federation)
    amount = f.indicator("disbursed_amount")
    assert (amount.quarter, amount.ytd, amount.previous_quarter) == (75 * M, 75 * M, 20 * M)
    assert amount.plan_year == 400 * M and amount.plan_quarter is None  # no quarter split
    assert amount.percent_of_year == Decimal("18.75") and amount.percent_quarter is None
    assert amount.growth == Decimal("275.00")
    assert f.indicator("loans").quarter == 4
    assert f.indicator("borrowers").quarter == 4
    assert f.indicator("grassroots_unions").quarter == 3
    assert f.indicator("jobs_created").quarter == 7
    assert f.indicator("jobs_created").previous_quarter == 1
    assert f.headline == (
        "Quý I/2025: giải ngân cho 4 đoàn viên của 3 CĐCS, số tiền 75.000.000 ₫ (đạt 18,75% kế "
        "hoạch, tăng 275,00% so với cùng kỳ), tạo việc làm mới cho 7 lao động."
    )
    # Outstanding at the quarter's end: every loan disbursed by 31/03/2025 (ledger 1283).
    assert f.outstanding == (20 + 12 + 30 + 20 + 10 + 15) * M
    assert [(c.code, c.amount) for c in f.capital] == [("CD", 200 * M), ("NS", 1000 * M)]
    assert f.capital_total == 1200 * M
    assert [q.achieved for q in f.quarters] == [75 * M]


def test_one_row_per_superior_union(federation):
    f = figures(federation)
    assert f.unit_kind == "superior_union"
    rows = {u.code: u for u in f.units}
    assert set(rows) == {"LB", "HBT"}  # the other fund's unions are not listed
    lb, hbt = rows["LB"], rows["HBT"]
    assert (lb.disbursed, lb.loans, lb.borrowers, lb.grassroots_unions) == (60 * M, 3, 3, 2)
    assert (lb.jobs_created, lb.plan_year, lb.percent_of_year) == (6, 250 * M, Decimal("24.00"))
    assert (lb.previous_disbursed, lb.growth) == (20 * M, Decimal("200.00"))
    assert lb.outstanding == 92 * M
    assert (hbt.disbursed, hbt.percent_of_year, hbt.growth) == (15 * M, Decimal("10.00"), None)


def test_superior_union_report_has_a_row_per_grassroots_union(federation):
    org = federation.org
    f = figures(federation, superior_union_id=org.lb.pk)
    assert f.unit_kind == "grassroots_union" and f.unit_name == "LĐLĐ quận Long Biên"
    assert f.indicator("disbursed_amount").quarter == 60 * M
    assert f.capital == []  # capital is the fund's, not a union's
    rows = {u.code: u for u in f.units}
    assert set(rows) == {"LB-001", "LB-002"}
    assert (rows["LB-001"].disbursed, rows["LB-001"].loans, rows["LB-001"].jobs_created) == (
        50 * M,
        2,
        3,
    )
    assert rows["LB-001"].outstanding == 82 * M  # 20 (2024) + 12 (Q4/2024) + 30 + 20
    assert (rows["LB-002"].disbursed, rows["LB-002"].ytd_disbursed) == (10 * M, 10 * M)
    assert f.headline.startswith("Quý I/2025, LĐLĐ quận Long Biên: giải ngân cho 3 đoàn viên")


def test_a_member_who_borrowed_in_two_unions_counts_once_in_the_whole(federation):
    """The rows count each union's members; the whole counts a member once, however many
    unions they borrowed in (read with the rows, never added up from them)."""
    org = federation.org
    lb1 = Loan.objects.filter(grassroots_union__code="LB-001", disbursed_on__range=Q1).first()
    lb2 = Loan.objects.get(grassroots_union__code="LB-002", disbursed_on__range=Q1)
    Loan.objects.filter(pk=lb2.pk).update(borrower=lb1.borrower)  # the member moved and borrowed
    f = figures(federation, superior_union_id=org.lb.pk)
    rows = {u.code: u for u in f.units}
    assert (rows["LB-001"].borrowers, rows["LB-002"].borrowers) == (2, 1)
    assert f.indicator("borrowers").quarter == 2 and f.total_row().borrowers == 2
    assert f.indicator("grassroots_unions").quarter == 2
    assert f.indicator("loans").quarter == 3 and f.indicator("disbursed_amount").quarter == 60 * M


def test_a_union_that_moved_keeps_its_row_where_it_lent(federation):
    """A grassroots union moved to another superior union keeps its row (its loans, as of
    disbursement) in the report of the one it lent in, and has a row in its new one."""
    org = federation.org
    GrassrootsUnion.objects.filter(code="LB-002").update(superior_union=org.hbt)
    lb = {u.code: u for u in figures(federation, superior_union_id=org.lb.pk).units}
    assert set(lb) == {"LB-001", "LB-002"} and lb["LB-002"].disbursed == 10 * M
    hbt = {u.code: u for u in figures(federation, superior_union_id=org.hbt.pk).units}
    assert "LB-002" in hbt and hbt["LB-002"].disbursed == 0


def test_figures_agree_with_fund_attainment_unit_by_unit(federation):
    """The set-based figures equal fund.attainment's one-unit-at-a-time answers."""
    org = federation.org
    plan_split_set(plan=federation.plan, quarter=1, disbursed_amount=100 * M, jobs=10)
    f = figures(federation)
    for line in f.indicators:
        a = attainment(fund=org.fund, indicator=line.indicator, year=2025, quarter=1)
        assert (line.quarter, line.previous_quarter, line.growth) == (
            a.achieved,
            a.previous,
            a.growth_percent,
        ), line.indicator
        assert line.plan_year == a.year_planned and line.percent_of_year == a.percent_of_year
    for row in f.units:
        su = org.lb if row.code == "LB" else org.hbt
        a = attainment(
            fund=org.fund, indicator="disbursed_amount", year=2025, quarter=1, superior_union=su
        )
        assert (row.disbursed, row.plan_year, row.percent_of_year) == (
            a.achieved,
            a.year_planned,
            a.percent_of_year,
        )


def test_quarter_split_gives_the_quarter_s_plan(federation):
    plan_split_set(plan=federation.plan, quarter=1, disbursed_amount=100 * M)
    amount = figures(federation).indicator("disbursed_amount")
    assert amount.plan_quarter == 100 * M and amount.percent_quarter == Decimal("75.00")
    assert amount.percent_of_year == Decimal("18.75")  # the headline's figure is unchanged


def test_jobs_confirmed_by_visits_in_the_quarter(federation):
    first_q1 = next(x for x in federation.loans if x.disbursed_on == date(2025, 1, 15))
    followup_visit_record(
        loan=first_q1, visited_on=date(2025, 3, 20), purpose_verified=True, jobs_confirmed=2
    )
    followup_visit_record(
        loan=first_q1, visited_on=date(2025, 4, 20), purpose_verified=True, jobs_confirmed=1
    )
    f = figures(federation)
    assert f.indicator("jobs_confirmed").quarter == 2
    assert f.indicator("jobs_created").quarter == 7  # planned jobs are a separate figure
    assert {u.code: u.jobs_confirmed for u in f.units} == {"LB": 2, "HBT": 0}


def test_overdue_by_debt_group_and_provisions(federation):
    org = federation.org
    late = next(x for x in federation.loans if x.disbursed_on == date(2024, 2, 10))
    # What the daily classification writes on the loan, and the provision it posts.
    Loan.objects.filter(pk=late.pk).update(
        debt_group=3,
        days_past_due=45,
        overdue_principal=5 * M,
        provision_held=Decimal(5 * M),
        classified_on=date(2025, 3, 31),
    )
    dims = dict(fund_id=org.fund.pk, superior_union_id=org.lb.pk, grassroots_union_id=org.lb1.pk)
    journal_entry_post(
        effective_date=date(2025, 3, 31),
        legs=[
            debit("6422", 5 * M, subledger=late.subledger, **dims),
            credit("2293", 5 * M, subledger=late.subledger, **dims),
        ],
        memo="Trích dự phòng nhóm 3",
        idempotency_key="provision-test",
    )
    f = figures(federation)
    groups = {g.group: g for g in f.debt_groups}
    assert groups[3].loans == 1 and groups[3].outstanding == 20 * M
    assert groups[3].overdue_principal == 5 * M and groups[3].provision_held == 5 * M
    assert groups[1].loans == 5  # the Q2/2025 loan is not yet disbursed at the quarter's end
    # A group with no loans is a row of zeros, not a missing row.
    assert sorted(groups) == [1, 2, 3, 4, 5]
    assert groups[2].loans == 0 and groups[2].outstanding == 0 and groups[2].share == 0
    assert f.overdue == 20 * M and f.overdue_rate == Decimal("18.69")  # 20 / 107
    assert f.provisions == 5 * M and f.provisions_held == 5 * M
    assert f.classified_on == date(2025, 3, 31)
    rows = {u.code: u for u in f.units}
    assert rows["LB"].provisions == 5 * M and rows["HBT"].provisions == 0
    assert rows["LB"].overdue == 20 * M and rows["LB"].overdue_rate == Decimal("21.74")  # 20/92


def test_query_count_does_not_grow_with_the_unions(federation, chain):
    org = federation.org

    def count(**kw):
        with CaptureQueriesContext(connection) as ctx:
            figures(federation, **kw)
        return len(ctx.captured_queries)

    before, before_su = count(), count(superior_union_id=org.lb.pk)
    for i in range(6):
        su = SuperiorUnionFactory(fund=org.fund, code=f"X{i}")
        gu = GrassrootsUnionFactory(superior_union=su, code=f"X{i}-1")
        GrassrootsUnionFactory(superior_union=org.lb, code=f"LB-1{i}")
        lend(chain, gu, 5 * M, date(2025, 2, 2), 1)
    assert count() == before
    assert count(superior_union_id=org.lb.pk) == before_su
    assert before <= 40  # a fixed number of grouped reads, whatever the size


def test_refusals(federation):
    org = federation.org
    with pytest.raises(FundError) as e:
        quarterly_report_figures(fund_id=org.fund.pk, year=2025, quarter=5)
    assert e.value.field == "quarter"
    with pytest.raises(FundError) as e:
        figures(federation, superior_union_id=org.other_su.pk)
    assert e.value.field == "superior_union"
