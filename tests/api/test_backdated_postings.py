"""Back-dating through the API: a date before the fund's open window needs `backdate_reason`;
without it the request is refused naming the date's field and nothing is written; with it the
journal entry keeps the reason. The field is documented in the OpenAPI schema."""

import json
from datetime import timedelta
from pathlib import Path

import pytest

from accounting.models import CommandRecord, JournalEntry, Posting
from fund.models import AuditLog, CapitalMovement
from fund.tests.factories import capital_move_entered_last_month, last_month, narrow_window
from loans.models import (
    InterestWaiver,
    LoanApplication,
    LoanChangeRequest,
    Repayment,
)
from loans.tests.factories import application_to, new_key
from loans.tests.helpers import receipt_booked_last_month, write_off_requested_last_month
from tests.api.helpers import money

pytestmark = pytest.mark.django_db


def counts():
    tables = (Repayment, CapitalMovement, JournalEntry, Posting, AuditLog, CommandRecord)
    return [m.objects.count() for m in tables]


def test_a_backdated_repayment_needs_a_reason(api, officers, org, loan):
    narrow_window(org.fund)
    c = api(officers.fund)
    body = {"loan": loan.pk, "amount": money(700_000), "paid_on": last_month().isoformat()}
    before = counts()
    r = c.post("/api/v1/repayments/create/", body, format="json", HTTP_IDEMPOTENCY_KEY="bd-1")
    assert r.status_code == 400, r.json()
    assert r.json()["field"] == "paid_on" and r.json()["code"] == "backdate_reason"
    assert counts() == before

    body["backdate_reason"] = "Phiếu thu giấy"
    r = c.post("/api/v1/repayments/create/", body, format="json", HTTP_IDEMPOTENCY_KEY="bd-2")
    assert r.status_code == 201, r.json()
    entry = JournalEntry.objects.get(pk=r.json()["journal_entry_id"])
    assert entry.backdated_reason == "Phiếu thu giấy"


def test_a_backdated_capital_contribution_needs_a_reason(api, officers, org, capital):
    narrow_window(org.fund)
    c = api(officers.fund)
    body = {
        "source": capital.source.pk,
        "amount": money(1_000_000),
        "effective_date": last_month().isoformat(),
    }
    url = "/api/v1/capital/contributions/create/"
    before = counts()
    r = c.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="cap-1")
    assert r.status_code == 400 and r.json()["field"] == "effective_date", r.json()
    assert r.json()["code"] == "backdate_reason"
    assert counts() == before
    r = c.post(
        url, {**body, "backdate_reason": "Sổ vốn giấy"}, format="json", HTTP_IDEMPOTENCY_KEY="cap-2"
    )
    assert r.status_code == 201, r.json()
    movement = CapitalMovement.objects.get(pk=r.json()["id"])
    assert movement.journal_entry.backdated_reason == "Sổ vốn giấy"


def test_a_rejection_carries_its_date_and_a_backdated_one_its_reason(api, officers, org, chain):
    app = application_to(
        "submitted",
        borrower=chain.borrower,
        product=chain.product,
        maker=chain.maker,
        approver=chain.approver,
    )
    narrow_window(org.fund)
    c = api(officers.superior)
    url = f"/api/v1/applications/{app.pk}/reject/"
    body = {"reason": "Không đủ điều kiện", "decided_on": last_month().isoformat()}
    r = c.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="rej-1")
    assert r.status_code == 400 and r.json()["field"] == "decided_on", r.json()
    assert LoanApplication.objects.get(pk=app.pk).status == "submitted"
    body["backdate_reason"] = "Biên bản họp tháng trước"
    r = c.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="rej-2")
    assert r.status_code == 200, r.json()
    app.refresh_from_db()
    assert app.status == "rejected" and app.decided_on == last_month()
    out = c.get(f"/api/v1/applications/{app.pk}/").json()
    assert out["decided_on"] == last_month().isoformat()
    assert out["reviewed_on"] is None and out["approved_on"] is None


def test_the_application_output_shows_its_decision_dates(api, officers, chain):
    on = last_month() - timedelta(days=3)
    app = application_to(
        "approved",
        borrower=chain.borrower,
        product=chain.product,
        maker=chain.maker,
        approver=chain.approver,
        decided_on=on,
    )
    out = api(officers.fund).get(f"/api/v1/applications/{app.pk}/").json()
    assert out["reviewed_on"] == on.isoformat() and out["approved_on"] == on.isoformat()
    assert out["decided_on"] is None


def test_the_schema_documents_the_reason_on_every_dated_write():
    schema = json.loads((Path(__file__).parents[2] / "docs/openapi.json").read_text())
    components = schema["components"]["schemas"]
    for name in (
        "RepaymentInput",
        "RepaymentBatchInput",
        "ReverseInput",
        "DisburseInput",
        "ReviewInput",
        "ApproveInput",
        "DecisionReasonInput",
        "CapitalMovementInput",
        "CapitalTransferInput",
        "RescheduleInput",
        "InterestWaiveInput",
        "WriteOffInput",
        "RecallInput",
        "ConfirmInput",
        "CapitalConfirmInput",
    ):
        field = components[f"{name}Request"]["properties"]["backdate_reason"]
        assert field["type"] == "string" and "lùi ngày" in field["description"], name


def test_a_backdated_write_off_request_keeps_its_reason_for_the_approval(api, officers, org, loan):
    narrow_window(org.fund)
    url = f"/api/v1/loans/{loan.pk}/write-off-requests/"
    body = {"written_off_on": last_month().isoformat(), "cause": "death"}
    c = api(officers.superior)
    before = [*counts(), LoanChangeRequest.objects.count()]
    r = c.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="xl-1")
    assert r.status_code == 400 and r.json()["field"] == "written_off_on", r.json()
    assert r.json()["code"] == "backdate_reason"
    assert [*counts(), LoanChangeRequest.objects.count()] == before
    body["backdate_reason"] = "Giấy chứng tử nhận muộn"
    r = c.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="xl-2")
    assert r.status_code == 201, r.json()
    assert r.json()["terms"]["backdate_reason"] == "Giấy chứng tử nhận muộn"
    r = api(officers.checker).post(
        f"/api/v1/change-requests/{r.json()['id']}/approve/", HTTP_IDEMPOTENCY_KEY="xl-3"
    )
    assert r.status_code == 200, r.json()
    entry = JournalEntry.objects.get(document_type="loan_write_off")
    assert entry.backdated_reason == "Giấy chứng tử nhận muộn"


def test_a_backdated_interest_waiver_needs_a_reason(api, officers, org, loan):
    narrow_window(org.fund)
    c = api(officers.fund)
    url = f"/api/v1/loans/{loan.pk}/interest-waiver/"
    body = {"waived_on": last_month().isoformat(), "reason": "Ốm nặng"}
    before = counts()
    r = c.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="mg-1")
    assert r.status_code == 400 and r.json()["field"] == "waived_on", r.json()
    assert r.json()["code"] == "backdate_reason"
    assert counts() == before and not InterestWaiver.objects.exists()
    body["backdate_reason"] = "Đơn giấy tháng trước"
    r = c.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="mg-2")
    assert r.status_code == 201, r.json()
    log = AuditLog.objects.get(action="waive", object_id=str(loan.pk))
    assert log.changes["backdated_reason"] == [None, "Đơn giấy tháng trước"]


def test_confirming_a_receipt_booked_before_the_window_needs_a_reason(api, officers, org, loan):
    batch, line = receipt_booked_last_month(org, loan, receipt="UNC-6", reference="FT6")
    narrow_window(org.fund)
    c = api(officers.fund)
    url = f"/api/v1/bank-statement-lines/{line.pk}/confirm/"
    before = counts()
    r = c.post(url, {"batch": batch.pk}, format="json", HTTP_IDEMPOTENCY_KEY="xn-1")
    assert r.status_code == 400 and r.json()["field"] == "booked_on", r.json()
    assert r.json()["code"] == "backdate_reason"
    assert counts() == before
    body = {"batch": batch.pk, "backdate_reason": "Sao kê nhận muộn"}
    r = c.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="xn-2")
    assert r.status_code == 201, r.json()
    entry = JournalEntry.objects.get(document_type="remittance_receipt")
    assert entry.backdated_reason == "Sao kê nhận muộn"


def test_a_move_confirmed_after_the_window_moved_on_takes_the_confirmers_reason(
    api, officers, org, capital
):
    from fund.models import CapitalMoveRequest

    req = capital_move_entered_last_month(
        org.fund, source=capital.source, actor=officers.fund, key=new_key("q")
    )
    narrow_window(org.fund)
    c = api(officers.checker)
    url = f"/api/v1/capital/requests/{req.pk}/confirm/"
    before = counts()
    r = c.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="cf-1")
    assert r.status_code == 400 and r.json()["field"] == "effective_date", r.json()
    assert r.json()["code"] == "backdate_reason"
    assert counts() == before
    assert CapitalMoveRequest.objects.get(pk=req.pk).status == "pending"
    body = {"backdate_reason": "Xác nhận muộn"}
    r = c.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="cf-2")
    assert r.status_code == 200, r.json()
    assert r.json()["status"] == "confirmed" and r.json()["backdated_reason"] == "Xác nhận muộn"
    movement = CapitalMovement.objects.get(pk=r.json()["movement_id"])
    assert movement.journal_entry.backdated_reason == "Xác nhận muộn"


def test_a_request_approved_after_the_window_moved_takes_the_approvers_reason(
    api, officers, org, loan
):
    req = write_off_requested_last_month(loan, actor=officers.superior)
    narrow_window(org.fund)
    c = api(officers.fund)
    url = f"/api/v1/change-requests/{req.pk}/approve/"
    before = counts()
    r = c.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="a-1")
    assert r.status_code == 400, r.json()
    assert r.json()["field"] == "written_off_on" and r.json()["code"] == "backdate_reason"
    assert counts() == before
    r = c.post(
        url,
        {"backdate_reason": "Duyệt muộn sau khóa tháng"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="a-2",
    )
    assert r.status_code == 200, r.json()
    req.refresh_from_db()
    assert req.write_off.journal_entry.backdated_reason == "Duyệt muộn sau khóa tháng"
