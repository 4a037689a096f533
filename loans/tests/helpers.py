"""Helpers the loan tests share: loans made through the services, repayments, row counts, and
a race of parallel connections for the PostgreSQL concurrency tests."""

import threading
from datetime import timedelta

from django.db import connection

from accounting.models import JournalEntry, Posting
from loans.models import Installment, LoanTransaction, Repayment, RepaymentAllocation
from loans.origination import services
from loans.origination.selectors import loan_book_reconcile
from loans.servicing.repayments import repayment_post
from loans.tests.factories import BorrowerFactory, application_to, fund_capital, new_key, today

DISBURSED = today() - timedelta(days=100)


THREADS = 8


def make_loan(chain, *, product=None, amount=12_000_000, term=12, on=DISBURSED):
    borrower = BorrowerFactory(
        grassroots_union=chain.borrower.grassroots_union,
        certificate_date=on - timedelta(days=30),
    )
    app = application_to(
        "approved",
        borrower=borrower,
        product=product or chain.product,
        maker=chain.maker,
        reviewer=chain.reviewer,
        approver=chain.approver,
        amount=amount,
        term=term,
    )
    return services.loan_disburse(
        application=app, disbursed_on=on, idempotency_key=new_key("disburse"), actor=chain.approver
    )


def pay(loan, amount, *, on=None, key=None, **kw):
    return repayment_post(
        loan=loan, amount=amount, paid_on=on or today(), idempotency_key=key or new_key("pay"), **kw
    )


def inst(loan, number):
    return Installment.objects.get(loan=loan, number=number)


def dec(v):
    return getattr(v, "amount", v)


def reconciled(loan):
    report = loan_book_reconcile(fund=loan.fund, as_of=today())
    return not report.differences and report.book_total == report.control_total


def counts():
    return (
        Repayment.objects.count(),
        RepaymentAllocation.objects.count(),
        JournalEntry.objects.count(),
        Posting.objects.count(),
        LoanTransaction.objects.count(),
    )


def first(loan):
    return Installment.objects.get(loan=loan, number=1)


def race(fn, n=THREADS):
    """Run fn(i) in n threads released together; return what each returned or raised."""
    barrier = threading.Barrier(n)
    outcomes = [None] * n

    def worker(i):
        try:
            barrier.wait()
            outcomes[i] = fn(i)
        except Exception as e:  # the test inspects every outcome
            outcomes[i] = e
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def approved(chain, borrower=None, amount=20_000_000):
    return application_to(
        "approved",
        borrower=borrower or chain.borrower,
        product=chain.product,
        maker=chain.maker,
        reviewer=chain.reviewer,
        approver=chain.approver,
        amount=amount,
    )


def disbursed(org, chain):
    fund_capital(org.fund)
    return services.loan_disburse(
        application=approved(chain, amount=12_000_000),
        disbursed_on=today(),
        idempotency_key="giai-ngan",
        actor=chain.approver,
    )
