"""A loan's life after disbursement through the API (loans.api_actions): the decisions of the
loan page — rescheduling and write-off with four eyes, interest waiver, recovery, closure and
recall — each once per Idempotency-Key, refused with the field named and nothing written, and
only for the fund's officers within their scope."""

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
from loans.repayments import full_payoff_quote, repayment_post
from loans.services import followup_visit_record
from loans.tests.factories import new_key

from .conftest import money, today

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


def _reschedule(officers, **over):
    return {
        "effective_date": today().isoformat(),
        "term": 18,
        "reason": "Người vay ốm dài ngày, thu nhập giảm",
        "requested_by": officers.grassroots.pk,
        **over,
    }


def test_reschedule_four_eyes_once_per_key(api, officers, loan):
    c = api(officers.fund)
    r = _post(c, loan, "reschedule", _reschedule(officers))
    assert r.status_code == 201, r.json()
    out = r.json()
    assert (out["loan_id"], out["term"], out["to_version"]) == (loan.pk, 18, 2)
    assert (out["requested_by_id"], out["approved_by_id"]) == (
        officers.grassroots.pk,
        officers.fund.pk,
    )
    assert out["principal"] == money(loan.outstanding_principal.amount)
    again = _post(c, loan, "reschedule", _reschedule(officers))
    assert again.status_code == 201 and again.json() == out
    assert ScheduleRevision.objects.filter(loan=loan).count() == 1
    schedule = c.get(f"/api/v1/loans/{loan.pk}/schedule/").json()
    assert len(schedule) == 18
    assert c.get(f"/api/v1/loans/{loan.pk}/").json()["schedule_version"] == 2


def test_reschedule_refusals_name_the_field_and_write_nothing(api, officers, org, loan):
    c = api(officers.fund)
    before = _counts()
    # The caller cannot be their own requester; an officer of another union's is not in charge.
    _refused(
        _post(c, loan, "reschedule", _reschedule(officers, requested_by=officers.fund.pk)),
        "requested_by",
    )
    _refused(
        _post(
            c, loan, "reschedule", _reschedule(officers, requested_by=officers.grassroots_lb2.pk)
        ),
        "requested_by",
    )
    _refused(
        _post(c, loan, "reschedule", _reschedule(officers, requested_by=officers.other_fund.pk)),
        "requested_by",
    )
    _refused(_post(c, loan, "reschedule", _reschedule(officers, term=0)), "term")
    _refused(_post(c, loan, "reschedule", _reschedule(officers, reason="")), "reason")
    _refused(_post(c, loan, "reschedule", _reschedule(officers), key=None), "Idempotency-Key")
    later = (today() + timedelta(days=1)).isoformat()
    _refused(
        _post(c, loan, "reschedule", _reschedule(officers, effective_date=later)), "effective_date"
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
    c = api(officers.fund)
    body = {
        "written_off_on": today().isoformat(),
        "cause": "natural_disaster",
        "note": "Lũ cuốn trôi cửa hàng",
        "requested_by": officers.superior.pk,
    }
    before = _counts()
    _refused(_post(c, loan, "write-off", {**body, "cause": "flood"}), "cause")
    _refused(_post(c, loan, "write-off", {**body, "cause": "other", "note": ""}), "note")
    assert _counts() == before
    r = _post(c, loan, "write-off", body, key="wo")
    assert r.status_code == 201, r.json()
    out = r.json()
    assert out["principal"] == money(12_000_000)
    assert (out["requested_by_id"], out["approved_by_id"]) == (
        officers.superior.pk,
        officers.fund.pk,
    )
    assert _post(c, loan, "write-off", body, key="wo").json() == out
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


ROUTES = ["reschedule", "interest-waiver", "write-off", "write-off-recovery", "close", "recall"]


@pytest.mark.parametrize("route", ROUTES)
def test_only_the_funds_officers_within_scope(api, officers, loan, route):
    before = _counts()
    for user in (officers.grassroots, officers.superior, officers.auditor):
        assert _post(api(user), loan, route, {}).status_code == 403, user
    assert _post(api(officers.other_fund), loan, route, {}).status_code == 404
    assert _post(api(None), loan, route, {}).status_code == 401
    assert _counts() == before
