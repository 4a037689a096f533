"""The bank's side of the unions' remittances: statement import, confirming a receipt as a
remittance, and the lists of what is not matched or not received; a remittance's receipt; the
member import page.

The upload checks the officer's role and the request's size before its body is read
(``fund.web.uploads``).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from accounting.errors import ApplicationError, RowsRejected
from fund.access import ALL_ROLES, FUND_OFFICERS, READERS_FUND_WIDE, WRITERS, access
from fund.labels import account_name
from fund.models import Fund, Role
from fund.scoping import scoped_get_or_404
from fund.web.confirm import confirm_step
from fund.web.forms import IdempotentForm, backdate_reason_field, form_error_apply
from fund.web.imports import import_page
from fund.web.uploads import upload_view
from loans.models import BankStatement, BankStatementLine, RepaymentBatch
from loans.origination.member_import import members_import
from loans.policy import REMITTANCE_WATCHERS
from loans.servicing.remittances import (
    STATEMENT_MAX_BYTES,
    bank_statement_import,
    receipt_candidates,
    receipts_unmatched,
    remittance_expected,
    remittance_receipt_confirm,
    remittance_wait_date,
    remittances_not_received,
    remittances_open,
)
from loans.servicing.selectors import remittance_receipt


class StatementUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Tệp sao kê (CSV hoặc XLSX)"),
        error_messages={"required": gettext_lazy("Chưa chọn tệp.")},
    )


class ReceiptConfirmForm(IdempotentForm):
    batch = forms.TypedChoiceField(
        label=gettext_lazy("Đợt nộp"),
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": gettext_lazy("Chọn đợt nộp khớp với giao dịch."),
            "invalid_choice": gettext_lazy("Đợt nộp này không khớp với giao dịch."),
        },
    )
    backdate_reason = backdate_reason_field()

    def __init__(self, *args, candidates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["batch"].choices = [(c.batch.pk, c.batch.receipt_number) for c in candidates]
        if candidates and candidates[0].exact:
            self.initial.setdefault("batch", candidates[0].batch.pk)


def _statements_page(request, form, *, status=200, error=None, result=None):
    scope = request.scope
    lines = list(receipts_unmatched(scope=scope)[:200])
    open_batches = list(remittances_open(fund_id=scope.fund_id))
    days = Fund.objects.values_list("remittance_receipt_days", flat=True).get(pk=scope.fund_id)
    rows = [(x, receipt_candidates(x, open_batches=open_batches, window_days=days)) for x in lines]
    context = {
        "form": form,
        "can_import": scope.role == Role.FUND_OFFICER,
        "rows": rows,
        "statements": BankStatement.objects.filter(fund_id=scope.fund_id)[:10],
        "error": error,
        "result": result,
        "not_received": len(
            remittances_not_received(scope=scope, on=remittance_wait_date(fund_id=scope.fund_id))
        ),
        "days": days,
    }
    return render(request, "loans/bank_statements.html", context, status=status)


@access(READERS_FUND_WIDE)
def bank_statements(request):
    """The receipts of the fund's bank account not yet confirmed as a remittance, each with the
    remittances it may be; the import form for fund officers."""
    return _statements_page(request, StatementUploadForm())


def _upload(request):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = StatementUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _statements_page(request, form, status=400)
    upload = form.cleaned_data["file"]
    if upload.size > STATEMENT_MAX_BYTES:
        form.add_error(
            "file",
            _("Tệp sao kê lớn quá %(size)s MB.") % {"size": STATEMENT_MAX_BYTES // (1024 * 1024)},
        )
        return _statements_page(request, form, status=400)
    try:
        result = bank_statement_import(
            fund=Fund.objects.get(pk=request.scope.fund_id),
            data=upload.read(),
            format="xlsx" if upload.name.lower().endswith(".xlsx") else "csv",
            file_name=upload.name,
            actor=request.user,
        )
    except RowsRejected as e:
        for row in e.errors:
            form.add_error("file", str(row))
        return _statements_page(request, form, status=400)
    except ApplicationError as e:
        form_error_apply(form, e, field_map={"format": "file"})
        return _statements_page(request, form, status=400)
    messages.success(
        request,
        _(
            "Đã nhập %(added)s giao dịch mới (%(already)s giao dịch đã có, "
            "%(out)s khoản chi bỏ qua)."
        )
        % {"added": result.added, "already": result.already, "out": result.outgoing},
    )
    return redirect("loans:bank_statements")


def _upload_too_large(request):
    return _statements_page(
        request,
        StatementUploadForm(),
        status=413,
        error=_("Tệp sao kê lớn quá %(size)s MB.") % {"size": STATEMENT_MAX_BYTES // (1024 * 1024)},
    )


bank_statement_upload = upload_view(
    _upload, roles=FUND_OFFICERS, max_bytes=lambda: STATEMENT_MAX_BYTES, too_large=_upload_too_large
)


@access(FUND_OFFICERS)
def bank_line(request, pk):
    """One receipt: the remittances it may be, and the confirmation of one of them."""
    line = get_object_or_404(BankStatementLine, pk=pk, fund_id=request.scope.fund_id)
    candidates = [] if line.batch_id else receipt_candidates(line)
    form = ReceiptConfirmForm(request.POST or None, candidates=candidates, user=request.user)
    by_pk = {c.batch.pk: c for c in candidates}

    def page(form, status=200):
        context = {"line": line, "candidates": candidates, "form": form}
        return render(request, "loans/bank_line.html", context, status=status)

    if request.method != "POST":
        return page(form)

    def confirm_page(form):
        chosen = by_pk[form.cleaned_data["batch"]]
        return render(
            request, "loans/bank_line_confirm.html", {"line": line, "c": chosen, "form": form}
        )

    def post(form):
        batch = by_pk[form.cleaned_data["batch"]].batch
        remittance_receipt_confirm(
            line=line,
            batch=batch,
            idempotency_key=form.cleaned_data["idempotency_key"],
            actor=request.user,
            backdate_reason=form.cleaned_data["backdate_reason"],
        )
        messages.success(
            request,
            _("Đã xác nhận đợt nộp %(receipt)s: tiền đã về tài khoản ngân hàng.")
            % {"receipt": batch.receipt_number},
        )
        return redirect("loans:bank_statements")

    return confirm_step(
        request,
        form,
        form_page=page,
        confirm_page=confirm_page,
        post=post,
        refused=lambda f, e: form_error_apply(
            f, e, field_map={"line": "batch", "booked_on": "backdate_reason"}
        ),
    )


@access(REMITTANCE_WATCHERS)
def remittances_pending(request):
    """The remittances of the scope still not seen on the bank's statement after the fund's
    number of days (the fund's, or a superior union's unions'), counted to the fund's business
    date."""
    on = remittance_wait_date(fund_id=request.scope.fund_id)
    rows = remittances_not_received(scope=request.scope, on=on)
    days = Fund.objects.values_list("remittance_receipt_days", flat=True).get(
        pk=request.scope.fund_id
    )
    return render(
        request,
        "loans/remittances_pending.html",
        {
            "rows": [(b, (on - b.paid_on).days, remittance_expected(b)) for b in rows],
            "days": days,
            "figures_as_of": {"date": on},
        },
    )


@require_GET
@access(ALL_ROLES)
def remittance_receipt_view(request, pk: int):
    """The receipt of a union's remittance: its union, date, lines, total, reference and the
    journal entry that posted it; printable. Another unit's remittance answers 404."""
    batch = scoped_get_or_404(
        RepaymentBatch.objects.select_related("grassroots_union", "created_by"),
        request.scope,
        pk=pk,
    )
    receipt = remittance_receipt(batch=batch)
    postings = [
        (
            f"{p.account.code} {account_name(p.account.name, p.account.name_en)}",
            p.subledger,
            p.amount,
        )
        for p in receipt.postings
    ]
    return render(
        request,
        "loans/remittance_receipt.html",
        {"batch": batch, "receipt": receipt, "postings": postings},
    )


# --------------------------------------------------------------------------------------------
# The member import page (the API's ``members/import``, in three steps: fund.web.imports)


@access(WRITERS)
def borrower_import(request):
    """Upload a member file, see its preview (or every wrong row), confirm to import it."""
    fund = Fund.objects.get(pk=request.scope.fund_id)

    def run(*, data, format, options):
        return members_import(fund=fund, data=data, format=format, actor=request.user)

    return import_page(request, kind="members", template="loans/borrower_import.html", run=run)
