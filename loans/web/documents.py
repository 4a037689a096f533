"""Members' documents on the pages: the list and upload form of a borrower, application, loan or
follow-up visit, the download, the withdrawal.

Who sees a document is who sees its owner (``loans.documents.selectors``: another unit's is a
404). The upload checks the officer's role and the request's declared size before its body is
read (``fund.web.uploads``). A download is sent as an attachment,
never rendered by the browser (``nosniff``, not cached), and recorded in the audit log.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounting.errors import ApplicationError
from accounting.formatting import megabytes
from fund.access import ALL_ROLES, WRITERS, access
from fund.web.forms import form_error_apply
from fund.web.uploads import upload_view
from loans.documents.content import document_size_check
from loans.documents.selectors import (
    application_documents_missing,
    document_get,
    document_owner_get,
    document_owner_kind,
    documents_of,
)
from loans.documents.services import document_attach, document_send, document_withdraw
from loans.models import DocumentKind, DocumentType, FollowUpVisit, LoanApplication

ACCEPT = ",".join(
    [".pdf", ".jpg", ".jpeg", ".png", *(t.value for t in DocumentType)],
)


class DocumentUploadForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Loại tài liệu"), choices=DocumentKind.choices)
    file = forms.FileField(
        label=gettext_lazy("Tệp (PDF, JPEG hoặc PNG)"),
        error_messages={"required": gettext_lazy("Chưa chọn tệp.")},
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
    )

    def __init__(self, *args, owner_kind: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        if owner_kind == "visit":
            self.initial.setdefault("kind", DocumentKind.VISIT_PHOTO)
        self.fields["file"].help_text = _("Tối đa %(limit)s MB.") % {
            "limit": megabytes(settings.DOCUMENT_MAX_BYTES)
        }


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Lý do rút"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


def owner_url(owner) -> str:
    """The page of a document's owner (a visit's is its own documents page)."""
    kind = document_owner_kind(owner)
    if kind == "borrower":
        return reverse("loans:borrower_detail", args=[owner.pk])
    if kind == "application":
        return reverse("loans:application_detail", args=[owner.pk])
    if kind == "loan":
        return reverse("loans:loan_detail", args=[owner.pk])
    return reverse("loans:documents", args=["visit", owner.pk])


def owner_title(owner) -> str:
    kind = document_owner_kind(owner)
    if kind == "borrower":
        return owner.full_name
    if kind == "application":
        return _("Hồ sơ vay #%(id)s") % {"id": owner.pk}
    if kind == "loan":
        return _("Khoản vay #%(id)s") % {"id": owner.pk}
    return _("Kiểm tra sau cho vay %(day)s, khoản vay #%(loan)s") % {
        "day": owner.visited_on.strftime("%d/%m/%Y"),
        "loan": owner.loan_id,
    }


def documents_context(request, owner, *, form=None) -> dict:
    """What the documents block of an owner's page shows: its documents (the withdrawn ones
    marked), the upload form for those who may write, and for an application the kinds its
    product requires that are still missing."""
    kind = document_owner_kind(owner)
    scope = request.scope
    context = {
        "owner": owner,
        "owner_kind": kind,
        "documents": list(documents_of(owner)),
        "upload_form": (form or DocumentUploadForm(owner_kind=kind)) if scope.can_write else None,
        "missing": [],
    }
    if isinstance(owner, LoanApplication):
        labels = dict(DocumentKind.choices)
        context["missing"] = [labels[k] for k in application_documents_missing(owner)]
    return context


def _page(request, owner, *, form=None, status=200, error=None):
    context = documents_context(request, owner, form=form)
    context.update(
        {
            "title": owner_title(owner),
            "back": owner_url(owner),
            "visit": owner if isinstance(owner, FollowUpVisit) else None,
            "error": error,
        }
    )
    return render(request, "loans/documents/page.html", context, status=status)


@access(ALL_ROLES)
def documents_page(request, owner: str, pk: int):
    """The documents of one borrower, application, loan or follow-up visit."""
    return _page(request, document_owner_get(request.scope, owner, pk))


def _upload(request, owner: str, pk: int):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    target = document_owner_get(request.scope, owner, pk)
    form = DocumentUploadForm(request.POST, request.FILES, owner_kind=owner)
    if not form.is_valid():
        return _page(request, target, form=form, status=400)
    upload = form.cleaned_data["file"]
    try:
        document_size_check(upload.size)  # before the spooled file is read into memory
        document_attach(
            owner=target,
            kind=form.cleaned_data["kind"],
            name=upload.name,
            data=upload.read(),
            actor=request.user,
        )
    except ApplicationError as e:
        form_error_apply(form, e)
        return _page(request, target, form=form, status=400)
    messages.success(request, _("Đã tải lên tài liệu."))
    return redirect(owner_url(target))


def _upload_too_large(request, owner: str, pk: int):
    target = document_owner_get(request.scope, owner, pk)
    error = _("Tệp quá lớn: tối đa %(limit)s MB.") % {
        "limit": megabytes(settings.DOCUMENT_MAX_BYTES)
    }
    return _page(request, target, status=413, error=error)


document_upload = upload_view(
    _upload,
    roles=WRITERS,
    max_bytes=lambda: settings.DOCUMENT_MAX_BYTES,
    too_large=_upload_too_large,
)


@access(ALL_ROLES)
def document_download(request, pk: int):
    """The file, as an attachment under the member's file name; the download is audited."""
    return document_send(document=document_get(request.scope, pk), actor=request.user)


@access(WRITERS)
def document_withdraw_view(request, pk: int):
    """Withdraw a document, giving the reason: the row and the file stay for the audit."""
    document = document_get(request.scope, pk)
    owner = document.owner
    form = WithdrawForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                document_withdraw(
                    document=document, reason=form.cleaned_data["reason"], actor=request.user
                )
            except ApplicationError as e:
                form_error_apply(form, e)
            else:
                messages.success(request, _("Đã rút tài liệu."))
                return redirect(owner_url(owner))
        status = 400
    context = {"document": document, "form": form, "back": owner_url(owner)}
    return render(request, "loans/documents/withdraw.html", context, status=status)
