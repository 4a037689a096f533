"""The loan tests' fund (two superior unions, officers of every role, a product, a member,
capital) and API clients signed in with a token as each of them."""

import pytest
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.api.helpers import make_loan


@pytest.fixture
def api():
    """`api(user)`: a client that sends the user's token (`api(None)`: anonymous)."""

    def client(user=None):
        c = APIClient()
        if user is not None:
            _, token = AuthToken.objects.create(user)
            c.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        return c

    return client


@pytest.fixture
def loan(chain, capital):
    return make_loan(chain)


@pytest.fixture
def loan_hbt(chain, capital, org):
    """A loan of another superior union's grassroots union (HBT-001)."""
    return make_loan(chain, grassroots_union=org.hbt1)
