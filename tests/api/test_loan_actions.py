"""A loan's life after disbursement through the API (loans.api.actions): the decisions of the
loan page — interest waiver, recovery, closure and recall — and the requests for a rescheduling
or a write-off, asked by an officer in charge and decided by another fund officer; each once per
Idempotency-Key, refused with the field named and nothing written, only within the scope."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps

from accounting.models import Posting
from loans.models import (
    InterestWaiver,
    LoanClosure,
    LoanStatus,
    LoanWriteOff,
    ScheduleRevision,
    WriteOffRecovery,
)
from loans.servicing.repayments import full_payoff_quote, repayment_post
from loans.servicing.visits import followup_visit_record
from loans.tests.factories import new_key, today
from tests.api.helpers import money

pytestmark = pytest.mark.django_db


def _counts() -> dict[str, int]:
    return {
        m._meta.label: m.objects.count()
        for app in ("accounting", "fund", "loans")
        for m in apps.get_app_config(app).get_models()
        if not m._meta.proxy
    }


def _post(client, loan, route, body, key="k-1"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(f"/api/v1/loans/{loan.pk}/{route}/", body, format="json", **headers)


def _refused(response, field, status=400):
    assert response.status_code == status, response.json()
    body = response.json()
    assert body["field"] == field or field in {e["field"] for e in body.get("errors", [])}, body
    return body


def _reschedule(**over):
    return {
        "effective_date": today().isoformat(),
        "term": 18,
        "reason": "Người vay ốm dài ngày, thu nhập giảm",
        **over,
    }


def _decide(client, req_id, decision, body=None, key="d-1"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    url = f"/api/v1/change-requests/{req_id}/{decision}/"
    return client.post(url, body or {}, format="json", **headers)


def test_reschedule_asked_by_the_union_approved_by_the_fund(api, officers, loan):
    union = api(officers.grassroots)
    r = _post(union, loan, "reschedule-requests", _reschedule())
    assert r.status_code == 201, r.json()
    req = r.json()
    assert (req["status"], req["kind"], req["requested_by_id"]) == (
        "pending",
        "reschedule",
        officers.grassroots.pk,
    )
    assert req["terms"]["term"] == 18 and req["terms"]["method"] == loan.method
    again = _post(union, loan, "reschedule-requests", _reschedule())
    assert again.status_code == 201 and again.json() == req
    # Asking again under another key while it is pending: refused, by field.
    _refused(_post(union, loan, "reschedule-requests", _reschedule(), key="k-2"), "kind")
    # The union cannot decide; the fund officer lists it and approves.
    assert _decide(union, req["id"], "approve").status_code == 403
    fund = api(officers.fund)
    listed = fund.get("/api/v1/change-requests/", {"status": "pending"}).json()
    assert [x["id"] for x in listed["results"]] == [req["id"]]
    _refused(_decide(fund, req["id"], "approve", key=None), "Idempotency-Key")
    r = _decide(fund, req["id"], "approve")
    assert r.status_code == 200, r.json()
    done = r.json()
    assert (done["status"], done["decided_by_id"]) == ("approved", officers.fund.pk)
    assert _decide(fund, req["id"], "approve").json() == done  # the retry
    revision = ScheduleRevision.objects.get(pk=done["revision_id"])
    assert (revision.requested_by, revision.approved_by, revision.term) == (
        officers.grassroots,
        officers.fund,
        18,
    )
    assert len(fund.get(f"/api/v1/loans/{loan.pk}/schedule/").json()) == 18
    _refused(_decide(api(officers.checker), req["id"], "approve", key="d-2"), "status")


def test_the_requester_cannot_decide_and_a_rejection_needs_a_note(api, officers, loan):
    me = api(officers.fund)
    req = _post(me, loan, "reschedule-requests", _reschedule()).json()
    before = _counts()
    r = _decide(me, req["id"], "approve")
    assert r.status_code == 400 and r.json()["code"] == "maker_checker"
    checker = api(officers.checker)
    _refused(_decide(checker, req["id"], "reject", {"note": ""}), "note")
    assert _counts() == before
    r = _decide(checker, req["id"], "reject", {"note": "Chưa đủ hồ sơ"})
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert r.json()["decision_note"] == "Chưa đủ hồ sơ"
    # Withdrawing is the requester's own act, on a pending request.
    req = _post(me, loan, "reschedule-requests", _reschedule(term=24), key="k-2").json()
    assert _decide(checker, req["id"], "withdraw").status_code == 403
    r = _decide(me, req["id"], "withdraw")
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    loan.refresh_from_db()
    assert loan.schedule_version == 1


def test_reschedule_request_refusals_name_the_field_and_write_nothing(api, officers, loan):
    c = api(officers.grassroots)
    before = _counts()
    _refused(_post(c, loan, "reschedule-requests", _reschedule(term=0)), "term")
    _refused(_post(c, loan, "reschedule-requests", _reschedule(reason="")), "reason")
    _refused(_post(c, loan, "reschedule-requests", _reschedule(), key=None), "Idempotency-Key")
    later = (today() + timedelta(days=1)).isoformat()
    _refused(
        _post(c, loan, "reschedule-requests", _reschedule(effective_date=later)), "effective_date"
    )
    _refused(
        _post(c, loan, "reschedule-requests", _reschedule(first_due_date=today().isoformat())),
        "first_due_date",
    )
    assert _counts() == before


def test_interest_waiver(api, officers, loan):
    c = api(officers.fund)
    body = {"waived_on": today().isoformat(), "reason": "Hộ gặp hỏa hoạn", "penalty": False}
    r = _post(c, loan, "interest-waiver", body)
    assert r.status_code == 201, r.json()
    waiver = InterestWaiver.objects.get(loan=loan)
    assert r.json()["interest"] == money(waiver.interest.amount) and waiver.interest.amount > 0
    assert r.json()["penalty"] == money(0)
    assert _post(c, loan, "interest-waiver", body).json() == r.json()
    assert InterestWaiver.objects.filter(loan=loan).count() == 1
    before = _counts()
    _refused(_post(c, loan, "interest-waiver", {**body, "reason": ""}, key="k-2"), "reason")
    _refused(
        _post(c, loan, "interest-waiver", {"waived_on": "31/12/2026", "reason": "x"}, key="k-3"),
        "waived_on",
    )
    assert _counts() == before


def test_write_off_then_recovery(api, officers, loan):
    union = api(officers.superior)
    body = {"written_off_on": today().isoformat(), "cause": "natural_disaster", "note": "Lũ"}
    before = _counts()
    _refused(_post(union, loan, "write-off-requests", {**body, "cause": "flood"}), "cause")
    _refused(
        _post(union, loan, "write-off-requests", {**body, "cause": "other", "note": ""}), "note"
    )
    assert _counts() == before
    req = _post(union, loan, "write-off-requests", body, key="wo").json()
    c = api(officers.fund)
    done = _decide(c, req["id"], "approve").json()
    assert done["status"] == "approved"
    wo = LoanWriteOff.objects.get(pk=done["write_off_id"])
    assert (wo.principal.amount, wo.requested_by, wo.approved_by) == (
        Decimal(12_000_000),
        officers.superior,
        officers.fund,
    )
    loan.refresh_from_db()
    assert loan.status == LoanStatus.WRITTEN_OFF and LoanWriteOff.objects.count() == 1

    recovery = {"amount": money(2_000_000), "received_on": today().isoformat()}
    _refused(
        _post(c, loan, "write-off-recovery", {**recovery, "amount": money(13_000_000)}), "amount"
    )
    r = _post(c, loan, "write-off-recovery", recovery, key="rec")
    assert r.status_code == 201 and r.json()["amount"] == money(2_000_000)
    assert _post(c, loan, "write-off-recovery", recovery, key="rec").json() == r.json()
    rec = WriteOffRecovery.objects.get(loan=loan)
    legs = {
        p.account.code: p.amount.amount for p in Posting.objects.filter(entry=rec.journal_entry)
    }
    assert legs == {"1121": Decimal(2_000_000), "7111": Decimal(-2_000_000)}


def test_close_refused_while_owed_then_after_payoff(api, officers, loan):
    c = api(officers.fund)
    body = {"closed_on": today().isoformat()}
    before = _counts()
    _refused(_post(c, loan, "close", body), "apply_savings")
    assert _counts() == before
    quote = full_payoff_quote(loan=loan, on=today())
    repayment_post(loan=loan, amount=quote.total, paid_on=today(), idempotency_key=new_key("p"))
    r = _post(c, loan, "close", body, key="close")
    assert r.status_code == 201, r.json()
    assert r.json()["closed_on"] == today().isoformat()
    assert _post(c, loan, "close", body, key="close").json() == r.json()
    assert LoanClosure.objects.filter(loan=loan).count() == 1


def test_recall_after_a_misuse_visit(api, officers, loan, loan_hbt):
    c = api(officers.fund)
    body = {"recalled_on": today().isoformat(), "reason": "Dùng vốn sai mục đích"}
    before = _counts()
    _refused(_post(c, loan, "recall", body), "visit")  # no visit found misuse yet
    other = followup_visit_record(
        loan=loan_hbt,
        visited_on=today(),
        purpose_verified=False,
        jobs_confirmed=0,
        actor=officers.fund,
    )
    before = _counts()
    _refused(_post(c, loan, "recall", {**body, "visit": other.pk}), "visit")  # another loan's
    assert _counts() == before
    visit = followup_visit_record(
        loan=loan,
        visited_on=today(),
        purpose_verified=False,
        jobs_confirmed=0,
        actor=officers.grassroots,
    )
    r = _post(c, loan, "recall", {**body, "visit": visit.pk}, key="recall")
    assert r.status_code == 201, r.json()
    assert r.json()["visit_id"] == visit.pk and r.json()["kind"] == "recall"
    loan.refresh_from_db()
    assert loan.recalled_on == today()


FUND_ROUTES = ["interest-waiver", "write-off-recovery", "close", "recall"]


@pytest.mark.parametrize("route", FUND_ROUTES + ["reschedule-requests", "write-off-requests"])
def test_only_within_scope_and_role(api, officers, loan, loan_hbt, route):
    before = _counts()
    deciders = route in FUND_ROUTES
    for user in (officers.grassroots, officers.superior, officers.auditor):
        if deciders or user == officers.auditor:
            assert _post(api(user), loan, route, {}).status_code == 403, user
    # Another union's or another fund's loan: not found.
    assert _post(api(officers.grassroots), loan_hbt, route, {}).status_code in (403, 404)
    assert _post(api(officers.other_fund), loan, route, {}).status_code == 404
    assert _post(api(None), loan, route, {}).status_code == 401
    assert _counts() == before


def test_requests_are_seen_within_scope_only(api, officers, loan, loan_hbt):
    req = _post(api(officers.grassroots), loan, "reschedule-requests", _reschedule()).json()
    url = f"/api/v1/change-requests/{req['id']}/"
    assert api(officers.grassroots_lb2).get(url).status_code == 404
    assert api(officers.superior_hbt).get("/api/v1/change-requests/").json()["results"] == []
    assert api(officers.auditor).get(url).status_code == 200
    assert _decide(api(officers.auditor), req["id"], "reject", {"note": "x"}).status_code == 403
    assert _decide(api(officers.other_fund), req["id"], "approve").status_code == 404
