from decimal import Decimal

import pytest

from fund.attainment import planned_figure
from fund.errors import FundError, PermissionRefused
from fund.models import AuditLog
from fund.selectors import plan_split_summary
from fund.services import annual_plan_set, plan_split_delete, plan_split_set

pytestmark = pytest.mark.django_db
BN = 1_000_000_000


@pytest.fixture
def plan(org):
    return annual_plan_set(
        fund=org.fund, year=2025, disbursed_amount=60_500_000_000, borrowers=2000, jobs=2300
    )


def gap(plan, kind, su=None):
    return next(
        g
        for g in plan_split_summary(plan=plan)
        if g.kind == kind and g.superior_union == su and g.grassroots_union is None
    )


def test_plan_is_upserted_and_audited(org, officers, plan):
    again = annual_plan_set(
        fund=org.fund,
        year=2025,
        disbursed_amount=60_500_000_000,
        borrowers=2000,
        jobs=2300,
        actor=officers.fund,
    )
    assert again.pk == plan.pk
    assert AuditLog.objects.filter(action="update").count() == 0
    annual_plan_set(fund=org.fund, year=2025, jobs=2400, actor=officers.fund)
    log = AuditLog.objects.get(action="update")
    assert log.changes == {"jobs": [2300, 2400]}


def test_split_by_quarter_shows_the_unallocated_rest(org, plan):
    assert plan_split_summary(plan=plan) == []
    for q, amount in [(1, 14 * BN), (2, 16 * BN), (3, 15 * BN)]:
        plan_split_set(plan=plan, quarter=q, disbursed_amount=amount, borrowers=500)
    g = gap(plan, "quarters")
    assert g.allocated["disbursed_amount"] == 45 * BN
    assert g.unallocated["disbursed_amount"] == Decimal("15500000000")
    assert g.unallocated["borrowers"] == 500 and not g.adds_up
    plan_split_set(plan=plan, quarter=4, disbursed_amount=15_500_000_000, borrowers=500, jobs=2300)
    assert gap(plan, "quarters").unallocated["disbursed_amount"] == 0


def test_split_among_superior_and_grassroots_unions(org, plan):
    plan_split_set(plan=plan, superior_union=org.lb, disbursed_amount=10 * BN, borrowers=300)
    plan_split_set(plan=plan, superior_union=org.hbt, disbursed_amount=8 * BN)
    g = gap(plan, "superior_unions")
    assert g.unallocated["disbursed_amount"] == Decimal("42500000000")
    plan_split_set(plan=plan, grassroots_union=org.lb1, disbursed_amount=4 * BN, borrowers=100)
    plan_split_set(plan=plan, superior_union=org.lb, quarter=1, disbursed_amount=2 * BN)
    by_kind = {(x.kind, x.superior_union): x for x in plan_split_summary(plan=plan)}
    assert by_kind[("grassroots_unions", org.lb)].unallocated["disbursed_amount"] == 6 * BN
    assert by_kind[("quarters", org.lb)].unallocated["disbursed_amount"] == 8 * BN
    assert (
        planned_figure(fund=org.fund, year=2025, field="disbursed_amount", grassroots_union=org.lb1)
        == 4 * BN
    )


def test_superior_union_figure_from_its_grassroots_unions(org, plan):
    plan_split_set(plan=plan, grassroots_union=org.hbt1, disbursed_amount=1 * BN)
    plan_split_set(plan=plan, grassroots_union=org.hbt2, quarter=2, disbursed_amount=2 * BN)
    assert (
        planned_figure(fund=org.fund, year=2025, field="disbursed_amount", superior_union=org.hbt)
        == 3 * BN
    )
    assert gap(plan, "superior_unions").allocated["disbursed_amount"] == 3 * BN


def test_over_allocation_is_refused(org, plan):
    plan_split_set(plan=plan, superior_union=org.lb, disbursed_amount=60 * BN)
    with pytest.raises(FundError, match="Phân bổ vượt kế hoạch") as e:
        plan_split_set(plan=plan, superior_union=org.hbt, disbursed_amount=1 * BN)
    assert e.value.field == "disbursed_amount"
    with pytest.raises(FundError):
        annual_plan_set(fund=org.fund, year=2025, disbursed_amount=59 * BN)
    plan.refresh_from_db()
    assert plan.disbursed_amount.amount == 60_500_000_000
    with pytest.raises(FundError):
        plan_split_set(plan=plan, grassroots_union=org.lb1, disbursed_amount=61 * BN)


def test_split_refusals(org, officers, plan):
    with pytest.raises(FundError):
        plan_split_set(plan=plan, quarter=0, disbursed_amount=1)  # the fund's year is the plan
    with pytest.raises(FundError):
        plan_split_set(plan=plan, quarter=5, superior_union=org.lb, disbursed_amount=1)
    with pytest.raises(FundError):
        plan_split_set(plan=plan, superior_union=org.other_su, disbursed_amount=1)
    with pytest.raises(FundError):
        plan_split_set(
            plan=plan, superior_union=org.hbt, grassroots_union=org.lb1, disbursed_amount=1
        )
    with pytest.raises(FundError):
        plan_split_set(plan=plan, superior_union=org.lb, borrowers=-1)
    with pytest.raises(PermissionRefused):
        plan_split_set(plan=plan, superior_union=org.lb, borrowers=1, actor=officers.superior)
    with pytest.raises(PermissionRefused):
        annual_plan_set(fund=org.fund, year=2026, borrowers=1, actor=officers.auditor)


def test_split_delete_is_audited(org, plan):
    s = plan_split_set(plan=plan, superior_union=org.lb, disbursed_amount=BN)
    plan_split_delete(split=s)
    assert plan_split_summary(plan=plan) == []
    assert AuditLog.objects.filter(action="delete").exists()
