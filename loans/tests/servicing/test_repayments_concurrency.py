"""No double repayment under concurrent requests: real parallel PostgreSQL connections."""

import pytest

from accounting.models import JournalEntry
from accounting.selectors import account_balance
from loans.errors import LoanError
from loans.models import Loan, Repayment
from loans.servicing.repayments import repayment_post
from loans.tests.factories import today
from loans.tests.helpers import THREADS, disbursed, race

pytestmark = pytest.mark.postgres


def test_concurrent_retries_under_one_key_make_one_repayment(purge_ledger_after, org, chain):
    loan = disbursed(org, chain)

    outcomes = race(
        lambda i: repayment_post(
            loan=loan, amount=1_500_000, paid_on=today(), idempotency_key="thu-no-1"
        )
    )

    assert all(isinstance(o, Repayment) for o in outcomes), outcomes
    assert len({o.pk for o in outcomes}) == 1
    assert Repayment.objects.count() == 1
    assert JournalEntry.objects.filter(document_type="loan_repayment").count() == 1
    loan.refresh_from_db()
    paid = Repayment.objects.get().principal.amount
    assert loan.outstanding_principal.amount == 12_000_000 - paid
    assert account_balance(account="1283", as_of=today(), subledger=loan.subledger) == (
        12_000_000 - paid
    )


def test_concurrent_payoffs_under_different_keys_never_take_more_than_owed(
    purge_ledger_after, org, chain
):
    loan = disbursed(org, chain)
    # All the principal plus the first installment's interest: one request can close the loan.
    first = loan.installments.get(number=1)
    owed = 12_000_000 + first.interest_due.amount

    outcomes = race(
        lambda i: repayment_post(
            loan=loan, amount=owed, paid_on=today(), idempotency_key=f"tat-toan-{i}"
        )
    )

    done = [o for o in outcomes if isinstance(o, Repayment)]
    refused = [o for o in outcomes if isinstance(o, LoanError)]
    assert len(done) == 1 and len(refused) == THREADS - 1, outcomes
    loan = Loan.objects.get(pk=loan.pk)
    assert loan.status == "closed" and loan.outstanding_principal.amount == 0
    assert account_balance(account="1283", as_of=today(), subledger=loan.subledger) == 0


def test_concurrent_retries_of_one_remittance_make_one_batch(purge_ledger_after, org, chain):
    from loans.models import RepaymentBatch
    from loans.servicing.repayments import repayment_batch_post

    loan = disbursed(org, chain)

    outcomes = race(
        lambda i: repayment_batch_post(
            grassroots_union=org.lb1,
            receipt_number="UNC-77",
            paid_on=today(),
            lines=[(loan, 1_000_000)],
            idempotency_key=f"nop-{i % 2}",
        )
    )

    batches = [o for o in outcomes if isinstance(o, RepaymentBatch)]
    assert len({b.pk for b in batches}) == 1, outcomes
    assert RepaymentBatch.objects.count() == 1 and Repayment.objects.count() == 1
    assert JournalEntry.objects.filter(document_type="loan_repayment_batch").count() == 1
    loan.refresh_from_db()
    assert (
        loan.outstanding_principal.amount == 12_000_000 - Repayment.objects.get().principal.amount
    )
