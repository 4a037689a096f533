"""A real worker runs the close of business end to end on what the test committed."""

from datetime import timedelta

import pytest

from loans.models import CloseOfBusinessRun, Loan
from loans.servicing.reconciliation import loan_book_reconcile
from loans.tasks import close_of_business_task
from loans.tests.helpers import inst, make_loan

pytestmark = [pytest.mark.postgres]


def test_worker_closes_the_business_date(celery_worker_process, org, chain, capital):  # noqa: F811
    loan = make_loan(chain)
    day = inst(loan, 1).due_date + timedelta(days=15)

    result = close_of_business_task.delay(org.fund.pk, day.isoformat())
    out = result.get(timeout=60)

    assert out["status"] == "done"
    run = CloseOfBusinessRun.objects.get(fund=org.fund, business_date=day)
    assert run.summary["penalty_accrued"] == 1_375
    assert run.summary["provision_change"] == 240_000
    loan = Loan.objects.get(pk=loan.pk)
    assert (loan.days_past_due, loan.debt_group) == (15, 2)
    assert loan.provision_held.amount == 240_000
    assert loan_book_reconcile(fund=org.fund, as_of=day).ok
    # The same date again through the worker: the same run, nothing more.
    again = close_of_business_task.delay(org.fund.pk, day.isoformat()).get(timeout=60)
    assert again["run_id"] == run.pk
    assert Loan.objects.get(pk=loan.pk).installments.get(number=1).penalty_due.amount == 1_375
