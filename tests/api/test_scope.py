"""The same role scoping as the pages: other units' ids answer 404, roles that may not write 403."""

import pytest

from loans.tests.factories import today
from tests.api.helpers import money

pytestmark = pytest.mark.django_db


def test_grassroots_officer_sees_only_their_union(api, officers, loan, loan_hbt, org):
    c = api(officers.grassroots)  # LB-001
    assert c.get(f"/api/v1/loans/{loan.pk}/").status_code == 200
    for url in (
        f"/api/v1/loans/{loan_hbt.pk}/",
        f"/api/v1/loans/{loan_hbt.pk}/schedule/",
        f"/api/v1/loans/{loan_hbt.pk}/payoff-quote/",
        f"/api/v1/borrowers/{loan_hbt.borrower_id}/",
        f"/api/v1/applications/{loan_hbt.application_id}/",
        f"/api/v1/grassroots-unions/{org.hbt1.pk}/",
        f"/api/v1/grassroots-unions/{org.lb2.pk}/",
        f"/api/v1/superior-unions/{org.hbt.pk}/",
    ):
        r = c.get(url)
        assert r.status_code == 404, url
        assert r.json()["code"] == "not_found"
    assert [x["id"] for x in c.get("/api/v1/loans/").json()["results"]] == [loan.pk]
    # Writing on another union's loan is a 404 too, and nothing is posted.
    r = c.post(
        "/api/v1/repayments/create/",
        {"loan": loan_hbt.pk, "amount": money(1_000_000), "paid_on": today().isoformat()},
        format="json",
        HTTP_IDEMPOTENCY_KEY="x",
    )
    assert r.status_code == 404
    r = c.post(
        f"/api/v1/borrowers/{loan_hbt.borrower_id}/update/", {"phone": "0900000000"}, format="json"
    )
    assert r.status_code == 404


def test_superior_officer_sees_their_grassroots_unions(api, officers, loan, loan_hbt, org):
    c = api(officers.superior)  # LB
    assert c.get(f"/api/v1/loans/{loan.pk}/").status_code == 200
    assert c.get(f"/api/v1/loans/{loan_hbt.pk}/").status_code == 404
    assert c.get(f"/api/v1/superior-unions/{org.lb.pk}/capital/").status_code == 200
    assert c.get(f"/api/v1/superior-unions/{org.hbt.pk}/capital/").status_code == 404
    unions = {u["id"] for u in c.get("/api/v1/grassroots-unions/").json()["results"]}
    assert unions == {org.lb1.pk, org.lb2.pk}
    assert c.get("/api/v1/attainment/", {"grassroots_union": org.hbt1.pk}).status_code == 404
    assert c.get("/api/v1/attainment/", {"superior_union": org.lb.pk}).status_code == 200


def test_auditor_reads_everything_and_writes_nothing(api, officers, loan, loan_hbt, org, product):
    c = api(officers.auditor)
    assert c.get(f"/api/v1/loans/{loan_hbt.pk}/").status_code == 200
    assert c.get("/api/v1/ledger/trial-balance/").status_code == 200
    posts = {
        "/api/v1/repayments/create/": {
            "loan": loan.pk,
            "amount": money(1_000_000),
            "paid_on": today().isoformat(),
        },
        "/api/v1/borrowers/create/": {},
        "/api/v1/applications/create/": {},
        f"/api/v1/applications/{loan.application_id}/cancel/": {"reason": "x"},
        "/api/v1/capital/contributions/create/": {},
        "/api/v1/plans/set/": {"year": 2026},
        "/api/v1/repayment-batches/create/": {},
    }
    for url, body in posts.items():
        r = c.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="k")
        assert r.status_code == 403, url
        assert r.json()["code"] == "permission_denied"


def test_ledger_and_capital_are_fund_wide_readers_only(api, officers, org):
    for user in (officers.grassroots, officers.superior):
        c = api(user)
        for url in ("/api/v1/ledger/trial-balance/", "/api/v1/capital/", "/api/v1/plans/"):
            assert c.get(url).status_code == 403, url


def test_another_funds_officer_sees_nothing_of_this_fund(api, officers, loan, org):
    c = api(officers.other_fund)
    assert c.get(f"/api/v1/loans/{loan.pk}/").status_code == 404
    assert c.get(f"/api/v1/borrowers/{loan.borrower_id}/").status_code == 404
    assert c.get(f"/api/v1/ledger/entries/{loan.disbursement_entry_id}/").status_code == 404
    assert c.get("/api/v1/loans/").json()["count"] == 0
    assert c.get(f"/api/v1/products/{loan.product_id}/").status_code == 404
