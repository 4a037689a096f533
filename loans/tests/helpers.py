"""Helpers the loan tests share: loans made through the services (each helper says how it
differs), repayments, row counts, an admin user, and a race of parallel connections for the
PostgreSQL concurrency tests."""

import io
import threading
from datetime import timedelta

from django.contrib.auth.models import Permission
from django.db import connection
from PIL import Image
from reportlab.pdfgen import canvas

from accounting.models import JournalEntry, Posting
from fund.models import AuditLog
from fund.tests.factories import last_month
from loans.models import (
    BankStatementLine,
    Borrower,
    BorrowerMembership,
    Installment,
    LoanTransaction,
    Repayment,
    RepaymentAllocation,
)
from loans.origination.disbursement import loan_disburse
from loans.restructuring.change_requests import change_request_file
from loans.servicing.reconciliation import loan_book_reconcile
from loans.servicing.remittances import bank_statement_import
from loans.servicing.repayments import repayment_batch_post, repayment_post
from loans.tests.factories import BorrowerFactory, application_to, fund_capital, new_key, today


def disbursed_day():
    """The day the helpers' loans are disbursed unless told: 100 days before the day the test
    runs (worked out when the loan is made, not when this module is imported: a run under a
    frozen clock imports it before the clock is set)."""
    return today() - timedelta(days=100)


THREADS = 8


def lend(chain, borrower, amount, on, *, maker=None, product=None, **fields):
    """`borrower`'s loan of `amount`, entered by `maker` (the chain's maker unless given),
    approved along the chain and disbursed `on`; `fields` of the application (term,
    planned_jobs…) as in ``application_to``."""
    app = application_to(
        "approved",
        borrower=borrower,
        product=product or chain.product,
        maker=maker or chain.maker,
        reviewer=chain.reviewer,
        approver=chain.approver,
        amount=amount,
        **fields,
    )
    return loan_disburse(
        application=app, disbursed_on=on, idempotency_key=new_key("disburse"), actor=chain.disburser
    )


def make_loan(chain, *, product=None, amount=12_000_000, term=12, on=None, **borrower):
    """A loan of a new member of the chain's grassroots union, disbursed through the services
    `on` (100 days ago unless given); `borrower` sets the member's fields (phone, full_name)."""
    on = on or disbursed_day()
    member = BorrowerFactory(
        grassroots_union=chain.borrower.grassroots_union,
        certificate_date=on - timedelta(days=30),
        **borrower,
    )
    return lend(chain, member, amount, on, product=product, term=term)


def pay(loan, amount, *, on=None, key=None, **kw):
    return repayment_post(
        loan=loan, amount=amount, paid_on=on or today(), idempotency_key=key or new_key("pay"), **kw
    )


def inst(loan, number):
    return Installment.objects.get(loan=loan, number=number)


def staff(user):
    """An officer who uses the admin: staff, with the loans app's permissions."""
    user.is_staff = True
    user.save()
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="loans"))
    return user


def borrower_counts():
    """Rows registering a member writes: borrowers, memberships, audit entries."""
    return Borrower.objects.count(), BorrowerMembership.objects.count(), AuditLog.objects.count()


def first(loan):
    return inst(loan, 1)


def dec(v):
    """The amount of a Money (a Decimal as it is)."""
    return getattr(v, "amount", v)


def reconciled(loan):
    report = loan_book_reconcile(fund=loan.fund, as_of=today())
    return not report.differences and report.book_total == report.control_total


def repayment_counts():
    """Rows a repayment writes: repayments, allocations, journal entries, postings, loan
    transactions."""
    return (
        Repayment.objects.count(),
        RepaymentAllocation.objects.count(),
        JournalEntry.objects.count(),
        Posting.objects.count(),
        LoanTransaction.objects.count(),
    )


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


def approved_application(chain, borrower=None, amount=20_000_000):
    """An application of the chain's member (or `borrower`) moved through the chain to approved."""
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
    """The fund's capital, then the chain member's loan of 12 000 000 ₫ disbursed today under
    one fixed key (the concurrency tests' loan)."""
    fund_capital(org.fund)
    return loan_disburse(
        application=approved_application(chain, amount=12_000_000),
        disbursed_on=today(),
        idempotency_key="giai-ngan",
        actor=chain.disburser,
    )


def disbursed_loan(*, borrower, product, officers, days_ago=45, amount=12_000_000, term=12):
    """A loan of `borrower` disbursed `days_ago` days ago through the whole chain, by the loan
    tests' officers rather than a chain: the maker and the reviewer are those of the member's
    unions (none outside LB-001 and LB), the fund officer disburses."""
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
    return loan_disburse(
        application=app,
        disbursed_on=today() - timedelta(days=days_ago),
        idempotency_key=new_key("disburse"),
        actor=officers.fund,
    )


def pdf_bytes(text: str = "Hop dong vay") -> bytes:
    """A small whole PDF (one page with `text`), as a scanner would write one."""
    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.drawString(72, 720, text)
    page.save()
    return out.getvalue()


def image_bytes(fmt: str = "PNG", size=(40, 30)) -> bytes:
    """A small whole PNG or JPEG image."""
    out = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(out, format=fmt)
    return out.getvalue()


def receipt_booked_last_month(org, loan, *, receipt: str, reference: str):
    """A remittance of 300.000 ₫ for `loan` by union LB1, paid last month (receipt number
    `receipt`), and the bank's receipt of it booked last month (reference `reference`), not yet
    confirmed: (the remittance, the statement line)."""
    batch = repayment_batch_post(
        grassroots_union=org.lb1,
        receipt_number=receipt,
        paid_on=last_month(),
        lines=[(loan, 300_000)],
        idempotency_key=new_key("remit"),
    )
    day = f"{last_month():%d/%m/%Y}"
    data = f"Ngày giao dịch,Số tiền,Số tham chiếu,Nội dung\n{day},300.000,{reference},{receipt}\n"
    bank_statement_import(fund=org.fund, data=data.encode(), format="csv")
    return batch, BankStatementLine.objects.get(bank_reference=reference)


def write_off_requested_last_month(loan, *, actor):
    """A request to write `loan` off as of last month (the member died), filed by `actor` while
    the tests' wide window held last month."""
    return change_request_file(
        loan=loan,
        kind="write_off",
        written_off_on=last_month(),
        cause="death",
        actor=actor,
        idempotency_key=new_key("rq"),
    )
