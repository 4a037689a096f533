"""Attaching and withdrawing members' documents, and the rule that an application has the
documents its product requires before its review.

Every change is recorded in the audit log (``fund.audit``) in the same transaction, and so is
every download: each of these files is a member's personal data (an identity card, a household's
poverty certificate, a signed contract, photos of their home or business).
"""

from __future__ import annotations

import hashlib
import re

from django.core.files.base import ContentFile
from django.db import transaction
from django.http import FileResponse, Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounting.errors import lazy_join
from fund.audit import audit_record
from fund.errors import PermissionRefused
from fund.models import GrassrootsUnion
from fund.scoping import actor_scope, actor_user, scope_require_write
from loans.documents.content import document_type_check
from loans.documents.selectors import (
    application_documents_missing,
    document_owner_kind,
    document_owner_union_id,
)
from loans.errors import LoanError
from loans.models import Document, DocumentKind, LoanApplication
from loans.validation import clean_choice, clean_reason


class DocumentsMissing(LoanError):
    """The application lacks documents its product requires before review."""

    code = "documents_missing"
    default_field = "documents"


def _require_owner_in_scope(actor, owner) -> None:
    scope = actor_scope(actor)
    if scope is None:
        return
    scope_require_write(scope, field="actor")
    union = GrassrootsUnion.objects.get(pk=document_owner_union_id(owner))
    if not scope.allows_grassroots_union(union):
        raise PermissionRefused(
            _("Tài liệu này thuộc một đơn vị ngoài phạm vi của bạn."),
            field="actor",
            code="out_of_scope",
        )


def _owner_label(owner) -> str:
    return f"{document_owner_kind(owner)}:{owner.pk}"


def document_name_clean(name: str) -> str:
    """The member's file name as kept for the download: its last path part, without control
    characters (a header must not break on it), at most 255 characters with its extension."""
    name = re.split(r"[\\/]", str(name or ""))[-1]
    name = "".join(c for c in name if c.isprintable()).strip()
    return name[-255:]


def document_attach(*, owner, kind: str, name: str, data: bytes, actor=None) -> Document:
    """Attach a file to a borrower, application, loan or follow-up visit.

    The content decides the type (``loans.documents.content``); the file is stored under a
    random name in the ``documents`` storage with its SHA-256. Attaching the same content of
    the same kind to the same owner again returns the document already there (a double submit
    stores one file)."""
    kind = clean_choice(kind, DocumentKind.choices, field="kind", label=_("Loại tài liệu"))
    name = document_name_clean(name)
    _require_owner_in_scope(actor, owner)
    content_type = document_type_check(data, name=name)
    digest = hashlib.sha256(data).hexdigest()
    owner_kind = document_owner_kind(owner)
    with transaction.atomic():
        same = (
            Document.objects.select_for_update()
            .filter(**{owner_kind: owner}, kind=kind, sha256=digest, withdrawn_at__isnull=True)
            .first()
        )
        if same is not None:
            return same
        union_id = document_owner_union_id(owner)
        document = Document(
            fund_id=GrassrootsUnion.objects.values_list("fund_id", flat=True).get(pk=union_id),
            grassroots_union_id=union_id,
            kind=kind,
            original_name=name or "document",
            content_type=content_type,
            size=len(data),
            sha256=digest,
            uploaded_by=actor_user(actor),
            uploaded_at=timezone.now(),
            **{owner_kind: owner},
        )
        document.file.save("upload", ContentFile(data), save=False)
        stored = document.file.name
        # The file is written before its row: if the row cannot be written the file goes.
        try:
            document.save()
            audit_record(
                actor=actor,
                action="document_upload",
                obj=document,
                changes={
                    "owner": [None, _owner_label(owner)],
                    "kind": [None, kind],
                    "content_type": [None, content_type],
                    "size": [None, len(data)],
                    "sha256": [None, digest],
                    "original_name": [None, document.original_name],
                },
            )
        except Exception:
            document.file.storage.delete(stored)
            raise
    return document


def document_withdraw(*, document: Document, reason: str, actor=None) -> Document:
    """Withdraw a document (a wrong file, a superseded scan): it no longer counts nor shows as
    current, but its row and its file stay for the audit. A reason is required."""
    reason = clean_reason(reason, field="reason")
    _require_owner_in_scope(actor, document.owner)
    with transaction.atomic():
        doc = Document.objects.select_for_update().get(pk=document.pk)
        if doc.withdrawn:
            raise LoanError(
                _("Tài liệu này đã được rút trước đó."), field=None, code="already_withdrawn"
            )
        doc.withdrawn_at = timezone.now()
        doc.withdrawn_by = actor_user(actor)
        doc.withdrawal_reason = reason
        doc.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawal_reason"])
        audit_record(
            actor=actor,
            action="document_withdraw",
            obj=doc,
            changes={
                "withdrawn_at": [None, doc.withdrawn_at.isoformat()],
                "reason": [None, reason],
            },
        )
    return doc


def document_download_log(*, document: Document, actor) -> None:
    """Record that `actor` downloaded `document` (every document is a member's personal data)."""
    audit_record(
        actor=actor,
        action="document_download",
        obj=document,
        changes={"owner": [None, _owner_label(document.owner)]},
    )


def document_send(*, document: Document, actor) -> FileResponse:
    """The stored file as an attachment under the member's own file name, for the page and the
    API alike: never sniffed or rendered by the browser, never cached, the download audited.
    A file missing from the storage is a 404 (nothing is audited then)."""
    try:
        handle = document.file.open("rb")
    except OSError:
        raise Http404(_("Không tìm thấy tệp của tài liệu này.")) from None
    document_download_log(document=document, actor=actor)
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=document.original_name or f"document-{document.pk}",
        content_type=document.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store, private"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def application_documents_require(application: LoanApplication) -> None:
    """Refuse, naming them, while the documents the product requires are missing."""
    missing = application_documents_missing(application)
    if missing:
        labels = dict(DocumentKind.choices)
        raise DocumentsMissing(
            _("Hồ sơ còn thiếu tài liệu bắt buộc: %(kinds)s."),
            params={"kinds": lazy_join(", ", [labels.get(k, k) for k in missing])},
        )
