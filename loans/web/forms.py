"""Forms of the loan pages: input checks only; the rules live in the services."""

from __future__ import annotations

import re
from datetime import date

from django import forms
from django.utils.translation import gettext_lazy as _

from accounting.dates import business_today
from accounting.errors import translatable
from fund.accounts import BANK, CASH
from fund.models import GrassrootsUnion
from fund.scoping import scope_filter
from fund.web.forms import (
    IdempotentForm,
    VndField,
    amount_field,
    backdate_reason_field,
    date_field,
    form_error_apply,
)
from loans.models import (
    HouseholdStatus,
    LoanProduct,
    LoanStatus,
    PurposeKind,
    SecurityKind,
    Sex,
)

BORROWER_FIELDS = (
    "full_name",
    "date_of_birth",
    "sex",
    "national_id",
    "household_status",
    "phone",
    "address",
    "certificate_number",
    "certificate_date",
)
APPLICATION_FIELDS = (
    "product",
    "amount",
    "term",
    "purpose_kind",
    "purpose",
    "planned_jobs",
    "security_kind",
    "group_name",
    "guarantor_name",
    "guarantor_national_id",
    "guarantor_phone",
    "guarantor_relationship",
)


class ProposeForm(IdempotentForm):
    """A member and their application, as the grassroots union's officer types them."""

    full_name = forms.CharField(label=_("Họ và tên"), max_length=255)
    date_of_birth = date_field(_("Ngày sinh"))
    sex = forms.ChoiceField(label=_("Giới tính"), choices=Sex.choices)
    national_id = forms.CharField(label=_("Số CCCD"), max_length=12, min_length=12)
    household_status = forms.ChoiceField(
        label=_("Hoàn cảnh hộ gia đình"), choices=HouseholdStatus.choices
    )
    phone = forms.CharField(label=_("Điện thoại"), max_length=32, required=False)
    address = forms.CharField(label=_("Địa chỉ"), max_length=255, required=False)
    certificate_number = forms.CharField(label=_("Số giấy chứng nhận hộ"), max_length=64)
    certificate_date = date_field(_("Ngày cấp giấy chứng nhận"))
    product = forms.ModelChoiceField(label=_("Sản phẩm vay"), queryset=LoanProduct.objects.none())
    amount = amount_field(_("Số tiền đề nghị vay (đồng)"))
    term = forms.IntegerField(label=_("Thời hạn (số kỳ)"), min_value=1, max_value=360)
    purpose_kind = forms.ChoiceField(label=_("Lĩnh vực sử dụng vốn"), choices=PurposeKind.choices)
    purpose = forms.CharField(
        label=_("Mục đích sử dụng vốn"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
    planned_jobs = forms.IntegerField(
        label=_("Số việc làm mới dự kiến"), min_value=0, max_value=1000, initial=1
    )
    security_kind = forms.ChoiceField(label=_("Hình thức bảo đảm"), choices=SecurityKind.choices)
    group_name = forms.CharField(label=_("Tên tổ, nhóm vay vốn"), max_length=255, required=False)
    guarantor_name = forms.CharField(
        label=_("Họ tên người bảo lãnh"), max_length=255, required=False
    )
    guarantor_national_id = forms.CharField(
        label=_("Số CCCD người bảo lãnh"), max_length=12, required=False
    )
    guarantor_phone = forms.CharField(
        label=_("Điện thoại người bảo lãnh"), max_length=32, required=False
    )
    guarantor_relationship = forms.CharField(
        label=_("Quan hệ với người vay"), max_length=64, required=False
    )

    def __init__(self, *args, fund, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = LoanProduct.objects.filter(fund=fund, active=True)
        products = list(self.fields["product"].queryset[:2])
        if len(products) == 1:
            self.fields["product"].initial = products[0].pk

    def borrower_values(self) -> dict:
        return {k: self.cleaned_data[k] for k in BORROWER_FIELDS}

    def application_values(self) -> dict:
        return {k: self.cleaned_data[k] for k in APPLICATION_FIELDS}


class MemberApplicationForm(ProposeForm):
    """A new application for a member already registered: the application's fields only."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in BORROWER_FIELDS:
            del self.fields[name]


class ReviewForm(IdempotentForm):
    decision = forms.ChoiceField(
        label=_("Ý kiến thẩm định"),
        choices=[
            ("approve", _("Đồng ý, chuyển quỹ phê duyệt")),
            ("return", _("Trả lại để bổ sung")),
            ("reject", _("Từ chối")),
        ],
    )
    note = forms.CharField(
        label=_("Ghi chú / lý do"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    decided_on = date_field(_("Ngày thẩm định"), required=False, help_text=_("Để trống: hôm nay."))
    backdate_reason = backdate_reason_field()


class ApproveForm(IdempotentForm):
    decided_on = date_field(_("Ngày phê duyệt"), required=False, help_text=_("Để trống: hôm nay."))
    backdate_reason = backdate_reason_field()


class ReasonForm(IdempotentForm):
    """A rejection or cancellation: the reason, and the decision's own date."""

    reason = forms.CharField(
        label=_("Lý do"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
    decided_on = date_field(_("Ngày quyết định"), required=False, help_text=_("Để trống: hôm nay."))
    backdate_reason = backdate_reason_field()


class DisburseForm(IdempotentForm):
    disbursed_on = date_field(_("Ngày giải ngân"))
    backdate_reason = backdate_reason_field()


MAX_BATCH_DISBURSEMENTS = 500


class BatchDisburseForm(DisburseForm):
    """Several approved applications paid out on one date (``loan_disburse_many``); each takes
    its own key, derived from the form's."""

    cash_account = forms.ChoiceField(
        label=_("Chi từ tài khoản"),
        choices=[(BANK, _("1121 — Tiền gửi ngân hàng")), (CASH, _("1111 — Tiền mặt"))],
        initial=BANK,
    )
    applications = forms.ModelMultipleChoiceField(
        label=_("Hồ sơ"),
        queryset=None,
        error_messages={
            "required": _("Chọn ít nhất một hồ sơ để giải ngân."),
            "invalid_choice": _("Hồ sơ %(value)s không còn chờ giải ngân trong phạm vi của bạn."),
        },
    )

    def __init__(self, *args, applications, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["applications"].queryset = applications

    def clean_applications(self):
        apps = sorted(self.cleaned_data["applications"], key=lambda a: a.pk)
        if len(apps) > MAX_BATCH_DISBURSEMENTS:
            raise forms.ValidationError(
                _("Mỗi lần giải ngân tối đa %(n)s hồ sơ.") % {"n": MAX_BATCH_DISBURSEMENTS}
            )
        return apps

    def keys(self) -> list[str]:
        key = self.cleaned_data["idempotency_key"]
        return [f"{key}:{a.pk}" for a in self.cleaned_data["applications"]]


class RepaymentForm(IdempotentForm):
    amount = amount_field(_("Số tiền trả (đồng)"))
    paid_on = date_field(_("Ngày trả"))
    backdate_reason = backdate_reason_field()


LINE_FIELD = re.compile(r"^lines\[(\d+)\]")


class CollectionEntryForm(IdempotentForm):
    """One remittance: the receipt, the date and what each borrower paid (empty: nothing)."""

    receipt_number = forms.CharField(label=_("Số chứng từ nộp tiền"), max_length=64)
    paid_on = date_field(_("Ngày nộp"))
    backdate_reason = backdate_reason_field()

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = lines
        for line in lines:
            self.fields[self.amount_name(line.loan)] = VndField(
                label=line.loan.borrower.full_name, required=False, min_value=0
            )

    @staticmethod
    def amount_name(loan) -> str:
        return f"amount_{loan.pk}"

    def rows(self):
        """(row number as the page shows it, line, amount field) for every line of the sheet."""
        for n, line in enumerate(self.lines, 1):
            yield n, line, self[self.amount_name(line.loan)]

    def row_number(self, loan) -> int:
        """The row of `loan` on the page (1 for the first member listed)."""
        return next(n for n, line in enumerate(self.lines, 1) if line.loan.pk == loan.pk)

    def line_error_apply(self, error) -> None:
        """A refusal of the remittance's service, on the row it is about.

        The service numbers the lines it was given (``lines[0]`` is the first member with an
        amount), not the rows of the page: the refusal of its n-th line goes to the row of that
        line's loan and says that row's number. Any other refusal goes to its field."""
        found = LINE_FIELD.match(error.field or "")
        paid = self.paid_lines()
        if found and int(found[1]) < len(paid) and "message" in error.params:
            loan = paid[int(found[1])][0]
            message = translatable(
                _("Dòng %(row)s: %(message)s"),
                {"row": self.row_number(loan), "message": error.params["message"]},
            )
            self.add_error(self.amount_name(loan), message)
        else:
            form_error_apply(self, error)

    def paid_lines(self) -> list:
        """(loan, amount) for every line with an amount above zero."""
        out = []
        for line in self.lines:
            amount = self.cleaned_data.get(self.amount_name(line.loan))
            if amount:
                out.append((line.loan, amount))
        return out

    def clean(self):
        data = super().clean()
        if not self.errors and not self.paid_lines():
            raise forms.ValidationError(_("Nhập số tiền đã thu của ít nhất một thành viên."))
        return data


class GrassrootsUnionFilterField(forms.ModelChoiceField):
    """A grassroots union to filter by: a select while the scope holds a few hundred unions; a
    box for the union's code (an id works too) beyond, where a select of thousands of options
    would be unusable and slow to render (``use_code_box``)."""

    SELECT_LIMIT = 300

    def use_code_box(self) -> None:
        self.widget = forms.TextInput(attrs={"placeholder": _("Mã công đoàn cơ sở")})

    def to_python(self, value):
        if value in self.empty_values:
            return None
        by_code = self.queryset.filter(code=str(value).strip()).first()
        return by_code if by_code is not None else super().to_python(value)


class LoanFilterForm(forms.Form):
    q = forms.CharField(label=_("Tìm"), required=False)
    status = forms.ChoiceField(label=_("Trạng thái"), required=False)
    grassroots_union = GrassrootsUnionFilterField(
        label=_("Công đoàn cơ sở"), required=False, queryset=None
    )
    debt_group = forms.TypedChoiceField(
        label=_("Nhóm nợ"),
        required=False,
        coerce=int,
        choices=[("", "—")] + [(n, str(n)) for n in range(1, 6)],
    )
    overdue = forms.BooleanField(label=_("Quá hạn"), required=False)

    def __init__(self, *args, scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", "—"), *LoanStatus.choices]
        unions = self.fields["grassroots_union"]
        unions.queryset = scope_filter(
            GrassrootsUnion.objects.order_by("code"), scope, grassroots_field=""
        )
        if unions.queryset[: unions.SELECT_LIMIT + 1].count() > unions.SELECT_LIMIT:
            unions.use_code_box()

    def filters(self) -> dict:
        """The arguments of ``loans.servicing.selectors.loan_search``: none when invalid."""
        if not self.is_valid():
            return {}
        d = self.cleaned_data
        return {
            "q": d["q"],
            "status": d["status"],
            "grassroots_union": d["grassroots_union"],
            "debt_group": d["debt_group"],
            "overdue": d["overdue"],
        }


def sheet_month(data) -> tuple[int, int]:
    """The month of a union's collection sheet (its page, its PDF, its history's XLSX):
    ``month=YYYY-MM`` in `data` (a query), else the month of the fund's business day."""
    try:
        year, month = (int(x) for x in data.get("month", "").split("-"))
        date(year, month, 1)
        return year, month
    except (TypeError, ValueError):
        today = business_today()
        return today.year, today.month


class MonthRangeForm(forms.Form):
    """A range of months (``YYYY-MM``, as a month input sends it) of a union's collection
    history: at most ``MAX_MONTHS`` months, the first not after the last."""

    MAX_MONTHS = 24

    first = forms.CharField(label=_("Từ tháng"), required=False)
    last = forms.CharField(label=_("Đến tháng"), required=False)

    def __init__(self, data, *, default_last: tuple[int, int], default_count: int = 3):
        super().__init__(data)
        self.default_last = default_last
        y, m = default_last
        for _n in range(default_count - 1):
            y, m = (y, m - 1) if m > 1 else (y - 1, 12)
        self.default_first = (y, m)

    @staticmethod
    def _month(value: str, field: str) -> tuple[int, int] | None:
        if not value:
            return None
        try:
            year, month = (int(x) for x in value.split("-"))
            if not (1 <= month <= 12 and 2000 <= year <= 2100):
                raise ValueError
        except ValueError:
            raise forms.ValidationError(
                {field: _("Tháng phải có dạng năm-tháng, ví dụ 2026-03.")}
            ) from None
        return year, month

    def clean(self):
        data = super().clean()
        first = self._month(data.get("first") or "", "first") or self.default_first
        last = self._month(data.get("last") or "", "last") or self.default_last
        if first > last:
            raise forms.ValidationError({"first": _("Tháng đầu phải không sau tháng cuối.")})
        if (last[0] - first[0]) * 12 + last[1] - first[1] >= self.MAX_MONTHS:
            raise forms.ValidationError(
                {"first": _("Chọn tối đa %(n)s tháng.") % {"n": self.MAX_MONTHS}}
            )
        data["range"] = (first, last)
        return data

    @classmethod
    def of_sheet(cls, data) -> MonthRangeForm:
        """The history range of a collection sheet, the one rule of its page, its PDF and its
        XLSX: ``first=&last=`` in `data`, else the three months up to the sheet's month
        (:func:`sheet_month`)."""
        return cls(data, default_last=sheet_month(data))

    def months(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """(first, last): the valid range, or the default one when the input is wrong."""
        if self.is_valid():
            return self.cleaned_data["range"]
        return self.default_first, self.default_last
