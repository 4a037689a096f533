"""Two superior unions with two grassroots unions each, and one officer of every role."""

from types import SimpleNamespace

import pytest

from fund.models import Role
from fund.tests.factories import (
    FundFactory,
    GrassrootsUnionFactory,
    OfficerFactory,
    SuperiorUnionFactory,
)


@pytest.fixture
def org(db):
    fund = FundFactory(code="HN", name="Quỹ Trợ vốn CNVCLĐ nghèo Hà Nội")
    lb = SuperiorUnionFactory(fund=fund, code="LB", name="LĐLĐ quận Long Biên")
    hbt = SuperiorUnionFactory(fund=fund, code="HBT", name="LĐLĐ quận Hai Bà Trưng")
    lb1 = GrassrootsUnionFactory(superior_union=lb, code="LB-001")
    lb2 = GrassrootsUnionFactory(superior_union=lb, code="LB-002")
    hbt1 = GrassrootsUnionFactory(superior_union=hbt, code="HBT-001")
    hbt2 = GrassrootsUnionFactory(superior_union=hbt, code="HBT-002")
    other_fund = FundFactory(code="HCM", name="Quỹ CEP")
    other_su = SuperiorUnionFactory(fund=other_fund, code="Q1")
    other_gu = GrassrootsUnionFactory(superior_union=other_su, code="Q1-001")
    return SimpleNamespace(
        fund=fund,
        lb=lb,
        hbt=hbt,
        lb1=lb1,
        lb2=lb2,
        hbt1=hbt1,
        hbt2=hbt2,
        other_fund=other_fund,
        other_su=other_su,
        other_gu=other_gu,
    )


@pytest.fixture
def officers(org):
    return SimpleNamespace(
        fund=OfficerFactory(user__username="quy", fund=org.fund, role=Role.FUND_OFFICER).user,
        superior=OfficerFactory(
            user__username="capten",
            fund=org.fund,
            role=Role.SUPERIOR_OFFICER,
            superior_union=org.lb,
        ).user,
        grassroots=OfficerFactory(
            user__username="cdcs",
            fund=org.fund,
            role=Role.GRASSROOTS_OFFICER,
            grassroots_union=org.lb1,
        ).user,
        auditor=OfficerFactory(user__username="kiemtoan", fund=org.fund, role=Role.AUDITOR).user,
        other_fund=OfficerFactory(
            user__username="quy_hcm", fund=org.other_fund, role=Role.FUND_OFFICER
        ).user,
    )
