"""Capital transfers and plan changes (with their reason) through the API."""

import pytest

from fund.models import AuditLog, CapitalMovement, CapitalSource
from fund.selectors import capital_source_balance
from fund.services import capital_source_create
from loans.tests.factories import today
from tests.api.helpers import money

pytestmark = pytest.mark.django_db


def test_capital_transfer(api, officers, org, capital):
    source = capital.source
    donors = capital_source_create(
        fund=org.fund, code="TT", name="Tài trợ", kind=CapitalSource.Kind.DONORS
    )
    c = api(officers.fund)
    url = "/api/v1/capital/transfers/create/"
    body = {
        "source": source.pk,
        "target_source": donors.pk,
        "amount": money(300_000_000),
        "effective_date": today().isoformat(),
    }
    assert c.post(url, body, format="json").status_code == 400  # no Idempotency-Key
    same = c.post(
        url, {**body, "target_source": source.pk}, format="json", HTTP_IDEMPOTENCY_KEY="t0"
    )
    assert same.status_code == 400 and same.json()["field"] == "target_source"
    too_much = {**body, "amount": money(2_000_000_000)}
    r = c.post(url, too_much, format="json", HTTP_IDEMPOTENCY_KEY="t1")
    assert r.status_code == 400 and r.json()["code"] == "insufficient_capital"
    r = c.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="t2")
    # Above the fund's threshold (100.000.000 ₫): accepted, waiting for a second fund officer.
    assert r.status_code == 202, r.json()
    pending = r.json()
    assert pending["status"] == "pending" and pending["target_source_id"] == donors.pk
    assert c.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="t2").json() == pending
    assert not CapitalMovement.objects.filter(kind="transfer").exists()
    confirm = f"/api/v1/capital/requests/{pending['id']}/confirm/"
    own = c.post(confirm, format="json", HTTP_IDEMPOTENCY_KEY="c1")
    assert own.status_code == 403 and own.json()["code"] == "separation_of_duties"
    assert not CapitalMovement.objects.filter(kind="transfer").exists()
    listed = c.get("/api/v1/capital/requests/?status=pending").json()
    assert [x["id"] for x in listed["results"]] == [pending["id"]]
    r = api(officers.checker).post(confirm, format="json", HTTP_IDEMPOTENCY_KEY="c2")
    assert r.status_code == 200 and r.json()["status"] == "confirmed"
    assert CapitalMovement.objects.filter(kind="transfer").count() == 1
    assert capital_source_balance(source=donors) == 300_000_000
    other = {**body, "target_source": 987654}
    assert c.post(url, other, format="json", HTTP_IDEMPOTENCY_KEY="t3").status_code == 404
    for user in (officers.auditor, officers.superior):
        r = api(user).post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="t4")
        assert r.status_code == 403
    assert CapitalMovement.objects.filter(kind="transfer").count() == 1


def test_plan_change_needs_a_reason(api, officers, org):
    c = api(officers.fund)
    year = today().year
    url = "/api/v1/plans/set/"
    assert c.post(url, {"year": year, "jobs": 100}, format="json").status_code == 200
    r = c.post(url, {"year": year, "jobs": 120}, format="json")
    assert r.status_code == 400 and r.json()["field"] == "reason"
    assert c.get(f"/api/v1/plans/{year}/").json()["jobs"] == 100
    r = c.post(url, {"year": year, "jobs": 120, "reason": "Giao thêm"}, format="json")
    assert r.status_code == 200 and r.json()["jobs"] == 120
    assert AuditLog.objects.get(action="update").changes["reason"] == [None, "Giao thêm"]


def test_lending_allocation_set(api, officers, org):
    c = api(officers.fund)
    url = f"/api/v1/superior-unions/{org.lb.pk}/capital/set/"
    body = {"amount": money(200_000_000), "valid_from": today().isoformat()}
    r = c.post(url, body, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["allocation"] == money(200_000_000)
    assert c.get(f"/api/v1/superior-unions/{org.lb.pk}/capital/").json()["allocation"] == money(
        200_000_000
    )
    r = c.post(url, {**body, "amount": None}, format="json")
    assert r.status_code == 200 and r.json()["allocation"] is None
    bad = c.post(url, {**body, "amount": money(-1)}, format="json")
    assert bad.status_code == 400 and bad.json()["field"] == "amount"
    other = f"/api/v1/superior-unions/{org.other_su.pk}/capital/set/"
    assert c.post(other, body, format="json").status_code == 404
    for user in (officers.auditor, officers.superior):
        assert api(user).post(url, body, format="json").status_code == 403
    assert AuditLog.objects.filter(action__in=["create", "update"]).count() == 2


@pytest.mark.parametrize("kind", ["contributions", "withdrawals"])
def test_capital_dated_after_today_is_refused_naming_the_date(api, officers, capital, kind):
    """The issue's case: a capital move dated in the future was accepted and posted."""
    from datetime import timedelta

    from accounting.models import JournalEntry

    before = CapitalMovement.objects.count(), JournalEntry.objects.count(), AuditLog.objects.count()
    body = {
        "source": capital.source.pk,
        "amount": money(1_000_000),
        "effective_date": (today() + timedelta(days=1)).isoformat(),
    }
    r = api(officers.fund).post(
        f"/api/v1/capital/{kind}/create/", body, format="json", HTTP_IDEMPOTENCY_KEY=f"f-{kind}"
    )
    assert r.status_code == 400 and r.json()["field"] == "effective_date", r.json()
    after = CapitalMovement.objects.count(), JournalEntry.objects.count(), AuditLog.objects.count()
    assert after == before
