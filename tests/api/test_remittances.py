"""Remittances confirmed against the bank through the API: statement import, the receipts and
their candidates, confirmation once per receipt, the remittances not received."""

import io
from datetime import timedelta

import pytest
from django.test import Client

from accounting.models import JournalEntry
from loans.models import BankStatementLine
from loans.servicing.repayments import repayment_batch_post
from loans.tests.factories import new_key, today

pytestmark = pytest.mark.django_db
IMPORT = "/api/v1/bank-statements/import/"
LINES = "/api/v1/bank-statement-lines/"


def statement(*rows):
    text = "Ngày giao dịch;Số tiền;Số tham chiếu;Nội dung\n" + "".join(
        ";".join(r) + "\n" for r in rows
    )
    f = io.BytesIO(text.encode())
    f.name = "saoke.csv"
    return f


@pytest.fixture
def batch(org, loan):
    return repayment_batch_post(
        grassroots_union=org.lb1,
        receipt_number="UNC-API",
        paid_on=today() - timedelta(days=6),
        lines=[(loan, 250_000)],
        idempotency_key=new_key("remit"),
    )


def test_import_list_and_confirm_once(api, officers, batch):
    c = api(officers.fund)
    day = f"{today():%d/%m/%Y}"
    r = c.post(IMPORT, {"file": statement([day, "250.000", "FT-A", "UNC-API"])}, format="multipart")
    assert r.status_code == 200, r.json()
    assert (r.json()["added"], r.json()["already"]) == (1, 0)
    again = c.post(IMPORT, {"file": statement([day, "250.000", "FT-A", ""])}, format="multipart")
    assert (again.json()["added"], again.json()["already"]) == (0, 1)
    listed = c.get(LINES).json()["results"]
    assert [x["bank_reference"] for x in listed] == ["FT-A"]
    assert listed[0]["candidates"][0]["batch"] == batch.pk and listed[0]["candidates"][0]["exact"]
    pending = c.get("/api/v1/repayment-batches/not-received/").json()
    assert [x["id"] for x in pending] == [batch.pk]
    url = f"{LINES}{listed[0]['id']}/confirm/"
    done = c.post(url, {"batch": batch.pk}, format="json", HTTP_IDEMPOTENCY_KEY="xn-1")
    assert done.status_code == 201, done.json()
    assert done.json()["batch"] == batch.pk
    entries = JournalEntry.objects.count()
    retry = c.post(url, {"batch": batch.pk}, format="json", HTTP_IDEMPOTENCY_KEY="xn-1")
    assert retry.status_code == 201 and JournalEntry.objects.count() == entries
    other = c.post(url, {"batch": batch.pk}, format="json", HTTP_IDEMPOTENCY_KEY="xn-2")
    assert other.status_code == 400 and other.json()["field"] == "line"
    assert c.get("/api/v1/repayment-batches/not-received/").json() == []


def test_refusals_name_the_field_and_write_nothing(api, officers):
    c = api(officers.fund)
    r = c.post(IMPORT, {"file": statement(["01/13/2026", "1,5", "", ""])}, format="multipart")
    body = r.json()
    assert r.status_code == 400 and (body["code"], body["field"]) == ("import_rejected", "file")
    assert {e["column"] for e in body["errors"]} >= {"Ngày giao dịch", "Số tiền", "Số tham chiếu"}
    assert c.post(IMPORT, {}, format="multipart").json()["field"] == "file"
    assert BankStatementLine.objects.count() == 0


def test_who_may_import(api, officers):
    for user in (officers.superior, officers.grassroots, officers.auditor):
        r = api(user).post(IMPORT, {"file": statement()}, format="multipart")
        assert r.status_code == 403
    assert api(officers.superior).get(LINES).status_code == 403
    assert api(officers.auditor).get(LINES).status_code == 200
    # A session user of the wrong role is refused before the body is parsed.
    session = Client()
    session.force_login(officers.grassroots)
    r = session.post(IMPORT, data=b"x" * 10, content_type="multipart/form-data; boundary=zz")
    assert r.status_code == 403
