"""Requests to change a loan's terms (loans.restructuring.change_requests): one officer asks,
another decides.

The loan of the hand checks (``loans.tests.helpers.make_loan``): 12 000 000 ₫ over 12 months,
disbursed 100 days ago.
"""

from datetime import timedelta
from decimal import Decimal

import pytest

from accounting.errors import IdempotencyConflict
from accounting.models import JournalEntry, Posting
from fund.errors import PermissionRefused
from fund.models import AuditLog
from loans.errors import LoanError, MakerChecker
from loans.models import LoanChangeRequest, LoanStatus, LoanWriteOff, ScheduleRevision
from loans.restructuring.change_requests import (
    change_request_approve,
    change_request_file,
    change_request_reject,
    change_request_withdraw,
)
from loans.servicing.repayments import full_payoff_quote, repayment_post
from loans.tests.factories import new_key, today

pytestmark = pytest.mark.django_db
Status = LoanChangeRequest.Status


def state():
    return (
        LoanChangeRequest.objects.count(),
        list(LoanChangeRequest.objects.order_by("pk").values_list("status", "decided_by")),
        ScheduleRevision.objects.count(),
        LoanWriteOff.objects.count(),
        JournalEntry.objects.count(),
        Posting.objects.count(),
        AuditLog.objects.count(),
    )


def reschedule(loan, actor, key="r1", **over):
    terms = {"effective_date": today(), "term": 18, "reason": "Người vay ốm dài ngày", **over}
    return change_request_file(
        loan=loan, kind="reschedule", actor=actor, idempotency_key=key, **terms
    )


def write_off(loan, actor, key="w1", **over):
    terms = {"written_off_on": today(), "cause": "death", "note": "", **over}
    return change_request_file(
        loan=loan, kind="write_off", actor=actor, idempotency_key=key, **terms
    )


def test_a_union_officer_asks_and_a_fund_officer_reschedules(loan, officers):
    req = reschedule(loan, officers.grassroots)
    assert (req.status, req.requested_by, req.kind) == (
        Status.PENDING,
        officers.grassroots,
        "reschedule",
    )
    assert req.terms == {
        "effective_date": today().isoformat(),
        "term": 18,
        "method": loan.method,
        "first_due_date": None,
        "reason": "Người vay ốm dài ngày",
    }
    assert reschedule(loan, officers.grassroots) == req  # the same key: the same request
    assert LoanChangeRequest.objects.count() == 1
    loan.refresh_from_db()
    assert loan.schedule_version == 1  # nothing changes until it is approved

    done = change_request_approve(request=req, actor=officers.fund, idempotency_key="a1")
    assert (done.status, done.decided_by) == (Status.APPROVED, officers.fund)
    revision = done.revision
    assert (revision.term, revision.requested_by, revision.approved_by) == (
        18,
        officers.grassroots,
        officers.fund,
    )
    loan.refresh_from_db()
    assert (loan.schedule_version, loan.reschedulings) == (2, 1)
    # A retry of the approval returns it; another approval is refused.
    assert change_request_approve(request=req, actor=officers.fund, idempotency_key="a1") == done
    with pytest.raises(LoanError) as e:
        change_request_approve(request=req, actor=officers.checker, idempotency_key="a2")
    assert e.value.field == "status" and e.value.code == "request_decided"
    actions = list(
        AuditLog.objects.filter(content_type__model="loanchangerequest").values_list(
            "action", flat=True
        )
    )
    assert sorted(actions) == ["approve", "request"]


def test_write_off_asked_by_one_fund_officer_approved_by_another(loan, officers):
    req = write_off(loan, officers.fund, cause="natural_disaster", note="Lũ")
    with pytest.raises(MakerChecker):
        change_request_approve(request=req, actor=officers.fund, idempotency_key="a1")
    with pytest.raises(MakerChecker):
        change_request_reject(request=req, actor=officers.fund, note="Tự từ chối")
    done = change_request_approve(request=req, actor=officers.checker, idempotency_key="a1")
    wo = done.write_off
    assert (wo.principal.amount, wo.requested_by, wo.approved_by) == (
        Decimal(12_000_000),
        officers.fund,
        officers.checker,
    )
    loan.refresh_from_db()
    assert loan.status == LoanStatus.WRITTEN_OFF


@pytest.mark.parametrize(
    "over, field",
    [
        ({"term": 0}, "term"),
        ({"reason": "  "}, "reason"),
        ({"method": "weird"}, "method"),
        ({"effective_date": "2026-01-01"}, "effective_date"),
        ({"first_due_date": "tomorrow"}, "first_due_date"),
        ({"colour": "red"}, "kind"),
    ],
)
def test_bad_terms_are_refused_when_asked_by_field(loan, officers, over, field):
    before = state()
    with pytest.raises(LoanError) as e:
        reschedule(loan, officers.grassroots, **over)
    assert e.value.field == field
    assert state() == before


def test_who_may_ask_and_who_may_decide(loan, officers):
    before = state()
    for outsider in (
        officers.grassroots_lb2,
        officers.superior_hbt,
        officers.auditor,
        officers.other_fund,
    ):
        with pytest.raises(PermissionRefused):
            reschedule(loan, outsider, key=f"x-{outsider.pk}")
    assert state() == before
    req = reschedule(loan, officers.superior)
    for not_fund in (officers.grassroots, officers.superior, officers.auditor):
        with pytest.raises(PermissionRefused):
            change_request_approve(request=req, actor=not_fund, idempotency_key="a")
        with pytest.raises(PermissionRefused):
            change_request_reject(request=req, actor=not_fund, note="Không")
    with pytest.raises(PermissionRefused):
        change_request_withdraw(request=req, actor=officers.fund)  # only the requester
    req.refresh_from_db()
    assert req.status == Status.PENDING


def test_one_pending_request_of_each_kind(loan, officers):
    reschedule(loan, officers.grassroots)
    with pytest.raises(LoanError) as e:
        reschedule(loan, officers.fund, key="r2")
    assert e.value.code == "request_pending"
    write_off(loan, officers.grassroots)  # another kind may be asked
    with pytest.raises(IdempotencyConflict):
        reschedule(loan, officers.grassroots, term=24)  # the same key, other terms


def test_reject_with_a_note_then_ask_again(loan, officers):
    req = reschedule(loan, officers.grassroots)
    with pytest.raises(LoanError) as e:
        change_request_reject(request=req, actor=officers.fund, note="")
    assert e.value.field == "note"
    done = change_request_reject(request=req, actor=officers.fund, note="Chưa đủ hồ sơ")
    assert (done.status, done.decision_note, done.decided_by) == (
        Status.REJECTED,
        "Chưa đủ hồ sơ",
        officers.fund,
    )
    loan.refresh_from_db()
    assert loan.schedule_version == 1
    again = reschedule(loan, officers.grassroots, key="r2", term=24)
    assert again.status == Status.PENDING
    change_request_withdraw(request=again, actor=officers.grassroots)
    again.refresh_from_db()
    assert again.status == Status.WITHDRAWN
    with pytest.raises(LoanError):
        change_request_approve(request=again, actor=officers.fund, idempotency_key="late")


def test_a_refused_decision_writes_nothing_and_leaves_the_request_pending(loan, officers):
    req = write_off(loan, officers.grassroots)
    quote = full_payoff_quote(loan=loan, on=today())
    repayment_post(loan=loan, amount=quote.total, paid_on=today(), idempotency_key=new_key("p"))
    before = state()
    with pytest.raises(LoanError) as e:
        change_request_approve(request=req, actor=officers.fund, idempotency_key="a1")
    assert e.value.field == "loan"
    assert state() == before
    req.refresh_from_db()
    assert req.status == Status.PENDING
    # Nothing left to decide: it is rejected (or withdrawn).
    change_request_reject(request=req, actor=officers.fund, note="Đã trả hết nợ")


def test_a_loan_that_owes_nothing_cannot_be_asked_about(loan, officers):
    quote = full_payoff_quote(loan=loan, on=today())
    repayment_post(loan=loan, amount=quote.total, paid_on=today(), idempotency_key=new_key("p"))
    loan.refresh_from_db()
    before = state()
    with pytest.raises(LoanError) as e:
        reschedule(loan, officers.grassroots)
    assert e.value.field == "loan"
    with pytest.raises(LoanError):
        write_off(loan, officers.grassroots, written_off_on=today() + timedelta(days=1))
    assert state() == before
