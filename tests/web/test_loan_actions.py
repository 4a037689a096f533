"""The pages of a loan's life after disbursement (loans.web.actions): follow-up visit, reversal
of a repayment, rescheduling, interest waiver, write-off, recovery, closure and recall.

Per page: GET renders; a POST changes the loan and the ledger as the service says; bad input
shows the error next to its field and writes nothing; a double submit with the same key posts
once; another role or another unit gets 403/404.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from accounting.models import JournalEntry, Posting
from loans.models import (
    FollowUpVisit,
    InterestWaiver,
    LoanChangeRequest,
    LoanClosure,
    LoanStatus,
    LoanWriteOff,
    Repayment,
    ScheduleRevision,
    WriteOffRecovery,
)
from loans.servicing.close_of_business import close_of_business_catch_up
from loans.servicing.repayments import full_payoff_quote, repayment_batch_post, repayment_post
from loans.servicing.visits import followup_visit_record
from loans.tests.factories import BorrowerFactory, new_key, today
from loans.tests.helpers import disbursed_loan
from tests.helpers import row_counts
from tests.web.helpers import field_error, idempotency_key, loan_url, write_off_data

pytestmark = pytest.mark.django_db


def _confirmed(client, url, data):
    """POST the form, check the confirmation page wrote nothing, then confirm."""
    before = row_counts()
    r = client.post(url, data)
    assert r.status_code == 200, r.content.decode()[:2000]
    assert 'id="confirm-form"' in r.content.decode()
    assert row_counts() == before  # the confirmation step writes nothing
    return client.post(url, {**data, "confirmed": "1"})


def _pay(loan, amount=1_500_000, days_ago=1):
    return repayment_post(
        loan=loan,
        amount=amount,
        paid_on=today() - timedelta(days=days_ago),
        idempotency_key=new_key("pay"),
    )


# --------------------------------------------------------------------------------------------
# The loan page's actions block


def test_loan_page_offers_the_actions_of_the_state_and_role(as_user, officers, loan):
    body = as_user(officers.fund).get(loan_url("loan_detail", loan)).content.decode()
    assert 'data-testid="loan-actions"' in body
    for name in ("loan_visit", "loan_reschedule", "loan_write_off", "loan_close"):
        assert loan_url(name, loan) in body, name
    # No repayment yet, no misuse found, not written off: these do not apply.
    for name in ("loan_repayment_reverse", "loan_recall", "loan_write_off_recovery"):
        assert loan_url(name, loan) not in body, name

    # A union officer in charge may record a visit and ask for a rescheduling or a write-off;
    # the fund's own decisions are not offered.
    union = as_user(officers.grassroots).get(loan_url("loan_detail", loan)).content.decode()
    for name in ("loan_visit", "loan_reschedule", "loan_write_off"):
        assert loan_url(name, loan) in union, name
    for name in ("loan_close", "loan_interest_waive", "loan_recall"):
        assert loan_url(name, loan) not in union, name
    auditor = as_user(officers.auditor).get(loan_url("loan_detail", loan)).content.decode()
    assert 'data-testid="loan-actions"' not in auditor


def test_an_action_that_does_not_apply_sends_back_to_the_loan(as_user, officers, loan):
    r = as_user(officers.fund).get(loan_url("loan_write_off_recovery", loan))
    assert r.status_code == 302 and r["Location"] == loan_url("loan_detail", loan)


# --------------------------------------------------------------------------------------------
# Follow-up visit


def test_union_officer_records_a_visit_once(as_user, officers, loan):
    c = as_user(officers.grassroots)
    page = c.get(loan_url("loan_visit", loan))
    assert page.status_code == 200
    body = page.content.decode()
    assert 'name="jobs_confirmed"' in body
    assert 'name="recall"' not in body  # recalling is the fund's decision
    data = {
        "idempotency_key": idempotency_key(page),
        "visited_on": today().isoformat(),
        "purpose_verified": "yes",
        "jobs_confirmed": "2",
        "note": "Cùng kiểm tra: ông Lê Văn Tâm, chủ tịch CĐCS",
    }
    r = c.post(loan_url("loan_visit", loan), data)
    assert r.status_code == 302 and r["Location"] == loan_url("loan_detail", loan)
    visit = FollowUpVisit.objects.get(loan=loan)
    assert (visit.jobs_confirmed, visit.purpose_verified, visit.visited_by) == (
        2,
        True,
        officers.grassroots,
    )
    assert "Lê Văn Tâm" in visit.note
    r = c.post(loan_url("loan_visit", loan), data)  # the double submit
    assert r.status_code == 302
    assert FollowUpVisit.objects.filter(loan=loan).count() == 1
    body = c.get(loan_url("loan_detail", loan)).content.decode()
    assert "Đã ghi kết quả kiểm tra" in body
    assert "cdcs_lb1 · Cùng kiểm tra: ông Lê Văn Tâm" in body  # who checked, on the loan page


def test_visit_bad_input_is_shown_by_its_field_and_writes_nothing(as_user, officers, loan):
    c = as_user(officers.grassroots)
    key = idempotency_key(c.get(loan_url("loan_visit", loan)))
    before = row_counts()
    r = c.post(
        loan_url("loan_visit", loan),
        {"idempotency_key": key, "visited_on": "", "purpose_verified": "", "jobs_confirmed": "-1"},
    )
    field_error(r, "visited_on")
    field_error(r, "purpose_verified")
    field_error(r, "jobs_confirmed")
    # The service's refusal (a date before the disbursement) next to the date.
    r = c.post(
        loan_url("loan_visit", loan),
        {
            "idempotency_key": key,
            "visited_on": (loan.disbursed_on - timedelta(days=3)).isoformat(),
            "purpose_verified": "yes",
            "jobs_confirmed": "1",
        },
    )
    assert "từ ngày giải ngân đến hôm nay" in field_error(r, "visited_on")
    assert row_counts() == before


def test_visit_of_another_union_is_404_and_auditors_403(as_user, officers, loan, other_loan):
    assert as_user(officers.grassroots).get(loan_url("loan_visit", other_loan)).status_code == 404
    assert as_user(officers.grassroots_lb2).get(loan_url("loan_visit", loan)).status_code == 404
    assert as_user(officers.superior).get(loan_url("loan_visit", other_loan)).status_code == 404
    assert as_user(officers.superior).get(loan_url("loan_visit", loan)).status_code == 200
    assert as_user(officers.auditor).get(loan_url("loan_visit", loan)).status_code == 403
    before = row_counts()
    r = as_user(officers.auditor).post(loan_url("loan_visit", loan), {"jobs_confirmed": "1"})
    assert r.status_code == 403 and row_counts() == before


def test_misuse_found_on_a_visit_recalls_the_loan_after_confirmation(as_user, officers, loan):
    c = as_user(officers.fund)
    page = c.get(loan_url("loan_visit", loan))
    data = {
        "idempotency_key": idempotency_key(page),
        "visited_on": today().isoformat(),
        "purpose_verified": "no",
        "jobs_confirmed": "0",
        "note": "Không mua máy may, dùng vốn trả nợ khác",
        "recall": "on",
    }
    r = _confirmed(c, loan_url("loan_visit", loan), data)
    assert r.status_code == 302
    loan.refresh_from_db()
    assert loan.recalled_on == today()
    assert ScheduleRevision.objects.get(loan=loan).kind == ScheduleRevision.Kind.RECALL
    assert _confirmed(c, loan_url("loan_visit", loan), data).status_code == 302
    assert FollowUpVisit.objects.filter(loan=loan).count() == 1


def test_recall_box_needs_misuse(as_user, officers, loan):
    c = as_user(officers.fund)
    key = idempotency_key(c.get(loan_url("loan_visit", loan)))
    r = c.post(
        loan_url("loan_visit", loan),
        {
            "idempotency_key": key,
            "visited_on": today().isoformat(),
            "purpose_verified": "yes",
            "jobs_confirmed": "1",
            "recall": "on",
        },
    )
    assert "sai mục đích" in field_error(r, "recall")
    assert not FollowUpVisit.objects.exists()


# --------------------------------------------------------------------------------------------
# Reversal of a repayment


def test_reverse_a_repayment_with_confirmation_once(as_user, officers, loan):
    rep = _pay(loan)
    loan.refresh_from_db()
    before_outstanding = loan.outstanding_principal
    c = as_user(officers.fund)
    page = c.get(loan_url("loan_repayment_reverse", loan))
    assert page.status_code == 200
    assert f'value="{rep.pk}" selected' in page.content.decode()
    data = {
        "idempotency_key": idempotency_key(page),
        "repayment": rep.pk,
        "reason": "Ghi nhầm người vay",
    }
    entries = JournalEntry.objects.count()
    r = _confirmed(c, loan_url("loan_repayment_reverse", loan), data)
    assert r.status_code == 302 and r["Location"] == loan_url("loan_detail", loan)
    rep.refresh_from_db()
    loan.refresh_from_db()
    assert rep.reversal_entry_id is not None and rep.reversal_reason == "Ghi nhầm người vay"
    assert loan.outstanding_principal == before_outstanding + rep.principal
    assert JournalEntry.objects.count() == entries + 1
    # The reversal entry mirrors the repayment: 1121 credited with the amount.
    bank = Posting.objects.get(entry=rep.reversal_entry, account__code="1121")
    assert bank.amount.amount == -rep.amount.amount
    r = c.post(loan_url("loan_repayment_reverse", loan), {**data, "confirmed": "1"})
    assert r.status_code == 302
    assert JournalEntry.objects.count() == entries + 1


def test_reverse_needs_a_reason_and_the_latest_repayment(as_user, officers, loan):
    first = _pay(loan, amount=1_000_000, days_ago=3)
    _pay(loan, amount=500_000, days_ago=1)
    c = as_user(officers.fund)
    key = idempotency_key(c.get(loan_url("loan_repayment_reverse", loan)))
    before = row_counts()
    r = c.post(
        loan_url("loan_repayment_reverse", loan),
        {"idempotency_key": key, "repayment": first.pk, "reason": ""},
    )
    assert "lý do" in field_error(r, "reason")
    r = c.post(
        loan_url("loan_repayment_reverse", loan),
        {"idempotency_key": key, "repayment": first.pk, "reason": "Nhầm", "confirmed": "1"},
    )
    assert "trước lần trả nợ" in field_error(r, "repayment")
    assert row_counts() == before


def test_reverse_one_line_of_a_remittance(as_user, officers, loan, borrower, product):
    second = disbursed_loan(
        borrower=BorrowerFactory(grassroots_union=borrower.grassroots_union),
        product=product,
        officers=officers,
    )
    batch = repayment_batch_post(
        grassroots_union=borrower.grassroots_union,
        receipt_number="PT-07",
        paid_on=today(),
        lines=[(loan, Decimal(1_500_000)), (second, Decimal(1_200_000))],
        idempotency_key=new_key("batch"),
        actor=officers.grassroots,
    )
    line = Repayment.objects.get(batch=batch, loan=loan)
    c = as_user(officers.fund)
    page = c.get(loan_url("loan_repayment_reverse", loan))
    assert "PT-07" in page.content.decode()
    data = {"idempotency_key": idempotency_key(page), "repayment": line.pk, "reason": "Thu nhầm"}
    assert _confirmed(c, loan_url("loan_repayment_reverse", loan), data).status_code == 302
    line.refresh_from_db()
    assert line.reversal_entry_id is not None
    body = c.get(loan_url("loan_detail", loan)).content.decode()
    assert f"Hủy lần trả nợ #{line.pk}" in body and "Thu nhầm" in body
    assert Repayment.objects.get(batch=batch, loan=second).reversal_entry_id is None


def test_reverse_is_the_funds_job(as_user, officers, loan, other_loan):
    _pay(loan)
    assert (
        as_user(officers.grassroots).get(loan_url("loan_repayment_reverse", loan)).status_code
        == 403
    )
    assert (
        as_user(officers.superior).get(loan_url("loan_repayment_reverse", loan)).status_code == 403
    )
    assert (
        as_user(officers.auditor).get(loan_url("loan_repayment_reverse", loan)).status_code == 403
    )
    assert (
        as_user(officers.other_fund).get(loan_url("loan_repayment_reverse", loan)).status_code
        == 404
    )


# --------------------------------------------------------------------------------------------
# Rescheduling (four eyes) and interest waiver


def _request_page(loan) -> str:
    req = LoanChangeRequest.objects.get(loan=loan, status="pending")
    return reverse("loans:change_request_detail", args=[req.pk])


def test_reschedule_asked_by_the_union_approved_by_the_fund(as_user, officers, loan):
    union = as_user(officers.grassroots)
    page = union.get(loan_url("loan_reschedule", loan))
    body = page.content.decode()
    assert page.status_code == 200 and 'name="requested_by"' not in body
    data = {
        "idempotency_key": idempotency_key(page),
        "effective_date": today().isoformat(),
        "term": "18",
        "method": loan.method,
        "first_due_date": "",
        "reason": "Người vay ốm dài ngày, thu nhập giảm",
    }
    entries = JournalEntry.objects.count()
    r = union.post(loan_url("loan_reschedule", loan), data)
    assert r.status_code == 302 and r["Location"] == loan_url("loan_detail", loan)
    assert union.post(loan_url("loan_reschedule", loan), data).status_code == 302  # double submit
    req = LoanChangeRequest.objects.get(loan=loan)
    assert (req.status, req.requested_by, req.terms["term"]) == ("pending", officers.grassroots, 18)
    loan.refresh_from_db()
    assert loan.schedule_version == 1  # nothing changes until a fund officer approves

    # The loan page shows the pending request and no longer offers to ask again.
    body = union.get(loan_url("loan_detail", loan)).content.decode()
    assert 'data-testid="pending-requests"' in body and _request_page(loan) in body
    assert loan_url("loan_reschedule", loan) not in body
    # The requester can only withdraw; a fund officer decides, from the list or the loan.
    own = union.get(_request_page(loan)).content.decode()
    assert 'id="withdraw-form"' in own and 'id="approve-form"' not in own
    fund = as_user(officers.fund)
    dashboard = fund.get(reverse("loans:dashboard")).content.decode()
    assert 'data-testid="waiting-change-requests">1</a>' in dashboard
    listed = fund.get(reverse("loans:change_request_list")).content.decode()
    assert f'data-request="{req.pk}"' in listed
    page = fund.get(_request_page(loan))
    body = page.content.decode()
    assert 'id="approve-form"' in body and "Người vay ốm dài ngày" in body
    approve = {"decision": "approve", "idempotency_key": idempotency_key(page)}
    r = fund.post(_request_page(loan), approve)
    assert r.status_code == 302 and r["Location"] == loan_url("loan_detail", loan)
    assert fund.post(
        reverse("loans:change_request_detail", args=[req.pk]), approve
    ).status_code in (
        302,
        400,
    )
    loan.refresh_from_db()
    revision = ScheduleRevision.objects.get(loan=loan)
    assert (loan.schedule_version, loan.reschedulings, revision.term) == (2, 1, 18)
    assert (revision.requested_by, revision.approved_by) == (officers.grassroots, officers.fund)
    assert loan.installments.filter(schedule_version=2).count() == 18
    assert JournalEntry.objects.count() == entries  # no money moves
    req.refresh_from_db()
    assert (req.status, req.revision) == ("approved", revision)
    body = fund.get(loan_url("loan_detail", loan)).content.decode()
    decisions = body.split('data-testid="decisions"', 1)[1].split("</table>", 1)[0]
    assert "Cơ cấu lại thời hạn trả nợ" in decisions and "18 kỳ từ" in decisions
    assert "cdcs_lb1 → quy_lap" in decisions


def test_a_request_is_not_decided_by_its_requester_and_can_be_rejected(as_user, officers, loan):
    me = as_user(officers.fund)
    page = me.get(loan_url("loan_write_off", loan))
    r = me.post(loan_url("loan_write_off", loan), write_off_data(idempotency_key(page), officers))
    assert r.status_code == 302
    url = _request_page(loan)
    own = me.get(url)
    assert 'id="approve-form"' not in own.content.decode()
    # Forced anyway: refused, nothing written.
    before = row_counts()
    r = me.post(url, {"decision": "approve", "idempotency_key": "x-1"})
    assert r.status_code == 400 and "cần một cán bộ quỹ khác" in r.content.decode()
    assert row_counts() == before
    # Another fund officer rejects: a reason is required, then the requester reads it.
    checker = as_user(officers.checker)
    r = checker.post(url, {"decision": "reject", "note": ""})
    assert r.status_code == 400 and 'data-field="note"' in r.content.decode()
    assert row_counts() == before
    r = checker.post(url, {"decision": "reject", "note": "Chưa đủ hồ sơ chứng minh thiệt hại"})
    assert r.status_code == 302
    body = me.get(url).content.decode()
    assert "Chưa đủ hồ sơ chứng minh thiệt hại" in body and "Từ chối" in body
    loan.refresh_from_db()
    assert loan.status == LoanStatus.ACTIVE and not LoanWriteOff.objects.exists()
    # Others' requests are out of sight: another union's officer gets 404, auditors read only.
    assert as_user(officers.grassroots_lb2).get(url).status_code == 404
    auditor = as_user(officers.auditor).get(url)
    assert auditor.status_code == 200 and 'id="approve-form"' not in auditor.content.decode()


def test_reschedule_refusals_by_field(as_user, officers, loan):
    c = as_user(officers.fund)
    key = idempotency_key(c.get(loan_url("loan_reschedule", loan)))
    before = row_counts()
    base = {
        "idempotency_key": key,
        "effective_date": today().isoformat(),
        "term": "12",
        "method": loan.method,
        "reason": "Khó khăn",
        "confirmed": "1",
    }
    r = c.post(loan_url("loan_reschedule", loan), {**base, "first_due_date": today().isoformat()})
    assert "sau ngày hiệu lực" in field_error(r, "first_due_date")
    r = c.post(loan_url("loan_reschedule", loan), {**base, "term": "0", "reason": ""})
    field_error(r, "term")
    field_error(r, "reason")
    assert row_counts() == before


def test_waive_interest_that_fell_due(as_user, officers, loan):
    c = as_user(officers.fund)
    page = c.get(loan_url("loan_interest_waive", loan))
    assert page.status_code == 200
    data = {
        "idempotency_key": idempotency_key(page),
        "waived_on": today().isoformat(),
        "interest": "on",
        "reason": "Hộ gặp hỏa hoạn",
    }
    r = _confirmed(c, loan_url("loan_interest_waive", loan), data)
    assert r.status_code == 302
    waiver = InterestWaiver.objects.get(loan=loan)
    assert waiver.interest.amount > 0 and waiver.penalty.amount == 0
    loan.refresh_from_db()
    assert loan.interest_waived_on == today()
    assert _confirmed(c, loan_url("loan_interest_waive", loan), data).status_code == 302
    assert InterestWaiver.objects.count() == 1


def test_waive_nothing_chosen_or_nothing_due(as_user, officers, loan, other_loan):
    c = as_user(officers.fund)
    key = idempotency_key(c.get(loan_url("loan_interest_waive", loan)))
    before = row_counts()
    r = c.post(
        loan_url("loan_interest_waive", loan),
        {"idempotency_key": key, "waived_on": today().isoformat(), "reason": "x"},
    )
    assert "miễn lãi" in field_error(r, "interest")
    # other_loan was disbursed 10 days ago: nothing has fallen due yet.
    r = c.post(
        loan_url("loan_interest_waive", other_loan),
        {
            "idempotency_key": key,
            "waived_on": today().isoformat(),
            "interest": "on",
            "reason": "x",
            "confirmed": "1",
        },
    )
    assert "không có lãi" in field_error(r, "interest")
    assert row_counts() == before


# --------------------------------------------------------------------------------------------
# Write-off and recovery


def test_write_off_then_recover(as_user, officers, loan):
    c = as_user(officers.fund)
    close_of_business_catch_up(fund_id=loan.fund_id, through_date=today() - timedelta(days=1))
    assert 'data-testid="arrears"' in c.get(loan_url("loan_detail", loan)).content.decode()
    # The superior union asks; the fund officer approves.
    union = as_user(officers.superior)
    page = union.get(loan_url("loan_write_off", loan))
    assert page.status_code == 200
    assert "Thiên tai" in page.content.decode()
    data = write_off_data(idempotency_key(page), officers)
    assert union.post(loan_url("loan_write_off", loan), data).status_code == 302
    page = c.get(_request_page(loan))
    assert "Dự phòng rủi ro đã trích" in page.content.decode()
    approve = {"decision": "approve", "idempotency_key": idempotency_key(page)}
    r = c.post(_request_page(loan), approve)
    assert r.status_code == 302
    loan.refresh_from_db()
    assert loan.status == LoanStatus.WRITTEN_OFF and loan.outstanding_principal.amount == 0
    write_off = LoanWriteOff.objects.get(loan=loan)
    assert write_off.principal.amount == Decimal(12_000_000)
    assert write_off.requested_by == officers.superior
    legs = {
        p.account.code: p.amount.amount
        for p in Posting.objects.filter(entry=write_off.journal_entry)
    }
    assert legs["1283"] == Decimal(-12_000_000)
    assert LoanWriteOff.objects.count() == 1

    # The loan page now offers the recovery, and no longer the write-off; the overdue first
    # installment is no longer shown as arrears (it was before the write-off).
    body = c.get(loan_url("loan_detail", loan)).content.decode()
    assert 'data-testid="arrears"' not in body
    assert loan_url("loan_write_off_recovery", loan) in body
    assert loan_url("loan_write_off", loan) + '"' not in body
    page = c.get(loan_url("loan_write_off_recovery", loan))
    key = idempotency_key(page)
    before = row_counts()
    r = c.post(
        loan_url("loan_write_off_recovery", loan),
        {"idempotency_key": key, "amount": "13.000.000", "received_on": today().isoformat()},
    )
    assert "vượt quá" in field_error(r, "amount")
    assert row_counts() == before
    data = {"idempotency_key": key, "amount": "2.000.000", "received_on": today().isoformat()}
    assert c.post(loan_url("loan_write_off_recovery", loan), data).status_code == 302
    assert c.post(loan_url("loan_write_off_recovery", loan), data).status_code == 302
    recovery = WriteOffRecovery.objects.get(loan=loan)
    legs = {
        p.account.code: p.amount.amount
        for p in Posting.objects.filter(entry=recovery.journal_entry)
    }
    assert legs == {"1121": Decimal(2_000_000), "7111": Decimal(-2_000_000)}
    # The loan page keeps the record of both decisions, for every role that can see the loan.
    body = as_user(officers.auditor).get(loan_url("loan_detail", loan)).content.decode()
    decisions = body.split('data-testid="decisions"', 1)[1].split("</table>", 1)[0]
    assert "Thiên tai, dịch bệnh — Lũ cuốn trôi cửa hàng" in decisions
    assert "12.000.000 ₫" in decisions and "2.000.000 ₫" in decisions
    assert "Thu hồi nợ đã xử lý rủi ro" in decisions


def test_write_off_refusals_by_field(as_user, officers, loan):
    c = as_user(officers.fund)
    key = idempotency_key(c.get(loan_url("loan_write_off", loan)))
    before = row_counts()
    r = c.post(
        loan_url("loan_write_off", loan), write_off_data(key, officers, cause="other", note="")
    )
    field_error(r, "note")
    r = c.post(loan_url("loan_write_off", loan), write_off_data(key, officers, cause="flood"))
    field_error(r, "cause")
    r = c.post(
        loan_url("loan_write_off", loan),
        write_off_data(
            key, officers, written_off_on=(today() + timedelta(days=1)).isoformat(), confirmed="1"
        ),
    )
    assert "sau ngày hôm nay" in field_error(r, "written_off_on")
    assert row_counts() == before
    assert as_user(officers.auditor).get(loan_url("loan_write_off", loan)).status_code == 403


# --------------------------------------------------------------------------------------------
# Closure and recall


def test_close_refused_while_owed_then_after_payoff(as_user, officers, loan):
    c = as_user(officers.fund)
    page = c.get(loan_url("loan_close", loan))
    assert page.status_code == 200
    key = idempotency_key(page)
    before = row_counts()
    r = c.post(
        loan_url("loan_close", loan),
        {"idempotency_key": key, "closed_on": today().isoformat(), "confirmed": "1"},
    )
    assert "chưa trả hết nợ" in field_error(r, "apply_savings")
    assert row_counts() == before
    quote = full_payoff_quote(loan=loan, on=today())
    repayment_post(loan=loan, amount=quote.total, paid_on=today(), idempotency_key=new_key("p"))
    loan.refresh_from_db()
    assert loan.status == LoanStatus.CLOSED
    data = {"idempotency_key": key, "closed_on": today().isoformat()}
    assert _confirmed(c, loan_url("loan_close", loan), data).status_code == 302
    assert _confirmed(c, loan_url("loan_close", loan), data).status_code == 302
    assert LoanClosure.objects.filter(loan=loan).count() == 1
    # Closed with its savings: the close and the reversal are no longer offered.
    body = c.get(loan_url("loan_detail", loan)).content.decode()
    assert loan_url("loan_close", loan) not in body
    assert loan_url("loan_repayment_reverse", loan) not in body


def test_recall_after_a_misuse_visit(as_user, officers, loan):
    c = as_user(officers.fund)
    key = idempotency_key(c.get(loan_url("loan_visit", loan)))
    before = row_counts()
    r = c.post(
        loan_url("loan_recall", loan),
        {
            "idempotency_key": key,
            "recalled_on": today().isoformat(),
            "reason": "Sai mục đích",
            "confirmed": "1",
        },
    )
    assert "Chưa có lần kiểm tra" in r.content.decode() and r.status_code == 400
    assert row_counts() == before
    visit = followup_visit_record(
        loan=loan,
        visited_on=today(),
        purpose_verified=False,
        jobs_confirmed=0,
        actor=officers.grassroots,
    )
    page = c.get(loan_url("loan_recall", loan))
    assert page.status_code == 200
    data = {
        "idempotency_key": idempotency_key(page),
        "recalled_on": today().isoformat(),
        "visit": visit.pk,
        "reason": "Dùng vốn sai mục đích",
    }
    assert _confirmed(c, loan_url("loan_recall", loan), data).status_code == 302
    assert _confirmed(c, loan_url("loan_recall", loan), data).status_code == 302
    loan.refresh_from_db()
    assert loan.recalled_on == today()
    revision = ScheduleRevision.objects.get(loan=loan)
    assert revision.visit == visit
    assert loan.installments.get(schedule_version=2).principal_due == loan.outstanding_principal


def test_fund_pages_answer_404_for_another_funds_loan(as_user, officers, loan):
    for name in (
        "loan_reschedule",
        "loan_interest_waive",
        "loan_write_off",
        "loan_write_off_recovery",
        "loan_close",
        "loan_recall",
        "loan_visit",
    ):
        assert as_user(officers.other_fund).get(loan_url(name, loan)).status_code == 404, name
        assert as_user(officers.grassroots).get(loan_url(name, loan)).status_code in (
            200,
            302,
            403,
        ), name


def test_the_pages_in_english(as_user, officers, loan):
    from django.conf import settings

    c = as_user(officers.fund)
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    body = c.get(loan_url("loan_write_off", loan)).content.decode()
    assert "Request a write-off" in body and "Provision held" in body
    assert "Đề nghị xử lý rủi ro" not in body
    body = c.get(loan_url("loan_detail", loan)).content.decode()
    assert "Follow-up visit" in body and "Request a rescheduling" in body


def test_every_string_of_these_pages_has_its_english():
    """loans/locale/en holds the English of every string the action pages mark for
    translation (forms, views, templates under loans/actions/)."""
    import ast
    import re
    from pathlib import Path

    from babel.messages.pofile import read_po

    root = Path(__file__).resolve().parents[2]
    with open(root / "loans/locale/en/LC_MESSAGES/django.po", "rb") as f:
        catalog = read_po(f)
    english = {m.id: m.string for m in catalog if m.id}
    wanted = set()
    for name in (
        "loans/web/action_forms.py",
        "loans/web/actions.py",
        "loans/web/change_requests.py",
        "loans/web/loan_facts.py",
    ):
        for node in ast.walk(ast.parse((root / name).read_text())):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) in ("_", "gettext_lazy")
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                wanted.add(node.args[0].value)
    for path in [
        *(root / "templates/loans/actions").glob("*.html"),
        *(root / "templates/loans/requests").glob("*.html"),
    ]:
        wanted |= set(re.findall(r'{% translate "([^"]+)" %}', path.read_text()))
    assert len(wanted) > 50
    missing = sorted(s for s in wanted if not english.get(s))
    assert not missing


def test_confirmation_back_button_returns_to_the_filled_form(as_user, officers, loan):
    c = as_user(officers.fund)
    page = c.get(loan_url("loan_interest_waive", loan))
    data = {
        "idempotency_key": idempotency_key(page),
        "waived_on": today().isoformat(),
        "interest": "on",
        "reason": "Lũ cuốn trôi cửa hàng",
        "back": "1",
        "confirmed": "1",
    }
    before = row_counts()
    r = c.post(loan_url("loan_interest_waive", loan), data)
    body = r.content.decode()
    assert r.status_code == 200 and 'id="action-form"' in body
    assert "Lũ cuốn trôi cửa hàng" in body  # the values typed are kept
    assert row_counts() == before


def test_close_applies_the_savings_and_returns_the_rest(as_user, officers, org, borrower, capital):
    from loans.restructuring.decisions import borrower_savings_balance
    from loans.tests.factories import LoanProductFactory

    product = LoanProductFactory(
        fund=org.fund, code="TK10", savings_kind="percent_of_loan", savings_percent=Decimal(10)
    )
    loan = disbursed_loan(borrower=borrower, product=product, officers=officers)
    quote = full_payoff_quote(loan=loan, on=today())
    repayment_post(
        loan=loan, amount=quote.total - 1_000_000, paid_on=today(), idempotency_key=new_key("p")
    )
    savings = borrower_savings_balance(loan=loan)
    assert savings == 1_200_000  # 10% of the loan, withheld at disbursement
    c = as_user(officers.fund)
    page = c.get(loan_url("loan_close", loan))
    assert "1.200.000 ₫" in page.content.decode()  # the savings held, shown before deciding
    data = {
        "idempotency_key": idempotency_key(page),
        "closed_on": today().isoformat(),
        "apply_savings": "on",
    }
    assert _confirmed(c, loan_url("loan_close", loan), data).status_code == 302
    assert _confirmed(c, loan_url("loan_close", loan), data).status_code == 302
    closure = LoanClosure.objects.get(loan=loan)
    loan.refresh_from_db()
    assert loan.status == LoanStatus.CLOSED and loan.outstanding_principal.amount == 0
    assert closure.savings_applied.amount == 1_000_000
    assert closure.savings_returned.amount == 200_000
    legs = {p.account.code: p.amount.amount for p in closure.refund_entry.postings.all()}
    assert legs == {"33881": Decimal(200_000), "1121": Decimal(-200_000)}
    assert borrower_savings_balance(loan=loan) == 0
