"""The loan book: borrowers, products, applications, loans and their schedules.

Design overview
---------------
* ``Borrower`` — a union member of a poor, near-poor, just-out-of-poverty or low-income household,
  a member of one grassroots union at a time. ``Borrower.grassroots_union`` is the current one;
  ``BorrowerMembership`` keeps the history (``valid_from`` inclusive, ``valid_to`` exclusive). The
  CCCD number is unique within a fund and validated (``loans.origination.cccd``).
* ``LoanProduct`` — amount and term ranges, rate (per month or per year), method, frequency,
  grace periods, penalty rate, compulsory savings, the repayment allocation order and the
  debt-group table (``loans.terms``), and the eligibility settings (age, certificate validity).
* ``LoanApplication`` — proposed by a grassroots union, reviewed by its superior union, approved
  by a fund officer who did not enter it, then disbursed. Its ``terms`` are the product's terms
  copied at approval; ``ApplicationEvent`` is its timeline (who moved it, when, why).
* ``Loan`` — created by the disbursement, with the terms copied from the application (a product
  change never alters a loan) and the grassroots and superior unions AS OF disbursement, so that
  past reports do not change when a union or a member moves. ``outstanding_principal`` is stored
  and kept in step with the ledger (account 1283, sub-ledger ``loan:<id>``) by the services;
  ``loan_book_reconcile`` proves it. ``days_past_due`` and ``debt_group`` are written by the
  daily arrears pass (``loans.servicing.arrears``), which runs as set-based SQL over every
  active loan, hence the partial indexes on active loans and unpaid installments.
* ``Installment`` — one due date of the schedule (``loans.schedules``) in whole đồng: what is
  due, what has been paid, the penalty, and its status.
* ``LoanTransaction`` — the loan book's own journal: each change of a loan's principal (and the
  interest, penalty and savings moved with it), dated and pointing at its ledger entry. The
  outstanding principal as of a date is the sum of these up to that date.
* ``FollowUpVisit`` — a visit after disbursement that checks the purpose and confirms the new
  jobs the application planned.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounting.money import money_field
from loans.schedules import Frequency, Method, RatePeriod
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
        ordering = ["full_name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["fund", "national_id"], name="borrower_cccd_unique"),
        ]
        indexes = [models.Index(fields=["grassroots_union", "full_name"], name="borrower_gu")]

    def __str__(self):
        return f"{self.full_name} ({self.national_id})"


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
    description = models.TextField(_("mô tả"), blank=True)
    created_at = models.DateTimeField(_("thời điểm tạo"), auto_now_add=True)
    updated_at = models.DateTimeField(_("thời điểm cập nhật"), auto_now=True)

    # The product's fields a loan keeps (copied at approval into the application's terms).
    TERM_FIELDS = (
        "rate",
        "rate_period",
        "method",
        "frequency",
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
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người phê duyệt"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("thời điểm phê duyệt"), null=True, blank=True)
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
        return f"Hồ sơ #{self.pk} — {self.borrower.full_name}"

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


# --------------------------------------------------------------------------------------------
# Loans


class LoanStatus(models.TextChoices):
    ACTIVE = "active", _("Đang vay")
    CLOSED = "closed", _("Đã tất toán")
    WRITTEN_OFF = "written_off", _("Đã xử lý rủi ro")


class Loan(models.Model):
    fund = models.ForeignKey(
        "fund.Fund", verbose_name=_("quỹ"), on_delete=models.PROTECT, related_name="loans"
    )
    application = models.OneToOneField(
        LoanApplication, verbose_name=_("hồ sơ"), on_delete=models.PROTECT, related_name="loan"
    )
    borrower = models.ForeignKey(
        Borrower, verbose_name=_("thành viên vay"), on_delete=models.PROTECT, related_name="loans"
    )
    product = models.ForeignKey(
        LoanProduct, verbose_name=_("sản phẩm"), on_delete=models.PROTECT, related_name="loans"
    )
    # As of disbursement: reports of the past never change when a union or member moves.
    grassroots_union = models.ForeignKey(
        "fund.GrassrootsUnion",
        verbose_name=_("công đoàn cơ sở (khi giải ngân)"),
        on_delete=models.PROTECT,
        related_name="loans",
    )
    superior_union = models.ForeignKey(
        "fund.SuperiorUnion",
        verbose_name=_("công đoàn cấp trên (khi giải ngân)"),
        on_delete=models.PROTECT,
        related_name="loans",
    )
    principal = money_field(_("số tiền vay"))
    disbursed_on = models.DateField(_("ngày giải ngân"))
    maturity_date = models.DateField(_("ngày đáo hạn"))
    # The terms the loan was granted (copied from the application, never from the product).
    term = models.PositiveSmallIntegerField(_("thời hạn (số kỳ)"))
    rate = rate_field(_("lãi suất (%)"))
    rate_period = models.CharField(_("kỳ lãi suất"), max_length=8, choices=RATE_PERIOD_CHOICES)
    method = models.CharField(_("phương thức tính lãi"), max_length=16, choices=METHOD_CHOICES)
    frequency = models.CharField(_("định kỳ trả nợ"), max_length=8, choices=FREQUENCY_CHOICES)
    principal_grace = models.PositiveSmallIntegerField(_("ân hạn gốc (số kỳ)"), default=0)
    interest_grace = models.PositiveSmallIntegerField(_("ân hạn lãi (số kỳ)"), default=0)
    penalty_rate = rate_field(_("lãi suất phạt trên gốc quá hạn (%)"), default=0)
    penalty_rate_period = models.CharField(
        _("kỳ lãi suất phạt"), max_length=8, choices=RATE_PERIOD_CHOICES
    )
    savings_kind = models.CharField(
        _("tiết kiệm bắt buộc"), max_length=24, choices=SavingsKind.choices
    )
    savings_percent = models.DecimalField(
        _("tỷ lệ tiết kiệm bắt buộc (%)"), max_digits=6, decimal_places=3, default=0
    )
    savings_amount = money_field(_("tiết kiệm bắt buộc mỗi kỳ"))
    allocation_order = models.JSONField(
        _("thứ tự phân bổ tiền trả nợ"), validators=[validate_allocation_order]
    )
    debt_groups = models.JSONField(_("bảng phân nhóm nợ"), validators=[validate_debt_groups])
    purpose_kind = models.CharField(
        _("lĩnh vực sử dụng vốn"), max_length=16, choices=PurposeKind.choices
    )
    planned_jobs = models.PositiveSmallIntegerField(_("số việc làm mới dự kiến"), default=0)
    # Savings withheld from the disbursement (Cr 33881, sub-ledger borrower:<id>).
    savings_withheld = money_field(_("tiết kiệm bắt buộc giữ lại khi giải ngân"))
    status = models.CharField(
        _("trạng thái"), max_length=16, choices=LoanStatus.choices, default=LoanStatus.ACTIVE
    )
    # Kept in step with the ledger (1283, sub-ledger loan:<id>) by every service that moves it.
    outstanding_principal = money_field(_("dư nợ gốc"))
    days_past_due = models.PositiveIntegerField(_("số ngày quá hạn"), default=0)
    debt_group = models.PositiveSmallIntegerField(_("nhóm nợ"), default=1)
    reschedulings = models.PositiveSmallIntegerField(_("số lần cơ cấu lại"), default=0)
    # The installments in force are those of this version; a rescheduling adds a version and
    # keeps the old rows (Installment.schedule_version) for the record.
    schedule_version = models.PositiveSmallIntegerField(_("phiên bản lịch trả nợ"), default=1)
    # Arrears written by the set-based daily pass (loans.servicing.arrears); classified_on is the
    # date
    # of the pass that last changed them (the book's date is the last CloseOfBusinessRun).
    classified_on = models.DateField(_("ngày phân loại nợ gần nhất"), null=True, blank=True)
    overdue_principal = money_field(_("gốc quá hạn"))
    overdue_interest = money_field(_("lãi quá hạn"))
    penalty_outstanding = money_field(_("lãi phạt chưa trả"))
    # Provision for this loan currently held in 2293 (sub-ledger loan:<id>).
    provision_held = money_field(_("dự phòng rủi ro đã trích"))
    # Interest waived at least once: the debt group never falls below 3 (Circular 14/2024).
    interest_waived_on = models.DateField(_("ngày miễn giảm lãi"), null=True, blank=True)
    # Early recall after misuse: everything outstanding falls due on this date.
    recalled_on = models.DateField(_("ngày thu hồi trước hạn"), null=True, blank=True)
    written_off_on = models.DateField(_("ngày xử lý rủi ro"), null=True, blank=True)
    write_off_reason = models.CharField(_("lý do xử lý rủi ro"), max_length=500, blank=True)
    closed_on = models.DateField(_("ngày tất toán"), null=True, blank=True)
    # Set in the disbursement's own transaction, right after the loan gets the id its
    # sub-ledger (loan:<id>) needs; never empty once committed.
    disbursement_entry = models.OneToOneField(
        "accounting.JournalEntry",
        verbose_name=_("bút toán giải ngân"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="disbursed_loan",
    )
    disbursed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người giải ngân"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("thời điểm tạo"), auto_now_add=True)

    class Meta:
        verbose_name = _("khoản vay")
        verbose_name_plural = _("khoản vay")
        ordering = ["-disbursed_on", "-id"]
        constraints = [
            models.CheckConstraint(name="loan_principal_positive", condition=Q(principal__gt=0)),
            models.CheckConstraint(
                name="loan_outstanding_within_principal",
                condition=Q(outstanding_principal__gte=0)
                & Q(outstanding_principal__lte=F("principal")),
            ),
            models.CheckConstraint(
                name="loan_debt_group_range", condition=Q(debt_group__gte=1, debt_group__lte=10)
            ),
        ]
        indexes = [
            # A fund's active loans. Not by debt group: an indexed column that changes makes
            # PostgreSQL write a new entry in every index of the table (13) instead of updating
            # the row in place (HOT), and the daily run changes the group of every loan that
            # falls behind.
            models.Index(fields=["fund"], condition=Q(status="active"), name="loan_active_fund"),
            # The daily run finds recalled loans (everything due from the recall) through this.
            models.Index(
                fields=["fund"], condition=Q(recalled_on__isnull=False), name="loan_recalled"
            ),
            models.Index(fields=["borrower", "status"], name="loan_borrower_status"),
            # Attainment: loans disbursed in a period, by fund or union as of disbursement.
            # (covering: the dashboard's sums by quarter read the index alone)
            models.Index(
                fields=["fund", "disbursed_on"],
                include=["principal", "planned_jobs"],
                name="loan_fund_disbursed",
            ),
            models.Index(fields=["superior_union", "disbursed_on"], name="loan_su_disbursed"),
            models.Index(fields=["grassroots_union", "disbursed_on"], name="loan_gu_disbursed"),
            # A union officer's loan list, newest first.
            models.Index(fields=["grassroots_union", "-id"], name="loan_gu_newest"),
            # The fund officer's loan list, newest first, and its capped count: an index-only
            # scan of 10,001 entries instead of the primary key's with a heap visit per row.
            models.Index(fields=["fund", "-id"], name="loan_fund_newest"),
        ]

    def __str__(self):
        return f"Khoản vay #{self.pk} — {self.borrower.full_name}"

    @property
    def subledger(self) -> str:
        """The loan's tag on its ledger postings (1283 principal, interest receivable…)."""
        return f"loan:{self.pk}"

    @property
    def ledger_dimensions(self) -> dict:
        """The dimensions of the loan's ledger postings: the unions recorded on the loan at
        disbursement (as on the disbursement entry), so that every sub-ledger balance of the loan
        nets to zero per union."""
        return {
            "fund_id": self.fund_id,
            "superior_union_id": self.superior_union_id,
            "grassroots_union_id": self.grassroots_union_id,
        }


class InstallmentStatus(models.TextChoices):
    PENDING = "pending", _("Chưa trả")
    PARTIAL = "partial", _("Đã trả một phần")
    PAID = "paid", _("Đã trả đủ")


class Installment(models.Model):
    loan = models.ForeignKey(
        Loan, verbose_name=_("khoản vay"), on_delete=models.PROTECT, related_name="installments"
    )
    number = models.PositiveSmallIntegerField(_("kỳ số"))
    schedule_version = models.PositiveSmallIntegerField(_("phiên bản lịch"), default=1)
    due_date = models.DateField(_("ngày đến hạn"))
    principal_due = money_field(_("gốc phải trả"))
    interest_due = money_field(_("lãi phải trả"))
    savings_due = money_field(_("tiết kiệm bắt buộc phải nộp"))
    principal_paid = money_field(_("gốc đã trả"))
    interest_paid = money_field(_("lãi đã trả"))
    penalty_due = money_field(_("lãi phạt phát sinh"))
    penalty_paid = money_field(_("lãi phạt đã trả"))
    savings_paid = money_field(_("tiết kiệm đã nộp"))
    # Principal balance after this installment, as scheduled.
    balance_after = money_field(_("dư nợ gốc sau kỳ (theo lịch)"))
    status = models.CharField(
        _("trạng thái"),
        max_length=8,
        choices=InstallmentStatus.choices,
        default=InstallmentStatus.PENDING,
    )
    paid_on = models.DateField(_("ngày trả đủ"), null=True, blank=True)
    # Set by the daily pass when the due date has passed with something unpaid.
    overdue = models.BooleanField(_("quá hạn"), default=False)
    # Penalty on this installment's overdue principal has been accrued through this date.
    penalty_accrued_through = models.DateField(
        _("đã tính lãi phạt đến ngày"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("kỳ trả nợ")
        verbose_name_plural = _("lịch trả nợ")
        ordering = ["loan", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["loan", "schedule_version", "number"], name="installment_number_unique"
            ),
            models.CheckConstraint(
                name="installment_paid_within_due",
                condition=Q(principal_paid__gte=0)
                & Q(principal_paid__lte=F("principal_due"))
                & Q(interest_paid__gte=0)
                & Q(interest_paid__lte=F("interest_due"))
                & Q(penalty_paid__gte=0)
                & Q(penalty_paid__lte=F("penalty_due")),
            ),
        ]
        indexes = [
            # Arrears: unpaid installments by due date, across all loans.
            models.Index(
                fields=["due_date", "loan"],
                condition=~Q(status="paid"),
                name="installment_unpaid_due",
            ),
        ]

    def __str__(self):
        return f"Kỳ {self.number} ({self.due_date:%d/%m/%Y})"


class LoanTransaction(models.Model):
    """One change of a loan in the loan book, pointing at the ledger entry that posted it."""

    class Kind(models.TextChoices):
        DISBURSEMENT = "disbursement", _("Giải ngân")
        REPAYMENT = "repayment", _("Thu nợ")
        WRITE_OFF = "write_off", _("Xử lý rủi ro")
        REVERSAL = "reversal", _("Hủy nghiệp vụ")

    loan = models.ForeignKey(
        Loan, verbose_name=_("khoản vay"), on_delete=models.PROTECT, related_name="transactions"
    )
    kind = models.CharField(_("loại nghiệp vụ"), max_length=16, choices=Kind.choices)
    effective_date = models.DateField(_("ngày hạch toán"))
    # Signed change of the outstanding principal: + disbursement, − repayment or write-off.
    principal_change = money_field(_("thay đổi dư nợ gốc"))
    interest = money_field(_("lãi"))
    penalty = money_field(_("lãi phạt"))
    savings = money_field(_("tiết kiệm bắt buộc"))
    journal_entry = models.ForeignKey(
        "accounting.JournalEntry",
        verbose_name=_("bút toán"),
        on_delete=models.PROTECT,
        related_name="loan_transactions",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người thực hiện"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("thời điểm ghi"), auto_now_add=True)

    class Meta:
        verbose_name = _("nghiệp vụ khoản vay")
        verbose_name_plural = _("nghiệp vụ khoản vay")
        ordering = ["loan", "effective_date", "id"]
        indexes = [models.Index(fields=["loan", "effective_date"], name="loan_txn_loan_date")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.effective_date:%d/%m/%Y}"


class FollowUpVisit(models.Model):
    """A visit after disbursement: the purpose checked and the new jobs confirmed."""

    loan = models.ForeignKey(
        Loan, verbose_name=_("khoản vay"), on_delete=models.PROTECT, related_name="visits"
    )
    visited_on = models.DateField(_("ngày kiểm tra"))
    purpose_verified = models.BooleanField(_("sử dụng vốn đúng mục đích"))
    # Jobs newly confirmed at this visit (in addition to those confirmed at earlier visits).
    jobs_confirmed = models.PositiveSmallIntegerField(_("số việc làm mới xác nhận thêm"))
    note = models.CharField(_("ghi chú"), max_length=500, blank=True)
    visited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người kiểm tra"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("thời điểm ghi"), auto_now_add=True)

    class Meta:
        verbose_name = _("kiểm tra sau giải ngân")
        verbose_name_plural = _("kiểm tra sau giải ngân")
        ordering = ["loan", "visited_on", "id"]
        indexes = [models.Index(fields=["visited_on"], name="followup_visited_on")]

    def __str__(self):
        return f"Kiểm tra {self.visited_on:%d/%m/%Y}"


# --------------------------------------------------------------------------------------------
# Repayments


class RepaymentBatch(models.Model):
    """One remittance of a grassroots union for many borrowers: one bank receipt, all or nothing."""

    fund = models.ForeignKey(
        "fund.Fund", verbose_name=_("quỹ"), on_delete=models.PROTECT, related_name="+"
    )
    grassroots_union = models.ForeignKey(
        "fund.GrassrootsUnion",
        verbose_name=_("công đoàn cơ sở nộp"),
        on_delete=models.PROTECT,
        related_name="repayment_batches",
    )
    receipt_number = models.CharField(_("số chứng từ ngân hàng"), max_length=64)
    paid_on = models.DateField(_("ngày nộp"))
    amount = money_field(_("tổng số tiền"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người thực hiện"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("thời điểm ghi"), auto_now_add=True)

    class Meta:
        verbose_name = _("đợt nộp tiền thu nợ")
        verbose_name_plural = _("đợt nộp tiền thu nợ")
        ordering = ["-paid_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["grassroots_union", "receipt_number"], name="repayment_batch_receipt"
            ),
        ]

    def __str__(self):
        return f"Đợt nộp {self.receipt_number} ({self.paid_on:%d/%m/%Y})"


class Repayment(models.Model):
    """One payment of a borrower, split over the loan's installments (``allocations``).

    ``principal + interest + penalty + savings + overpayment_savings = amount``; the allocations
    hold the same amounts per installment, so that a reversal re-opens exactly what it paid.
    """

    loan = models.ForeignKey(
        Loan, verbose_name=_("khoản vay"), on_delete=models.PROTECT, related_name="repayments"
    )
    batch = models.ForeignKey(
        RepaymentBatch,
        verbose_name=_("đợt nộp"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="repayments",
    )
    collected_by_grassroots_union = models.ForeignKey(
        "fund.GrassrootsUnion",
        verbose_name=_("công đoàn cơ sở thu hộ"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="collected_repayments",
    )
    paid_on = models.DateField(_("ngày trả"))
    amount = money_field(_("số tiền trả"))
    principal = money_field(_("gốc"))
    interest = money_field(_("lãi"))
    penalty = money_field(_("lãi phạt"))
    savings = money_field(_("tiết kiệm bắt buộc"))
    overpayment_savings = money_field(_("tiền trả thừa chuyển tiết kiệm"))
    # Shared by the lines of a batch (one bank receipt, one entry).
    journal_entry = models.ForeignKey(
        "accounting.JournalEntry",
        verbose_name=_("bút toán"),
        on_delete=models.PROTECT,
        related_name="repayments",
    )
    reversal_entry = models.OneToOneField(
        "accounting.JournalEntry",
        verbose_name=_("bút toán hủy"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_repayment",
    )
    reversed_at = models.DateTimeField(_("thời điểm hủy"), null=True, blank=True)
    reversal_reason = models.CharField(_("lý do hủy"), max_length=500, blank=True)
    closed_loan = models.BooleanField(_("tất toán khoản vay"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người thực hiện"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("thời điểm ghi"), auto_now_add=True)

    class Meta:
        verbose_name = _("lần trả nợ")
        verbose_name_plural = _("các lần trả nợ")
        ordering = ["loan", "paid_on", "id"]
        constraints = [
            models.CheckConstraint(name="repayment_amount_positive", condition=Q(amount__gt=0)),
            models.CheckConstraint(
                name="repayment_parts_sum",
                condition=Q(
                    amount=F("principal")
                    + F("interest")
                    + F("penalty")
                    + F("savings")
                    + F("overpayment_savings")
                ),
            ),
        ]
        indexes = [models.Index(fields=["loan", "paid_on"], name="repayment_loan_date")]

    def __str__(self):
        return f"Trả nợ #{self.pk} ({self.paid_on:%d/%m/%Y})"


class RepaymentAllocation(models.Model):
    """The part of a repayment that went to one component of one installment."""

    class Component(models.TextChoices):
        PENALTY = "penalty", _("Lãi phạt")
        INTEREST = "interest", _("Lãi")
        PRINCIPAL = "principal", _("Gốc")
        SAVINGS = "savings", _("Tiết kiệm bắt buộc")

    repayment = models.ForeignKey(
        Repayment,
        verbose_name=_("lần trả nợ"),
        on_delete=models.PROTECT,
        related_name="allocations",
    )
    installment = models.ForeignKey(
        Installment,
        verbose_name=_("kỳ trả nợ"),
        on_delete=models.PROTECT,
        related_name="allocations",
    )
    component = models.CharField(_("khoản"), max_length=16, choices=Component.choices)
    amount = money_field(_("số tiền"))

    class Meta:
        verbose_name = _("phân bổ tiền trả nợ")
        verbose_name_plural = _("phân bổ tiền trả nợ")
        ordering = ["repayment", "id"]
        constraints = [
            models.CheckConstraint(name="allocation_amount_positive", condition=Q(amount__gt=0)),
        ]

    def __str__(self):
        return f"{self.get_component_display()} kỳ {self.installment.number}"


# --------------------------------------------------------------------------------------------
# Restructuring (loans.restructuring.decisions): rescheduling, recall, waivers, write-offs, closure


class ScheduleRevision(models.Model):
    """A new schedule version of a loan: a rescheduling (counts toward the debt group) or an
    early recall after misuse (everything outstanding falls due on one date)."""

    class Kind(models.TextChoices):
        RESCHEDULE = "reschedule", _("Cơ cấu lại thời hạn trả nợ")
        RECALL = "recall", _("Thu hồi nợ trước hạn")

    loan = models.ForeignKey(
        Loan, verbose_name=_("khoản vay"), on_delete=models.PROTECT, related_name="revisions"
    )
    kind = models.CharField(_("loại"), max_length=16, choices=Kind.choices)
    effective_date = models.DateField(_("ngày hiệu lực"))
    from_version = models.PositiveSmallIntegerField(_("từ phiên bản lịch"))
    to_version = models.PositiveSmallIntegerField(_("sang phiên bản lịch"))
    principal = money_field(_("dư nợ gốc được cơ cấu"))
    term = models.PositiveSmallIntegerField(_("số kỳ mới"))
    method = models.CharField(_("phương thức tính lãi"), max_length=16, choices=METHOD_CHOICES)
    first_due_date = models.DateField(_("ngày đến hạn kỳ đầu"))
    # Unpaid interest and penalty of the old schedule, moved onto the first new installment.
    interest_carried = money_field(_("lãi chưa trả chuyển sang"))
    penalty_carried = money_field(_("lãi phạt chưa trả chuyển sang"))
    reason = models.CharField(_("lý do"), max_length=500)
    visit = models.ForeignKey(
        FollowUpVisit,
        verbose_name=_("lần kiểm tra phát hiện"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người đề nghị"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người phê duyệt"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("thời điểm ghi"), auto_now_add=True)

    class Meta:
        verbose_name = _("thay đổi lịch trả nợ")
        verbose_name_plural = _("thay đổi lịch trả nợ")
        ordering = ["loan", "to_version"]
        constraints = [
            models.UniqueConstraint(
                fields=["loan", "to_version"], name="schedule_revision_version_unique"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.effective_date:%d/%m/%Y}"


class InterestWaiver(models.Model):
    """Unpaid interest and/or penalty of the installments in force forgiven, with the reason.

    ``lines`` keeps per installment what was waived (``[{"installment", "interest",
    "penalty"}]``, amounts as strings): the installments' due amounts are lowered by that much.
    """

    loan = models.ForeignKey(
        Loan, verbose_name=_("khoản vay"), on_delete=models.PROTECT, related_name="waivers"
    )
    waived_on = models.DateField(_("ngày miễn giảm"))
    interest = money_field(_("lãi được miễn"))
    penalty = money_field(_("lãi phạt được miễn"))
    reason = models.CharField(_("lý do"), max_length=500)
    lines = models.JSONField(_("chi tiết theo kỳ"), default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người thực hiện"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("thời điểm ghi"), auto_now_add=True)

    class Meta:
        verbose_name = _("miễn giảm lãi")
        verbose_name_plural = _("miễn giảm lãi")
        ordering = ["loan", "waived_on", "id"]

    def __str__(self):
        return f"Miễn giảm {self.waived_on:%d/%m/%Y}"


class WriteOffCause(models.TextChoices):
    DEATH = "death", _("Người vay chết")
    DISABILITY = "disability", _("Người vay mất năng lực hành vi dân sự, mất sức lao động")
    NATURAL_DISASTER = "natural_disaster", _("Thiên tai, dịch bệnh")
    OTHER = "other", _("Nguyên nhân khác")


class LoanWriteOff(models.Model):
    """The outstanding principal of a loan written off (xử lý rủi ro): the provision held used
    first (Dr 2293), the rest an expense (Dr 8111), Cr 1283. The unpaid interest and penalty are
    kept here off the balance sheet (interest is income only when collected)."""

    loan = models.OneToOneField(
        Loan, verbose_name=_("khoản vay"), on_delete=models.PROTECT, related_name="write_off"
    )
    written_off_on = models.DateField(_("ngày xử lý"))
    cause = models.CharField(_("nguyên nhân"), max_length=24, choices=WriteOffCause.choices)
    note = models.CharField(_("diễn giải"), max_length=500, blank=True)
    principal = money_field(_("gốc xử lý"))
    provision_used = money_field(_("dùng dự phòng"))
    expense = money_field(_("hạch toán chi phí"))
    provision_released = money_field(_("dự phòng thừa hoàn nhập"))
    interest_unpaid = money_field(_("lãi chưa thu (theo dõi ngoại bảng)"))
    penalty_unpaid = money_field(_("lãi phạt chưa thu (theo dõi ngoại bảng)"))
    journal_entry = models.OneToOneField(
        "accounting.JournalEntry",
        verbose_name=_("bút toán"),
        on_delete=models.PROTECT,
        related_name="loan_write_off",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người đề nghị"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người phê duyệt"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("thời điểm ghi"), auto_now_add=True)

    class Meta:
        verbose_name = _("xử lý rủi ro")
        verbose_name_plural = _("xử lý rủi ro")
        ordering = ["-written_off_on", "-id"]
        constraints = [
            models.CheckConstraint(
                name="write_off_parts_sum",
                condition=Q(principal=F("provision_used") + F("expense")),
            ),
        ]

    def __str__(self):
        return f"Xử lý rủi ro khoản vay #{self.loan_id}"


class WriteOffRecovery(models.Model):
    """Money recovered on a written-off loan (Dr 1121 / Cr 7111); never more in total than the
    principal written off."""

    write_off = models.ForeignKey(
        LoanWriteOff,
        verbose_name=_("xử lý rủi ro"),
        on_delete=models.PROTECT,
        related_name="recoveries",
    )
    loan = models.ForeignKey(
        Loan, verbose_name=_("khoản vay"), on_delete=models.PROTECT, related_name="recoveries"
    )
    received_on = models.DateField(_("ngày thu"))
    amount = money_field(_("số tiền thu hồi"))
    journal_entry = models.OneToOneField(
        "accounting.JournalEntry",
        verbose_name=_("bút toán"),
        on_delete=models.PROTECT,
        related_name="write_off_recovery",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người thực hiện"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("thời điểm ghi"), auto_now_add=True)

    class Meta:
        verbose_name = _("thu hồi nợ đã xử lý")
        verbose_name_plural = _("thu hồi nợ đã xử lý")
        ordering = ["loan", "received_on", "id"]
        constraints = [
            models.CheckConstraint(name="recovery_amount_positive", condition=Q(amount__gt=0)),
        ]

    def __str__(self):
        return f"Thu hồi {self.received_on:%d/%m/%Y}"


class LoanClosure(models.Model):
    """The settlement of a loan with the borrower's compulsory savings: applied to the debt
    (a repayment funded from savings) and/or the rest returned to the borrower."""

    loan = models.OneToOneField(
        Loan, verbose_name=_("khoản vay"), on_delete=models.PROTECT, related_name="closure"
    )
    closed_on = models.DateField(_("ngày tất toán"))
    savings_applied = money_field(_("tiết kiệm trừ vào nợ"))
    savings_returned = money_field(_("tiết kiệm hoàn trả thành viên"))
    repayment = models.OneToOneField(
        Repayment,
        verbose_name=_("lần trả nợ từ tiết kiệm"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    refund_entry = models.OneToOneField(
        "accounting.JournalEntry",
        verbose_name=_("bút toán hoàn trả tiết kiệm"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người thực hiện"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("thời điểm ghi"), auto_now_add=True)

    class Meta:
        verbose_name = _("tất toán khoản vay")
        verbose_name_plural = _("tất toán khoản vay")
        ordering = ["-closed_on", "-id"]

    def __str__(self):
        return f"Tất toán khoản vay #{self.loan_id}"


# --------------------------------------------------------------------------------------------
# Reminders (loans.reminders.planning)


class ReminderChannel(models.TextChoices):
    EMAIL = "email", _("Thư điện tử")
    SMS = "sms", _("Tin nhắn SMS")


DIGEST_STAGE = "digest"


class ReminderStage(models.Model):
    """When a borrower is reminded of an installment: ``days_from_due`` (−3 = three days before).

    Rows with no fund are the defaults; a fund with stages of its own uses only its own. A stage
    missed on its day (the daily run did not happen) is still sent within ``catch_up_days``,
    never into the next stage's days.
    """

    fund = models.ForeignKey(
        "fund.Fund",
        verbose_name=_("quỹ"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reminder_stages",
        help_text=_("Để trống: mặc định cho các quỹ chưa đặt mốc nhắc riêng."),
    )
    code = models.SlugField(_("mã mốc"), max_length=32)
    name = models.CharField(_("tên mốc"), max_length=100)
    days_from_due = models.SmallIntegerField(
        _("số ngày so với ngày đến hạn"),
        help_text=_("Âm: trước hạn; 0: đúng ngày; dương: sau hạn."),
    )
    catch_up_days = models.PositiveSmallIntegerField(_("gửi bù trong (ngày)"), default=3)
    active = models.BooleanField(_("đang áp dụng"), default=True)

    class Meta:
        verbose_name = _("mốc nhắc nợ")
        verbose_name_plural = _("mốc nhắc nợ")
        ordering = ["fund", "days_from_due"]
        constraints = [
            models.UniqueConstraint(
                fields=["fund", "code"],
                condition=Q(fund__isnull=False),
                name="reminder_stage_fund_code",
            ),
            models.UniqueConstraint(
                fields=["code"], condition=Q(fund__isnull=True), name="reminder_stage_default_code"
            ),
            models.CheckConstraint(
                name="reminder_stage_not_digest", condition=~Q(code=DIGEST_STAGE)
            ),
        ]

    def __str__(self):
        return self.name


class ReminderTemplate(models.Model):
    """The text of a reminder (Django template syntax), per fund, stage and channel.

    Rows with no fund are the defaults (seeded by a migration); a fund officer overrides one by
    adding the fund's own row. Stage ``digest`` is the daily list sent to grassroots officers.
    """

    fund = models.ForeignKey(
        "fund.Fund",
        verbose_name=_("quỹ"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reminder_templates",
        help_text=_("Để trống: mẫu mặc định."),
    )
    stage = models.SlugField(
        _("mốc nhắc"), max_length=32, help_text=_("Mã mốc nhắc nợ, hoặc «digest» cho bản tổng hợp.")
    )
    channel = models.CharField(_("kênh"), max_length=8, choices=ReminderChannel.choices)
    subject = models.CharField(_("tiêu đề (thư điện tử)"), max_length=255, blank=True)
    body = models.TextField(_("nội dung"))
    updated_at = models.DateTimeField(_("thời điểm cập nhật"), auto_now=True)

    class Meta:
        verbose_name = _("mẫu tin nhắc nợ")
        verbose_name_plural = _("mẫu tin nhắc nợ")
        ordering = ["fund", "stage", "channel"]
        constraints = [
            models.UniqueConstraint(
                fields=["fund", "stage", "channel"],
                condition=Q(fund__isnull=False),
                name="reminder_template_fund_unique",
            ),
            models.UniqueConstraint(
                fields=["stage", "channel"],
                condition=Q(fund__isnull=True),
                name="reminder_template_default_unique",
            ),
        ]

    def __str__(self):
        return f"{self.stage} / {self.get_channel_display()}"

    def clean(self):
        from django.core.exceptions import ValidationError
        from django.template import Engine, TemplateSyntaxError

        for field in ("subject", "body"):
            try:
                Engine().from_string(getattr(self, field))
            except TemplateSyntaxError as e:
                raise ValidationError({field: _("Mẫu không hợp lệ: %(e)s") % {"e": e}}) from e


class ReminderDelivery(models.Model):
    """One reminder to one recipient, recorded BEFORE it is sent.

    The unique constraints are the guarantee: one row per installment, stage, channel and
    audience, and one digest per officer, day and channel, inserted with ON CONFLICT DO NOTHING,
    so two workers, a retried task or a rerun never create a second row, and a row is sent by
    whoever claims it (``pending``/``retry`` → ``sending``) and by no one else. See
    ``loans.reminders.planning`` for the at-most-once rule on a worker that dies while ``sending``.
    """

    class Kind(models.TextChoices):
        INSTALLMENT = "installment", _("Nhắc kỳ trả nợ")
        DIGEST = "digest", _("Tổng hợp gửi cán bộ CĐCS")

    class Audience(models.TextChoices):
        BORROWER = "borrower", _("Thành viên vay")
        OFFICER = "officer", _("Cán bộ CĐCS")

    class Status(models.TextChoices):
        PENDING = "pending", _("Chờ gửi")
        SENDING = "sending", _("Đang gửi")
        SENT = "sent", _("Đã gửi")
        RETRY = "retry", _("Gửi lỗi, sẽ gửi lại")
        FAILED = "failed", _("Gửi không thành công (đã hết số lần thử)")
        UNCERTAIN = "uncertain", _("Không rõ đã gửi hay chưa (cần kiểm tra)")
        SKIPPED = "skipped", _("Không gửi (đã trả nợ)")

    fund = models.ForeignKey(
        "fund.Fund", verbose_name=_("quỹ"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("loại"), max_length=12, choices=Kind.choices)
    installment = models.ForeignKey(
        Installment,
        verbose_name=_("kỳ trả nợ"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reminders",
    )
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("cán bộ nhận"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The borrower's (or the officer's) grassroots union when prepared: scopes the row.
    grassroots_union = models.ForeignKey(
        "fund.GrassrootsUnion",
        verbose_name=_("công đoàn cơ sở"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    stage = models.SlugField(_("mốc nhắc"), max_length=32)
    channel = models.CharField(_("kênh"), max_length=8, choices=ReminderChannel.choices)
    audience = models.CharField(_("người nhận là"), max_length=10, choices=Audience.choices)
    recipient = models.CharField(_("địa chỉ nhận"), max_length=255)
    business_date = models.DateField(_("ngày nghiệp vụ"))
    status = models.CharField(
        _("trạng thái"),
        max_length=10,
        choices=Status.choices,
        default=Status.PENDING,
        db_default=Status.PENDING,
    )
    attempts = models.PositiveSmallIntegerField(_("số lần gửi"), default=0, db_default=0)
    next_attempt_at = models.DateTimeField(
        _("gửi (lại) từ"), default=timezone.now, db_default=models.functions.Now()
    )
    claimed_at = models.DateTimeField(_("bắt đầu gửi lúc"), null=True, blank=True)
    sent_at = models.DateTimeField(_("đã gửi lúc"), null=True, blank=True)
    last_error = models.TextField(_("lỗi gần nhất"), blank=True, default="", db_default="")
    subject = models.CharField(_("tiêu đề"), max_length=255, blank=True, default="", db_default="")
    body = models.TextField(_("nội dung đã gửi"), blank=True, default="", db_default="")
    provider_id = models.CharField(
        _("mã tin của nhà cung cấp"), max_length=255, blank=True, default="", db_default=""
    )
    created_at = models.DateTimeField(
        _("thời điểm lập"), default=timezone.now, db_default=models.functions.Now()
    )

    class Meta:
        verbose_name = _("lượt nhắc nợ")
        verbose_name_plural = _("lượt nhắc nợ")
        ordering = ["-business_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["installment", "stage", "channel", "audience"],
                condition=Q(installment__isnull=False),
                name="reminder_once_per_installment_stage",
            ),
            models.UniqueConstraint(
                fields=["officer", "business_date", "channel"],
                condition=Q(kind="digest"),
                name="reminder_digest_once_per_day",
            ),
            models.CheckConstraint(
                name="reminder_kind_target",
                condition=Q(kind="installment", installment__isnull=False)
                | Q(kind="digest", officer__isnull=False, installment__isnull=True),
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "retry"]),
                name="reminder_due_to_send",
            ),
            models.Index(fields=["fund", "business_date"], name="reminder_fund_date"),
            models.Index(fields=["grassroots_union", "status"], name="reminder_gu_status"),
            models.Index(
                fields=["claimed_at"], condition=Q(status="sending"), name="reminder_sending"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.stage} → {self.recipient}"


# --------------------------------------------------------------------------------------------
# Close of business


class CloseOfBusinessRun(models.Model):
    """The daily run of one fund for one business date (``loans.servicing.close_of_business``): at
    most one per date.

    The work and the ``done`` row commit together, so a date is either done or not; a failed
    attempt is recorded with its error and can be run again.
    """

    class Status(models.TextChoices):
        RUNNING = "running", _("Đang chạy")
        DONE = "done", _("Hoàn thành")
        FAILED = "failed", _("Lỗi")

    fund = models.ForeignKey(
        "fund.Fund", verbose_name=_("quỹ"), on_delete=models.PROTECT, related_name="cob_runs"
    )
    business_date = models.DateField(_("ngày nghiệp vụ"))
    status = models.CharField(
        _("trạng thái"), max_length=8, choices=Status.choices, default=Status.RUNNING
    )
    started_at = models.DateTimeField(_("bắt đầu lúc"), default=timezone.now)
    finished_at = models.DateTimeField(_("kết thúc lúc"), null=True, blank=True)
    # Loans processed, newly overdue installments, overdue amounts, penalty, provision change.
    summary = models.JSONField(_("tổng hợp"), default=dict, blank=True)
    log = models.TextField(_("nhật ký"), blank=True)
    error = models.TextField(_("lỗi"), blank=True)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người chạy"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("khóa sổ cuối ngày")
        verbose_name_plural = _("khóa sổ cuối ngày")
        ordering = ["fund", "-business_date"]
        constraints = [
            models.UniqueConstraint(fields=["fund", "business_date"], name="cob_run_fund_date"),
        ]

    def __str__(self):
        return f"Khóa sổ {self.business_date:%d/%m/%Y} ({self.get_status_display()})"


class LoanChangeRequest(models.Model):
    """A request to change a loan's terms — a rescheduling or a write-off — filed by an officer in
    charge of the loan and decided by another, a fund officer (four eyes, as for applications).

    The requester's own act is on record (who asked, when, with which terms); the approval runs
    the decision (``loans.restructuring.decisions``) with those terms and links its result. A loan
    has at
    most one pending request of each kind.
    """

    class Kind(models.TextChoices):
        RESCHEDULE = "reschedule", _("Cơ cấu lại thời hạn trả nợ")
        WRITE_OFF = "write_off", _("Xử lý rủi ro")

    class Status(models.TextChoices):
        PENDING = "pending", _("Chờ duyệt")
        APPROVED = "approved", _("Đã duyệt")
        REJECTED = "rejected", _("Từ chối")
        WITHDRAWN = "withdrawn", _("Đã rút")

    loan = models.ForeignKey(
        Loan, verbose_name=_("khoản vay"), on_delete=models.PROTECT, related_name="change_requests"
    )
    kind = models.CharField(_("loại"), max_length=16, choices=Kind.choices)
    status = models.CharField(
        _("trạng thái"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    # The terms asked for, as the decision's service takes them (dates as ISO strings).
    terms = models.JSONField(_("nội dung đề nghị"), default=dict)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người đề nghị"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("thời điểm đề nghị"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người quyết định"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("thời điểm quyết định"), null=True, blank=True)
    decision_note = models.CharField(_("ý kiến"), max_length=500, blank=True)
    revision = models.OneToOneField(
        ScheduleRevision,
        verbose_name=_("lịch cơ cấu lại"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="request",
    )
    write_off = models.OneToOneField(
        LoanWriteOff,
        verbose_name=_("xử lý rủi ro"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="request",
    )

    class Meta:
        verbose_name = _("đề nghị thay đổi khoản vay")
        verbose_name_plural = _("đề nghị thay đổi khoản vay")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["loan", "kind"],
                condition=Q(status="pending"),
                name="change_request_one_pending_per_kind",
            ),
            models.CheckConstraint(
                name="change_request_decided",
                condition=Q(status="pending", decided_at__isnull=True)
                | (~Q(status="pending") & Q(decided_at__isnull=False)),
            ),
        ]
        indexes = [
            models.Index(
                fields=["status", "requested_at"],
                name="change_request_pending",
                condition=Q(status="pending"),
            )
        ]

    def __str__(self):
        kind, status = self.get_kind_display(), self.get_status_display()
        return f"{kind} — khoản vay #{self.loan_id} ({status})"
