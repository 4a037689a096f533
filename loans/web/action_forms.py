"""Forms of a loan's life after disbursement: follow-up visit, reversal of a repayment,
rescheduling, interest waiver, write-off, recovery after write-off, closure and recall.

Input checks only (types, required fields, dates); the rules live in the services
(``loans.servicing.visits``, ``loans.servicing.repayments``, ``loans.restructuring.decisions``),
whose refusals the views show next to the field they name. Each form carries an idempotency key
(``IdempotentForm``).
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from fund.models import Role
from fund.web.forms import IdempotentForm, amount_field, backdate_reason_field, date_field
from loans.models import FollowUpVisit, Loan, Repayment, WriteOffCause

YES_NO = [("yes", _("Có")), ("no", _("Không"))]


def _yes_no_field(label, **kwargs) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        choices=YES_NO,
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": _("Chọn có hoặc không.")},
        **kwargs,
    )


def _reason_field(label=None, *, required=True) -> forms.CharField:
    return forms.CharField(
        label=label or _("Lý do"),
        max_length=500,
        required=required,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Phải ghi lý do.")},
    )


class LoanActionForm(IdempotentForm):
    """A form about one loan; `loan` and `user` (the officer filling it in) are given."""

    def __init__(self, *args, loan: Loan, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.loan = loan

    def summary(self) -> list[tuple[str, str]]:
        """(label, value as shown) of the cleaned fields, for the confirmation page."""
        out = []
        for name, field in self.fields.items():
            if isinstance(field.widget, forms.HiddenInput):
                continue
            bound = self[name]
            value = self.cleaned_data.get(name)
            if value in (None, ""):
                continue
            if isinstance(field, forms.ChoiceField) and not isinstance(
                field, forms.ModelChoiceField
            ):
                raw = bound.data if not isinstance(bound.data, list) else bound.data[0]
                value = dict(field.choices).get(raw, value)
            elif isinstance(field, forms.BooleanField):
                value = _("Có") if value else _("Không")
            elif hasattr(value, "strftime"):
                value = value.strftime("%d/%m/%Y")
            elif isinstance(field, forms.ModelChoiceField):
                value = field.label_from_instance(value)
            out.append((field.label, value))
        return out


class FollowUpVisitForm(LoanActionForm):
    visited_on = date_field(_("Ngày kiểm tra"))
    purpose_verified = _yes_no_field(_("Vốn vay được sử dụng đúng mục đích"))
    jobs_confirmed = forms.IntegerField(
        label=_("Số việc làm mới xác nhận thêm"),
        min_value=0,
        max_value=1000,
        help_text=_("Việc làm mới tạo ra nhờ khoản vay, chưa xác nhận ở lần kiểm tra trước."),
    )
    note = forms.CharField(
        label=_("Ghi chú (người cùng kiểm tra, hiện trạng sử dụng vốn)"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    recall = forms.BooleanField(
        label=_("Thu hồi nợ trước hạn ngay (khi vốn bị sử dụng sai mục đích)"), required=False
    )
    backdate_reason = backdate_reason_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.user.officer.role != Role.FUND_OFFICER:
            # the recall is the fund's decision, and only the recall needs a back-dating reason
            del self.fields["recall"]
            del self.fields["backdate_reason"]

    def clean(self):
        data = super().clean()
        if data.get("recall") and data.get("purpose_verified") is True:
            self.add_error("recall", _("Chỉ thu hồi trước hạn khi vốn bị sử dụng sai mục đích."))
        return data

    @property
    def destructive(self) -> bool:
        return bool(self.cleaned_data.get("recall"))


class RepaymentReverseForm(LoanActionForm):
    repayment = forms.ModelChoiceField(
        label=_("Lần trả nợ cần hủy"),
        queryset=Repayment.objects.none(),
        error_messages={"required": _("Chọn lần trả nợ cần hủy.")},
    )
    reason = _reason_field(_("Lý do hủy"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["repayment"]
        # Any repayment of the loan is accepted (a double submit names the one reversed by the
        # first; the service answers it from its idempotency record), only those in force are
        # offered.
        field.queryset = self.loan.repayments.select_related("batch").order_by("-pk")
        field.label_from_instance = self.repayment_label
        in_force = [r for r in field.queryset if r.reversal_entry_id is None]
        field.widget.choices = [(r.pk, self.repayment_label(r)) for r in in_force]
        if not self.is_bound and "repayment" not in self.initial and in_force:
            self.initial["repayment"] = in_force[0].pk

    @staticmethod
    def repayment_label(rep: Repayment) -> str:
        from accounting.formatting import format_vnd
        from accounting.money import amount_of

        text = f"#{rep.pk} · {rep.paid_on:%d/%m/%Y} · {format_vnd(amount_of(rep.amount))}"
        if rep.batch_id:
            text += " · " + str(_("đợt nộp %(receipt)s") % {"receipt": rep.batch.receipt_number})
        return text


def _method_choices():
    return Loan._meta.get_field("method").choices


class RescheduleForm(LoanActionForm):
    effective_date = date_field(_("Ngày hiệu lực"))
    backdate_reason = backdate_reason_field()
    term = forms.IntegerField(label=_("Số kỳ trả nợ mới"), min_value=1, max_value=600)
    method = forms.ChoiceField(label=_("Phương thức tính lãi"), choices=())
    first_due_date = date_field(
        _("Ngày đến hạn kỳ đầu"),
        required=False,
        help_text=_("Để trống: một kỳ sau ngày hiệu lực."),
    )
    reason = _reason_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["method"].choices = _method_choices()
        self.initial.setdefault("method", self.loan.method)


class InterestWaiveForm(LoanActionForm):
    waived_on = date_field(_("Ngày miễn giảm"))
    backdate_reason = backdate_reason_field()
    interest = forms.BooleanField(label=_("Miễn lãi đến hạn chưa trả"), required=False)
    penalty = forms.BooleanField(label=_("Miễn lãi phạt chưa trả"), required=False)
    reason = _reason_field()

    def clean(self):
        data = super().clean()
        if not data.get("interest") and not data.get("penalty"):
            self.add_error("interest", _("Phải chọn miễn lãi, lãi phạt hoặc cả hai."))
        return data


class WriteOffForm(LoanActionForm):
    written_off_on = date_field(_("Ngày xử lý rủi ro"))
    backdate_reason = backdate_reason_field()
    cause = forms.ChoiceField(
        label=_("Nguyên nhân"), choices=WriteOffCause.choices, widget=forms.RadioSelect
    )
    note = _reason_field(_("Ghi chú (bắt buộc với nguyên nhân khác)"), required=False)

    def clean(self):
        data = super().clean()
        if data.get("cause") == WriteOffCause.OTHER and not (data.get("note") or "").strip():
            self.add_error("note", _("Ghi rõ nguyên nhân khi chọn nguyên nhân khác."))
        return data


class WriteOffRecoveryForm(LoanActionForm):
    amount = amount_field(_("Số tiền thu hồi (đồng)"))
    received_on = date_field(_("Ngày thu hồi"))
    backdate_reason = backdate_reason_field()


class LoanCloseForm(LoanActionForm):
    closed_on = date_field(_("Ngày tất toán"))
    backdate_reason = backdate_reason_field()
    apply_savings = forms.BooleanField(
        label=_("Trừ tiết kiệm bắt buộc vào số nợ còn lại"),
        required=False,
        help_text=_(
            "Phần tiết kiệm còn lại được hoàn trả cho người vay, trừ khi họ còn khoản vay khác."
        ),
    )


class LoanRecallForm(LoanActionForm):
    recalled_on = date_field(_("Ngày thu hồi trước hạn"))
    backdate_reason = backdate_reason_field()
    visit = forms.ModelChoiceField(
        label=_("Lần kiểm tra phát hiện sai mục đích"),
        queryset=FollowUpVisit.objects.none(),
        required=False,
        help_text=_("Để trống: lần kiểm tra gần nhất ghi nhận sai mục đích."),
    )
    reason = _reason_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["visit"].queryset = self.loan.visits.filter(purpose_verified=False).order_by(
            "-visited_on", "-pk"
        )
        self.fields["visit"].label_from_instance = lambda v: (
            f"{v.visited_on:%d/%m/%Y}" + (f" — {v.note}" if v.note else "")
        )


class ChangeRequestRejectForm(forms.Form):
    note = _reason_field(_("Lý do từ chối"))
