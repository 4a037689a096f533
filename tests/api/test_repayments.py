"""Repayments through the API: posted once per Idempotency-Key, money refused with the field
named, reversal, and a grassroots union's batch remittance."""

import pytest

from loans.models import Repayment
from loans.tests.factories import today
from tests.api.helpers import money

pytestmark = pytest.mark.django_db
URL = "/api/v1/repayments/create/"


def _pay(client, loan, amount, key="tra-no-1", **extra):
    body = {"loan": loan.pk, "amount": amount, "paid_on": today().isoformat(), **extra}
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(URL, body, format="json", **headers)


def test_repayment_posted_once_per_key(api, officers, loan):
    c = api(officers.grassroots)
    r = _pay(c, loan, money(1_500_000))
    assert r.status_code == 201, r.json()
    first = r.json()
    assert first["amount"] == money(1_500_000)
    parts = ("principal", "interest", "penalty", "savings", "overpayment_savings")
    assert sum(int(first[p]["amount"]) for p in parts) == 1_500_000
    assert first["allocations"]

    retry = _pay(c, loan, money(1_500_000))
    assert retry.status_code == 201 and retry.json() == first
    assert Repayment.objects.filter(loan=loan).count() == 1

    conflict = _pay(c, loan, money(1_600_000))
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "idempotency_conflict"
    assert Repayment.objects.filter(loan=loan).count() == 1

    loan.refresh_from_db()
    shown = c.get(f"/api/v1/loans/{loan.pk}/").json()
    assert shown["outstanding_principal"] == money(loan.outstanding_principal.amount)
    listed = c.get("/api/v1/repayments/", {"loan": loan.pk}).json()
    assert [x["id"] for x in listed["results"]] == [first["id"]]


def test_the_key_of_one_user_is_not_anothers(api, officers, loan):
    assert _pay(api(officers.grassroots), loan, money(1_000_000), key="k").status_code == 201
    r = _pay(api(officers.fund), loan, money(1_000_000), key="k")
    assert r.status_code == 201
    assert Repayment.objects.filter(loan=loan).count() == 2


BAD_MONEY = [
    ({"amount": "1000000.5", "currency": "VND"}, "invalid_amount"),
    ({"amount": "1000000", "currency": "USD"}, "currency"),
    ({"amount": "-1000000", "currency": "VND"}, "invalid_amount"),
    ({"amount": "1.000.000", "currency": "VND"}, "invalid_amount"),
    ({"amount": "1e6", "currency": "VND"}, "invalid_amount"),
    ({"amount": "１０００", "currency": "VND"}, "invalid_amount"),
    ({"amount": "0", "currency": "VND"}, "not_positive"),
    ({"amount": 1000000.0, "currency": "VND"}, "invalid_amount"),
    ({"amount": "một triệu", "currency": "VND"}, "invalid_amount"),
    ({"amount": "1" * 25, "currency": "VND"}, "invalid_amount"),
    ("1000000", "not_object"),
    ({"currency": "VND"}, "missing_amount"),
    ({"amount": "1000000", "currency": "VND", "x": 1}, "unknown_keys"),
]


def test_bad_money_is_refused_naming_the_field(api, officers, loan):
    c = api(officers.fund)
    for amount, code in BAD_MONEY:
        r = _pay(c, loan, amount)
        assert r.status_code == 400, amount
        assert (r.json()["field"], r.json()["code"]) == ("amount", code), amount
    assert not Repayment.objects.exists()


def test_money_refusals_from_services_and_headers(api, officers, loan):
    c = api(officers.fund)
    missing = _pay(c, loan, money(1_000_000), key=None)
    assert missing.status_code == 400 and missing.json()["field"] == "Idempotency-Key"
    too_long = _pay(c, loan, money(1_000_000), key="x" * 101)
    assert too_long.status_code == 400 and too_long.json()["code"] == "idempotency_key_invalid"
    future = _pay(c, loan, money(1_000_000), paid_on="2999-01-01")
    assert future.status_code == 400 and future.json()["field"] == "paid_on"
    overpaid = _pay(c, loan, money(900_000_000))
    assert overpaid.status_code == 400 and overpaid.json()["field"] == "amount"
    assert not Repayment.objects.exists()


def test_reverse_a_repayment(api, officers, loan):
    rep = _pay(api(officers.grassroots), loan, money(2_000_000)).json()
    url = f"/api/v1/repayments/{rep['id']}/reverse/"
    body = {"reason": "Ghi nhầm số tiền"}
    # Reversal is a fund officer's correction.
    assert (
        api(officers.grassroots)
        .post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="h")
        .status_code
        == 403
    )
    c = api(officers.fund)
    r = c.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="huy-1")
    assert r.status_code == 201, r.json()
    assert r.json()["reversal_entry_id"] is not None
    again = c.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="huy-1")
    assert again.status_code == 201 and again.json() == r.json()
    twice = c.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="huy-2")
    assert twice.status_code == 400 and twice.json()["field"] == "repayment"
    loan.refresh_from_db()
    assert loan.outstanding_principal.amount == 12_000_000


def test_payoff_quote_then_full_payment_closes_the_loan(api, officers, loan):
    c = api(officers.fund)
    quote = c.get(f"/api/v1/loans/{loan.pk}/payoff-quote/").json()
    r = _pay(c, loan, quote["total"], key="tat-toan")
    assert r.status_code == 201 and r.json()["closed_loan"] is True
    assert c.get(f"/api/v1/loans/{loan.pk}/").json()["status"] == "closed"
    closed = c.get(f"/api/v1/loans/{loan.pk}/payoff-quote/")
    assert closed.status_code == 400 and closed.json()["field"] == "loan"


def test_batch_remittance(api, officers, chain, capital, org):
    from tests.api.helpers import make_loan

    a, b = make_loan(chain), make_loan(chain)
    c = api(officers.grassroots)
    body = {
        "grassroots_union": org.lb1.pk,
        "receipt_number": "UNC-0001",
        "paid_on": today().isoformat(),
        "lines": [
            {"loan": a.pk, "amount": money(1_000_000)},
            {"loan": b.pk, "amount": money(2_000_000)},
        ],
    }
    url = "/api/v1/repayment-batches/create/"
    r = c.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="dot-1")
    assert r.status_code == 201, r.json()
    batch = r.json()
    assert batch["amount"] == money(3_000_000)
    assert sorted(x["loan_id"] for x in batch["repayments"]) == sorted([a.pk, b.pk])
    assert c.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="dot-1").json() == batch
    again = c.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="dot-2")
    assert again.status_code == 400 and again.json()["field"] == "receipt_number"

    bad = {**body, "receipt_number": "UNC-2", "lines": [{"loan": a.pk, "amount": money(-5)}]}
    r = c.post(url, bad, format="json", HTTP_IDEMPOTENCY_KEY="dot-3")
    assert r.status_code == 400 and r.json()["field"] == "lines[0].amount"
    assert Repayment.objects.count() == 2
    shown = c.get(f"/api/v1/repayment-batches/{batch['id']}/").json()
    assert shown["receipt_number"] == "UNC-0001"


def test_batch_remittance_refuses_another_unions_loan(api, officers, chain, capital, org):
    from tests.api.helpers import make_loan

    ours, theirs = make_loan(chain), make_loan(chain, grassroots_union=org.lb2)
    body = {
        "grassroots_union": org.lb1.pk,
        "receipt_number": "UNC-0009",
        "paid_on": today().isoformat(),
        "lines": [
            {"loan": ours.pk, "amount": money(1_000_000)},
            {"loan": theirs.pk, "amount": money(1_000_000)},
        ],
    }
    r = api(officers.fund).post(
        "/api/v1/repayment-batches/create/", body, format="json", HTTP_IDEMPOTENCY_KEY="dot-9"
    )
    assert r.status_code == 400 and r.json()["field"] == "lines[1].loan", r.json()
    assert not Repayment.objects.exists()
