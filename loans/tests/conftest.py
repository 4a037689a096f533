"""The loan most loan tests check by hand."""

import pytest

from loans.tests.helpers import make_loan


@pytest.fixture
def loan(chain, capital):
    """``make_loan``'s loan: 12 000 000 ₫ over 12 months to a member of LB-001, disbursed 100
    days ago, so its first three installments are overdue."""
    return make_loan(chain)
