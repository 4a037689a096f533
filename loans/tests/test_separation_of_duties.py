"""The fund's separation of duties on the loan book (``fund.duties``): the approver does not
disburse, the recorder of a repayment or remittance does not reverse it; each refusal names the
rule and writes nothing, and the table of a loan's actions does not offer it."""

import pytest

from accounting.models import JournalEntry
from fund.duties import APPROVER_DISBURSES, RECORDER_REVERSES
from fund.errors import DutiesSeparated, PermissionRefused
from fund.scoping import scope_for
from fund.services import fund_duties_set
from loans.models import Loan, Repayment
from loans.origination.disbursement import loan_disburse
from loans.policy import loan_action_allowed
from loans.servicing.repayments import repayment_batch_post, repayment_reverse
from loans.tests.factories import new_key, today
from loans.tests.helpers import approved_application, make_loan, pay

pytestmark = pytest.mark.django_db


def disburse(app, actor):
    return loan_disburse(
        application=app, disbursed_on=today(), idempotency_key=new_key("d"), actor=actor
    )


def test_the_approver_does_not_disburse(org, chain, officers, capital):
    app = approved_application(chain)
    entries = JournalEntry.objects.count()
    with pytest.raises(DutiesSeparated) as refused:
        disburse(app, chain.approver)
    assert refused.value.rule == APPROVER_DISBURSES and refused.value.field == "application"
    assert "phê duyệt" in str(refused.value)
    assert not Loan.objects.exists() and JournalEntry.objects.count() == entries
    assert disburse(app, officers.fund).disbursed_by == officers.fund


def test_the_fund_may_let_the_approver_disburse(org, chain, officers, capital):
    fund_duties_set(fund=org.fund, duty_approver_not_disburser=False, actor=officers.fund)
    assert disburse(approved_application(chain), chain.approver).pk


def test_the_recorder_does_not_reverse_their_repayment(org, chain, officers, capital):
    loan = make_loan(chain)
    rep = pay(loan, 1_000_000, actor=officers.checker)
    me, other = scope_for(officers.checker), scope_for(officers.fund)
    assert not loan_action_allowed("reverse", Loan.objects.get(pk=loan.pk), me)
    assert loan_action_allowed("reverse", Loan.objects.get(pk=loan.pk), other)
    entries = JournalEntry.objects.count()
    with pytest.raises(DutiesSeparated) as refused:
        repayment_reverse(
            repayment=rep, reason="nhầm", idempotency_key="r1", actor=officers.checker
        )
    assert refused.value.rule == RECORDER_REVERSES and refused.value.field == "repayment"
    assert JournalEntry.objects.count() == entries
    with pytest.raises(PermissionRefused):  # the table gives reversals to the fund officers
        repayment_reverse(
            repayment=rep, reason="nhầm", idempotency_key="r2", actor=officers.grassroots
        )
    repayment_reverse(repayment=rep, reason="nhầm", idempotency_key="r3", actor=officers.fund)
    assert Repayment.objects.get(pk=rep.pk).reversal_entry_id is not None


def test_the_recorder_of_a_remittance_does_not_reverse_its_lines(org, chain, officers, capital):
    loan = make_loan(chain)
    batch = repayment_batch_post(
        grassroots_union=loan.grassroots_union,
        receipt_number="UNC-1",
        paid_on=today(),
        lines=[(loan, 1_000_000)],
        idempotency_key="nop-1",
        actor=officers.fund,
    )
    line = Repayment.objects.get(batch=batch)
    with pytest.raises(DutiesSeparated):
        repayment_reverse(repayment=line, reason="sai", idempotency_key="x", actor=officers.fund)
    repayment_reverse(repayment=line, reason="sai", idempotency_key="y", actor=officers.checker)
