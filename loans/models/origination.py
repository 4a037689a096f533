"""Models of origination: borrowers and their memberships, loan products, applications and
their events."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounting.money import money_field
from fund.people import NAME_SORT_KEY_LENGTH, name_sort_key
from loans.schedules import DayOffRule, Frequency, Method, RatePeriod
from loans.terms import (
    default_allocation_order,
    default_debt_groups,
    validate_allocation_order,
    validate_debt_groups,
)


def rate_field(verbose_name, **kwargs):
    """A rate in percent, e.g. 0.55 (% a month) or 6.6 (% a year)."""
    return models.DecimalField(verbose_name, max_digits=9, decimal_places=4, **kwargs)


class Sex(models.TextChoices):
    MALE = "male", _("Nam")
    FEMALE = "female", _("Nữ")


class HouseholdStatus(models.TextChoices):
    POOR = "poor", _("Hộ nghèo")
    NEAR_POOR = "near_poor", _("Hộ cận nghèo")
    JUST_OUT_OF_POVERTY = "just_out_of_poverty", _("Hộ mới thoát nghèo")
    LOW_INCOME = "low_income", _("Hộ có thu nhập thấp")


METHOD_CHOICES = [
    (Method.EQUAL_PRINCIPAL.value, _("Dư nợ giảm dần, gốc trả đều")),
    (Method.ANNUITY.value, _("Dư nợ giảm dần, trả góp đều (gốc + lãi)")),
    (Method.FLAT.value, _("Lãi tính trên số tiền vay ban đầu (lãi phẳng)")),
]

FREQUENCY_CHOICES = [
    (Frequency.MONTHLY.value, _("Hằng tháng")),
    (Frequency.WEEKLY.value, _("Hằng tuần")),
]

DAY_OFF_RULE_CHOICES = [
    (DayOffRule.KEEP.value, _("Giữ nguyên ngày đến hạn")),
    (DayOffRule.FOLLOWING.value, _("Chuyển sang ngày làm việc kế tiếp")),
    (DayOffRule.PRECEDING.value, _("Chuyển về ngày làm việc liền trước")),
]


def day_off_rule_field():
    return models.CharField(
        _("ngày đến hạn rơi vào ngày nghỉ"),
        max_length=12,
        choices=DAY_OFF_RULE_CHOICES,
        default=DayOffRule.KEEP,
    )


RATE_PERIOD_CHOICES = [
    (RatePeriod.MONTH.value, _("%/tháng")),
    (RatePeriod.YEAR.value, _("%/năm")),
]


class SavingsKind(models.TextChoices):
    NONE = "none", _("Không có tiết kiệm bắt buộc")
    PERCENT_OF_LOAN = "percent_of_loan", _("Tỷ lệ % số tiền vay, giữ lại khi giải ngân")
    FIXED_PER_INSTALLMENT = "fixed_per_installment", _("Số tiền cố định mỗi kỳ trả nợ")


# --------------------------------------------------------------------------------------------
# Borrowers


class Borrower(models.Model):
    fund = models.ForeignKey(
        "fund.Fund", verbose_name=_("quỹ"), on_delete=models.PROTECT, related_name="borrowers"
    )
    # The current union; the history is in BorrowerMembership.
    grassroots_union = models.ForeignKey(
        "fund.GrassrootsUnion",
        verbose_name=_("công đoàn cơ sở"),
        on_delete=models.PROTECT,
        related_name="borrowers",
    )
    full_name = models.CharField(_("họ và tên"), max_length=255)
    # The order of Vietnamese lists: by given name (fund.people.name_sort_key); kept by save().
    name_key = models.CharField(
        _("khóa sắp xếp theo tên"), max_length=NAME_SORT_KEY_LENGTH, default="", editable=False
    )
    date_of_birth = models.DateField(_("ngày sinh"))
    sex = models.CharField(_("giới tính"), max_length=6, choices=Sex.choices)
    national_id = models.CharField(_("số CCCD"), max_length=12)
    phone = models.CharField(_("điện thoại"), max_length=32, blank=True)
    address = models.CharField(_("địa chỉ"), max_length=255, blank=True)
    household_status = models.CharField(
        _("hoàn cảnh hộ gia đình"), max_length=24, choices=HouseholdStatus.choices
    )
    certificate_number = models.CharField(_("số giấy chứng nhận hộ"), max_length=64, blank=True)
    certificate_date = models.DateField(_("ngày cấp giấy chứng nhận"), null=True, blank=True)
    certificate_valid_to = models.DateField(
        _("giấy chứng nhận có hiệu lực đến"),
        null=True,
        blank=True,
        help_text=_("Để trống: tính theo thời hạn hiệu lực của sản phẩm vay."),
    )
    notes = models.TextField(_("ghi chú"), blank=True)
    created_at = models.DateTimeField(_("thời điểm tạo"), auto_now_add=True)
    updated_at = models.DateTimeField(_("thời điểm cập nhật"), auto_now=True)

    class Meta:
        verbose_name = _("thành viên vay vốn")
        verbose_name_plural = _("thành viên vay vốn")
        ordering = ["name_key", "id"]
        constraints = [
            models.UniqueConstraint(fields=["fund", "national_id"], name="borrower_cccd_unique"),
        ]
        indexes = [
            models.Index(fields=["grassroots_union", "full_name"], name="borrower_gu"),
            models.Index(fields=["grassroots_union", "name_key"], name="borrower_gu_name_key"),
        ]

    def __str__(self):
        return f"{self.full_name} ({self.national_id})"

    def save(self, *args, **kwargs):
        self.name_key_refresh()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "full_name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "name_key"}
        super().save(*args, **kwargs)

    def name_key_refresh(self) -> None:
        """Set the sort key from the full name (save() does; bulk_create callers call this)."""
        self.name_key = name_sort_key(self.full_name)


class BorrowerMembership(models.Model):
    borrower = models.ForeignKey(
        Borrower,
        verbose_name=_("thành viên"),
        on_delete=models.PROTECT,
        related_name="memberships",
    )
    grassroots_union = models.ForeignKey(
        "fund.GrassrootsUnion",
        verbose_name=_("công đoàn cơ sở"),
        on_delete=models.PROTECT,
        related_name="borrower_memberships",
    )
    valid_from = models.DateField(_("từ ngày"))
    valid_to = models.DateField(_("đến trước ngày"), null=True, blank=True)

    class Meta:
        verbose_name = _("quá trình sinh hoạt công đoàn")
        verbose_name_plural = _("quá trình sinh hoạt công đoàn")
        ordering = ["borrower", "valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["borrower", "valid_from"], name="borrower_membership_start_unique"
            ),
            models.CheckConstraint(
                name="borrower_membership_dates_ordered",
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=F("valid_from")),
            ),
        ]

    def __str__(self):
        end = f"{self.valid_to:%d/%m/%Y}" if self.valid_to else "nay"
        return f"{self.grassroots_union} ({self.valid_from:%d/%m/%Y}–{end})"


# --------------------------------------------------------------------------------------------
# Products


class LoanProduct(models.Model):
    fund = models.ForeignKey(
        "fund.Fund", verbose_name=_("quỹ"), on_delete=models.PROTECT, related_name="loan_products"
    )
    code = models.CharField(_("mã sản phẩm"), max_length=32)
    name = models.CharField(_("tên sản phẩm"), max_length=255)
    active = models.BooleanField(_("đang áp dụng"), default=True)
    min_amount = money_field(_("số tiền vay tối thiểu"))
    max_amount = money_field(_("số tiền vay tối đa"))
    min_term = models.PositiveSmallIntegerField(_("thời hạn tối thiểu (số kỳ)"))
    max_term = models.PositiveSmallIntegerField(_("thời hạn tối đa (số kỳ)"))
    rate = rate_field(_("lãi suất (%)"))
    rate_period = models.CharField(
        _("kỳ lãi suất"), max_length=8, choices=RATE_PERIOD_CHOICES, default=RatePeriod.MONTH
    )
    method = models.CharField(
        _("phương thức tính lãi"),
        max_length=16,
        choices=METHOD_CHOICES,
        default=Method.EQUAL_PRINCIPAL,
    )
    frequency = models.CharField(
        _("định kỳ trả nợ"), max_length=8, choices=FREQUENCY_CHOICES, default=Frequency.MONTHLY
    )
    day_off_rule = day_off_rule_field()
    principal_grace = models.PositiveSmallIntegerField(_("ân hạn gốc (số kỳ)"), default=0)
    interest_grace = models.PositiveSmallIntegerField(_("ân hạn lãi (số kỳ)"), default=0)
    penalty_rate = rate_field(_("lãi suất phạt trên gốc quá hạn (%)"), default=0)
    penalty_rate_period = models.CharField(
        _("kỳ lãi suất phạt"),
        max_length=8,
        choices=RATE_PERIOD_CHOICES,
        default=RatePeriod.YEAR,
    )
    savings_kind = models.CharField(
        _("tiết kiệm bắt buộc"), max_length=24, choices=SavingsKind.choices, default="none"
    )
    savings_percent = models.DecimalField(
        _("tỷ lệ tiết kiệm bắt buộc (% số tiền vay)"), max_digits=6, decimal_places=3, default=0
    )
    savings_amount = money_field(_("tiết kiệm bắt buộc mỗi kỳ"))
    allocation_order = models.JSONField(
        _("thứ tự phân bổ tiền trả nợ"),
        default=default_allocation_order,
        validators=[validate_allocation_order],
    )
    debt_groups = models.JSONField(
        _("bảng phân nhóm nợ"), default=default_debt_groups, validators=[validate_debt_groups]
    )
    # Eligibility settings (the fund's rules are product settings, not constants in code).
    min_age = models.PositiveSmallIntegerField(_("tuổi tối thiểu"), default=18)
    max_age = models.PositiveSmallIntegerField(_("tuổi tối đa"), default=60)
    certificate_validity_months = models.PositiveSmallIntegerField(
        _("hiệu lực giấy chứng nhận hộ (tháng)"), default=12
    )
    just_out_of_poverty_months = models.PositiveSmallIntegerField(
        _("hộ mới thoát nghèo được vay trong (tháng)"), default=36
    )
    # A job-creation product (the fund's purpose): its applications plan at least one new job.
    creates_jobs = models.BooleanField(
        _("cho vay tạo việc làm"),
        default=True,
        help_text=_("Hồ sơ vay phải dự kiến ít nhất một việc làm mới."),
    )
    # Documents (loans.models.documents.DocumentKind values) an application of this product needs,
    # on itself or on its borrower, before the superior union may review it favourably.
    required_document_kinds = models.JSONField(
        _("tài liệu bắt buộc trước thẩm định"), default=list, blank=True
    )
    description = models.TextField(_("mô tả"), blank=True)
    created_at = models.DateTimeField(_("thời điểm tạo"), auto_now_add=True)
    updated_at = models.DateTimeField(_("thời điểm cập nhật"), auto_now=True)

    # The product's fields a loan keeps (copied at approval into the application's terms).
    TERM_FIELDS = (
        "rate",
        "rate_period",
        "method",
        "frequency",
        "day_off_rule",
        "principal_grace",
        "interest_grace",
        "penalty_rate",
        "penalty_rate_period",
        "savings_kind",
        "savings_percent",
        "savings_amount",
        "allocation_order",
        "debt_groups",
    )

    class Meta:
        verbose_name = _("sản phẩm cho vay")
        verbose_name_plural = _("sản phẩm cho vay")
        ordering = ["fund", "code"]
        constraints = [
            models.UniqueConstraint(fields=["fund", "code"], name="loan_product_code_unique"),
            models.CheckConstraint(
                name="loan_product_amount_range",
                condition=Q(min_amount__gt=0) & Q(max_amount__gte=F("min_amount")),
            ),
            models.CheckConstraint(
                name="loan_product_term_range",
                condition=Q(min_term__gte=1) & Q(max_term__gte=F("min_term")),
            ),
            models.CheckConstraint(
                name="loan_product_rates_nonnegative",
                condition=Q(rate__gte=0) & Q(penalty_rate__gte=0),
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"


# --------------------------------------------------------------------------------------------
# Applications


class ApplicationStatus(models.TextChoices):
    DRAFT = "draft", _("Đang lập")
    SUBMITTED = "submitted", _("CĐCS đã đề nghị, chờ cấp trên thẩm định")
    RETURNED = "returned", _("Cấp trên trả lại để bổ sung")
    REVIEWED = "reviewed", _("Cấp trên đã thẩm định, chờ quỹ phê duyệt")
    APPROVED = "approved", _("Quỹ đã phê duyệt, chờ giải ngân")
    DISBURSED = "disbursed", _("Đã giải ngân")
    REJECTED = "rejected", _("Từ chối")
    CANCELLED = "cancelled", _("Đã hủy")


class PurposeKind(models.TextChoices):
    LIVESTOCK = "livestock", _("Chăn nuôi")
    CROPS = "crops", _("Trồng trọt")
    TRADE = "trade", _("Buôn bán nhỏ")
    CRAFTS = "crafts", _("Tiểu thủ công nghiệp, may mặc")
    SERVICES = "services", _("Dịch vụ")
    OTHER = "other", _("Khác")


class SecurityKind(models.TextChoices):
    GUARANTOR = "guarantor", _("Người bảo lãnh")
    GROUP = "group", _("Tổ, nhóm vay vốn bảo lãnh")


class LoanApplication(models.Model):
    fund = models.ForeignKey(
        "fund.Fund", verbose_name=_("quỹ"), on_delete=models.PROTECT, related_name="applications"
    )
    borrower = models.ForeignKey(
        Borrower,
        verbose_name=_("thành viên vay"),
        on_delete=models.PROTECT,
        related_name="applications",
    )
    product = models.ForeignKey(
        LoanProduct,
        verbose_name=_("sản phẩm"),
        on_delete=models.PROTECT,
        related_name="applications",
    )
    # The proposing union and the one that reviews; fixed when the application is entered.
    grassroots_union = models.ForeignKey(
        "fund.GrassrootsUnion",
        verbose_name=_("công đoàn cơ sở đề nghị"),
        on_delete=models.PROTECT,
        related_name="loan_applications",
    )
    superior_union = models.ForeignKey(
        "fund.SuperiorUnion",
        verbose_name=_("công đoàn cấp trên thẩm định"),
        on_delete=models.PROTECT,
        related_name="loan_applications",
    )
    amount = money_field(_("số tiền đề nghị vay"))
    term = models.PositiveSmallIntegerField(_("thời hạn (số kỳ)"))
    purpose_kind = models.CharField(
        _("lĩnh vực sử dụng vốn"), max_length=16, choices=PurposeKind.choices
    )
    purpose = models.CharField(_("mục đích sử dụng vốn"), max_length=500)
    planned_jobs = models.PositiveSmallIntegerField(_("số việc làm mới dự kiến"), default=0)
    security_kind = models.CharField(
        _("hình thức bảo đảm"), max_length=16, choices=SecurityKind.choices
    )
    guarantor_name = models.CharField(_("họ tên người bảo lãnh"), max_length=255, blank=True)
    guarantor_national_id = models.CharField(_("số CCCD người bảo lãnh"), max_length=12, blank=True)
    guarantor_phone = models.CharField(_("điện thoại người bảo lãnh"), max_length=32, blank=True)
    guarantor_relationship = models.CharField(_("quan hệ với người vay"), max_length=64, blank=True)
    group_name = models.CharField(_("tên tổ, nhóm vay vốn"), max_length=255, blank=True)
    status = models.CharField(
        _("trạng thái"),
        max_length=16,
        choices=ApplicationStatus.choices,
        default=ApplicationStatus.DRAFT,
    )
    # The product's terms as approved (LoanProduct.TERM_FIELDS; amounts and rates as strings).
    terms = models.JSONField(_("điều kiện vay đã phê duyệt"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người lập hồ sơ"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("thời điểm lập"), default=timezone.now)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người gửi đề nghị"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("thời điểm đề nghị"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người thẩm định"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("thời điểm thẩm định"), null=True, blank=True)
    review_note = models.CharField(_("ý kiến thẩm định"), max_length=500, blank=True)
    # The business date of each decision (docs/loans.md, "Value dates"): today unless the
    # officer enters an earlier one (a loan book moved in from paper); `*_at` is when it was
    # recorded.
    reviewed_on = models.DateField(_("ngày thẩm định"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người phê duyệt"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("thời điểm phê duyệt"), null=True, blank=True)
    approved_on = models.DateField(_("ngày phê duyệt"), null=True, blank=True)
    # Who rejected or cancelled it, when and why.
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người từ chối / hủy"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("thời điểm từ chối / hủy"), null=True, blank=True)
    # The business date of the rejection or cancellation (docs/loans.md, "Value dates").
    decided_on = models.DateField(_("ngày từ chối / hủy"), null=True, blank=True)
    decision_reason = models.CharField(_("lý do từ chối / hủy"), max_length=500, blank=True)
    updated_at = models.DateTimeField(_("thời điểm cập nhật"), auto_now=True)

    OPEN_STATUSES = (
        ApplicationStatus.DRAFT,
        ApplicationStatus.SUBMITTED,
        ApplicationStatus.RETURNED,
        ApplicationStatus.REVIEWED,
        ApplicationStatus.APPROVED,
    )

    class Meta:
        verbose_name = _("hồ sơ vay vốn")
        verbose_name_plural = _("hồ sơ vay vốn")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(name="application_amount_positive", condition=Q(amount__gt=0)),
            models.CheckConstraint(name="application_term_positive", condition=Q(term__gte=1)),
        ]
        indexes = [
            models.Index(fields=["fund", "status"], name="application_fund_status"),
            models.Index(fields=["grassroots_union", "status"], name="application_gu_status"),
            models.Index(fields=["superior_union", "status"], name="application_su_status"),
            models.Index(fields=["borrower", "status"], name="application_borrower"),
        ]

    def __str__(self):
        return _("Hồ sơ #%(id)s — %(name)s") % {"id": self.pk, "name": self.borrower.full_name}

    @property
    def commitment_reference(self) -> str:
        return f"application:{self.pk}"


class ApplicationEvent(models.Model):
    """One step of an application's way: who moved it from which state to which, and why."""

    application = models.ForeignKey(
        LoanApplication,
        verbose_name=_("hồ sơ"),
        on_delete=models.PROTECT,
        related_name="events",
    )
    action = models.CharField(_("thao tác"), max_length=16)
    from_status = models.CharField(
        _("từ trạng thái"), max_length=16, choices=ApplicationStatus.choices, blank=True
    )
    to_status = models.CharField(
        _("sang trạng thái"), max_length=16, choices=ApplicationStatus.choices
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người thực hiện"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(_("thời điểm"), default=timezone.now)
    note = models.CharField(_("ghi chú, lý do"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("diễn biến hồ sơ")
        verbose_name_plural = _("diễn biến hồ sơ")
        ordering = ["application", "at", "id"]

    def __str__(self):
        return f"{self.at:%d/%m/%Y %H:%M} {self.action}: {self.from_status} → {self.to_status}"
