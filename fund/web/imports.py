"""The import pages' three steps, shared by the union import (``fundweb:union_import``) and the
member import (``loans:borrower_import``): upload a file (CSV or XLSX), see its preview, confirm.

- Upload: the file's declared size is checked against ``IMPORT_FILE_MAX_BYTES`` before it is
  read; the import's own reader then applies the rows limit and the XLSX checks (expanded size,
  XML entities: ``fund.union_io.read_table``).
- Preview: the import runs in a transaction that is rolled back, so the preview is exactly what
  the import would do (counts of rows created, updated, moved, unchanged) or every wrong row
  (row number, column, message), and nothing is written. The file is kept server-side in the
  private "documents" storage (never served by a URL; member files hold citizen-id numbers),
  named by a random token held in the officer's session with its SHA-256.
- Confirm: imports the stored file only if its SHA-256 is still the previewed one: exactly what
  was previewed. The token is then spent and its result kept in the session, so a second
  confirm (a double click, a reload) imports nothing and shows the same result. The import
  services audit every row they change (``fund.audit``).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable

from django import forms
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import transaction
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounting.errors import ApplicationError, RowsRejected
from fund import union_io
from fund.access import FUND_OFFICERS, access
from fund.models import Fund
from fund.web.forms import form_error_apply

SESSION_KEY = "import_staged"
STAGED_AT_MOST = 5  # previews kept per session; the oldest is dropped


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Tệp (CSV hoặc XLSX)"),
        error_messages={"required": gettext_lazy("Chưa chọn tệp.")},
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.IMPORT_FILE_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                _("Tệp quá lớn: tối đa %(mb)s MB.") % {"mb": f"{limit / 1024 / 1024:g}"}
            )
        if not upload.name.lower().endswith((".csv", ".xlsx")):
            raise forms.ValidationError(_("Chỉ nhận tệp .csv hoặc .xlsx."))
        return upload


def _storage():
    return storages["documents"]


def _dry_run(run: Callable):
    """`run()`'s result, everything it wrote rolled back."""
    with transaction.atomic():
        result = run()
        transaction.set_rollback(True)
    return result


def import_page(
    request,
    *,
    kind: str,
    template: str,
    run: Callable,
    form_class=ImportUploadForm,
    context: dict | None = None,
):
    """The page of one import. `run(data=, format=, options=)` calls the import service (and
    raises its ``RowsRejected`` for wrong rows); `form_class` an upload form whose fields other
    than ``file`` are the import's options (kept with the staged file)."""
    staged = request.session.get(SESSION_KEY, {})
    ctx = {"kind": kind, **(context or {})}

    def show(form, status=200, **more):
        return render(request, template, {**ctx, "form": form, **more}, status=status)

    token = request.POST.get("token", "")
    if request.method == "POST" and token:
        entry = staged.get(token)
        if entry is None or entry["kind"] != kind:
            return show(form_class(), 400, expired=True)
        if entry.get("result") is not None:  # already confirmed: the same answer, no import
            return show(form_class(), done=entry["result"])
        storage = _storage()
        with storage.open(entry["path"], "rb") as f:
            data = f.read()
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            return show(form_class(), 400, expired=True)
        try:
            result = run(data=data, format=entry["format"], options=entry["options"])
        except ApplicationError as e:
            return show(form_class(), 400, refused=e, errors=getattr(e, "errors", []))
        entry["result"] = _summary(result)
        request.session[SESSION_KEY] = staged
        storage.delete(entry["path"])
        return show(form_class(), done=entry["result"])

    if request.method != "POST":
        return show(form_class())
    form = form_class(request.POST, request.FILES)
    if not form.is_valid():
        return show(form, 400)
    upload = form.cleaned_data["file"]
    fmt = "xlsx" if upload.name.lower().endswith(".xlsx") else "csv"
    options = {k: v for k, v in form.cleaned_data.items() if k != "file"}
    data = upload.read()
    try:
        preview = _dry_run(lambda: run(data=data, format=fmt, options=options))
    except RowsRejected as e:
        return show(form, 400, errors=e.errors, refused=e)
    except ApplicationError as e:
        form_error_apply(form, e)
        return show(form, 400)
    token = secrets.token_urlsafe(24)
    path = _storage().save(f"imports/{token}.{fmt}", ContentFile(data))
    staged[token] = {
        "kind": kind,
        "format": fmt,
        "name": upload.name[:200],
        "path": path,
        "sha256": hashlib.sha256(data).hexdigest(),
        "options": options,
        "result": None,
    }
    for old in list(staged)[:-STAGED_AT_MOST]:
        if staged[old].get("result") is None:
            _storage().delete(staged[old]["path"])
        del staged[old]
    request.session[SESSION_KEY] = staged
    return show(form_class(), preview=_summary(preview), token=token, name=upload.name)


def _summary(result) -> dict:
    """The counts of an import's result, as plain values the session can hold."""
    return {
        k: getattr(result, k)
        for k in ("rows", "created", "updated", "moved", "transferred", "unchanged")
        if hasattr(result, k)
    }


# --------------------------------------------------------------------------------------------
# The union import (fund officers)


class UnionImportForm(ImportUploadForm):
    level = forms.ChoiceField(
        label=gettext_lazy("Cấp công đoàn"),
        choices=[
            (union_io.SUPERIOR, gettext_lazy("Công đoàn cấp trên cơ sở")),
            (union_io.GRASSROOTS, gettext_lazy("Công đoàn cơ sở")),
        ],
        initial=union_io.GRASSROOTS,
    )


@access(FUND_OFFICERS)
def union_import(request):
    fund = Fund.objects.get(pk=request.scope.fund_id)

    def run(*, data, format, options):
        return union_io.unions_import(
            fund=fund, data=data, format=format, level=options["level"], actor=request.user
        )

    return import_page(
        request,
        kind="unions",
        template="fund/union_import.html",
        run=run,
        form_class=UnionImportForm,
    )
