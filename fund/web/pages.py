"""The fund officers' web pages of the fund layer: plans and capital.

(The fund's REST API is ``fund/api/``.) Thin views: figures from ``fund.selectors`` and
``fund.attainment``, writes through ``fund.services`` with the form's idempotency key.

Setting a plan is idempotent by nature (the same figures again change and log nothing); a
change of an existing plan or split needs a reason, kept in the audit log, which the plans page
shows as the plan's history. Money leaving or moving between capital sources (withdrawal,
transfer) is asked twice: the form, then a confirmation page that carries the same idempotency
key, so a double click on either posts once.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from accounting.dates import business_today
from accounting.errors import ApplicationError
from accounting.formatting import amount_in_words, format_vnd
from accounting.money import amount_of
from fund.access import FUND_OFFICERS, READERS_FUND_WIDE, access
from fund.accounts import BANK, CASH
from fund.attainment import INDICATOR_LABELS, attainment
from fund.calendar import year_calendar
from fund.closing import year_close, year_close_first_open
from fund.duties import CAPITAL_CONFIRMS, duty_applies
from fund.errors import FundError
from fund.models import (
    AnnualPlan,
    CapitalMovement,
    CapitalMoveRequest,
    CapitalSource,
    GrassrootsUnion,
    LendingAllocation,
    SuperiorUnion,
    YearClose,
)
from fund.selectors import (
    capital_available,
    capital_by_source,
    capital_committed,
    capital_source_balance,
    capital_total,
    lending_allocation_in_force,
    loans_outstanding,
    plan_history,
    plan_split_summary,
)
from fund.services import (
    DUTY_POLICY_FIELDS,
    FUND_CONTROL_COUNTS,
    PLAN_REASON_MAX,
    annual_plan_set,
    calendar_day_clear,
    calendar_day_set,
    capital_move_confirm,
    capital_move_enter,
    capital_move_reject,
    fund_duties_set,
    lending_allocation_set,
    plan_split_set,
)
from fund.signin import lockout_minutes, signin_failures_recent
from fund.validation import fund_backdate_window_start
from fund.web.confirm import confirm_step
from fund.web.forms import (
    IdempotentForm,
    VndField,
    amount_field,
    backdate_reason_field,
    date_field,
    form_error_apply,
)

PLAN_INDICATORS = ("disbursed_amount", "borrowers", "loans", "grassroots_unions", "jobs_created")


@access(FUND_OFFICERS)
def plans(request):
    """Each year's plan and, for the chosen year, attainment per indicator (quarter and YTD)."""
    fund = request.user.officer.fund
    today = business_today()
    year = _year_arg(request.GET.get("year"), today.year)
    quarter = (today.month - 1) // 3 + 1 if year == today.year else 4
    rows = []
    for indicator in PLAN_INDICATORS:
        rows.append(
            {
                "label": INDICATOR_LABELS[indicator],
                "money": indicator == "disbursed_amount",
                "quarter": attainment(fund=fund, indicator=indicator, year=year, quarter=quarter),
                "ytd": attainment(
                    fund=fund, indicator=indicator, year=year, quarter=quarter, period="ytd"
                ),
            }
        )
    plan = AnnualPlan.objects.filter(fund=fund, year=year).first()
    splits = gaps = history = ()
    if plan is not None:
        splits = plan.splits.select_related("superior_union", "grassroots_union").order_by(
            "superior_union__code", "grassroots_union__code", "quarter"
        )
        gaps = plan_split_summary(plan=plan)
        history = _plan_history(plan)
    return render(
        request,
        "fund/plans.html",
        {
            "plans": AnnualPlan.objects.filter(fund=fund).order_by("-year"),
            "plan": plan,
            "splits": splits,
            "gaps": gaps,
            "history": history,
            "year": year,
            "quarter": quarter,
            "rows": rows,
        },
    )


def _plan_history(plan: AnnualPlan) -> list[dict]:
    """The plan's history (``fund.selectors.plan_history``) as table rows with the reason apart."""
    out = []
    for e in plan_history(plan=plan):
        changes = dict(e.changes or {})
        reason = changes.pop("reason", [None, ""])[1]
        out.append(
            {
                "at": e.at,
                "actor": e.actor_name,
                "action": e.action,
                "object": e.object_repr,
                "changes": "; ".join(
                    f"{PLAN_FIELD_LABELS.get(k, k)}: {v[0] if v[0] is not None else '—'} → {v[1]}"
                    for k, v in changes.items()
                    if isinstance(v, list | tuple) and len(v) == 2
                ),
                "reason": reason,
            }
        )
    return out


PLAN_FIELD_LABELS = {
    "disbursed_amount": _l("Doanh số cho vay"),
    "borrowers": _l("Lượt vay"),
    "loans": _l("Số khoản vay"),
    "grassroots_unions": _l("Số CĐCS"),
    "jobs": _l("Việc làm"),
    "note": _l("Ghi chú"),
    "year": _l("Năm"),
}


def _count_field(label) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        min_value=0,
        max_value=2_000_000_000,
        required=False,
        error_messages={
            "invalid": _l("Nhập một số nguyên."),
            "min_value": _l("Chỉ tiêu không được âm."),
            "max_value": _l("Chỉ tiêu quá lớn."),
        },
    )


def _plan_amount_field() -> VndField:
    return VndField(
        label=_l("Doanh số cho vay (đồng)"),
        min_value=0,
        required=False,
        error_messages={
            "invalid": _l("Nhập số tiền bằng chữ số, đơn vị đồng (ví dụ 2.000.000)."),
            "max_decimal_places": _l("Số tiền tính bằng đồng, không có phần lẻ."),
            "min_value": _l("Số tiền không được âm."),
        },
    )


FIGURE_FIELDS = ("disbursed_amount", "borrowers", "loans", "grassroots_unions", "jobs")


class PlanFiguresForm(forms.Form):
    """The five targets; a blank one keeps its current value (0 for a new plan or split)."""

    disbursed_amount = _plan_amount_field()
    borrowers = _count_field(_l("Số lượt thành viên vay"))
    loans = _count_field(_l("Số khoản vay"))
    grassroots_unions = _count_field(_l("Số CĐCS có thành viên vay"))
    jobs = _count_field(_l("Số việc làm tạo mới"))
    reason = forms.CharField(
        label=_l("Lý do điều chỉnh"),
        max_length=PLAN_REASON_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_l("Bắt buộc khi điều chỉnh chỉ tiêu đã có; được ghi vào nhật ký."),
    )

    def figures(self) -> dict:
        return {
            f: self.cleaned_data[f] for f in FIGURE_FIELDS if self.cleaned_data.get(f) is not None
        }


class PlanForm(PlanFiguresForm):
    year = forms.IntegerField(
        label=_l("Năm"),
        min_value=2000,
        max_value=2100,
        error_messages={
            "invalid": _l("Nhập năm bằng chữ số."),
            "min_value": _l("Năm phải từ 2000 đến 2100."),
            "max_value": _l("Năm phải từ 2000 đến 2100."),
        },
    )
    note = forms.CharField(label=_l("Ghi chú"), max_length=255, required=False)
    field_order = ["year", *FIGURE_FIELDS, "note", "reason"]


def _figures_of(obj) -> dict:
    return {
        f: amount_of(getattr(obj, f)) if f == "disbursed_amount" else getattr(obj, f)
        for f in FIGURE_FIELDS
    }


def _year_arg(value, default: int) -> int:
    try:
        year = int(value)
    except (TypeError, ValueError):
        return default
    return year if 2000 <= year <= 2100 else default


def _plans_url(year: int) -> str:
    return f"{reverse('fundweb:plans')}?year={year}"


@access(FUND_OFFICERS)
def plan_edit(request):
    """Set the year's plan, or change it with a reason (``fund.services.annual_plan_set``)."""
    fund = request.user.officer.fund
    year = _year_arg(request.GET.get("year"), business_today().year)
    plan = AnnualPlan.objects.filter(fund=fund, year=year).first()
    initial = {"year": year}
    if plan is not None:
        initial.update(_figures_of(plan), note=plan.note)
    form = PlanForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            try:
                saved = annual_plan_set(
                    fund=fund,
                    year=d["year"],
                    note=d["note"],
                    reason=d["reason"] or None,
                    require_reason=True,
                    actor=request.user,
                    **form.figures(),
                )
            except ApplicationError as e:
                form_error_apply(form, e)
            else:
                messages.success(request, _("Đã lưu kế hoạch năm %(year)s.") % {"year": saved.year})
                return redirect(_plans_url(saved.year))
        status = 400
    return render(
        request,
        "fund/plan_form.html",
        {"form": form, "plan": plan, "year": year},
        status=status,
    )


QUARTER_CHOICES = [
    (0, _l("Cả năm")),
    (1, _l("Quý I")),
    (2, _l("Quý II")),
    (3, _l("Quý III")),
    (4, _l("Quý IV")),
]


class PlanSplitForm(PlanFiguresForm):
    superior_union = forms.ModelChoiceField(
        label=_l("Công đoàn cấp trên"),
        queryset=SuperiorUnion.objects.none(),
        required=False,
        empty_label=_l("— Cả quỹ (phân bổ theo quý) —"),
    )
    # A code box, not a list: a federation has thousands of grassroots unions.
    grassroots_code = forms.CharField(
        label=_l("Mã công đoàn cơ sở"),
        max_length=32,
        required=False,
        help_text=_l("Để trống khi phân bổ cho cả quỹ hoặc cho công đoàn cấp trên."),
    )
    quarter = forms.TypedChoiceField(label=_l("Kỳ"), choices=QUARTER_CHOICES, coerce=int, initial=0)
    field_order = ["superior_union", "grassroots_code", "quarter", *FIGURE_FIELDS, "reason"]

    def __init__(self, *args, fund, **kwargs):
        super().__init__(*args, **kwargs)
        self.fund = fund
        self.fields["superior_union"].queryset = SuperiorUnion.objects.filter(fund=fund).order_by(
            "code"
        )

    def clean_grassroots_code(self):
        """The grassroots union of this fund with that code (None when left empty)."""
        code = self.cleaned_data["grassroots_code"].strip()
        if not code:
            return None
        union = GrassrootsUnion.objects.filter(fund=self.fund, code__iexact=code).first()
        if union is None:
            raise forms.ValidationError(
                _("Quỹ không có công đoàn cơ sở mã %(code)s.") % {"code": code}
            )
        return union


@access(FUND_OFFICERS)
def plan_split_edit(request, year: int):
    """Set one part of the year's split: a quarter of the fund, or a superior union's year or
    quarter (``fund.services.plan_split_set``; refused when the parts exceed the whole)."""
    fund = request.user.officer.fund
    plan = AnnualPlan.objects.filter(fund=fund, year=year).first()
    if plan is None:
        raise Http404(_("Chưa có kế hoạch năm này."))
    initial = {}
    g = request.GET
    su_id, gu_id, q = g.get("superior_union"), g.get("grassroots_union"), g.get("quarter")
    if q in {"0", "1", "2", "3", "4"}:
        initial["quarter"] = int(q)
        lookup = {"quarter": int(q), "grassroots_union": None}
        if gu_id and gu_id.isdigit():
            lookup["grassroots_union"] = int(gu_id)
        elif su_id and su_id.isdigit():
            lookup["superior_union_id"] = int(su_id)
            initial["superior_union"] = int(su_id)
        else:
            lookup["superior_union"] = None
        split = plan.splits.filter(**lookup).select_related("grassroots_union").first()
        if split is not None:
            initial.update(_figures_of(split))
            if split.grassroots_union is not None:
                initial["grassroots_code"] = split.grassroots_union.code
                initial["superior_union"] = split.superior_union_id
    form = PlanSplitForm(request.POST or None, fund=fund, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            try:
                plan_split_set(
                    plan=plan,
                    quarter=d["quarter"],
                    superior_union=d["superior_union"],
                    grassroots_union=d["grassroots_code"],
                    reason=d["reason"] or None,
                    require_reason=True,
                    actor=request.user,
                    **form.figures(),
                )
            except ApplicationError as e:
                form_error_apply(form, e, field_map={"grassroots_union": "grassroots_code"})
            else:
                messages.success(request, _("Đã lưu phân bổ kế hoạch."))
                return redirect(_plans_url(plan.year))
        status = 400
    return render(
        request,
        "fund/plan_split_form.html",
        {"form": form, "plan": plan, "gaps": plan_split_summary(plan=plan)},
        status=status,
    )


# --------------------------------------------------------------------------------------------
# Capital: a contribution, capital leaving a source or moving between sources; each is a form,
# then a confirmation page that carries the same data and idempotency key


class _CapitalForm(IdempotentForm):
    """A capital movement: the fields all kinds share, the confirmation rows and the post.

    A kind names its movement (`kind`) and the fields it adds to the shared ones
    (`extra_fields`, passed to ``fund.services.capital_move_enter`` by name).
    """

    source = forms.ModelChoiceField(label=_l("Nguồn vốn"), queryset=CapitalSource.objects.none())
    amount = amount_field(_l("Số tiền (đồng)"))
    effective_date = date_field(_l("Ngày hạch toán"))
    backdate_reason = backdate_reason_field()
    memo = forms.CharField(label=_l("Diễn giải"), max_length=500, required=False)

    kind: CapitalMovement.Kind
    extra_fields: tuple[str, ...] = ()

    def __init__(self, *args, fund, **kwargs):
        super().__init__(*args, **kwargs)
        self.fund = fund
        sources = CapitalSource.objects.filter(fund=fund).order_by("code")
        for field in self.fields.values():
            if isinstance(field, forms.ModelChoiceField):
                field.queryset = sources
                field.error_messages["invalid_choice"] = _l("Chọn một nguồn vốn của quỹ.")
                field.error_messages["required"] = _l("Chọn nguồn vốn.")

    def balance_check(self) -> None:
        """Refuse early what the service would refuse (it checks again when confirmed)."""

    def source_rows(self) -> list[tuple[str, str]]:
        return [(_("Nguồn vốn"), _source_label(self.cleaned_data["source"]))]

    def detail_rows(self) -> list[tuple[str, str]]:
        """Rows of the kind's own fields, between the date and the memo."""
        return []

    def summary(self) -> list[tuple[str, str]]:
        """The confirmation page's rows: what will be posted, the amount also in words."""
        d = self.cleaned_data
        return [
            (_("Nghiệp vụ"), str(self.kind.label)),
            *self.source_rows(),
            (_("Số tiền"), format_vnd(d["amount"])),
            (_("Bằng chữ"), amount_in_words(int(d["amount"]))),
            (_("Ngày hạch toán"), d["effective_date"].strftime("%d/%m/%Y")),
            *([(_("Lý do ghi sổ lùi ngày"), d["backdate_reason"])] if d["backdate_reason"] else []),
            *self.detail_rows(),
            (_("Diễn giải"), d["memo"] or "—"),
        ]

    def post(self, actor) -> CapitalMovement | CapitalMoveRequest:
        """Posted at once, or waiting for a second fund officer above the fund's threshold."""
        d = self.cleaned_data
        return capital_move_enter(
            kind=self.kind,
            fund=self.fund,
            source=d["source"],
            amount=d["amount"],
            effective_date=d["effective_date"],
            memo=d["memo"],
            idempotency_key=d["idempotency_key"],
            actor=actor,
            backdate_reason=d["backdate_reason"],
            **{name: d[name] for name in self.extra_fields},
        )


def _source_label(source: CapitalSource) -> str:
    return f"{source.code} {source.name}"


class ContributionForm(_CapitalForm):
    kind = CapitalMovement.Kind.CONTRIBUTION


def _confirmed_post(request, form, *, title: str, form_page, done: str):
    """A capital movement through the confirmation step (``fund.web.confirm``): one movement
    posted, then the capital page. `form_page(form, status)` renders the form."""

    def post(form):
        entered = form.post(request.user)
        if isinstance(entered, CapitalMoveRequest):
            messages.success(
                request,
                _(
                    "Số tiền trên ngưỡng %(threshold)s: nghiệp vụ đã được lập và chờ một cán bộ "
                    "quỹ khác xác nhận; chưa hạch toán."
                )
                % {"threshold": format_vnd(form.fund.capital_confirmation_threshold)},
            )
            return redirect("fundweb:capital_requests")
        messages.success(request, done)
        return redirect("fundweb:capital")

    return confirm_step(
        request,
        form,
        form_page=form_page,
        confirm_page=lambda form: render(
            request,
            "fund/capital_confirm.html",
            {"form": form, "title": title, "summary": form.summary()},
        ),
        post=post,
        check=lambda form: form.balance_check(),
    )


@access(FUND_OFFICERS)
def capital(request):
    """Capital by source, what is available to lend, the movements, and a new contribution."""
    fund = request.user.officer.fund
    form = ContributionForm(
        request.POST or None,
        fund=fund,
        user=request.user,
        initial={"effective_date": business_today()},
    )

    def page(form, status):
        return render(
            request,
            "fund/capital.html",
            {
                "form": form,
                "by_source": capital_by_source(fund=fund),
                "total": capital_total(fund=fund),
                "committed": capital_committed(fund=fund),
                "available": capital_available(fund=fund),
                "movements": CapitalMovement.objects.filter(fund=fund)
                .select_related("source", "target_source")
                .order_by("-effective_date", "-id")[:50],
            },
            status=status,
        )

    if request.method != "POST":
        return page(form, 200)
    return _confirmed_post(
        request,
        form,
        title=_("Ghi nhận vốn góp"),
        form_page=page,
        done=_("Đã ghi nhận vốn góp."),
    )


class _CapitalOutForm(_CapitalForm):
    def balance_check(self) -> None:
        """Refuse early, next to the amount, what the service would refuse for the source's
        balance (the service checks again, under lock, when the movement is confirmed)."""
        d = self.cleaned_data
        balance = capital_source_balance(source=d["source"], as_of=d["effective_date"])
        if d["amount"] > balance:
            self.add_error(
                "amount",
                _("Nguồn %(source)s chỉ còn %(balance)s.")
                % {"source": d["source"].name, "balance": format_vnd(balance)},
            )


class WithdrawalForm(_CapitalOutForm):
    cash_account = forms.ChoiceField(
        label=_l("Chi từ tài khoản"),
        choices=[(BANK, _l("1121 Tiền gửi ngân hàng")), (CASH, _l("1111 Tiền mặt"))],
        initial=BANK,
    )
    field_order = ["source", "amount", "effective_date", "backdate_reason", "cash_account", "memo"]
    kind = CapitalMovement.Kind.WITHDRAWAL
    extra_fields = ("cash_account",)

    def detail_rows(self) -> list[tuple[str, str]]:
        return [(_("Chi từ tài khoản"), self.cleaned_data["cash_account"])]


class TransferForm(_CapitalOutForm):
    target_source = forms.ModelChoiceField(
        label=_l("Chuyển sang nguồn vốn"), queryset=CapitalSource.objects.none()
    )
    field_order = ["source", "target_source", "amount", "effective_date", "backdate_reason", "memo"]
    kind = CapitalMovement.Kind.TRANSFER
    extra_fields = ("target_source",)

    def clean(self):
        data = super().clean()
        if data.get("source") and data.get("source") == data.get("target_source"):
            self.add_error("target_source", _("Nguồn chuyển và nguồn nhận phải khác nhau."))
        return data

    def source_rows(self) -> list[tuple[str, str]]:
        d = self.cleaned_data
        return [
            (_("Từ nguồn"), _source_label(d["source"])),
            (_("Sang nguồn"), _source_label(d["target_source"])),
        ]


def _capital_out(request, *, form_class, title: str, done: str):
    fund = request.user.officer.fund
    form = form_class(
        request.POST or None,
        fund=fund,
        user=request.user,
        initial={"effective_date": business_today()},
    )

    def page(form, status):
        return render(
            request, "fund/capital_out.html", {"form": form, "title": title}, status=status
        )

    if request.method != "POST":
        return page(form, 200)
    return _confirmed_post(request, form, title=title, form_page=page, done=done)


@access(FUND_OFFICERS)
def capital_withdraw(request):
    """Return capital to its source (``fund.services.capital_withdrawal_post``)."""
    return _capital_out(
        request,
        form_class=WithdrawalForm,
        title=_("Rút, hoàn trả vốn cho nguồn"),
        done=_("Đã hạch toán hoàn trả vốn."),
    )


@access(FUND_OFFICERS)
def capital_transfer(request):
    """Move capital between two sources (``fund.services.capital_transfer_post``)."""
    return _capital_out(
        request,
        form_class=TransferForm,
        title=_("Điều chuyển vốn giữa các nguồn"),
        done=_("Đã hạch toán điều chuyển vốn."),
    )


# --------------------------------------------------------------------------------------------
# Capital moves waiting for a second fund officer (``fund.duties``), and the fund's policy


class CapitalRejectForm(forms.Form):
    reason = forms.CharField(
        label=_l("Lý do từ chối"),
        max_length=500,
        error_messages={"required": _l("Nhập lý do từ chối.")},
    )


class CapitalConfirmForm(forms.Form):
    """The confirmation of a pending capital move whose date the fund's open window has left
    since it was entered: the confirmer's back-dating reason."""

    backdate_reason = backdate_reason_field()


def _capital_request_get(request, pk: int) -> CapitalMoveRequest:
    req = CapitalMoveRequest.objects.filter(fund_id=request.scope.fund_id, pk=pk).first()
    if req is None:
        raise Http404()
    return req


@access(FUND_OFFICERS)
def capital_requests(
    request, *, status: int = 200, reject_form=None, confirm_form=None, confirm_pk=None
):
    """The capital moves waiting for a second fund officer, and the latest decided. Each
    pending one offers "Xác nhận" to every fund officer but the one who entered it (with the
    back-dating reason when its date is now before the fund's open window and it has none),
    and "Từ chối" (with a reason) to all; a refusal of the service is shown with its rule."""
    fund = request.user.officer.fund
    rows = (
        CapitalMoveRequest.objects.filter(fund=fund)
        .select_related("source", "target_source", "requested_by", "decided_by")
        .order_by("-requested_at", "-id")
    )
    pending = list(rows.filter(status=CapitalMoveRequest.Status.PENDING))
    separated = duty_applies(fund, CAPITAL_CONFIRMS)
    window = fund_backdate_window_start(fund)
    for r in pending:
        r.may_confirm = not separated or r.requested_by_id != request.user.pk
        r.confirm_form = None
        if r.pk == confirm_pk and confirm_form is not None:
            r.confirm_form = confirm_form
        elif r.effective_date < window and not r.backdated_reason:
            r.confirm_form = CapitalConfirmForm(auto_id=f"id_confirm_{r.pk}_%s")
    return render(
        request,
        "fund/capital_requests.html",
        {
            "pending": pending,
            "decided": rows.exclude(status=CapitalMoveRequest.Status.PENDING)[:50],
            "reject_form": reject_form or CapitalRejectForm(),
            "threshold": fund.capital_confirmation_threshold,
        },
        status=status,
    )


def _capital_decide(request, pk: int, decide, done: str, reject_form=None, confirm_form=None):
    """POST: the decision through the service, then the list; a refusal shows on the list (on
    the request's confirmation form when it names its back-dating)."""
    req = _capital_request_get(request, pk)
    if request.method != "POST":
        return redirect("fundweb:capital_requests")
    try:
        decide(req)
    except ApplicationError as e:
        if confirm_form is not None and e.field == "effective_date":
            form_error_apply(confirm_form, e, field_map={"effective_date": "backdate_reason"})
            return capital_requests(
                request, status=400, confirm_form=confirm_form, confirm_pk=req.pk
            )
        messages.error(request, str(e.message))
        return capital_requests(request, status=400, reject_form=reject_form)
    messages.success(request, done % {"id": req.pk})
    return redirect("fundweb:capital_requests")


@access(FUND_OFFICERS)
def capital_request_confirm(request, pk: int):
    """A second fund officer confirms: the move posts (``fund.services.capital_move_confirm``)."""
    data = request.POST if request.method == "POST" else None
    form = CapitalConfirmForm(data, auto_id=f"id_confirm_{pk}_%s")
    if request.method == "POST" and not form.is_valid():
        _capital_request_get(request, pk)
        return capital_requests(request, status=400, confirm_form=form, confirm_pk=pk)

    def confirm(req):
        capital_move_confirm(
            request=req, actor=request.user, backdate_reason=form.cleaned_data["backdate_reason"]
        )

    return _capital_decide(
        request,
        pk,
        confirm,
        _("Đã xác nhận và hạch toán nghiệp vụ vốn #%(id)s."),
        confirm_form=form,
    )


@access(FUND_OFFICERS)
def capital_request_reject(request, pk: int):
    """Reject (or withdraw one's own) with a reason (``fund.services.capital_move_reject``)."""
    form = CapitalRejectForm(request.POST or None)

    def reject(req):
        if not form.is_valid():
            raise FundError(_("Nhập lý do từ chối."), field="reason")
        capital_move_reject(request=req, reason=form.cleaned_data["reason"], actor=request.user)

    return _capital_decide(
        request, pk, reject, _("Đã từ chối nghiệp vụ vốn #%(id)s."), reject_form=form
    )


class DutiesForm(forms.Form):
    duty_approver_not_disburser = forms.BooleanField(
        label=_l("Người phê duyệt khoản vay không được giải ngân khoản vay đó"), required=False
    )
    duty_recorder_not_reverser = forms.BooleanField(
        label=_l("Người ghi thu nợ, nộp tiền không được tự hủy nghiệp vụ đó"), required=False
    )
    capital_confirmation_threshold = VndField(
        label=_l("Ngưỡng nghiệp vụ vốn cần cán bộ quỹ thứ hai xác nhận (đồng)"),
        min_value=0,
        required=False,
        help_text=_l("Để trống: không cần xác nhận; 0: mọi nghiệp vụ vốn đều cần xác nhận."),
        error_messages={
            "invalid": _l("Nhập số tiền bằng chữ số, đơn vị đồng (ví dụ 100.000.000)."),
            "min_value": _l("Ngưỡng không được âm."),
        },
    )
    backdate_open_months = forms.IntegerField(
        label=_l("Số tháng trước tháng hiện tại được ghi sổ lùi ngày không cần lý do"),
        required=False,
        help_text=_l(
            "0: chỉ trong tháng hiện tại. Ngày trước đầu kỳ này phải nêu lý do, được đánh dấu "
            "trong sổ nhật ký và hiện trong danh sách ghi sổ lùi ngày của kiểm toán viên."
        ),
        error_messages={"invalid": _l("Nhập một số nguyên.")},
    )
    remittance_receipt_days = forms.IntegerField(
        label=_l("Số ngày chờ tiền nộp của công đoàn về tài khoản ngân hàng"),
        required=False,
        help_text=_l("Quá số ngày này, đợt nộp chưa thấy trên sao kê được liệt kê là chưa về."),
        error_messages={"invalid": _l("Nhập một số nguyên.")},
    )


@access(FUND_OFFICERS)
def duties(request):
    """The fund's separation-of-duties policy and its other controls (the back-dating window,
    the days a remittance may take to arrive): ``fund.services.fund_duties_set``, audited."""
    fund = request.user.officer.fund
    initial = {name: getattr(fund, name) for name in DUTY_POLICY_FIELDS}
    threshold = initial["capital_confirmation_threshold"]
    initial["capital_confirmation_threshold"] = (
        amount_of(threshold) if threshold is not None else None
    )
    form = DutiesForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                # A whole-number control left empty keeps its value.
                fields = {
                    name: value
                    for name, value in form.cleaned_data.items()
                    if value is not None or name not in FUND_CONTROL_COUNTS
                }
                fund_duties_set(fund=fund, actor=request.user, **fields)
            except ApplicationError as e:
                form_error_apply(form, e)
            else:
                messages.success(request, _("Đã lưu quy định tách bạch nhiệm vụ."))
                return redirect("fundweb:duties")
        status = 400
    return render(request, "fund/duties.html", {"form": form}, status=status)


# --------------------------------------------------------------------------------------------
# Year-end closing (``fund.closing``)


class YearCloseForm(IdempotentForm):
    year = forms.IntegerField(
        label=_l("Năm khóa sổ"),
        min_value=1901,
        max_value=9999,
        error_messages={"required": _l("Nhập năm khóa sổ."), "invalid": _l("Nhập một năm.")},
    )


@access(READERS_FUND_WIDE)
def year_closes(request):
    """The fund's closed years with their closing entries (flagged for the auditor), and for a
    fund officer the closing of the next open year (a confirmation first: it cannot be undone)."""
    fund = request.user.officer.fund
    may_close = request.scope.role in FUND_OFFICERS
    next_open = year_close_first_open(fund=fund) or business_today().year - 1
    form = (
        YearCloseForm(request.POST or None, initial={"year": next_open}, user=request.user)
        if may_close
        else None
    )

    def page(form, status):
        return render(
            request,
            "fund/year_closes.html",
            {
                "form": form,
                "closes": YearClose.objects.filter(fund=fund).select_related("closed_by"),
                "next_open": next_open,
            },
            status=status,
        )

    if request.method != "POST":
        return page(form, 200)
    if not may_close:
        raise PermissionDenied(_("Chỉ cán bộ quỹ được khóa sổ cuối năm."))

    def post(form):
        d = form.cleaned_data
        closed = year_close(
            fund=fund, year=d["year"], idempotency_key=d["idempotency_key"], actor=request.user
        )
        messages.success(
            request,
            _("Đã khóa sổ năm %(year)s; chênh lệch thu chi %(surplus)s.")
            % {"year": closed.year, "surplus": format_vnd(closed.surplus)},
        )
        return redirect("fundweb:year_closes")

    return confirm_step(
        request,
        form,
        form_page=page,
        confirm_page=lambda form: render(
            request,
            "fund/capital_confirm.html",
            {
                "form": form,
                "title": _("Khóa sổ cuối năm"),
                "summary": [
                    (_("Năm khóa sổ"), str(form.cleaned_data["year"])),
                    (
                        _("Bút toán"),
                        _(
                            "Kết chuyển thu nhập, chi phí sang 911 rồi 4212 ngày 31/12; chuyển "
                            "4212 sang 4211 ngày 01/01 năm sau; khóa sổ cái đến hết 31/12."
                        ),
                    ),
                ],
            },
        ),
        post=post,
    )


# --------------------------------------------------------------------------------------------
# Lending capacity (hạn mức) of the superior unions: how the fund's capital is shared by unit


class AllocationForm(forms.Form):
    superior_union = forms.ModelChoiceField(
        label=_l("Công đoàn cấp trên"),
        queryset=SuperiorUnion.objects.none(),
        error_messages={
            "required": _l("Chọn công đoàn cấp trên."),
            "invalid_choice": _l("Chọn một công đoàn cấp trên của quỹ."),
        },
    )
    amount = VndField(
        label=_l("Hạn mức cho vay (đồng)"),
        min_value=0,
        required=False,
        help_text=_l("Để trống: bỏ hạn mức từ ngày áp dụng."),
        error_messages={
            "invalid": _l("Nhập số tiền bằng chữ số, đơn vị đồng (ví dụ 2.000.000)."),
            "max_decimal_places": _l("Số tiền tính bằng đồng, không có phần lẻ."),
            "min_value": _l("Hạn mức không được âm."),
        },
    )
    valid_from = date_field(_l("Áp dụng từ ngày"))
    note = forms.CharField(label=_l("Ghi chú"), max_length=255, required=False)

    def __init__(self, *args, fund, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["superior_union"].queryset = SuperiorUnion.objects.filter(fund=fund).order_by(
            "code"
        )


@access(FUND_OFFICERS)
def allocations(request):
    """Each superior union's lending capacity in force, what it has lent and what is left, and
    a new capacity from a date (``fund.services.lending_allocation_set``; setting the same
    union and date again replaces that day's figure, so a double submit records one change)."""
    fund = request.user.officer.fund
    form = AllocationForm(request.POST or None, fund=fund, initial={"valid_from": business_today()})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            try:
                lending_allocation_set(
                    superior_union=d["superior_union"],
                    amount=d["amount"],
                    valid_from=d["valid_from"],
                    note=d["note"],
                    actor=request.user,
                )
            except ApplicationError as e:
                form_error_apply(form, e, field_map={"amount": "amount"})
            else:
                messages.success(
                    request,
                    _("Đã đặt hạn mức cho vay của %(union)s.") % {"union": d["superior_union"]},
                )
                return redirect("fundweb:allocations")
        status = 400
    rows = []
    for su in SuperiorUnion.objects.filter(fund=fund).order_by("code"):
        allocation = lending_allocation_in_force(superior_union=su)
        rows.append(
            {
                "union": su,
                "allocation": allocation,
                "outstanding": loans_outstanding(fund=fund, superior_union=su),
                "available": (
                    capital_available(fund=fund, superior_union=su)
                    if allocation is not None
                    else None
                ),
            }
        )
    history = (
        LendingAllocation.objects.filter(fund=fund)
        .select_related("superior_union", "created_by")
        .order_by("-valid_from", "-id")[:50]
    )
    return render(
        request,
        "fund/allocations.html",
        {"form": form, "rows": rows, "history": history},
        status=status,
    )


@access(FUND_OFFICERS)
def signin_failures(request):
    """Recent failed sign-ins and lockouts of the fund's users (django-axes' log), so that a
    fund officer sees an account under attack or a colleague locked out."""
    events = signin_failures_recent(request.scope.fund_id)
    context = {
        "events": events,
        "limit": settings.AXES_FAILURE_LIMIT,
        "minutes": lockout_minutes(),
    }
    return render(request, "fund/signin_failures.html", context)


# --------------------------------------------------------------------------------------------
# Working days: the fund's calendar


class CalendarDayForm(forms.Form):
    DAY_OFF, WORKING, RULE = "off", "working", "rule"
    day = date_field(_l("Ngày"))
    kind = forms.ChoiceField(
        label=_l("Ngày này là"),
        choices=[
            (DAY_OFF, _l("Ngày nghỉ của quỹ")),
            (WORKING, _l("Ngày làm việc (làm bù)")),
            (RULE, _l("Theo lịch chung (bỏ thay đổi của quỹ)")),
        ],
        error_messages={"required": _l("Chọn loại ngày."), "invalid_choice": _l("Chọn loại ngày.")},
    )
    note = forms.CharField(label=_l("Ghi chú"), max_length=255, required=False)


@access(FUND_OFFICERS)
def working_calendar(request):
    """The fund's days off for a year: Vietnam's public holidays (Tết included) and the days
    the fund adds or removes (``fund.calendar``). Due dates of loans disbursed from now on
    follow it by their product's rule; loans already disbursed keep their dates."""
    fund = request.user.officer.fund
    year = _year_arg(request.GET.get("year"), business_today().year)
    form = CalendarDayForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            try:
                if d["kind"] == CalendarDayForm.RULE:
                    calendar_day_clear(fund=fund, day=d["day"], actor=request.user)
                else:
                    calendar_day_set(
                        fund=fund,
                        day=d["day"],
                        working=d["kind"] == CalendarDayForm.WORKING,
                        note=d["note"],
                        actor=request.user,
                    )
            except ApplicationError as e:
                form_error_apply(form, e)
            else:
                messages.success(
                    request,
                    _("Đã cập nhật lịch làm việc ngày %(day)s.") % {"day": f"{d['day']:%d/%m/%Y}"},
                )
                return redirect(f"{reverse('fundweb:calendar')}?year={d['day'].year}")
        status = 400
    context = {
        "form": form,
        "year": year,
        "rows": year_calendar(fund.pk, year),
        "previous": year - 1,
        "next": year + 1,
    }
    return render(request, "fund/calendar.html", context, status=status)
