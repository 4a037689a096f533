"""Decisions carry their own business date under the value-date rule, and a loan is not
disbursed before its approval (docs/loans.md, "Value dates")."""

from datetime import timedelta

import pytest

from accounting.models import CommandRecord, JournalEntry, Posting
from fund.models import AuditLog
from loans.errors import LoanError
from loans.models import Loan
from loans.origination.applications import application_approve, application_review
from loans.origination.disbursement import loan_disburse
from loans.tests.factories import application_to, new_key, today

pytestmark = pytest.mark.django_db


def counts():
    return [m.objects.count() for m in (Loan, JournalEntry, Posting, AuditLog, CommandRecord)]


def _to(status, chain, **kw):
    return application_to(
        status,
        borrower=chain.borrower,
        product=chain.product,
        maker=chain.maker,
        reviewer=chain.reviewer,
        approver=chain.approver,
        amount=20_000_000,
        **kw,
    )


def test_the_decision_dates_default_to_today_and_are_stored(chain, capital):
    app = _to("submitted", chain)
    app = application_review(
        application=app, decision="approve", idempotency_key=new_key(), actor=chain.reviewer
    )
    app = application_approve(application=app, idempotency_key=new_key(), actor=chain.approver)
    assert app.reviewed_on == today() and app.approved_on == today()


def test_no_decision_dated_after_today(chain, capital):
    app = _to("submitted", chain)
    with pytest.raises(LoanError) as e:
        application_review(
            application=app,
            decision="approve",
            idempotency_key=new_key(),
            actor=chain.reviewer,
            decided_on=today() + timedelta(days=1),
        )
    assert e.value.field == "decided_on"
    app.refresh_from_db()
    assert app.status == "submitted" and app.reviewed_on is None


def test_an_approval_is_not_dated_before_its_review(chain, capital):
    app = _to("reviewed", chain, decided_on=today() - timedelta(days=5))
    with pytest.raises(LoanError) as e:
        application_approve(
            application=app,
            idempotency_key=new_key(),
            actor=chain.approver,
            decided_on=today() - timedelta(days=6),
        )
    assert e.value.field == "decided_on" and "thẩm định" in str(e.value.message)
    app.refresh_from_db()
    assert app.status == "reviewed" and app.approved_on is None


def test_a_loan_is_not_disbursed_before_its_approval(chain, capital):
    """The issue's case: an application approved today, disbursed months earlier."""
    approved_on = today() - timedelta(days=30)
    app = _to("approved", chain, decided_on=approved_on)
    before = counts()
    with pytest.raises(LoanError) as e:
        loan_disburse(
            application=app,
            disbursed_on=approved_on - timedelta(days=1),
            idempotency_key=new_key(),
            actor=None,
        )
    assert e.value.field == "disbursed_on"
    assert approved_on.strftime("%d/%m/%Y") in str(e.value.message)
    assert counts() == before
    loan = loan_disburse(
        application=app,
        disbursed_on=approved_on,
        idempotency_key=new_key(),
        actor=None,
    )
    assert loan.disbursed_on == approved_on
