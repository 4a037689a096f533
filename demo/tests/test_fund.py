from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from accounting.models import JournalEntry
from demo.fund import demo_federation_load
from fund.models import (
    AnnualPlan,
    AuditLog,
    GrassrootsUnion,
    GrassrootsUnionAffiliation,
    Role,
    SuperiorUnion,
)
from fund.scoping import scope_for
from fund.selectors import capital_available, capital_by_source, plan_split_summary

pytestmark = pytest.mark.django_db


def counts():
    return (
        SuperiorUnion.objects.count(),
        GrassrootsUnion.objects.count(),
        GrassrootsUnionAffiliation.objects.count(),
        JournalEntry.objects.count(),
        AuditLog.objects.count(),
    )


DEMO_USERS = ("quy", "ketoan", "capten", "cdcs", "kiemtoan")


def test_small_demo_federation_is_complete_and_idempotent():
    fund = demo_federation_load(year=2025, size="small")
    assert fund.federation_name == "LĐLĐ TP Hà Nội"
    lb = SuperiorUnion.objects.get(fund=fund, code="LB")
    assert lb.name == "LĐLĐ quận Long Biên"
    assert SuperiorUnion.objects.filter(fund=fund).count() >= 5
    assert 12 <= GrassrootsUnion.objects.filter(fund=fund).count() <= 60
    assert set(lb.grassroots_unions.values_list("kind", flat=True)) == {
        "administrative",
        "school",
        "private_enterprise",
    }

    # Every demo account signs in with the published password (the sign-in lockout's backend
    # wants a request, so the password is checked directly), the second fund officer too.
    users = {u: get_user_model().objects.get(username=u) for u in DEMO_USERS}
    assert all(user.check_password("trovon-demo") for user in users.values())
    roles = {u: scope_for(user).role for u, user in users.items()}
    assert roles == {
        "quy": Role.FUND_OFFICER,
        "ketoan": Role.FUND_OFFICER,
        "capten": Role.SUPERIOR_OFFICER,
        "cdcs": Role.GRASSROOTS_OFFICER,
        "kiemtoan": Role.AUDITOR,
    }

    by_source = {s.kind: v for s, v in capital_by_source(fund=fund).items() if v}
    # Last year's capital (35 tỷ, for the demo's prior-year quarter) and this year's (60,5 tỷ).
    assert by_source == {
        "city_budget": 50_000_000_000,
        "union_funds": 40_000_000_000,
        "donors": 5_500_000_000,
    }
    assert capital_available(fund=fund) == Decimal(95_500_000_000)

    plan = AnnualPlan.objects.get(fund=fund, year=2025)
    assert plan.disbursed_amount.amount == 60_500_000_000
    assert AnnualPlan.objects.filter(fund=fund, year=2024).exists()
    gaps = {
        (g.kind, g.superior_union and g.superior_union.code): g
        for g in plan_split_summary(plan=plan)
    }
    assert gaps[("quarters", None)].unallocated["disbursed_amount"] == 0
    assert gaps[("superior_unions", None)].unallocated["disbursed_amount"] == 9_500_000_000
    assert gaps[("quarters", "LB")].unallocated["disbursed_amount"] == 0

    before = counts()
    again = demo_federation_load(year=2025, size="small")
    assert again.pk == fund.pk
    assert counts() == before
