"""The pages of requests to change a loan's terms (``loans.restructuring.change_requests``): the
list of requests (pending first) and one request's page, where a fund officer other than the
requester approves or rejects it and the requester may withdraw it.

Filing a request is the loan page's "reschedule" / "write-off" action (``loans.web.actions``).
Every role sees the requests of the loans in its scope (another unit's → 404); the service
decides who may decide.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from accounting.errors import ApplicationError
from fund.access import ALL_ROLES, access
from fund.web.forms import IdempotentForm, backdate_reason_field, form_error_apply
from loans.models import Loan, LoanChangeRequest, LoanWriteOff, WriteOffCause
from loans.policy import LOAN_DECIDERS
from loans.restructuring import change_requests, selectors
from loans.web.action_forms import ChangeRequestRejectForm
from loans.web.loan_facts import loan_in_scope, outstanding_facts, payoff_facts, write_off_facts

Status = LoanChangeRequest.Status
PAGE_SIZE = 50


class ApproveForm(IdempotentForm):
    """The terms are the request's; the approver gives a reason for back-dating only when the
    request's date has fallen behind the fund's open window since it was filed."""

    backdate_reason = backdate_reason_field()


def _terms_shown(req: LoanChangeRequest) -> list[tuple[str, str]]:
    t = req.terms or {}

    def day(v):
        return f"{v[8:10]}/{v[5:7]}/{v[0:4]}" if v else ""

    if req.kind == LoanChangeRequest.Kind.RESCHEDULE:
        methods = dict(Loan._meta.get_field("method").choices)
        rows = [
            (_("Ngày hiệu lực"), day(t.get("effective_date"))),
            (_("Số kỳ trả nợ mới"), str(t.get("term", ""))),
            (_("Phương thức tính lãi"), str(methods.get(t.get("method"), t.get("method", "")))),
            (
                _("Ngày đến hạn kỳ đầu"),
                day(t.get("first_due_date")) or _("một kỳ sau ngày hiệu lực"),
            ),
            (_("Lý do"), t.get("reason", "")),
            (_("Lý do ghi sổ lùi ngày"), t.get("backdate_reason", "")),
        ]
    else:
        rows = [
            (_("Ngày xử lý rủi ro"), day(t.get("written_off_on"))),
            (_("Nguyên nhân"), str(dict(WriteOffCause.choices).get(t.get("cause"), ""))),
            (_("Ghi chú"), t.get("note", "")),
            (_("Lý do ghi sổ lùi ngày"), t.get("backdate_reason", "")),
        ]
    return [(label, value) for label, value in rows if value]


def _facts(req: LoanChangeRequest):
    loan = req.loan
    if req.status != Status.PENDING:
        return []
    if req.kind == LoanChangeRequest.Kind.WRITE_OFF:
        return write_off_facts(loan)
    return outstanding_facts(loan) + payoff_facts(loan)


def _may_decide(req: LoanChangeRequest, request) -> bool:
    return (
        req.status == Status.PENDING
        and request.scope.role in LOAN_DECIDERS
        and req.requested_by_id != request.user.pk
    )


@access(ALL_ROLES)
def change_request_list(request):
    """Requests in the user's scope: pending ones (oldest first), or ``?status=`` another."""
    status = request.GET.get("status") or Status.PENDING
    if status not in Status.values:
        status = Status.PENDING
    qs = (
        selectors.change_request_list(scope=request.scope, status=status)
        .select_related("loan__borrower", "loan__grassroots_union", "requested_by", "decided_by")
        .order_by("requested_at" if status == Status.PENDING else "-decided_at", "pk")
    )
    rows = list(qs[: PAGE_SIZE + 1])
    return render(
        request,
        "loans/requests/list.html",
        {
            "rows": rows[:PAGE_SIZE],
            "more": len(rows) > PAGE_SIZE,
            "status": status,
            "statuses": Status.choices,
        },
    )


@access(ALL_ROLES)
def change_request_detail(request, pk):
    """One request: its terms and what the decider needs to know; approve, reject, withdraw."""
    req = LoanChangeRequest.objects.select_related("requested_by", "decided_by").filter(pk=pk)
    req = req.first()
    if req is None:
        raise Http404(_("Không tìm thấy."))
    req.loan = loan_in_scope(request, req.loan_id)  # another unit's loan → 404
    approve_form = ApproveForm()
    reject_form = ChangeRequestRejectForm()
    status_code = 200
    if request.method == "POST":
        decision = request.POST.get("decision")
        try:
            if decision == "approve":
                approve_form = ApproveForm(request.POST, user=request.user)
                if not approve_form.is_valid():
                    raise forms.ValidationError(_("Biểu mẫu đã hết hạn; tải lại trang."))
                change_requests.change_request_approve(
                    request=req,
                    actor=request.user,
                    idempotency_key=approve_form.cleaned_data["idempotency_key"],
                    backdate_reason=approve_form.cleaned_data["backdate_reason"],
                )
                messages.success(request, _("Đã duyệt đề nghị; quyết định đã có hiệu lực."))
                return redirect("loans:loan_detail", pk=req.loan_id)
            if decision == "reject":
                reject_form = ChangeRequestRejectForm(request.POST)
                if reject_form.is_valid():
                    change_requests.change_request_reject(
                        request=req, actor=request.user, note=reject_form.cleaned_data["note"]
                    )
                    messages.success(request, _("Đã từ chối đề nghị."))
                    return redirect("loans:change_request_detail", pk=req.pk)
            elif decision == "withdraw":
                change_requests.change_request_withdraw(request=req, actor=request.user)
                messages.success(request, _("Đã rút đề nghị."))
                return redirect("loans:loan_detail", pk=req.loan_id)
            else:
                messages.error(request, _("Chọn duyệt, từ chối hoặc rút đề nghị."))
        except forms.ValidationError as e:
            messages.error(request, e.messages[0])
        except ApplicationError as e:
            if decision == "reject":
                form_error_apply(reject_form, e)
            elif decision == "approve" and e.code == "backdate_reason":
                approve_form.add_error("backdate_reason", e.message)
            else:
                messages.error(request, e.message)
        status_code = 400
        req.refresh_from_db()
        req.loan = loan_in_scope(request, req.loan_id)
    result = None
    if req.revision_id:
        result = req.revision
    elif req.write_off_id:
        result = LoanWriteOff.objects.filter(pk=req.write_off_id).first()
    return render(
        request,
        "loans/requests/detail.html",
        {
            "req": req,
            "loan": req.loan,
            "terms": _terms_shown(req),
            "facts": _facts(req),
            "may_decide": _may_decide(req, request),
            "may_withdraw": req.status == Status.PENDING and req.requested_by_id == request.user.pk,
            "approve_form": approve_form,
            "reject_form": reject_form,
            "result": result,
        },
        status=status_code,
    )
