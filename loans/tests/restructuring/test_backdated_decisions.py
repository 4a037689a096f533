"""A recovery after write-off and a closure dated before the fund's open window need a reason,
kept on the journal entry and in the audit log (docs/loans.md, "Value dates")."""

from datetime import timedelta

import pytest

from accounting.dates import backdate_window_start
from accounting.models import CommandRecord, JournalEntry, Posting
from fund.models import AuditLog, Fund
from loans.errors import LoanError
from loans.models import Loan
from loans.restructuring.decisions import loan_close, loan_write_off, write_off_recovery_post
from loans.tests.factories import new_key
from loans.tests.helpers import make_loan

pytestmark = pytest.mark.django_db


def counts():
    return [m.objects.count() for m in (JournalEntry, Posting, AuditLog, CommandRecord)]


def last_month():
    return backdate_window_start(0) - timedelta(days=1)


@pytest.fixture
def old_loan(chain, capital):
    return make_loan(chain, on=backdate_window_start(0) - timedelta(days=100))


def test_a_backdated_recovery_needs_a_reason_kept_on_its_entry(org, officers, old_loan):
    loan_write_off(
        loan=old_loan,
        written_off_on=backdate_window_start(0) - timedelta(days=50),
        cause="death",
        idempotency_key=new_key("xlrr"),
        requested_by=officers.superior,
        actor=officers.checker,
    )
    Fund.objects.filter(pk=org.fund.pk).update(backdate_open_months=0)
    loan = Loan.objects.get(pk=old_loan.pk)
    kwargs = dict(
        loan=loan,
        amount=2_000_000,
        received_on=last_month(),
        idempotency_key=new_key("thu"),
        actor=officers.fund,
    )
    before = counts()
    with pytest.raises(LoanError) as e:
        write_off_recovery_post(**kwargs)
    assert e.value.field == "received_on" and e.value.code == "backdate_reason"
    assert counts() == before
    recovery = write_off_recovery_post(**kwargs, backdate_reason="Biên lai giấy")
    assert recovery.journal_entry.backdated_reason == "Biên lai giấy"
    log = AuditLog.objects.get(action="write_off_recovery", object_id=str(loan.pk))
    assert log.changes["backdated_reason"] == [None, "Biên lai giấy"]


def test_a_backdated_closure_without_a_reason_is_refused_by_its_date(org, officers, old_loan):
    Fund.objects.filter(pk=org.fund.pk).update(backdate_open_months=0)
    loan = Loan.objects.get(pk=old_loan.pk)
    before = counts()
    with pytest.raises(LoanError) as e:
        loan_close(
            loan=loan,
            closed_on=last_month(),
            apply_savings=True,
            idempotency_key=new_key("tt"),
            actor=officers.fund,
        )
    assert e.value.field == "closed_on" and e.value.code == "backdate_reason"
    assert counts() == before
    assert Loan.objects.get(pk=loan.pk).status == "active"
