"""No double disbursement under concurrent requests: real parallel PostgreSQL connections.

Each thread has its own Django connection (closed at its end) and commits for real; the
`purge_ledger_after` fixture lets the flush that ends the test through the ledger's triggers.
"""

import pytest

from accounting.models import JournalEntry
from accounting.selectors import account_balance
from fund.errors import InsufficientCapital
from fund.selectors import capital_available
from fund.services import capital_commitment_release
from loans.errors import IllegalTransition
from loans.models import Installment, Loan
from loans.origination.disbursement import loan_disburse
from loans.tests.factories import BorrowerFactory, fund_capital, today
from loans.tests.helpers import THREADS, approved_application, race

pytestmark = pytest.mark.postgres


def test_concurrent_disbursements_of_one_application_make_one_loan(purge_ledger_after, org, chain):
    fund_capital(org.fund)
    app = approved_application(chain)

    outcomes = race(
        lambda i: loan_disburse(
            application=app,
            disbursed_on=today(),
            idempotency_key=f"giai-ngan-{i}",
            actor=chain.disburser,
        )
    )

    loans = [o for o in outcomes if isinstance(o, Loan)]
    refused = [o for o in outcomes if isinstance(o, IllegalTransition)]
    assert len(loans) == 1 and len(refused) == THREADS - 1, outcomes
    assert Loan.objects.count() == 1
    assert Installment.objects.count() == 12
    assert JournalEntry.objects.filter(document_type="loan_disbursement").count() == 1
    assert account_balance(account="1283", as_of=today(), fund_id=org.fund.pk) == 20_000_000


def test_concurrent_retries_under_one_key_all_get_the_same_loan(purge_ledger_after, org, chain):
    fund_capital(org.fund)
    app = approved_application(chain)

    outcomes = race(
        lambda i: loan_disburse(
            application=app, disbursed_on=today(), idempotency_key="mot-lan", actor=chain.disburser
        )
    )

    assert all(isinstance(o, Loan) for o in outcomes), outcomes
    assert len({o.pk for o in outcomes}) == 1
    assert Loan.objects.count() == 1
    assert JournalEntry.objects.filter(document_type="loan_disbursement").count() == 1


def test_concurrent_disbursements_never_lend_more_than_the_capital(purge_ledger_after, org, chain):
    """Capital of 50 million, four approved loans of 20 million: exactly two go out.

    The approvals' commitments are released first (as when they lapse), so that every request
    sees 50 million available when it starts: only the fund lock taken by the disbursement keeps
    the four from lending 80 million.
    """
    fund_capital(org.fund, 50_000_000)
    borrowers = [chain.borrower] + [BorrowerFactory(grassroots_union=org.lb1) for _ in range(3)]
    apps = [approved_application(chain, borrower=b) for b in borrowers]
    for app in apps:
        capital_commitment_release(reference=app.commitment_reference)
    assert capital_available(fund=org.fund) == 50_000_000

    outcomes = race(
        lambda i: loan_disburse(
            application=apps[i],
            disbursed_on=today(),
            idempotency_key=f"von-{i}",
            actor=chain.disburser,
        ),
        n=len(apps),
    )

    assert sorted(type(o).__name__ for o in outcomes) == [
        "InsufficientCapital",
        "InsufficientCapital",
        "Loan",
        "Loan",
    ], outcomes
    assert all(isinstance(o, Loan | InsufficientCapital) for o in outcomes)
    assert account_balance(account="1283", as_of=today(), fund_id=org.fund.pk) == 40_000_000
    assert capital_available(fund=org.fund) == 10_000_000
