"""A small federation with loans in the reported quarter, the same quarter a year earlier and
around them, built through the services; shared with the integration tests."""

from datetime import date
from types import SimpleNamespace

import pytest

from fund.models import CapitalSource
from fund.services import (
    annual_plan_set,
    capital_contribution_post,
    capital_source_create,
    plan_split_set,
)
from loans.origination.disbursement import loan_disburse
from loans.tests.factories import BorrowerFactory, application_to, new_key

# (grassroots union attr, amount, disbursed on, planned jobs)
LOANS = [
    ("lb1", 20_000_000, date(2024, 2, 10), 1),  # Q1/2024: the same quarter a year earlier
    ("lb1", 12_000_000, date(2024, 12, 31), 1),  # Q4/2024: just before
    ("lb1", 30_000_000, date(2025, 1, 15), 2),
    ("lb1", 20_000_000, date(2025, 3, 31), 1),
    ("lb2", 10_000_000, date(2025, 2, 1), 3),
    ("hbt1", 15_000_000, date(2025, 3, 1), 1),
    ("lb2", 5_000_000, date(2025, 4, 1), 4),  # Q2/2025: just after
]


def lend(who, gu, amount, on, jobs):
    member = BorrowerFactory(
        grassroots_union=gu,
        certificate_date=date(2024, 1, 5),
        certificate_valid_to=date(2035, 1, 1),
    )
    app = application_to(
        "approved",
        borrower=member,
        product=who.product,
        maker=None,
        reviewer=None,
        approver=who.approver,
        amount=amount,
        planned_jobs=jobs,
    )
    return loan_disburse(application=app, disbursed_on=on, idempotency_key=new_key("disburse"))


@pytest.fixture
def federation(org, officers, chain):
    """Capital from two sources, the 2025 plan split by superior union, seven loans."""
    budget = capital_source_create(
        fund=org.fund, code="NS", name="Ngân sách thành phố", kind=CapitalSource.Kind.CITY_BUDGET
    )
    union = capital_source_create(
        fund=org.fund, code="CD", name="Quỹ công đoàn", kind=CapitalSource.Kind.UNION_FUNDS
    )
    for source, amount in ((budget, 1_000_000_000), (union, 200_000_000)):
        capital_contribution_post(
            fund=org.fund,
            source=source,
            amount=amount,
            effective_date=date(2024, 1, 2),
            idempotency_key=new_key("capital"),
        )
    plan = annual_plan_set(
        fund=org.fund,
        year=2025,
        disbursed_amount=400_000_000,
        borrowers=20,
        loans=20,
        grassroots_unions=3,
        jobs=40,
    )
    plan_split_set(plan=plan, superior_union=org.lb, disbursed_amount=250_000_000, jobs=25)
    plan_split_set(plan=plan, superior_union=org.hbt, disbursed_amount=150_000_000, jobs=15)
    loans = [lend(chain, getattr(org, gu), *rest) for gu, *rest in LOANS]
    return SimpleNamespace(org=org, officers=officers, plan=plan, loans=loans)


@pytest.fixture
def emails(officers):
    """Give the officers addresses, so that the reports can be mailed to them."""
    for name in ("fund", "checker", "superior", "superior_hbt", "grassroots", "auditor"):
        user = getattr(officers, name)
        user.email = f"{user.username}@congdoan.vn"
        user.save(update_fields=["email"])
    return officers
