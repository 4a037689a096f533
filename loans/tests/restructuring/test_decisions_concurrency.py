"""Servicing events under concurrent requests: real parallel PostgreSQL connections."""

import pytest

from accounting.models import JournalEntry
from accounting.selectors import account_balance
from loans.errors import LoanError
from loans.models import Loan, LoanWriteOff, WriteOffRecovery
from loans.restructuring.decisions import loan_write_off, write_off_recovery_post
from loans.tests.factories import today
from loans.tests.helpers import THREADS, disbursed, race

pytestmark = pytest.mark.postgres


def test_concurrent_write_offs_of_one_loan_post_once(purge_ledger_after, org, chain, officers):
    loan = disbursed(org, chain)

    outcomes = race(
        lambda i: loan_write_off(
            loan=loan,
            written_off_on=today(),
            cause="death",
            idempotency_key=f"xlrr-{i % 3}",
            requested_by=officers.superior,
            actor=officers.checker,
        )
    )

    done = [o for o in outcomes if isinstance(o, LoanWriteOff)]
    refused = [o for o in outcomes if isinstance(o, LoanError)]
    assert len({w.pk for w in done}) == 1 and len(done) + len(refused) == THREADS, outcomes
    assert LoanWriteOff.objects.count() == 1
    assert JournalEntry.objects.filter(document_type="loan_write_off").count() == 1
    assert Loan.objects.get(pk=loan.pk).status == "written_off"
    assert account_balance(account="1283", as_of=today(), subledger=loan.subledger) == 0


def test_concurrent_recoveries_never_exceed_the_write_off(purge_ledger_after, org, chain, officers):
    loan = disbursed(org, chain)
    loan_write_off(
        loan=loan,
        written_off_on=today(),
        cause="disability",
        idempotency_key="xlrr",
        requested_by=officers.superior,
        actor=officers.checker,
    )

    # 8 × 5 000 000 asked for, 12 000 000 written off: at most two go through.
    outcomes = race(
        lambda i: write_off_recovery_post(
            loan=loan, amount=5_000_000, received_on=today(), idempotency_key=f"thu-{i}"
        )
    )

    done = [o for o in outcomes if isinstance(o, WriteOffRecovery)]
    refused = [o for o in outcomes if isinstance(o, LoanError)]
    assert len(done) == 2 and len(refused) == THREADS - 2, outcomes
    assert account_balance(account="7111", as_of=today(), subledger=loan.subledger) == -10_000_000
