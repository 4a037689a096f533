"""Repayments, remittances, their bank receipts and reversals dated before the fund's open
window need a reason, kept on the journal entry and in the audit log (docs/loans.md, "Value
dates")."""

from datetime import timedelta

import pytest

from accounting.dates import backdate_window_start
from accounting.models import CommandRecord, JournalEntry, Posting
from fund.models import AuditLog, Fund, GrassrootsUnion
from fund.tests.factories import last_month
from loans.errors import LoanError
from loans.models import BankStatementLine, Loan, Repayment
from loans.servicing.remittances import bank_statement_import, remittance_receipt_confirm
from loans.servicing.repayments import repayment_batch_post, repayment_reverse
from loans.tests.factories import new_key
from loans.tests.helpers import make_loan, pay

pytestmark = pytest.mark.django_db


def counts():
    return [m.objects.count() for m in (Repayment, JournalEntry, Posting, AuditLog, CommandRecord)]


@pytest.fixture
def old_loan(org, chain, capital):
    """A loan disbursed 100 days ago; then the fund's window shrinks to the current month."""
    loan = make_loan(chain, on=backdate_window_start(0) - timedelta(days=100))
    Fund.objects.filter(pk=org.fund.pk).update(backdate_open_months=0)
    return Loan.objects.get(pk=loan.pk)


def test_a_backdated_repayment_without_a_reason_is_refused_by_its_date(old_loan):
    before = counts()
    with pytest.raises(LoanError) as e:
        pay(old_loan, 500_000, on=last_month())
    assert e.value.field == "paid_on" and e.value.code == "backdate_reason"
    assert f"{backdate_window_start(0):%d/%m/%Y}" in str(e.value)
    assert counts() == before


def test_a_backdated_repayment_keeps_its_reason_in_the_journal_and_audit_log(old_loan):
    r = pay(old_loan, 500_000, on=last_month(), backdate_reason="Phiếu thu giấy tháng trước")
    assert r.journal_entry.backdated_reason == "Phiếu thu giấy tháng trước"
    log = AuditLog.objects.get(action="repay", object_id=str(old_loan.pk))
    assert log.changes["backdated_reason"] == [None, "Phiếu thu giấy tháng trước"]
    # Today's repayment is not back-dated: no reason kept, none needed.
    r2 = pay(old_loan, 100_000)
    assert r2.journal_entry.backdated_reason == ""


def test_a_backdated_remittance_needs_a_reason(org, old_loan):
    gu = GrassrootsUnion.objects.get(pk=org.lb1.pk)
    kwargs = dict(
        grassroots_union=gu,
        receipt_number="UNC-9",
        paid_on=last_month(),
        lines=[(old_loan, 300_000)],
        idempotency_key=new_key("remit"),
    )
    before = counts()
    with pytest.raises(LoanError) as e:
        repayment_batch_post(**kwargs)
    assert e.value.field == "paid_on" and e.value.code == "backdate_reason"
    assert counts() == before
    batch = repayment_batch_post(**kwargs, backdate_reason="Sổ thu của công đoàn")
    rep = Repayment.objects.get(batch=batch)
    assert rep.journal_entry.backdated_reason == "Sổ thu của công đoàn"


def test_the_reversal_of_an_old_repayment_is_flagged_with_its_reason(org, chain, capital):
    loan = make_loan(chain, on=backdate_window_start(0) - timedelta(days=100))
    r = pay(loan, 400_000, on=last_month())
    Fund.objects.filter(pk=org.fund.pk).update(backdate_open_months=0)
    r = Repayment.objects.select_related("loan").get(pk=r.pk)
    rev = repayment_reverse(
        repayment=r, reason="Nhập nhầm số tiền", idempotency_key=new_key("rev"), actor=None
    )
    rev.refresh_from_db()
    assert rev.reversal_entry.effective_date == last_month()
    assert rev.reversal_entry.backdated_reason == "Nhập nhầm số tiền"
    log = AuditLog.objects.get(action="repayment_reverse")
    assert log.changes["backdated_reason"] == [None, "Nhập nhầm số tiền"]


def test_confirming_a_receipt_booked_before_the_window_needs_a_reason(
    org, officers, chain, capital
):
    loan = make_loan(chain, on=backdate_window_start(0) - timedelta(days=100))
    batch = repayment_batch_post(
        grassroots_union=GrassrootsUnion.objects.get(pk=org.lb1.pk),
        receipt_number="UNC-7",
        paid_on=last_month(),
        lines=[(loan, 300_000)],
        idempotency_key=new_key("remit"),
    )
    day = f"{last_month():%d/%m/%Y}"
    data = f"Ngày giao dịch,Số tiền,Số tham chiếu,Nội dung\n{day},300.000,FT7,UNC-7\n".encode()
    bank_statement_import(fund=org.fund, data=data, format="csv")
    line = BankStatementLine.objects.get(bank_reference="FT7")
    Fund.objects.filter(pk=org.fund.pk).update(backdate_open_months=0)
    before = counts()
    with pytest.raises(LoanError) as e:
        remittance_receipt_confirm(
            line=line, batch=batch, idempotency_key=new_key("xn"), actor=officers.fund
        )
    assert e.value.field == "booked_on" and e.value.code == "backdate_reason"
    assert counts() == before
    assert BankStatementLine.objects.get(pk=line.pk).batch_id is None
    done = remittance_receipt_confirm(
        line=line,
        batch=batch,
        idempotency_key=new_key("xn"),
        actor=officers.fund,
        backdate_reason="Sao kê tháng trước nhận muộn",
    )
    assert done.journal_entry.effective_date == last_month()
    assert done.journal_entry.backdated_reason == "Sao kê tháng trước nhận muộn"
    log = AuditLog.objects.get(action="remittance_receipt_confirm")
    assert log.changes["backdated_reason"] == [None, "Sao kê tháng trước nhận muộn"]
