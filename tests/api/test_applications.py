"""The chain through the API: a grassroots officer registers a member and proposes a loan, the
superior union reviews, a second fund officer approves and a fund officer disburses."""

from datetime import date, timedelta

import pytest

from accounting.models import CommandRecord
from loans.models import Loan
from loans.origination.cccd import cccd_build
from loans.tests.factories import today
from tests.api.helpers import money

pytestmark = pytest.mark.django_db


def _new_member(api, officers, org, **extra):
    body = {
        "grassroots_union": org.lb1.pk,
        "full_name": "Trần Thị Mai",
        "date_of_birth": "1990-01-02",
        "sex": "female",
        "national_id": cccd_build(
            province="001", sex="female", date_of_birth=date(1990, 1, 2), serial=424242
        ),
        "household_status": "near_poor",
        "phone": "0987654321",
        "certificate_number": "GCN-01/2026",
        "certificate_date": (today() - timedelta(days=30)).isoformat(),
        **extra,
    }
    return api(officers.grassroots).post("/api/v1/borrowers/create/", body, format="json")


def test_borrower_create_search_update(api, officers, org):
    r = _new_member(api, officers, org)
    assert r.status_code == 201, r.json()
    member = r.json()
    assert member["grassroots_union_id"] == org.lb1.pk
    assert member["outstanding"] == money(0)

    c = api(officers.grassroots)
    found = c.get("/api/v1/borrowers/", {"q": "Mai"}).json()
    assert [b["id"] for b in found["results"]] == [member["id"]]
    by_cccd = c.get("/api/v1/borrowers/", {"q": member["national_id"][:8]}).json()
    assert [b["id"] for b in by_cccd["results"]] == [member["id"]]

    r = c.post(f"/api/v1/borrowers/{member['id']}/update/", {"phone": "0911000111"}, format="json")
    assert r.status_code == 200 and r.json()["phone"] == "+84911000111"


def test_borrower_refusals_name_the_field(api, officers, org):
    r = _new_member(api, officers, org, national_id="123")
    assert r.status_code == 400
    assert r.json()["field"] == "national_id"
    r = _new_member(api, officers, org, sex="robot")
    assert r.status_code == 400
    assert r.json()["field"] == "sex"
    assert r.json()["errors"][0]["code"] == "invalid_choice"
    r = api(officers.grassroots).post("/api/v1/borrowers/create/", [1, 2], format="json")
    assert r.status_code == 400 and r.json()["code"] == "invalid"


def test_whole_chain_through_the_api(api, officers, org, product, capital):
    member = _new_member(api, officers, org).json()
    maker = api(officers.grassroots)
    r = maker.post(
        "/api/v1/applications/create/",
        {
            "borrower": member["id"],
            "product": product.pk,
            "amount": money(20_000_000),
            "term": 12,
            "purpose_kind": "crafts",
            "purpose": "Mua máy may công nghiệp",
            "planned_jobs": 2,
            "security_kind": "group",
            "group_name": "Tổ vay vốn số 1",
        },
        format="json",
    )
    assert r.status_code == 201, r.json()
    app = r.json()
    assert app["status"] == "draft" and app["amount"] == money(20_000_000)
    url = f"/api/v1/applications/{app['id']}"

    assert maker.post(f"{url}/submit/").json()["status"] == "submitted"
    # The grassroots union cannot review its own proposal.
    assert maker.post(f"{url}/review/", {"decision": "approve"}, format="json").status_code == 403

    reviewed = api(officers.superior).post(f"{url}/review/", {"decision": "approve"}, format="json")
    assert reviewed.json()["status"] == "reviewed"

    # The superior officer may not approve (role rule) ...
    assert api(officers.superior).post(f"{url}/approve/").status_code == 403
    # ... an approval is not dated after today (Hà Nội) ...
    tomorrow = {"decided_on": (today() + timedelta(days=1)).isoformat()}
    future = api(officers.checker).post(f"{url}/approve/", tomorrow, format="json")
    assert future.status_code == 400 and future.json()["field"] == "decided_on", future.json()
    approved = api(officers.checker).post(f"{url}/approve/", HTTP_IDEMPOTENCY_KEY="approve-1")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    # ... and a retry with the same key returns the same answer.
    again = api(officers.checker).post(f"{url}/approve/", HTTP_IDEMPOTENCY_KEY="approve-1")
    assert again.status_code == 200 and again.json()["status"] == "approved"

    fund = api(officers.fund)
    no_key = fund.post(f"{url}/disburse/", {}, format="json")
    assert no_key.status_code == 400
    assert no_key.json()["field"] == "Idempotency-Key"
    assert no_key.json()["code"] == "idempotency_key_required"

    r = fund.post(f"{url}/disburse/", {}, format="json", HTTP_IDEMPOTENCY_KEY="giai-ngan-1")
    assert r.status_code == 201, r.json()
    loan = r.json()
    assert loan["principal"] == money(20_000_000)
    assert loan["outstanding_principal"] == money(20_000_000)
    assert loan["status"] == "active"
    retry = fund.post(f"{url}/disburse/", {}, format="json", HTTP_IDEMPOTENCY_KEY="giai-ngan-1")
    assert retry.status_code == 201 and retry.json() == loan
    assert Loan.objects.count() == 1
    other = fund.post(
        f"{url}/disburse/",
        {"cash_account": "1111"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="giai-ngan-1",
    )
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_conflict"
    assert CommandRecord.objects.filter(scope="loans.loan_disburse").count() == 1

    detail = fund.get(url + "/").json()
    assert detail["loan_id"] == loan["id"]
    assert [e["to_status"] for e in detail["events"]] == [
        "draft",
        "submitted",
        "reviewed",
        "approved",
        "disbursed",
    ]
    schedule = fund.get(f"/api/v1/loans/{loan['id']}/schedule/").json()
    assert len(schedule) == 12
    assert sum(int(i["principal_due"]["amount"]) for i in schedule) == 20_000_000


def test_illegal_transition_and_cancel(api, officers, chain, capital):
    from loans.tests.factories import application_draft

    app = application_draft(borrower=chain.borrower, product=chain.product, actor=chain.maker)
    c = api(officers.grassroots)
    r = c.post(f"/api/v1/applications/{app.pk}/review/", {"decision": "approve"}, format="json")
    assert r.status_code == 403  # role: grassroots officers do not review
    r = api(officers.superior).post(
        f"/api/v1/applications/{app.pk}/review/", {"decision": "approve"}, format="json"
    )
    assert r.status_code == 400 and r.json()["code"] == "illegal_transition"
    r = c.post(f"/api/v1/applications/{app.pk}/cancel/", {}, format="json")
    assert r.status_code == 400 and r.json()["field"] == "reason"
    r = c.post(f"/api/v1/applications/{app.pk}/cancel/", {"reason": "Không vay nữa"}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    listed = c.get("/api/v1/applications/", {"status": "cancelled"}).json()
    assert [a["id"] for a in listed["results"]] == [app.pk]


def test_ineligible_application_lists_reasons(api, officers, chain, capital):
    r = api(officers.grassroots).post(
        "/api/v1/applications/create/",
        {
            "borrower": chain.borrower.pk,
            "product": chain.product.pk,
            "amount": money(90_000_000),
            "term": 12,
            "purpose_kind": "crafts",
            "purpose": "Mở xưởng",
            "security_kind": "group",
            "group_name": "Tổ 1",
        },
        format="json",
    )
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == "ineligible" and body["field"] == "amount"
    assert body["reasons"]


def test_follow_up_visit_and_transfer(api, officers, loan, org):
    c = api(officers.grassroots)
    url = f"/api/v1/loans/{loan.pk}/follow-up-visits/"
    body = {"visited_on": today().isoformat(), "purpose_verified": True, "jobs_confirmed": 2}
    r = c.post(url + "create/", body, format="json")
    assert r.status_code == 201, r.json()
    assert [v["jobs_confirmed"] for v in c.get(url).json()] == [2]
    bad = c.post(url + "create/", {**body, "jobs_confirmed": -1}, format="json")
    assert bad.status_code == 400 and bad.json()["field"] == "jobs_confirmed"

    # A member without an open application moves to LB-002 (both unions in the superior's scope).
    r = api(officers.superior).post(
        f"/api/v1/borrowers/{loan.borrower_id}/transfer/",
        {"grassroots_union": org.lb2.pk, "effective_date": today().isoformat()},
        format="json",
    )
    assert r.status_code == 200, r.json()
    assert r.json()["grassroots_union_id"] == org.lb2.pk
    # Into another superior union's grassroots union: not in the scope, 404.
    r = api(officers.superior).post(
        f"/api/v1/borrowers/{loan.borrower_id}/transfer/",
        {"grassroots_union": org.hbt1.pk, "effective_date": today().isoformat()},
        format="json",
    )
    assert r.status_code == 404
