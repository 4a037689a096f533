"""The loan tests' fund (two superior unions, officers of every role, a product, a member,
capital) and API clients signed in with a token as each of them."""

from datetime import timedelta

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from loans.origination.disbursement import loan_disburse
from loans.tests.factories import BorrowerFactory, application_to, new_key, today

DISBURSED = today() - timedelta(days=100)


@pytest.fixture
def api():
    """`api(user)`: a client that sends the user's token (`api(None)`: anonymous)."""

    def client(user=None):
        c = APIClient()
        if user is not None:
            token, _ = Token.objects.get_or_create(user=user)
            c.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return c

    return client


def make_loan(chain, *, grassroots_union=None, amount=12_000_000, term=12, on=DISBURSED):
    """A loan disbursed through the services (grassroots union LB-001 unless given)."""
    gu = grassroots_union or chain.borrower.grassroots_union
    borrower = BorrowerFactory(grassroots_union=gu, certificate_date=on - timedelta(days=30))
    reviewer = (
        chain.reviewer
        if gu.superior_union_id == chain.borrower.grassroots_union.superior_union_id
        else None
    )
    app = application_to(
        "approved",
        borrower=borrower,
        product=chain.product,
        maker=chain.maker if gu == chain.borrower.grassroots_union else None,
        reviewer=reviewer,
        approver=chain.approver,
        amount=amount,
        term=term,
    )
    return loan_disburse(
        application=app, disbursed_on=on, idempotency_key=new_key("disburse"), actor=chain.approver
    )


@pytest.fixture
def loan(chain, capital):
    return make_loan(chain)


@pytest.fixture
def loan_hbt(chain, capital, org):
    """A loan of another superior union's grassroots union (HBT-001)."""
    return make_loan(chain, grassroots_union=org.hbt1)


def money(amount) -> dict:
    return {"amount": str(amount), "currency": "VND"}
