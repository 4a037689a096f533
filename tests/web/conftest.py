"""Fixtures of the web-page tests: a signed-in client and loans of the loan tests' fund."""

from datetime import timedelta

import pytest
from django.test import Client

from loans.origination import services
from loans.tests.factories import BorrowerFactory, application_to, new_key, today


@pytest.fixture
def as_user():
    """as_user(user) -> a Django test client signed in as `user`."""

    def make(user):
        c = Client()
        c.force_login(user)
        return c

    return make


def disbursed_loan(*, borrower, product, officers, days_ago=45, amount=12_000_000, term=12):
    """A loan of `borrower` disbursed `days_ago` days ago through the whole chain."""
    app = application_to(
        "approved",
        borrower=borrower,
        product=product,
        maker=officers.grassroots if borrower.grassroots_union.code == "LB-001" else None,
        reviewer=officers.superior if borrower.grassroots_union.code.startswith("LB") else None,
        approver=officers.checker,
        amount=amount,
        term=term,
    )
    return services.loan_disburse(
        application=app,
        disbursed_on=today() - timedelta(days=days_ago),
        idempotency_key=new_key("disburse"),
        actor=officers.fund,
    )


@pytest.fixture
def loan(borrower, product, officers, capital):
    """A loan of LB-001's member, disbursed 45 days ago: its first installment is overdue."""
    return disbursed_loan(borrower=borrower, product=product, officers=officers)


@pytest.fixture
def other_loan(org, product, officers, capital):
    """A loan of a member of HBT-001 (another superior union)."""
    member = BorrowerFactory(grassroots_union=org.hbt1, full_name="Trần Văn Bình")
    return disbursed_loan(borrower=member, product=product, officers=officers, days_ago=10)
