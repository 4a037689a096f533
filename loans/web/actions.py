"""The pages of a loan's life after disbursement: follow-up visit, reversal of a repayment,
rescheduling, interest waiver, write-off, recovery after write-off, closure and recall.

Thin views over the services (``loans.origination.services``, ``loans.servicing.repayments``,
``loans.restructuring.decisions``). Each page is one form about one loan, read through the role
scope
(another unit's loan answers 404). The way a page runs:

1. GET: the form, with what the officer needs to decide (outstanding, savings, provision…).
2. POST: the form is checked; an action that cannot be undone (a reversal, a rescheduling, a
   write-off…) first shows a confirmation page carrying the same values and the same
   idempotency key; the confirmed POST runs the service.
3. The service's refusal is shown next to the field it names (``fund.web.forms.form_error_apply``),
   nothing written; success → a message and the loan page.

The idempotency key of the form is the service's: a double submit (or a reload of the
confirmation) posts once and lands on the loan page again.

Four eyes (rescheduling, write-off): these two pages file a request
(``loans.restructuring.change_requests``)
— any officer in charge of the loan may ask — which another fund officer then approves or
rejects on the request's page (``loans.web.change_requests``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounting.errors import ApplicationError
from accounting.formatting import format_vnd
from accounting.money import amount_of
from fund.access import FUND_OFFICERS, WRITERS, access
from fund.scoping import Scope, scoped_get_or_404
from fund.web.forms import form_error_apply
from loans.models import Loan, LoanChangeRequest, LoanStatus, LoanWriteOff
from loans.restructuring import change_requests
from loans.restructuring import decisions as restructuring
from loans.servicing import repayments
from loans.servicing.selectors import loan_list
from loans.servicing.visits import followup_visit_record
from loans.web.action_forms import (
    FollowUpVisitForm,
    InterestWaiveForm,
    LoanCloseForm,
    LoanRecallForm,
    RepaymentReverseForm,
    RescheduleForm,
    WriteOffForm,
    WriteOffRecoveryForm,
)


def _today() -> date:
    return timezone.localdate()


def _get_loan(request, pk) -> Loan:
    return scoped_get_or_404(
        loan_list(scope=request.scope).select_related("product", "superior_union"),
        request.scope,
        pk=pk,
    )


# --------------------------------------------------------------------------------------------
# Which actions apply to a loan, for whom (the loan page's "actions" block and the GET guard)


def _read_repayments(loan: Loan):
    """The loan's repayments when the loan page has already read them all (with their reversal
    entries), so that the actions and the decisions need not read them again; else None."""
    return getattr(loan, "page_repayments", None)


def _has_unverified_visit(loan: Loan) -> bool:
    read = getattr(loan, "page_visits", None)  # the loan page's list of follow-up visits
    if read is not None:
        return any(not v.purpose_verified for v in read)
    return loan.visits.filter(purpose_verified=False).exists()


def _has_reversible_repayment(loan: Loan) -> bool:
    read = _read_repayments(loan)
    if read is not None:
        return any(
            rep.reversal_entry_id is None and (loan.status != LoanStatus.CLOSED or rep.closed_loan)
            for rep in read
        )
    reps = loan.repayments.filter(reversal_entry__isnull=True)
    if loan.status == LoanStatus.CLOSED:
        reps = reps.filter(closed_loan=True)
    return reps.exists()


def _has_closure(loan: Loan) -> bool:
    # ``loan_close`` sets ``closed_on`` with the closure row: no query for a loan never closed.
    return loan.closed_on is not None and hasattr(loan, "closure")


def _recoverable(loan: Loan):
    try:
        write_off = loan.write_off
    except LoanWriteOff.DoesNotExist:
        return 0
    return restructuring.write_off_recoverable(write_off=write_off)


def _applies(name: str, loan: Loan, scope: Scope) -> bool:
    role = scope.role
    active = loan.status == LoanStatus.ACTIVE
    owes = amount_of(loan.outstanding_principal) > 0
    if role not in ACTIONS[name].roles:
        return False
    if name == "visit":
        return loan.status in (LoanStatus.ACTIVE, LoanStatus.CLOSED)
    if name in ("reschedule", "write_off"):  # a request: any officer in charge may ask
        return active and owes and name not in pending_request_kinds(loan)
    if name == "reverse":
        return (
            active or (loan.status == LoanStatus.CLOSED and not _has_closure(loan))
        ) and _has_reversible_repayment(loan)
    if name == "waive":
        return active
    if name == "recall":
        return active and loan.recalled_on is None and _has_unverified_visit(loan)
    if name == "close":
        return loan.status in (LoanStatus.ACTIVE, LoanStatus.CLOSED) and not _has_closure(loan)
    if name == "recovery":
        return loan.status == LoanStatus.WRITTEN_OFF and _recoverable(loan) > 0
    return False


def pending_requests(loan: Loan) -> list[LoanChangeRequest]:
    """The loan's requests waiting for a decision (read once per page: ``page_requests``)."""
    read = getattr(loan, "page_requests", None)
    if read is None:
        read = loan.page_requests = list(
            loan.change_requests.filter(status=LoanChangeRequest.Status.PENDING)
            .select_related("requested_by")
            .order_by("requested_at")
        )
    return read


def pending_request_kinds(loan: Loan) -> set[str]:
    return {r.kind for r in pending_requests(loan)}


def loan_actions(loan: Loan, scope: Scope) -> list[dict]:
    """The actions the loan page offers: those that apply to the loan's state and the role."""
    return [
        {
            "name": name,
            "url": reverse(f"loans:{a.url_name}", args=[loan.pk]),
            "label": a.title,
            "danger": a.confirm is True,
        }
        for name, a in ACTIONS.items()
        if _applies(name, loan, scope)
    ]


@dataclass(frozen=True)
class Decision:
    on: date
    what: str
    detail: str
    amount: object = None
    who: str = ""


def _name(user) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else ""


def loan_decisions(loan: Loan) -> list[Decision]:
    """What was decided on the loan after disbursement, oldest first (the loan page's record)."""
    out = []
    # The loan's own fields say which records can exist (each service sets them with the row):
    # a rescheduling or a recall starts a new schedule version, a write-off sets
    # ``written_off_on``; the page then reads only the tables that can hold something.
    revisions = (
        loan.revisions.select_related("requested_by", "approved_by")
        if loan.schedule_version > 1
        else ()
    )
    for r in revisions:
        detail = r.reason
        if r.kind == r.Kind.RESCHEDULE:
            detail = _("%(term)s kỳ từ %(first)s — %(reason)s") % {
                "term": r.term,
                "first": f"{r.first_due_date:%d/%m/%Y}",
                "reason": r.reason,
            }
        who = " → ".join(n for n in (_name(r.requested_by), _name(r.approved_by)) if n)
        out.append(Decision(r.effective_date, r.get_kind_display(), detail, r.principal, who))
    for w in loan.waivers.select_related("created_by"):
        detail = _("lãi %(interest)s, lãi phạt %(penalty)s — %(reason)s") % {
            "interest": format_vnd(amount_of(w.interest)),
            "penalty": format_vnd(amount_of(w.penalty)),
            "reason": w.reason,
        }
        out.append(Decision(w.waived_on, _("Miễn giảm lãi"), detail, None, _name(w.created_by)))
    read = _read_repayments(loan)
    reversed_reps = (
        loan.repayments.filter(reversal_entry__isnull=False).select_related("reversal_entry")
        if read is None
        else [rep for rep in read if rep.reversal_entry_id is not None]
    )
    for rep in reversed_reps:
        out.append(
            Decision(
                rep.reversal_entry.effective_date,
                _("Hủy lần trả nợ #%(id)s") % {"id": rep.pk},
                rep.reversal_reason,
                rep.amount,
            )
        )
    try:
        wo = loan.write_off if loan.written_off_on is not None else None
    except LoanWriteOff.DoesNotExist:
        wo = None
    if wo is not None:
        who = " → ".join(n for n in (_name(wo.requested_by), _name(wo.approved_by)) if n)
        detail = wo.get_cause_display() + (f" — {wo.note}" if wo.note else "")
        out.append(Decision(wo.written_off_on, _("Xử lý rủi ro"), detail, wo.principal, who))
        for rec in wo.recoveries.select_related("created_by"):
            out.append(
                Decision(
                    rec.received_on,
                    _("Thu hồi nợ đã xử lý rủi ro"),
                    "",
                    rec.amount,
                    _name(rec.created_by),
                )
            )
    if _has_closure(loan):
        c = loan.closure
        detail = _("tiết kiệm trừ vào nợ %(applied)s, hoàn trả %(returned)s") % {
            "applied": format_vnd(amount_of(c.savings_applied)),
            "returned": format_vnd(amount_of(c.savings_returned)),
        }
        out.append(Decision(c.closed_on, _("Tất toán"), detail, None, _name(c.created_by)))
    return sorted(out, key=lambda d: d.on)


# --------------------------------------------------------------------------------------------
# The page machinery


@dataclass(frozen=True)
class Action:
    url_name: str
    # Who may open the page; the fund's own decisions are its officers'.
    roles: tuple
    form_class: type
    title: str
    submit: str
    done: str
    run: Callable  # run(request, loan, cleaned_data) -> result
    initial: Callable[[Loan], dict] = lambda loan: {}
    # True: always confirm; a callable(form) -> bool: confirm when it says so.
    confirm: bool | Callable = False
    warning: str = ""
    intro: str = ""
    facts: Callable[[Loan], list] = lambda loan: []
    field_map: dict = field(default_factory=dict)


def _needs_confirm(action: Action, form) -> bool:
    return action.confirm(form) if callable(action.confirm) else bool(action.confirm)


def _page(request, loan, action: Action, form, *, status=200):
    return render(
        request,
        "loans/actions/form.html",
        {
            "loan": loan,
            "action": action,
            "form": form,
            "facts": action.facts(loan),
        },
        status=status,
    )


def _perform(request, pk, name: str):
    action = ACTIONS[name]
    loan = _get_loan(request, pk)
    kwargs = {"loan": loan, "user": request.user}
    if request.method != "POST":
        if not _applies(name, loan, request.scope):
            messages.warning(
                request,
                _("Thao tác “%(action)s” không áp dụng cho khoản vay này lúc này.")
                % {"action": action.title},
            )
            return redirect("loans:loan_detail", pk=loan.pk)
        initial = {**action.initial(loan), **request.GET.dict()}
        return _page(request, loan, action, action.form_class(initial=initial, **kwargs))

    form = action.form_class(request.POST, **kwargs)
    if not form.is_valid():
        return _page(request, loan, action, form, status=400)
    if request.POST.get("back"):
        return _page(request, loan, action, form)
    if _needs_confirm(action, form) and not request.POST.get("confirmed"):
        return render(
            request,
            "loans/actions/confirm.html",
            {"loan": loan, "action": action, "form": form, "summary": form.summary()},
        )
    try:
        action.run(request, loan, form.cleaned_data)
    except ApplicationError as e:
        form_error_apply(form, e, field_map=action.field_map)
        return _page(request, loan, action, form, status=400)
    messages.success(request, str(action.done))
    return redirect("loans:loan_detail", pk=loan.pk)


# --------------------------------------------------------------------------------------------
# What each action runs


def _visit(request, loan, d):
    key = d["idempotency_key"]
    values = {
        "loan": loan,
        "visited_on": d["visited_on"],
        "purpose_verified": d["purpose_verified"],
        "jobs_confirmed": d["jobs_confirmed"],
        "note": d["note"],
        "actor": request.user,
        "idempotency_key": key,
    }
    if d.get("recall"):
        return restructuring.loan_recall_on_visit(**values, recall_idempotency_key=f"{key}:recall")
    return followup_visit_record(**values)


def _reverse(request, loan, d):
    return repayments.repayment_reverse(
        repayment=d["repayment"],
        reason=d["reason"],
        idempotency_key=d["idempotency_key"],
        actor=request.user,
    )


def _reschedule(request, loan, d):
    return change_requests.change_request_file(
        loan=loan,
        kind=LoanChangeRequest.Kind.RESCHEDULE,
        effective_date=d["effective_date"],
        term=d["term"],
        method=d["method"],
        first_due_date=d["first_due_date"],
        reason=d["reason"],
        idempotency_key=d["idempotency_key"],
        actor=request.user,
    )


def _waive(request, loan, d):
    return restructuring.loan_interest_waive(
        loan=loan,
        waived_on=d["waived_on"],
        reason=d["reason"],
        interest=d["interest"],
        penalty=d["penalty"],
        idempotency_key=d["idempotency_key"],
        actor=request.user,
    )


def _write_off(request, loan, d):
    return change_requests.change_request_file(
        loan=loan,
        kind=LoanChangeRequest.Kind.WRITE_OFF,
        written_off_on=d["written_off_on"],
        cause=d["cause"],
        note=d["note"],
        idempotency_key=d["idempotency_key"],
        actor=request.user,
    )


def _recovery(request, loan, d):
    return restructuring.write_off_recovery_post(
        loan=loan,
        amount=d["amount"],
        received_on=d["received_on"],
        idempotency_key=d["idempotency_key"],
        actor=request.user,
    )


def _close(request, loan, d):
    return restructuring.loan_close(
        loan=loan,
        closed_on=d["closed_on"],
        apply_savings=d["apply_savings"],
        idempotency_key=d["idempotency_key"],
        actor=request.user,
    )


def _recall(request, loan, d):
    return restructuring.loan_recall(
        loan=loan,
        recalled_on=d["recalled_on"],
        reason=d["reason"],
        visit=d["visit"],
        idempotency_key=d["idempotency_key"],
        actor=request.user,
    )


# What the officer sees before deciding.


def _outstanding(loan):
    return [(gettext_lazy("Dư nợ gốc"), amount_of(loan.outstanding_principal))]


def _payoff(loan):
    if loan.status != LoanStatus.ACTIVE:
        return []
    try:
        quote = repayments.full_payoff_quote(loan=loan, on=_today())
    except ApplicationError:
        return []
    return [
        (gettext_lazy("Lãi đến hạn chưa trả"), quote.interest),
        (gettext_lazy("Lãi phạt chưa trả"), quote.penalty),
        (gettext_lazy("Số tiền tất toán hôm nay"), quote.total),
    ]


def _savings(loan):
    return [
        (
            gettext_lazy("Tiết kiệm bắt buộc đang giữ"),
            restructuring.borrower_savings_balance(loan=loan),
        )
    ]


def _close_facts(loan):
    return _outstanding(loan) + _payoff(loan) + _savings(loan)


def _write_off_facts(loan):
    return _outstanding(loan) + [
        (gettext_lazy("Dự phòng rủi ro đã trích"), amount_of(loan.provision_held))
    ]


def _recovery_facts(loan):
    try:
        principal = amount_of(loan.write_off.principal)
    except LoanWriteOff.DoesNotExist:
        return []
    return [
        (gettext_lazy("Gốc đã xử lý rủi ro"), principal),
        (gettext_lazy("Còn có thể thu hồi"), _recoverable(loan)),
    ]


def _today_as(name):
    return lambda loan: {name: _today()}


ACTIONS: dict[str, Action] = {
    "visit": Action(
        url_name="loan_visit",
        roles=WRITERS,
        form_class=FollowUpVisitForm,
        title=gettext_lazy("Kiểm tra sau giải ngân"),
        submit=gettext_lazy("Ghi kết quả kiểm tra"),
        done=gettext_lazy("Đã ghi kết quả kiểm tra sau giải ngân."),
        run=_visit,
        initial=lambda loan: {"visited_on": _today(), "jobs_confirmed": 0},
        confirm=lambda form: bool(form.cleaned_data.get("recall")),
        warning=gettext_lazy(
            "Khoản vay sẽ bị thu hồi trước hạn: toàn bộ dư nợ gốc, lãi và lãi phạt đến hạn vào "
            "ngày kiểm tra."
        ),
        intro=gettext_lazy(
            "Ghi kết quả kiểm tra việc sử dụng vốn: số việc làm mới thực tế, người cùng kiểm tra "
            "và vốn có được dùng đúng mục đích đã đăng ký không."
        ),
    ),
    "reverse": Action(
        url_name="loan_repayment_reverse",
        roles=FUND_OFFICERS,
        form_class=RepaymentReverseForm,
        title=gettext_lazy("Hủy lần trả nợ"),
        submit=gettext_lazy("Tiếp tục"),
        done=gettext_lazy("Đã hủy lần trả nợ; bút toán đảo đã được ghi sổ."),
        run=_reverse,
        confirm=True,
        warning=gettext_lazy(
            "Một bút toán đảo sẽ được ghi sổ; các kỳ trả nợ và dư nợ trở lại như trước lần trả "
            "nợ này. Chỉ hủy được lần trả nợ ghi sau cùng."
        ),
        intro=gettext_lazy(
            "Hủy một lần trả nợ ghi nhầm (trả trực tiếp hoặc một dòng của đợt nộp tiền của công "
            "đoàn cơ sở); các dòng khác của đợt nộp giữ nguyên."
        ),
        facts=_outstanding,
    ),
    "reschedule": Action(
        url_name="loan_reschedule",
        roles=WRITERS,
        form_class=RescheduleForm,
        title=gettext_lazy("Đề nghị cơ cấu lại thời hạn trả nợ"),
        submit=gettext_lazy("Gửi đề nghị"),
        done=gettext_lazy("Đã gửi đề nghị cơ cấu lại; chờ một cán bộ quỹ khác duyệt."),
        run=_reschedule,
        initial=_today_as("effective_date"),
        intro=gettext_lazy(
            "Đề nghị chia lại dư nợ gốc theo lịch mới. Lịch chỉ thay đổi khi một cán bộ quỹ khác "
            "duyệt đề nghị; lãi và lãi phạt đã đến hạn chưa trả dồn vào kỳ đầu, lần cơ cấu được "
            "tính vào phân loại nhóm nợ."
        ),
        facts=lambda loan: _outstanding(loan) + _payoff(loan),
    ),
    "waive": Action(
        url_name="loan_interest_waive",
        roles=FUND_OFFICERS,
        form_class=InterestWaiveForm,
        title=gettext_lazy("Miễn giảm lãi"),
        submit=gettext_lazy("Tiếp tục"),
        done=gettext_lazy("Đã miễn giảm lãi đến hạn chưa trả."),
        run=_waive,
        initial=lambda loan: {"waived_on": _today(), "interest": True, "penalty": True},
        confirm=True,
        warning=gettext_lazy(
            "Lãi và/hoặc lãi phạt đã đến hạn chưa trả được xóa khỏi lịch trả nợ; khoản vay không "
            "về được nhóm nợ dưới 3 sau khi miễn lãi."
        ),
        facts=lambda loan: _outstanding(loan) + _payoff(loan),
    ),
    "write_off": Action(
        url_name="loan_write_off",
        roles=WRITERS,
        form_class=WriteOffForm,
        title=gettext_lazy("Đề nghị xử lý rủi ro (xóa nợ)"),
        submit=gettext_lazy("Gửi đề nghị"),
        done=gettext_lazy("Đã gửi đề nghị xử lý rủi ro; chờ một cán bộ quỹ khác duyệt."),
        run=_write_off,
        initial=_today_as("written_off_on"),
        intro=gettext_lazy(
            "Đề nghị xử lý toàn bộ dư nợ gốc bằng dự phòng rủi ro (phần thiếu hạch toán chi "
            "phí). Khoản vay chỉ được xử lý khi một cán bộ quỹ khác duyệt đề nghị."
        ),
        facts=_write_off_facts,
    ),
    "recovery": Action(
        url_name="loan_write_off_recovery",
        roles=FUND_OFFICERS,
        form_class=WriteOffRecoveryForm,
        title=gettext_lazy("Thu hồi nợ đã xử lý rủi ro"),
        submit=gettext_lazy("Ghi thu hồi"),
        done=gettext_lazy("Đã ghi khoản thu hồi nợ đã xử lý rủi ro."),
        run=_recovery,
        initial=_today_as("received_on"),
        facts=_recovery_facts,
    ),
    "close": Action(
        url_name="loan_close",
        roles=FUND_OFFICERS,
        form_class=LoanCloseForm,
        title=gettext_lazy("Tất toán khoản vay"),
        submit=gettext_lazy("Tiếp tục"),
        done=gettext_lazy("Đã tất toán khoản vay."),
        run=_close,
        initial=_today_as("closed_on"),
        confirm=True,
        warning=gettext_lazy(
            "Khoản vay được tất toán; tiết kiệm bắt buộc được trừ vào nợ (nếu chọn) và phần còn "
            "lại hoàn trả cho người vay. Sau khi tất toán không hủy được các lần trả nợ."
        ),
        facts=_close_facts,
    ),
    "recall": Action(
        url_name="loan_recall",
        roles=FUND_OFFICERS,
        form_class=LoanRecallForm,
        title=gettext_lazy("Thu hồi nợ trước hạn"),
        submit=gettext_lazy("Tiếp tục"),
        done=gettext_lazy("Đã thu hồi nợ trước hạn; toàn bộ dư nợ đến hạn ngay."),
        run=_recall,
        initial=_today_as("recalled_on"),
        confirm=True,
        warning=gettext_lazy(
            "Toàn bộ dư nợ gốc, lãi và lãi phạt đến hạn vào ngày thu hồi; khoản vay quá hạn từ "
            "ngày hôm sau nếu chưa trả."
        ),
        facts=lambda loan: _outstanding(loan) + _payoff(loan),
    ),
}


# --------------------------------------------------------------------------------------------
# The views: one per action (its own URL), each with the action's access rule


def _view(name: str):
    action = ACTIONS[name]

    def view(request, pk):
        return _perform(request, pk, name)

    view.__name__ = view.__qualname__ = action.url_name
    view.__doc__ = f"The page of the action {name!r} (ACTIONS): form, confirmation, service."
    return access(action.roles)(view)


loan_visit = _view("visit")
loan_repayment_reverse = _view("reverse")
loan_reschedule = _view("reschedule")
loan_interest_waive = _view("waive")
loan_write_off = _view("write_off")
loan_write_off_recovery = _view("recovery")
loan_close = _view("close")
loan_recall = _view("recall")
