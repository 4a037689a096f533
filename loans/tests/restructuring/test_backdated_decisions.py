"""A rescheduling, recall, interest waiver, write-off (through its request), recovery after
write-off and closure dated before the fund's open window need a reason, kept on the journal
entry (when there is one) and in the audit log (docs/loans.md, "Value dates")."""

from datetime import timedelta

import pytest

from accounting.dates import backdate_window_start
from accounting.models import CommandRecord, JournalEntry, Posting
from fund.models import AuditLog, Fund
from fund.tests.factories import last_month
from loans.errors import LoanError
from loans.models import InterestWaiver, Loan, LoanChangeRequest, ScheduleRevision
from loans.restructuring.change_requests import change_request_approve, change_request_file
from loans.restructuring.decisions import (
    loan_close,
    loan_interest_waive,
    loan_recall,
    loan_write_off,
    write_off_recovery_post,
)
from loans.servicing.visits import followup_visit_record
from loans.tests.factories import new_key
from loans.tests.helpers import make_loan

pytestmark = pytest.mark.django_db


def counts():
    return [m.objects.count() for m in (JournalEntry, Posting, AuditLog, CommandRecord)]


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


def request_counts():
    return [*counts(), LoanChangeRequest.objects.count(), ScheduleRevision.objects.count()]


def test_a_backdated_write_off_request_keeps_its_reason_until_it_is_approved(
    org, officers, old_loan
):
    Fund.objects.filter(pk=org.fund.pk).update(backdate_open_months=0)
    loan = Loan.objects.get(pk=old_loan.pk)
    terms = dict(loan=loan, kind="write_off", written_off_on=last_month(), cause="death")
    before = request_counts()
    with pytest.raises(LoanError) as e:
        change_request_file(**terms, actor=officers.superior, idempotency_key=new_key("rq"))
    assert e.value.field == "written_off_on" and e.value.code == "backdate_reason"
    assert request_counts() == before
    req = change_request_file(
        **terms,
        backdate_reason="Biên bản xác minh tháng trước",
        actor=officers.superior,
        idempotency_key=new_key("rq"),
    )
    assert req.terms["backdate_reason"] == "Biên bản xác minh tháng trước"
    req = change_request_approve(request=req, actor=officers.checker, idempotency_key=new_key("d"))
    entry = req.write_off.journal_entry
    assert entry.effective_date == last_month()
    assert entry.backdated_reason == "Biên bản xác minh tháng trước"
    log = AuditLog.objects.get(action="write_off", object_id=str(loan.pk))
    assert log.changes["backdated_reason"] == [None, "Biên bản xác minh tháng trước"]


def test_a_backdated_rescheduling_request_carries_its_reason_to_the_decision(
    org, officers, old_loan
):
    Fund.objects.filter(pk=org.fund.pk).update(backdate_open_months=0)
    loan = Loan.objects.get(pk=old_loan.pk)
    terms = dict(
        loan=loan, kind="reschedule", effective_date=last_month(), term=12, reason="Mất mùa"
    )
    before = request_counts()
    with pytest.raises(LoanError) as e:
        change_request_file(**terms, actor=officers.superior, idempotency_key=new_key("rq"))
    assert e.value.field == "effective_date" and e.value.code == "backdate_reason"
    assert request_counts() == before
    req = change_request_file(
        **terms,
        backdate_reason="Họp xét tháng trước",
        actor=officers.superior,
        idempotency_key=new_key("rq"),
    )
    req = change_request_approve(request=req, actor=officers.checker, idempotency_key=new_key("d"))
    assert req.revision.effective_date == last_month()
    log = AuditLog.objects.get(action="reschedule", object_id=str(loan.pk))
    assert log.changes["backdated_reason"] == [None, "Họp xét tháng trước"]


def test_a_request_filed_inside_the_window_is_refused_at_approval_once_it_moved_on(
    org, officers, old_loan
):
    req = change_request_file(
        loan=old_loan,
        kind="write_off",
        written_off_on=last_month(),
        cause="death",
        actor=officers.superior,
        idempotency_key=new_key("rq"),
    )
    assert "backdate_reason" not in req.terms
    Fund.objects.filter(pk=org.fund.pk).update(backdate_open_months=0)
    req = LoanChangeRequest.objects.get(pk=req.pk)
    before = request_counts()
    with pytest.raises(LoanError) as e:
        change_request_approve(request=req, actor=officers.checker, idempotency_key=new_key("d"))
    assert e.value.field == "written_off_on" and e.value.code == "backdate_reason"
    assert request_counts() == before
    assert LoanChangeRequest.objects.get(pk=req.pk).status == "pending"


def test_a_backdated_interest_waiver_needs_a_reason(org, officers, old_loan):
    Fund.objects.filter(pk=org.fund.pk).update(backdate_open_months=0)
    loan = Loan.objects.get(pk=old_loan.pk)
    kwargs = dict(loan=loan, waived_on=last_month(), reason="Ốm nặng", actor=officers.fund)
    before = counts()
    with pytest.raises(LoanError) as e:
        loan_interest_waive(**kwargs, idempotency_key=new_key("mg"))
    assert e.value.field == "waived_on" and e.value.code == "backdate_reason"
    assert counts() == before
    assert not InterestWaiver.objects.exists()
    waiver = loan_interest_waive(
        **kwargs, backdate_reason="Đơn xin miễn giảm giấy", idempotency_key=new_key("mg")
    )
    assert waiver.waived_on == last_month()
    log = AuditLog.objects.get(action="waive", object_id=str(loan.pk))
    assert log.changes["backdated_reason"] == [None, "Đơn xin miễn giảm giấy"]


def test_a_backdated_recall_needs_a_reason(org, officers, old_loan):
    followup_visit_record(
        loan=old_loan,
        visited_on=last_month(),
        purpose_verified=False,
        jobs_confirmed=0,
        actor=officers.grassroots,
    )
    Fund.objects.filter(pk=org.fund.pk).update(backdate_open_months=0)
    loan = Loan.objects.get(pk=old_loan.pk)
    kwargs = dict(loan=loan, recalled_on=last_month(), reason="Sai mục đích", actor=officers.fund)
    before = request_counts()
    with pytest.raises(LoanError) as e:
        loan_recall(**kwargs, idempotency_key=new_key("th"))
    assert e.value.field == "recalled_on" and e.value.code == "backdate_reason"
    assert request_counts() == before
    revision = loan_recall(
        **kwargs, backdate_reason="Biên bản kiểm tra giấy", idempotency_key=new_key("th")
    )
    assert revision.effective_date == last_month()
    log = AuditLog.objects.get(action="recall", object_id=str(loan.pk))
    assert log.changes["backdated_reason"] == [None, "Biên bản kiểm tra giấy"]


def test_a_request_overtaken_by_the_window_takes_the_approvers_reason(org, officers, old_loan):
    # Filed while last month was still open, approved after the window moved on.
    Fund.objects.filter(pk=org.fund.pk).update(backdate_open_months=1)
    loan = Loan.objects.get(pk=old_loan.pk)
    req = change_request_file(
        loan=loan,
        kind="write_off",
        written_off_on=last_month(),
        cause="death",
        actor=officers.superior,
        idempotency_key=new_key("rq"),
    )
    assert not req.terms.get("backdate_reason")
    Fund.objects.filter(pk=org.fund.pk).update(backdate_open_months=0)
    before = request_counts()
    with pytest.raises(LoanError) as e:
        change_request_approve(request=req, actor=officers.checker, idempotency_key=new_key("d"))
    assert e.value.field == "written_off_on" and e.value.code == "backdate_reason"
    assert request_counts() == before
    req.refresh_from_db()
    assert req.status == LoanChangeRequest.Status.PENDING
    req = change_request_approve(
        request=req,
        actor=officers.checker,
        idempotency_key=new_key("d"),
        backdate_reason="Duyệt muộn sau khóa tháng",
    )
    assert req.write_off.journal_entry.backdated_reason == "Duyệt muộn sau khóa tháng"
    log = AuditLog.objects.get(action="write_off", object_id=str(loan.pk))
    assert log.changes["backdated_reason"] == [None, "Duyệt muộn sau khóa tháng"]
