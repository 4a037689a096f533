"""Attaching, withdrawing and requiring documents (loans/documents/services.py)."""

import hashlib

import pytest
from django.core.files.storage import storages

from fund.errors import PermissionRefused
from fund.models import AuditLog
from loans.documents.content import DocumentRefused
from loans.documents.selectors import application_documents_missing, documents_of
from loans.documents.services import (
    DocumentsMissing,
    document_attach,
    document_download_log,
    document_withdraw,
)
from loans.models import ApplicationStatus, Document
from loans.origination.applications import application_review
from loans.tests.factories import application_to, new_key
from loans.tests.helpers import image_bytes, pdf_bytes


def test_an_attached_document_records_its_hash_uploader_and_audit_row(borrower, officers):
    data = pdf_bytes()
    doc = document_attach(
        owner=borrower, kind="cccd", name="CCCD Hoa.pdf", data=data, actor=officers.grassroots
    )
    assert doc.sha256 == hashlib.sha256(data).hexdigest() and doc.size == len(data)
    assert doc.uploaded_by == officers.grassroots and doc.content_type == "application/pdf"
    assert doc.grassroots_union_id == borrower.grassroots_union_id
    # Stored under a random name in the private storage, with the very bytes sent.
    assert "Hoa" not in doc.file.name and doc.file.name.endswith(".pdf")
    with storages["documents"].open(doc.file.name) as f:
        assert f.read() == data
    row = AuditLog.objects.get(action="document_upload", object_id=str(doc.pk))
    assert row.actor == officers.grassroots and row.changes["sha256"] == [None, doc.sha256]
    assert row.grassroots_union_id == borrower.grassroots_union_id


def test_the_same_file_twice_is_stored_once(borrower, officers):
    data = image_bytes("PNG")
    a = document_attach(owner=borrower, kind="cccd", name="a.png", data=data, actor=None)
    b = document_attach(owner=borrower, kind="cccd", name="a.png", data=data, actor=None)
    assert a.pk == b.pk and Document.objects.count() == 1


def test_a_refused_file_writes_nothing(borrower, officers):
    with pytest.raises(DocumentRefused):
        document_attach(
            owner=borrower, kind="cccd", name="x.pdf", data=b"<html></html>", actor=None
        )
    assert (
        not Document.objects.exists()
        and not AuditLog.objects.filter(action="document_upload").exists()
    )


def test_an_unknown_kind_is_refused_by_its_field(borrower):
    with pytest.raises(Exception) as refused:
        document_attach(owner=borrower, kind="selfie", name="a.pdf", data=pdf_bytes())
    assert refused.value.field == "kind"


def test_another_unions_officer_and_the_auditor_cannot_attach(borrower, officers):
    for actor in (officers.grassroots_lb2, officers.superior_hbt, officers.auditor):
        with pytest.raises(PermissionRefused):
            document_attach(
                owner=borrower, kind="cccd", name="a.pdf", data=pdf_bytes(), actor=actor
            )
    assert not Document.objects.exists()


def test_withdrawal_keeps_the_row_and_the_file_and_is_audited(borrower, officers):
    doc = document_attach(owner=borrower, kind="cccd", name="a.pdf", data=pdf_bytes())
    with pytest.raises(Exception) as refused:
        document_withdraw(document=doc, reason=" ", actor=officers.grassroots)
    assert refused.value.field == "reason"
    doc = document_withdraw(document=doc, reason="Ảnh mờ, chụp lại", actor=officers.grassroots)
    assert doc.withdrawn and doc.withdrawn_by == officers.grassroots
    assert storages["documents"].exists(doc.file.name)
    assert list(documents_of(borrower, withdrawn=False)) == []
    assert AuditLog.objects.filter(action="document_withdraw", object_id=str(doc.pk)).exists()
    with pytest.raises(Exception, match="đã được rút"):
        document_withdraw(document=doc, reason="lần nữa", actor=officers.grassroots)


def test_a_download_is_audited(borrower, officers):
    doc = document_attach(owner=borrower, kind="cccd", name="a.pdf", data=pdf_bytes())
    document_download_log(document=doc, actor=officers.auditor)
    row = AuditLog.objects.get(action="document_download")
    assert row.actor == officers.auditor and row.object_id == str(doc.pk)


def test_review_is_refused_naming_the_missing_kinds_until_they_are_attached(chain, officers):
    chain.product.required_document_kinds = ["cccd", "household_certificate"]
    chain.product.save()
    app = application_to(
        "submitted",
        borrower=chain.borrower,
        product=chain.product,
        maker=chain.maker,
        approver=chain.approver,
    )
    assert application_documents_missing(app) == ["cccd", "household_certificate"]
    # The CCCD on the member counts; the certificate on the application counts.
    document_attach(owner=chain.borrower, kind="cccd", name="a.png", data=image_bytes())
    with pytest.raises(DocumentsMissing, match="Giấy chứng nhận hộ nghèo") as refused:
        application_review(
            application=app, decision="approve", idempotency_key=new_key("r"), actor=chain.reviewer
        )
    assert refused.value.field == "documents" and "CCCD" not in str(refused.value)
    app.refresh_from_db()
    assert app.status == ApplicationStatus.SUBMITTED
    document_attach(owner=app, kind="household_certificate", name="gcn.pdf", data=pdf_bytes())
    app = application_review(
        application=app, decision="approve", idempotency_key=new_key("r"), actor=chain.reviewer
    )
    assert app.status == ApplicationStatus.REVIEWED


def test_a_return_needs_no_documents(chain):
    chain.product.required_document_kinds = ["loan_contract"]
    chain.product.save()
    app = application_to(
        "submitted",
        borrower=chain.borrower,
        product=chain.product,
        maker=chain.maker,
        approver=None,
    )
    app = application_review(
        application=app,
        decision="return",
        note="Bổ sung hợp đồng",
        idempotency_key=new_key("r"),
        actor=chain.reviewer,
    )
    assert app.status == ApplicationStatus.RETURNED


def test_a_document_may_hang_off_a_loan_and_a_visit(loan, officers):
    from loans.servicing.visits import followup_visit_record

    photo = document_attach(
        owner=loan, kind="loan_contract", name="hd.pdf", data=pdf_bytes(), actor=officers.fund
    )
    assert photo.owner == loan and photo.owner_kind == "loan"
    visit = followup_visit_record(
        loan=loan,
        visited_on=loan.disbursed_on,
        purpose_verified=True,
        jobs_confirmed=1,
        actor=officers.grassroots,
    )
    doc = document_attach(
        owner=visit,
        kind="visit_photo",
        name="x.jpg",
        data=image_bytes("JPEG"),
        actor=officers.grassroots,
    )
    assert doc.owner_kind == "visit" and doc.grassroots_union_id == loan.grassroots_union_id
