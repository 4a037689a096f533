"""Decisions carry their own business date under the value-date rule, and a loan is not
disbursed before its approval (docs/loans.md, "Value dates")."""

from datetime import timedelta

import pytest

from accounting.models import CommandRecord, JournalEntry, Posting
from fund.models import AuditLog
from fund.tests.factories import last_month
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


# --------------------------------------------------------------------------------------------
# Back-dating: a decision or disbursement dated before the fund's open window needs a reason.


def _narrow(org):
    from fund.models import Fund

    Fund.objects.filter(pk=org.fund.pk).update(backdate_open_months=0)


def _fresh(app):
    from loans.models import LoanApplication

    return LoanApplication.objects.get(pk=app.pk)


def test_a_backdated_review_and_approval_need_a_reason_kept_in_the_audit_log(org, chain, capital):
    app = _to("submitted", chain)
    _narrow(org)
    app = _fresh(app)
    day = last_month()
    before = counts()
    with pytest.raises(LoanError) as e:
        application_review(
            application=app,
            decision="approve",
            idempotency_key=new_key(),
            actor=chain.reviewer,
            decided_on=day,
        )
    assert e.value.field == "decided_on" and e.value.code == "backdate_reason"
    assert counts() == before
    app = application_review(
        application=app,
        decision="approve",
        idempotency_key=new_key(),
        actor=chain.reviewer,
        decided_on=day,
        backdate_reason="Hồ sơ giấy thẩm định tháng trước",
    )
    assert app.reviewed_on == day
    log = AuditLog.objects.get(
        action="review_approve", object_id=str(app.pk), content_type__model="loanapplication"
    )
    assert log.changes["backdated_reason"] == [None, "Hồ sơ giấy thẩm định tháng trước"]
    with pytest.raises(LoanError) as e:
        application_approve(
            application=app, idempotency_key=new_key(), actor=chain.approver, decided_on=day
        )
    assert e.value.field == "decided_on"
    app = application_approve(
        application=_fresh(app),
        idempotency_key=new_key(),
        actor=chain.approver,
        decided_on=day,
        backdate_reason="Quyết định giấy",
    )
    assert app.approved_on == day
    assert AuditLog.objects.get(
        action="approve", object_id=str(app.pk), content_type__model="loanapplication"
    ).changes["backdated_reason"] == [None, "Quyết định giấy"]


def test_a_backdated_disbursement_is_flagged_on_its_entry(org, chain, capital):
    day = last_month()
    app = _to("approved", chain, decided_on=day - timedelta(days=3))
    _narrow(org)
    app = _fresh(app)
    before = counts()
    with pytest.raises(LoanError) as e:
        loan_disburse(
            application=app, disbursed_on=day, idempotency_key=new_key(), actor=chain.disburser
        )
    assert e.value.field == "disbursed_on" and e.value.code == "backdate_reason"
    assert counts() == before
    loan = loan_disburse(
        application=_fresh(app),
        disbursed_on=day,
        idempotency_key=new_key(),
        actor=chain.disburser,
        backdate_reason="Chuyển sổ vay giấy",
    )
    assert loan.disbursement_entry.backdated_reason == "Chuyển sổ vay giấy"
    log = AuditLog.objects.get(
        action="disburse", object_id=str(loan.pk), content_type__model="loan"
    )
    assert log.changes["backdated_reason"] == [None, "Chuyển sổ vay giấy"]


@pytest.mark.parametrize("action", ["reject", "cancel"])
def test_rejections_and_cancellations_carry_their_own_date(org, chain, capital, action):
    from loans.origination.applications import application_cancel, application_reject

    decide = {"reject": application_reject, "cancel": application_cancel}[action]
    actor = {"reject": chain.reviewer, "cancel": chain.maker}[action]
    app = _to("submitted", chain)
    decided = decide(
        application=app, reason="Không đủ điều kiện", idempotency_key=new_key(), actor=actor
    )
    assert decided.decided_on == today()

    app = _to("submitted", chain)
    _narrow(org)
    app = _fresh(app)
    with pytest.raises(LoanError) as e:
        decide(
            application=app,
            reason="Không đủ điều kiện",
            idempotency_key=new_key(),
            actor=actor,
            decided_on=today() + timedelta(days=1),
        )
    assert e.value.field == "decided_on"
    with pytest.raises(LoanError) as e:
        decide(
            application=app,
            reason="Không đủ điều kiện",
            idempotency_key=new_key(),
            actor=actor,
            decided_on=last_month(),
        )
    assert e.value.field == "decided_on" and e.value.code == "backdate_reason"
    assert _fresh(app).status == "submitted"
    decided = decide(
        application=app,
        reason="Không đủ điều kiện",
        idempotency_key=new_key(),
        actor=actor,
        decided_on=last_month(),
        backdate_reason="Biên bản họp tháng trước",
    )
    assert decided.decided_on == last_month()
    log = AuditLog.objects.get(
        action=action, object_id=str(app.pk), content_type__model="loanapplication"
    )
    assert log.changes["backdated_reason"] == [None, "Biên bản họp tháng trước"]
