"""The pages of a loan's life after disbursement: follow-up visit, reversal of a repayment,
rescheduling, interest waiver, write-off, recovery after write-off, closure and recall.

Thin views over the services (``loans.servicing.visits``, ``loans.servicing.repayments``,
``loans.restructuring``). Which actions the loan page offers, in which state and to
which role, and who may open each page, is ``loans.policy``'s table. Each page is one form about
one loan, read through the role scope (another unit's loan answers 404). The way a page runs:

1. GET: the form, with what the officer needs to decide (outstanding, savings, provision…).
2. POST: the form is checked; an action that cannot be undone (a reversal, a waiver, a
   closure…) first shows a confirmation page carrying the same values and the same
   idempotency key (``fund.web.confirm``); the confirmed POST runs the service.
3. The service's refusal is shown next to the field it names (``fund.web.forms.form_error_apply``),
   nothing written; success → a message and the loan page.

The idempotency key of the form is the service's: a double submit (or a reload of the
confirmation) posts once and lands on the loan page again.

Four eyes (rescheduling, write-off): these two pages file a request
(``loans.restructuring.change_requests``) — any officer in charge of the loan may ask — which
another fund officer then approves or rejects on the request's page
(``loans.web.change_requests``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounting.dates import business_today
from fund.access import access
from fund.scoping import Scope
from fund.web.confirm import confirm_step
from fund.web.forms import form_error_apply
from loans import policy
from loans.models import Loan, LoanChangeRequest
from loans.restructuring import change_requests
from loans.restructuring import decisions as restructuring
from loans.servicing import repayments
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
from loans.web.loan_facts import (
    close_facts,
    loan_in_scope,
    outstanding_facts,
    payoff_facts,
    recovery_facts,
    write_off_facts,
)

# --------------------------------------------------------------------------------------------
# Which actions the loan page offers (the table: ``loans.policy``)


def loan_actions(loan: Loan, scope: Scope) -> list[dict]:
    """The actions the loan page offers: those that apply to the loan's state and the role."""
    return [
        {
            "name": name,
            "url": reverse(f"loans:{ACTIONS[name].url_name}", args=[loan.pk]),
            "label": ACTIONS[name].title,
            "danger": ACTIONS[name].confirm is True,
        }
        for name in policy.loan_actions_offered(loan, scope)
    ]


# --------------------------------------------------------------------------------------------
# The page machinery


@dataclass(frozen=True)
class Action:
    url_name: str
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
    loan = loan_in_scope(request, pk)
    kwargs = {"loan": loan, "user": request.user}
    if request.method != "POST":
        if not policy.loan_action_allowed(name, loan, request.scope):
            messages.warning(
                request,
                _("Thao tác “%(action)s” không áp dụng cho khoản vay này lúc này.")
                % {"action": action.title},
            )
            return redirect("loans:loan_detail", pk=loan.pk)
        initial = {**action.initial(loan), **request.GET.dict()}
        return _page(request, loan, action, action.form_class(initial=initial, **kwargs))

    def post(form):
        action.run(request, loan, form.cleaned_data)
        messages.success(request, str(action.done))
        return redirect("loans:loan_detail", pk=loan.pk)

    return confirm_step(
        request,
        action.form_class(request.POST, **kwargs),
        form_page=lambda form, status: _page(request, loan, action, form, status=status),
        confirm_page=lambda form: render(
            request,
            "loans/actions/confirm.html",
            {"loan": loan, "action": action, "form": form, "summary": form.summary()},
        ),
        post=post,
        confirm=action.confirm,
        refused=lambda form, e: form_error_apply(form, e, field_map=action.field_map),
    )


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
        return restructuring.loan_recall_on_visit(
            **values,
            recall_idempotency_key=f"{key}:recall",
            backdate_reason=d["backdate_reason"],
        )
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
        backdate_reason=d["backdate_reason"],
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
        backdate_reason=d["backdate_reason"],
    )


def _write_off(request, loan, d):
    return change_requests.change_request_file(
        loan=loan,
        kind=LoanChangeRequest.Kind.WRITE_OFF,
        written_off_on=d["written_off_on"],
        cause=d["cause"],
        note=d["note"],
        backdate_reason=d["backdate_reason"],
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
        backdate_reason=d["backdate_reason"],
    )


def _close(request, loan, d):
    return restructuring.loan_close(
        loan=loan,
        closed_on=d["closed_on"],
        apply_savings=d["apply_savings"],
        idempotency_key=d["idempotency_key"],
        actor=request.user,
        backdate_reason=d["backdate_reason"],
    )


def _recall(request, loan, d):
    return restructuring.loan_recall(
        loan=loan,
        recalled_on=d["recalled_on"],
        reason=d["reason"],
        visit=d["visit"],
        idempotency_key=d["idempotency_key"],
        actor=request.user,
        backdate_reason=d["backdate_reason"],
    )


def _today_as(name):
    return lambda loan: {name: business_today()}


ACTIONS: dict[str, Action] = {
    "visit": Action(
        url_name="loan_visit",
        form_class=FollowUpVisitForm,
        title=gettext_lazy("Kiểm tra sau giải ngân"),
        submit=gettext_lazy("Ghi kết quả kiểm tra"),
        done=gettext_lazy("Đã ghi kết quả kiểm tra sau giải ngân."),
        run=_visit,
        initial=lambda loan: {"visited_on": business_today(), "jobs_confirmed": 0},
        confirm=lambda form: bool(form.cleaned_data.get("recall")),
        field_map={"recalled_on": "visited_on"},
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
        facts=outstanding_facts,
    ),
    "reschedule": Action(
        url_name="loan_reschedule",
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
        facts=lambda loan: outstanding_facts(loan) + payoff_facts(loan),
    ),
    "waive": Action(
        url_name="loan_interest_waive",
        form_class=InterestWaiveForm,
        title=gettext_lazy("Miễn giảm lãi"),
        submit=gettext_lazy("Tiếp tục"),
        done=gettext_lazy("Đã miễn giảm lãi đến hạn chưa trả."),
        run=_waive,
        initial=lambda loan: {"waived_on": business_today(), "interest": True, "penalty": True},
        confirm=True,
        warning=gettext_lazy(
            "Lãi và/hoặc lãi phạt đã đến hạn chưa trả được xóa khỏi lịch trả nợ; khoản vay không "
            "về được nhóm nợ dưới 3 sau khi miễn lãi."
        ),
        facts=lambda loan: outstanding_facts(loan) + payoff_facts(loan),
    ),
    "write_off": Action(
        url_name="loan_write_off",
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
        facts=write_off_facts,
    ),
    "recovery": Action(
        url_name="loan_write_off_recovery",
        form_class=WriteOffRecoveryForm,
        title=gettext_lazy("Thu hồi nợ đã xử lý rủi ro"),
        submit=gettext_lazy("Ghi thu hồi"),
        done=gettext_lazy("Đã ghi khoản thu hồi nợ đã xử lý rủi ro."),
        run=_recovery,
        initial=_today_as("received_on"),
        facts=recovery_facts,
    ),
    "close": Action(
        url_name="loan_close",
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
        facts=close_facts,
    ),
    "recall": Action(
        url_name="loan_recall",
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
        facts=lambda loan: outstanding_facts(loan) + payoff_facts(loan),
    ),
}


# --------------------------------------------------------------------------------------------
# The views: one per action (its own URL), each open to the action's roles in the table


def _view(name: str):
    action = ACTIONS[name]

    def view(request, pk):
        return _perform(request, pk, name)

    view.__name__ = view.__qualname__ = action.url_name
    view.__doc__ = f"The page of the action {name!r} (ACTIONS): form, confirmation, service."
    return access(policy.loan_action_roles(name))(view)


loan_visit = _view("visit")
loan_repayment_reverse = _view("reverse")
loan_reschedule = _view("reschedule")
loan_interest_waive = _view("waive")
loan_write_off = _view("write_off")
loan_write_off_recovery = _view("recovery")
loan_close = _view("close")
loan_recall = _view("recall")
