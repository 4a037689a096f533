"""Input and output serializers of the loan book's API (``loans.api.views``), kept apart: input
serializers only check the shape of a request (the services hold the rules), output serializers
only present rows. Ids in a request are plain integers the view resolves within the user's
scope, so that another unit's id answers 404 and never reveals whether it exists."""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apicommon.fields import BackdateReasonField, BusinessDateField, IdField, MoneyField
from fund.accounts import BANK, CASH_ACCOUNTS
from loans.documents.selectors import application_documents_missing
from loans.models import (
    METHOD_CHOICES,
    ApplicationStatus,
    DocumentKind,
    HouseholdStatus,
    InstallmentStatus,
    LoanChangeRequest,
    LoanStatus,
    PurposeKind,
    SecurityKind,
    Sex,
    WriteOffCause,
)
from loans.origination.applications import MAX_PLANNED_JOBS, REVIEW_DECISIONS
from loans.servicing.repayments import OVERPAYMENT_CHOICES

MAX_BATCH_LINES = 2000


def _text(max_length: int, **kwargs):
    kwargs.setdefault("required", False)
    kwargs.setdefault("allow_blank", True)
    return serializers.CharField(max_length=max_length, **kwargs)


# --------------------------------------------------------------------------------------------
# Filters (query strings)


class UnitFilter(serializers.Serializer):
    grassroots_union = IdField(required=False)
    superior_union = IdField(required=False)


class BorrowerFilter(UnitFilter):
    q = serializers.CharField(
        required=False, max_length=100, help_text="Họ tên (chứa) hoặc số CCCD (bắt đầu bằng)"
    )
    household_status = serializers.ChoiceField(choices=HouseholdStatus.choices, required=False)


class ProductFilter(serializers.Serializer):
    active = serializers.BooleanField(required=False, allow_null=True, default=None)

    def validate(self, attrs):
        return {k: v for k, v in attrs.items() if v is not None}


class ApplicationFilter(UnitFilter):
    status = serializers.ChoiceField(choices=ApplicationStatus.choices, required=False)
    borrower = IdField(required=False)
    q = serializers.CharField(required=False, max_length=100, help_text="Họ tên hoặc CCCD")


class LoanFilter(UnitFilter):
    status = serializers.ChoiceField(choices=LoanStatus.choices, required=False)
    debt_group = serializers.IntegerField(required=False, min_value=1, max_value=10)
    borrower = IdField(required=False)
    overdue = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Chỉ khoản vay đang quá hạn theo lần khóa sổ cuối ngày gần nhất (ngày nghiệp vụ)",
    )
    q = serializers.CharField(required=False, max_length=100, help_text="Họ tên hoặc CCCD")


class PayoffQuoteFilter(serializers.Serializer):
    on = BusinessDateField(required=False, help_text="Mặc định: hôm nay")


class RepaymentFilter(serializers.Serializer):
    loan = IdField(required=False)
    batch = IdField(required=False)
    paid_from = BusinessDateField(required=False)
    paid_to = BusinessDateField(required=False)


class BatchFilter(serializers.Serializer):
    grassroots_union = IdField(required=False)


# --------------------------------------------------------------------------------------------
# Borrowers


class BorrowerUpdateInput(serializers.Serializer):
    full_name = serializers.CharField(max_length=255, required=False)
    date_of_birth = BusinessDateField(required=False)
    sex = serializers.ChoiceField(choices=Sex.choices, required=False)
    national_id = serializers.CharField(max_length=12, required=False)
    household_status = serializers.ChoiceField(choices=HouseholdStatus.choices, required=False)
    phone = _text(32)
    address = _text(255)
    certificate_number = _text(64)
    certificate_date = BusinessDateField(required=False, allow_null=True)
    certificate_valid_to = BusinessDateField(required=False, allow_null=True)
    notes = _text(5000)


class BorrowerCreateInput(BorrowerUpdateInput):
    grassroots_union = IdField()
    full_name = serializers.CharField(max_length=255)
    date_of_birth = BusinessDateField()
    sex = serializers.ChoiceField(choices=Sex.choices)
    national_id = serializers.CharField(max_length=12)
    household_status = serializers.ChoiceField(choices=HouseholdStatus.choices)
    member_since = BusinessDateField(required=False, allow_null=True)


class BusinessDateOutput(serializers.Serializer):
    business_date = serializers.DateField(
        allow_null=True,
        help_text=(
            "Ngày nghiệp vụ của quỹ: ngày khóa sổ cuối ngày gần nhất; số liệu nợ quá hạn "
            "(days_past_due, debt_group, ?overdue=true) là của ngày này; null khi chưa khóa sổ"
        ),
    )


class BorrowerOutput(serializers.Serializer):
    id = serializers.IntegerField()
    full_name = serializers.CharField()
    national_id = serializers.CharField()
    date_of_birth = serializers.DateField()
    sex = serializers.CharField()
    household_status = serializers.CharField()
    household_status_display = serializers.CharField(source="get_household_status_display")
    phone = serializers.CharField(allow_blank=True)
    grassroots_union_id = serializers.IntegerField()


class BorrowerDetailOutput(BorrowerOutput):
    address = serializers.CharField(allow_blank=True)
    certificate_number = serializers.CharField(allow_blank=True)
    certificate_date = serializers.DateField(allow_null=True)
    certificate_valid_to = serializers.DateField(allow_null=True)
    notes = serializers.CharField(allow_blank=True)
    outstanding = MoneyField(allow_zero=True, help_text="Dư nợ gốc các khoản đang vay")
    created_at = serializers.DateTimeField()


class BorrowerTransferInput(serializers.Serializer):
    grassroots_union = IdField()
    effective_date = BusinessDateField()


# --------------------------------------------------------------------------------------------
# Products


class ProductOutput(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    active = serializers.BooleanField()
    min_amount = MoneyField()
    max_amount = MoneyField()
    min_term = serializers.IntegerField()
    max_term = serializers.IntegerField()
    rate = serializers.DecimalField(max_digits=9, decimal_places=4)
    rate_period = serializers.CharField()
    method = serializers.CharField()
    frequency = serializers.CharField()
    day_off_rule = serializers.CharField()
    principal_grace = serializers.IntegerField()
    interest_grace = serializers.IntegerField()
    penalty_rate = serializers.DecimalField(max_digits=9, decimal_places=4)
    penalty_rate_period = serializers.CharField()
    savings_kind = serializers.CharField()
    savings_percent = serializers.DecimalField(max_digits=6, decimal_places=3)
    savings_amount = MoneyField(allow_zero=True)
    min_age = serializers.IntegerField()
    max_age = serializers.IntegerField()
    creates_jobs = serializers.BooleanField()
    required_document_kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=DocumentKind.choices),
        help_text="Tài liệu hồ sơ vay phải có trước khi cấp trên thẩm định",
    )
    description = serializers.CharField(allow_blank=True)


# --------------------------------------------------------------------------------------------
# Applications


class ApplicationUpdateInput(serializers.Serializer):
    product = IdField(required=False)
    amount = MoneyField(required=False)
    term = serializers.IntegerField(required=False, min_value=1, max_value=600)
    purpose_kind = serializers.ChoiceField(choices=PurposeKind.choices, required=False)
    purpose = serializers.CharField(max_length=500, required=False)
    planned_jobs = serializers.IntegerField(required=False, min_value=0, max_value=MAX_PLANNED_JOBS)
    security_kind = serializers.ChoiceField(choices=SecurityKind.choices, required=False)
    guarantor_name = _text(255)
    guarantor_national_id = _text(12)
    guarantor_phone = _text(32)
    guarantor_relationship = _text(64)
    group_name = _text(255)


class ApplicationCreateInput(ApplicationUpdateInput):
    borrower = IdField()
    product = IdField()
    amount = MoneyField()
    term = serializers.IntegerField(min_value=1, max_value=600)
    purpose_kind = serializers.ChoiceField(choices=PurposeKind.choices)
    purpose = serializers.CharField(max_length=500)
    security_kind = serializers.ChoiceField(choices=SecurityKind.choices)


class ReviewInput(serializers.Serializer):
    decision = serializers.ChoiceField(choices=REVIEW_DECISIONS)
    note = _text(500, default="")
    decided_on = BusinessDateField(
        required=False, help_text="Ngày thẩm định (mặc định: hôm nay; không sau hôm nay)"
    )
    backdate_reason = BackdateReasonField()


class ApproveInput(serializers.Serializer):
    decided_on = BusinessDateField(
        required=False,
        help_text="Ngày phê duyệt (mặc định: hôm nay; không sau hôm nay, không trước thẩm định)",
    )
    backdate_reason = BackdateReasonField()


class ChangeRequestApproveInput(serializers.Serializer):
    backdate_reason = BackdateReasonField(
        help_text="Lý do ghi sổ lùi ngày, khi ngày của đề nghị đã ra ngoài kỳ đang mở của quỹ "
        "từ lúc lập đề nghị (đề nghị đã có lý do thì giữ lý do đó)"
    )


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class DecisionReasonInput(ReasonInput):
    decided_on = BusinessDateField(
        required=False,
        help_text="Ngày quyết định (mặc định: hôm nay; không sau hôm nay, không trước thẩm định "
        "hay phê duyệt)",
    )
    backdate_reason = BackdateReasonField()


class ReverseInput(ReasonInput):
    backdate_reason = BackdateReasonField(
        help_text="Lý do ghi sổ lùi ngày của bút toán đảo (mang ngày của lần trả nợ); để trống: "
        "dùng lý do hủy"
    )


class DisburseInput(serializers.Serializer):
    disbursed_on = BusinessDateField(required=False, help_text="Mặc định: hôm nay")
    cash_account = serializers.ChoiceField(choices=CASH_ACCOUNTS, default=BANK)
    backdate_reason = BackdateReasonField()


class ApplicationEventOutput(serializers.Serializer):
    action = serializers.CharField()
    from_status = serializers.CharField(allow_blank=True)
    to_status = serializers.CharField()
    actor_id = serializers.IntegerField(allow_null=True)
    at = serializers.DateTimeField()
    note = serializers.CharField(allow_blank=True)


class ApplicationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    status_display = serializers.CharField(source="get_status_display")
    borrower_id = serializers.IntegerField()
    borrower_name = serializers.CharField(source="borrower.full_name")
    product_id = serializers.IntegerField()
    grassroots_union_id = serializers.IntegerField()
    superior_union_id = serializers.IntegerField()
    amount = MoneyField()
    term = serializers.IntegerField()
    purpose_kind = serializers.CharField()
    purpose = serializers.CharField()
    planned_jobs = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    loan_id = serializers.SerializerMethodField()

    @extend_schema_field({"type": "integer", "nullable": True})
    def get_loan_id(self, obj):
        try:
            return obj.loan.pk
        except ObjectDoesNotExist:
            return None


class ApplicationDetailOutput(ApplicationOutput):
    security_kind = serializers.CharField()
    guarantor_name = serializers.CharField(allow_blank=True)
    guarantor_national_id = serializers.CharField(allow_blank=True)
    guarantor_phone = serializers.CharField(allow_blank=True)
    guarantor_relationship = serializers.CharField(allow_blank=True)
    group_name = serializers.CharField(allow_blank=True)
    submitted_at = serializers.DateTimeField(allow_null=True)
    reviewed_at = serializers.DateTimeField(allow_null=True)
    reviewed_on = serializers.DateField(
        allow_null=True, help_text="Ngày thẩm định (ngày quyết định)"
    )
    review_note = serializers.CharField(allow_blank=True)
    approved_at = serializers.DateTimeField(allow_null=True)
    approved_on = serializers.DateField(
        allow_null=True, help_text="Ngày phê duyệt (ngày quyết định)"
    )
    decided_at = serializers.DateTimeField(allow_null=True)
    decided_on = serializers.DateField(allow_null=True, help_text="Ngày từ chối hoặc hủy hồ sơ")
    decision_reason = serializers.CharField(allow_blank=True)
    terms = serializers.JSONField(allow_null=True)
    events = ApplicationEventOutput(many=True, source="events.all")
    documents_missing = serializers.SerializerMethodField(
        help_text="Loại tài liệu sản phẩm yêu cầu trước thẩm định mà hồ sơ còn thiếu"
    )

    def get_documents_missing(self, app) -> list[str]:
        return application_documents_missing(app)


# --------------------------------------------------------------------------------------------
# Loans and schedules


class LoanOutput(serializers.Serializer):
    id = serializers.IntegerField()
    application_id = serializers.IntegerField()
    borrower_id = serializers.IntegerField()
    borrower_name = serializers.CharField(source="borrower.full_name")
    product_id = serializers.IntegerField()
    grassroots_union_id = serializers.IntegerField()
    superior_union_id = serializers.IntegerField()
    principal = MoneyField()
    outstanding_principal = MoneyField(allow_zero=True)
    disbursed_on = serializers.DateField()
    maturity_date = serializers.DateField()
    term = serializers.IntegerField()
    rate = serializers.DecimalField(max_digits=9, decimal_places=4)
    rate_period = serializers.CharField()
    method = serializers.CharField()
    frequency = serializers.CharField()
    status = serializers.CharField()
    status_display = serializers.CharField(source="get_status_display")
    days_past_due = serializers.IntegerField()
    debt_group = serializers.IntegerField()
    planned_jobs = serializers.IntegerField()
    schedule_version = serializers.IntegerField()
    disbursement_entry_id = serializers.IntegerField(allow_null=True)
    closed_on = serializers.DateField(allow_null=True)


class InstallmentOutput(serializers.Serializer):
    number = serializers.IntegerField()
    due_date = serializers.DateField()
    status = serializers.ChoiceField(choices=InstallmentStatus.choices)
    overdue = serializers.BooleanField()
    paid_on = serializers.DateField(allow_null=True)
    principal_due = MoneyField(allow_zero=True)
    interest_due = MoneyField(allow_zero=True)
    penalty_due = MoneyField(allow_zero=True)
    savings_due = MoneyField(allow_zero=True)
    principal_paid = MoneyField(allow_zero=True)
    interest_paid = MoneyField(allow_zero=True)
    penalty_paid = MoneyField(allow_zero=True)
    savings_paid = MoneyField(allow_zero=True)
    balance_after = MoneyField(allow_zero=True)


class FollowUpVisitInput(serializers.Serializer):
    visited_on = BusinessDateField()
    purpose_verified = serializers.BooleanField()
    jobs_confirmed = serializers.IntegerField(min_value=0, max_value=MAX_PLANNED_JOBS)
    note = _text(500, default="")


class FollowUpVisitOutput(serializers.Serializer):
    id = serializers.IntegerField()
    loan_id = serializers.IntegerField()
    visited_on = serializers.DateField()
    purpose_verified = serializers.BooleanField()
    jobs_confirmed = serializers.IntegerField()
    note = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()


class PayoffQuoteOutput(serializers.Serializer):
    loan_id = serializers.IntegerField()
    on = serializers.DateField()
    principal = MoneyField(allow_zero=True)
    interest = MoneyField(allow_zero=True)
    penalty = MoneyField(allow_zero=True)
    savings = MoneyField(allow_zero=True)
    total = MoneyField(allow_zero=True)


# --------------------------------------------------------------------------------------------
# Repayments


class RepaymentInput(serializers.Serializer):
    loan = IdField()
    amount = MoneyField()
    paid_on = BusinessDateField()
    backdate_reason = BackdateReasonField()
    overpayment = serializers.ChoiceField(choices=OVERPAYMENT_CHOICES, default="refuse")
    collected_by_grassroots_union = IdField(required=False, allow_null=True)


class AllocationOutput(serializers.Serializer):
    installment = serializers.IntegerField(source="installment.number")
    component = serializers.CharField()
    amount = MoneyField()


class RepaymentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    loan_id = serializers.IntegerField()
    batch_id = serializers.IntegerField(allow_null=True)
    collected_by_grassroots_union_id = serializers.IntegerField(allow_null=True)
    paid_on = serializers.DateField()
    amount = MoneyField()
    principal = MoneyField(allow_zero=True)
    interest = MoneyField(allow_zero=True)
    penalty = MoneyField(allow_zero=True)
    savings = MoneyField(allow_zero=True)
    overpayment_savings = MoneyField(allow_zero=True)
    closed_loan = serializers.BooleanField()
    journal_entry_id = serializers.IntegerField()
    reversal_entry_id = serializers.IntegerField(allow_null=True)
    reversal_reason = serializers.CharField(allow_blank=True)
    allocations = AllocationOutput(many=True, source="allocations.all")


class BatchLineInput(serializers.Serializer):
    loan = IdField()
    amount = MoneyField()


class RepaymentBatchInput(serializers.Serializer):
    grassroots_union = IdField()
    receipt_number = serializers.CharField(max_length=64)
    paid_on = BusinessDateField()
    backdate_reason = BackdateReasonField()
    overpayment = serializers.ChoiceField(choices=OVERPAYMENT_CHOICES, default="refuse")
    lines = BatchLineInput(many=True, allow_empty=False, max_length=MAX_BATCH_LINES)


class RepaymentBatchOutput(serializers.Serializer):
    id = serializers.IntegerField()
    grassroots_union_id = serializers.IntegerField()
    receipt_number = serializers.CharField()
    paid_on = serializers.DateField()
    amount = MoneyField()
    created_at = serializers.DateTimeField()


class RepaymentBatchDetailOutput(RepaymentBatchOutput):
    repayments = RepaymentOutput(many=True, source="repayments.all")


# --------------------------------------------------------------------------------------------
# A loan's life after disbursement (``loans.api.actions``): the same decisions as the loan page


class RescheduleInput(serializers.Serializer):
    effective_date = BusinessDateField()
    backdate_reason = BackdateReasonField()
    term = serializers.IntegerField(min_value=1, max_value=600, help_text="Số kỳ trả nợ mới")
    method = serializers.ChoiceField(choices=METHOD_CHOICES, required=False)
    first_due_date = BusinessDateField(
        required=False, allow_null=True, help_text="Mặc định: một kỳ sau"
    )
    reason = serializers.CharField(max_length=500)


class ChangeRequestOutput(serializers.Serializer):
    id = serializers.IntegerField()
    loan_id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=LoanChangeRequest.Kind.choices)
    status = serializers.ChoiceField(choices=LoanChangeRequest.Status.choices)
    terms = serializers.DictField(help_text="Nội dung đề nghị (ngày dạng YYYY-MM-DD)")
    requested_by_id = serializers.IntegerField()
    requested_at = serializers.DateTimeField()
    decided_by_id = serializers.IntegerField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_note = serializers.CharField(allow_blank=True)
    revision_id = serializers.IntegerField(allow_null=True)
    write_off_id = serializers.IntegerField(allow_null=True)


class ChangeRequestFilter(serializers.Serializer):
    status = serializers.ChoiceField(choices=LoanChangeRequest.Status.choices, required=False)
    kind = serializers.ChoiceField(choices=LoanChangeRequest.Kind.choices, required=False)
    loan = IdField(required=False)


class NoteInput(serializers.Serializer):
    note = serializers.CharField(max_length=500)


class ScheduleRevisionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    loan_id = serializers.IntegerField()
    kind = serializers.CharField()
    effective_date = serializers.DateField()
    from_version = serializers.IntegerField()
    to_version = serializers.IntegerField()
    principal = MoneyField(allow_zero=True)
    term = serializers.IntegerField()
    method = serializers.CharField()
    first_due_date = serializers.DateField()
    interest_carried = MoneyField(allow_zero=True)
    penalty_carried = MoneyField(allow_zero=True)
    reason = serializers.CharField()
    visit_id = serializers.IntegerField(allow_null=True)
    requested_by_id = serializers.IntegerField(allow_null=True)
    approved_by_id = serializers.IntegerField(allow_null=True)


class InterestWaiveInput(serializers.Serializer):
    waived_on = BusinessDateField()
    backdate_reason = BackdateReasonField()
    interest = serializers.BooleanField(default=True, help_text="Miễn lãi đến hạn chưa trả")
    penalty = serializers.BooleanField(default=True, help_text="Miễn lãi phạt chưa trả")
    reason = serializers.CharField(max_length=500)


class InterestWaiverOutput(serializers.Serializer):
    id = serializers.IntegerField()
    loan_id = serializers.IntegerField()
    waived_on = serializers.DateField()
    interest = MoneyField(allow_zero=True)
    penalty = MoneyField(allow_zero=True)
    reason = serializers.CharField()


class WriteOffInput(serializers.Serializer):
    written_off_on = BusinessDateField()
    backdate_reason = BackdateReasonField()
    cause = serializers.ChoiceField(choices=WriteOffCause.choices)
    note = _text(500, default="")


class RecoveryInput(serializers.Serializer):
    amount = MoneyField()
    received_on = BusinessDateField()
    backdate_reason = BackdateReasonField()


class RecoveryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    loan_id = serializers.IntegerField()
    received_on = serializers.DateField()
    amount = MoneyField()
    journal_entry_id = serializers.IntegerField()


class CloseInput(serializers.Serializer):
    closed_on = BusinessDateField()
    backdate_reason = BackdateReasonField()
    apply_savings = serializers.BooleanField(
        default=False, help_text="Trừ tiết kiệm bắt buộc vào nợ (không: hoàn trả thành viên)"
    )


class ClosureOutput(serializers.Serializer):
    id = serializers.IntegerField()
    loan_id = serializers.IntegerField()
    closed_on = serializers.DateField()
    savings_applied = MoneyField(allow_zero=True)
    savings_returned = MoneyField(allow_zero=True)
    repayment_id = serializers.IntegerField(allow_null=True)
    refund_entry_id = serializers.IntegerField(allow_null=True)


class RecallInput(serializers.Serializer):
    recalled_on = BusinessDateField()
    backdate_reason = BackdateReasonField()
    reason = serializers.CharField(max_length=500)
    visit = IdField(
        required=False,
        allow_null=True,
        help_text="Lần kiểm tra phát hiện sai mục đích (mặc định: lần gần nhất)",
    )
