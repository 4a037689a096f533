"""Fixtures of the web-page tests: a signed-in client and loans of the loan tests' fund."""

import pytest
from django.test import Client

from loans.tests.factories import BorrowerFactory
from loans.tests.helpers import disbursed_loan


@pytest.fixture
def as_user():
    """as_user(user) -> a Django test client signed in as `user`."""

    def make(user):
        c = Client()
        c.force_login(user)
        return c

    return make


@pytest.fixture
def loan(borrower, product, officers, capital):
    """A loan of LB-001's member, disbursed 45 days ago: its first installment is overdue."""
    return disbursed_loan(borrower=borrower, product=product, officers=officers)


@pytest.fixture
def other_loan(org, product, officers, capital):
    """A loan of a member of HBT-001 (another superior union)."""
    member = BorrowerFactory(grassroots_union=org.hbt1, full_name="Trần Văn Bình")
    return disbursed_loan(borrower=member, product=product, officers=officers, days_ago=10)
