"""The documents API (loans/api/documents.py): list, upload, download, withdraw, in scope."""

import io

from django.test import override_settings
from django.urls import reverse

from fund.models import AuditLog
from loans.documents.services import document_attach
from loans.models import Document
from loans.tests.factories import application_to
from loans.tests.helpers import image_bytes, pdf_bytes


def _file(data: bytes, name: str):
    f = io.BytesIO(data)
    f.name = name
    return f


def _upload(client, owner, owner_id, data, name, kind="cccd"):
    return client.post(
        reverse("api:document_upload"),
        {"owner": owner, "owner_id": owner_id, "kind": kind, "file": _file(data, name)},
        format="multipart",
    )


def test_upload_list_download_withdraw(api, officers, borrower):
    c = api(officers.grassroots)
    data = pdf_bytes()
    r = _upload(c, "borrower", borrower.pk, data, "CCCD Hoa.pdf")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["owner"] == "borrower" and body["owner_id"] == borrower.pk
    assert body["content_type"] == "application/pdf" and body["size"] == len(data)
    listed = c.get(reverse("api:document_list"), {"owner": "borrower", "owner_id": borrower.pk})
    assert [d["id"] for d in listed.json()] == [body["id"]]
    r = api(officers.auditor).get(reverse("api:document_download", args=[body["id"]]))
    assert r.status_code == 200 and b"".join(r.streaming_content) == data
    assert r["Content-Disposition"].startswith("attachment;")
    assert r["X-Content-Type-Options"] == "nosniff" and "no-store" in r["Cache-Control"]
    assert AuditLog.objects.filter(action="document_download", actor=officers.auditor).exists()
    r = c.post(reverse("api:document_withdraw", args=[body["id"]]), {"reason": ""}, format="json")
    assert r.status_code == 400 and r.json()["field"] == "reason"
    r = c.post(
        reverse("api:document_withdraw", args=[body["id"]]), {"reason": "Chụp lại"}, format="json"
    )
    assert r.status_code == 200 and r.json()["withdrawn_at"]


def test_a_fake_pdf_is_a_400_on_the_file_field(api, officers, borrower):
    r = _upload(api(officers.grassroots), "borrower", borrower.pk, b"<html></html>", "a.pdf")
    assert r.status_code == 400
    assert r.json()["field"] == "file" and r.json()["code"] == "document_type"
    r = _upload(api(officers.grassroots), "borrower", borrower.pk, image_bytes(), "a.pdf")
    assert r.status_code == 400 and r.json()["field"] == "file"
    assert not Document.objects.exists()


@override_settings(DOCUMENT_MAX_BYTES=10_000)
def test_an_oversized_upload_is_a_413_before_its_body_is_read(api, officers, borrower):
    r = _upload(api(officers.grassroots), "borrower", borrower.pk, b"x" * 200_000, "a.pdf")
    assert r.status_code == 413 and r.json()["code"] == "too_large"


def test_another_units_owner_and_document_are_404(api, officers, borrower):
    doc = document_attach(owner=borrower, kind="cccd", name="a.pdf", data=pdf_bytes())
    for user in (officers.grassroots_lb2, officers.superior_hbt, officers.other_fund):
        c = api(user)
        r = c.get(reverse("api:document_list"), {"owner": "borrower", "owner_id": borrower.pk})
        assert r.status_code == 404
        assert c.get(reverse("api:document_download", args=[doc.pk])).status_code == 404
        r = _upload(c, "borrower", borrower.pk, pdf_bytes("x"), "b.pdf")
        assert r.status_code in (403, 404)
    assert Document.objects.count() == 1
    assert not AuditLog.objects.filter(action="document_download").exists()


def test_the_auditor_may_not_upload(api, officers, borrower):
    r = _upload(api(officers.auditor), "borrower", borrower.pk, pdf_bytes(), "a.pdf")
    assert r.status_code == 403 and not Document.objects.exists()


def test_the_review_refusal_names_the_missing_documents(api, chain, officers):
    chain.product.required_document_kinds = ["household_certificate"]
    chain.product.save()
    app = application_to(
        "submitted",
        borrower=chain.borrower,
        product=chain.product,
        maker=chain.maker,
        approver=None,
    )
    r = api(officers.superior).post(
        reverse("api:application_review", args=[app.pk]),
        {"decision": "approve"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="review-1",
    )
    assert r.status_code == 400, r.content
    assert r.json()["code"] == "documents_missing" and r.json()["field"] == "documents"
    assert "Giấy chứng nhận hộ nghèo" in r.json()["message"]
    detail = api(officers.superior).get(reverse("api:application_detail", args=[app.pk])).json()
    assert detail["documents_missing"] == ["household_certificate"]
    product = api(officers.fund).get(reverse("api:product_detail", args=[chain.product.pk]))
    assert product.json()["required_document_kinds"] == ["household_certificate"]
