"""A fund with two superior unions, officers of every role, capital, a product and a member.

A plugin loaded for the whole suite by the root conftest: the loans, reports, page, API, browser
and worker tests all build on this fund.
"""

from types import SimpleNamespace

import pytest

from accounting.models import Account
from accounting.services import chart_cache_clear, chart_load
from fund.models import Role
from loans.tests.factories import (
    BorrowerFactory,
    FundFactory,
    GrassrootsUnionFactory,
    LoanProductFactory,
    OfficerFactory,
    SuperiorUnionFactory,
    fund_capital,
)


@pytest.fixture(autouse=True)
def _fresh_chart_cache():
    """Each test sees the chart of its own transaction, not one cached by an earlier test."""
    chart_cache_clear()
    yield
    chart_cache_clear()


@pytest.fixture
def org(db):
    if not Account.objects.exists():
        chart_load()  # a transactional test run before flushed the migration's chart
    fund = FundFactory(code="HN", name="Quỹ Trợ vốn CNVCLĐ nghèo Hà Nội")
    lb = SuperiorUnionFactory(fund=fund, code="LB", name="LĐLĐ quận Long Biên")
    hbt = SuperiorUnionFactory(fund=fund, code="HBT", name="LĐLĐ quận Hai Bà Trưng")
    lb1 = GrassrootsUnionFactory(superior_union=lb, code="LB-001", name="CĐCS Trường TH Bồ Đề")
    lb2 = GrassrootsUnionFactory(superior_union=lb, code="LB-002", name="CĐCS Công ty May 10")
    hbt1 = GrassrootsUnionFactory(superior_union=hbt, code="HBT-001", name="CĐCS Chợ Mơ")
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
        other_fund=other_fund,
        other_su=other_su,
        other_gu=other_gu,
    )


@pytest.fixture
def officers(org):
    def officer(username, role, **unit):
        return OfficerFactory(user__username=username, fund=org.fund, role=role, **unit).user

    return SimpleNamespace(
        fund=officer("quy_lap", Role.FUND_OFFICER),
        checker=officer("quy_duyet", Role.FUND_OFFICER),
        superior=officer("capten_lb", Role.SUPERIOR_OFFICER, superior_union=org.lb),
        superior_hbt=officer("capten_hbt", Role.SUPERIOR_OFFICER, superior_union=org.hbt),
        grassroots=officer("cdcs_lb1", Role.GRASSROOTS_OFFICER, grassroots_union=org.lb1),
        grassroots_lb2=officer("cdcs_lb2", Role.GRASSROOTS_OFFICER, grassroots_union=org.lb2),
        auditor=officer("kiemtoan", Role.AUDITOR),
        other_fund=OfficerFactory(
            user__username="quy_hcm", fund=org.other_fund, role=Role.FUND_OFFICER
        ).user,
    )


@pytest.fixture
def product(org):
    return LoanProductFactory(fund=org.fund, code="TVL", name="Cho vay tạo việc làm")


@pytest.fixture
def borrower(org):
    return BorrowerFactory(grassroots_union=org.lb1, full_name="Nguyễn Thị Hoa")


@pytest.fixture
def capital(org):
    return fund_capital(org.fund)


@pytest.fixture
def chain(org, officers, product, borrower):
    """Who does what along the chain for the member of LB-001."""
    return SimpleNamespace(
        borrower=borrower,
        product=product,
        maker=officers.grassroots,
        reviewer=officers.superior,
        approver=officers.checker,
        disburser=officers.fund,  # another fund officer (separation of duties)
    )


@pytest.fixture(autouse=True)
def _documents_storage(settings, tmp_path):
    """Members' documents written by a test go to its own directory, never to var/documents."""
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "documents"), "base_url": None},
        },
    }
