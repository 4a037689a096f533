"""The documents pages (loans/web/documents.py): upload on the owners' pages, content refusals by
the field, another unit's document a 404, the download's headers and audit, withdrawal, and the
application page naming what its review still lacks."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from fund.models import AuditLog
from loans.documents.services import document_attach
from loans.models import Document
from loans.tests.factories import BorrowerFactory, application_to
from loans.tests.helpers import image_bytes, pdf_bytes
from tests.web.helpers import field_error, idempotency_key


def _upload(client, owner_kind, pk, data, name, kind="cccd"):
    return client.post(
        reverse("loans:document_upload", args=[owner_kind, pk]),
        {"kind": kind, "file": SimpleUploadedFile(name, data, content_type="application/pdf")},
    )


def test_an_officer_uploads_on_the_borrowers_page_and_sees_it_listed(as_user, officers, borrower):
    c = as_user(officers.grassroots)
    page = c.get(reverse("loans:borrower_detail", args=[borrower.pk]))
    assert 'id="document-form"' in page.content.decode()
    r = _upload(c, "borrower", borrower.pk, pdf_bytes(), "CCCD Nguyễn Thị Hoa.pdf")
    assert r.status_code == 302 and r["Location"] == reverse(
        "loans:borrower_detail", args=[borrower.pk]
    )
    doc = Document.objects.get()
    assert doc.borrower == borrower and doc.uploaded_by == officers.grassroots
    html = c.get(r["Location"]).content.decode()
    assert "CCCD Nguyễn Thị Hoa.pdf" in html and "Bản chụp CCCD" in html


@pytest.mark.parametrize(
    "data, name, message",
    [
        (b"<html><body>phishing</body></html>", "cccd.pdf", "Chỉ nhận tệp PDF, JPEG hoặc PNG"),
        (b"GIF89a\x01\x00\x01\x00", "anh.gif", "Chỉ nhận tệp PDF, JPEG hoặc PNG"),
        (image_bytes("PNG"), "anh.pdf", "nội dung là PNG"),
    ],
)
def test_a_file_that_is_not_what_it_claims_is_refused_by_the_field(
    as_user, officers, borrower, data, name, message
):
    r = _upload(as_user(officers.grassroots), "borrower", borrower.pk, data, name)
    assert message in field_error(r, "file")
    assert not Document.objects.exists()


@override_settings(DOCUMENT_MAX_BYTES=2048)
def test_an_oversized_file_is_refused(as_user, officers, borrower):
    c = as_user(officers.grassroots)
    r = _upload(c, "borrower", borrower.pk, pdf_bytes() + b"\n" * 4000, "big.pdf")
    assert "Tệp quá lớn" in field_error(r, "file")
    # Declared far over the limit: refused before the body is read.
    r = _upload(c, "borrower", borrower.pk, b"%PDF-" + b"x" * 200_000, "huge.pdf")
    assert r.status_code == 413 and "Tệp quá lớn" in r.content.decode()
    assert not Document.objects.exists()


def test_another_unions_documents_are_a_404(as_user, officers, org, borrower):
    doc = document_attach(owner=borrower, kind="cccd", name="a.pdf", data=pdf_bytes())
    for user in (officers.grassroots_lb2, officers.superior_hbt, officers.other_fund):
        c = as_user(user)
        assert c.get(reverse("loans:document_download", args=[doc.pk])).status_code == 404
        assert c.get(reverse("loans:documents", args=["borrower", borrower.pk])).status_code == 404
        assert c.get(reverse("loans:document_withdraw", args=[doc.pk])).status_code in (403, 404)
    r = _upload(as_user(officers.grassroots_lb2), "borrower", borrower.pk, pdf_bytes(), "b.pdf")
    assert r.status_code == 404
    assert Document.objects.count() == 1
    assert not AuditLog.objects.filter(action="document_download").exists()


def test_the_download_is_an_attachment_never_sniffed_nor_cached_and_is_audited(
    as_user, officers, borrower
):
    data = pdf_bytes()
    doc = document_attach(owner=borrower, kind="cccd", name="CCCD Hoa.pdf", data=data)
    for user in (officers.grassroots, officers.superior, officers.auditor):
        r = as_user(user).get(reverse("loans:document_download", args=[doc.pk]))
        assert r.status_code == 200
        assert r["Content-Type"] == "application/pdf"
        assert r["Content-Disposition"].startswith("attachment;")
        assert "CCCD Hoa.pdf" in r["Content-Disposition"]
        assert r["X-Content-Type-Options"] == "nosniff"
        assert "no-store" in r["Cache-Control"]
        assert b"".join(r.streaming_content) == data
    rows = AuditLog.objects.filter(action="document_download", object_id=str(doc.pk))
    assert {row.actor for row in rows} == {officers.grassroots, officers.superior, officers.auditor}


def test_the_auditor_reads_but_is_offered_no_upload(as_user, officers, borrower):
    c = as_user(officers.auditor)
    html = c.get(reverse("loans:documents", args=["borrower", borrower.pk])).content.decode()
    assert 'id="document-form"' not in html
    r = _upload(c, "borrower", borrower.pk, pdf_bytes(), "a.pdf")
    assert r.status_code == 403 and not Document.objects.exists()


def test_withdrawal_asks_a_reason_and_keeps_the_row(as_user, officers, borrower):
    doc = document_attach(owner=borrower, kind="cccd", name="a.png", data=image_bytes())
    c = as_user(officers.grassroots)
    url = reverse("loans:document_withdraw", args=[doc.pk])
    assert c.get(url).status_code == 200
    r = c.post(url, {"reason": ""})
    assert field_error(r, "reason")
    r = c.post(url, {"reason": "Ảnh mờ"})
    assert r.status_code == 302
    doc.refresh_from_db()
    assert doc.withdrawn and doc.withdrawal_reason == "Ảnh mờ"
    html = c.get(reverse("loans:borrower_detail", args=[borrower.pk])).content.decode()
    assert "Đã rút" in html


def test_the_application_page_names_the_missing_documents_and_review_is_refused(
    as_user, chain, officers
):
    chain.product.required_document_kinds = ["cccd", "loan_contract"]
    chain.product.save()
    app = application_to(
        "submitted",
        borrower=chain.borrower,
        product=chain.product,
        maker=chain.maker,
        approver=None,
    )
    url = reverse("loans:application_detail", args=[app.pk])
    html = as_user(officers.superior).get(url).content.decode()
    assert 'data-testid="documents-missing"' in html and "Hợp đồng vay đã ký" in html
    c = as_user(officers.superior)
    review = c.get(url)
    r = c.post(
        reverse("loans:application_review", args=[app.pk]),
        {"idempotency_key": idempotency_key(review), "decision": "approve", "note": ""},
    )
    assert r.status_code == 400
    assert "Hồ sơ còn thiếu tài liệu bắt buộc: Bản chụp CCCD, Hợp đồng vay đã ký" in (
        r.content.decode()
    )
    document_attach(owner=chain.borrower, kind="cccd", name="a.pdf", data=pdf_bytes())
    _upload(
        as_user(officers.grassroots),
        "application",
        app.pk,
        pdf_bytes(),
        "hd.pdf",
        kind="loan_contract",
    )
    html = c.get(url).content.decode()
    assert 'data-testid="documents-missing"' not in html


def test_visit_photos_have_their_page_linked_from_the_loan(as_user, officers, loan):
    from loans.servicing.visits import followup_visit_record

    visit = followup_visit_record(
        loan=loan,
        visited_on=loan.disbursed_on,
        purpose_verified=True,
        jobs_confirmed=1,
        actor=officers.grassroots,
    )
    c = as_user(officers.grassroots)
    page_url = reverse("loans:documents", args=["visit", visit.pk])
    assert page_url in c.get(reverse("loans:loan_detail", args=[loan.pk])).content.decode()
    r = c.post(
        reverse("loans:document_upload", args=["visit", visit.pk]),
        {"kind": "visit_photo", "file": SimpleUploadedFile("nha.jpg", image_bytes("JPEG"))},
    )
    assert r.status_code == 302 and r["Location"] == page_url
    assert "nha.jpg" in c.get(page_url).content.decode()
    assert as_user(officers.grassroots_lb2).get(page_url).status_code == 404


def test_an_unknown_owner_kind_is_a_404(as_user, officers, borrower):
    r = as_user(officers.fund).get(reverse("loans:documents", args=["union", borrower.pk]))
    assert r.status_code == 404


def test_the_queue_of_reviews_marks_what_each_application_lacks(as_user, chain, officers):
    chain.product.required_document_kinds = ["cccd", "household_certificate"]
    chain.product.save()
    apps = [
        application_to(
            "submitted",
            borrower=BorrowerFactory(grassroots_union=chain.borrower.grassroots_union),
            product=chain.product,
            maker=chain.maker,
            approver=None,
        )
        for _ in range(3)
    ]
    document_attach(owner=apps[0].borrower, kind="cccd", name="a.pdf", data=pdf_bytes())
    document_attach(owner=apps[0], kind="household_certificate", name="b.pdf", data=pdf_bytes())
    document_attach(owner=apps[1], kind="cccd", name="c.pdf", data=pdf_bytes())
    html = as_user(officers.superior).get(reverse("loans:reviews")).content.decode()
    assert f'data-missing-documents="{apps[0].pk}"' not in html
    row = html.split(f'data-missing-documents="{apps[1].pk}">', 1)[1].split("</span>", 1)[0]
    assert "Giấy chứng nhận hộ nghèo" in row and "CCCD" not in row
    row = html.split(f'data-missing-documents="{apps[2].pk}">', 1)[1].split("</span>", 1)[0]
    assert "Bản chụp CCCD" in row and "Giấy chứng nhận hộ nghèo" in row
