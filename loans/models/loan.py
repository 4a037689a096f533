"""Models of a loan in force: the loan, its installments and transactions, follow-up visits,
repayments (and the unions' remittance batches) and the daily close-of-business runs."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounting.money import money_field
from loans.models.origination import (
    FREQUENCY_CHOICES,
    METHOD_CHOICES,
    RATE_PERIOD_CHOICES,
    Borrower,
    LoanApplication,
    LoanProduct,
    PurposeKind,
    SavingsKind,
    day_off_rule_field,
    rate_field,
)
from loans.terms import (
    validate_allocation_order,
    validate_debt_groups,
)

# --------------------------------------------------------------------------------------------
# Loans


class LoanStatus(models.TextChoices):
    ACTIVE = "active", _("Đang vay")
    CLOSED = "closed", _("Đã tất toán")
    WRITTEN_OFF = "written_off", _("Đã xử lý rủi ro")


# What a union's quarterly figures read of a loan besides its unions and date: set at
# disbursement and never changed after (the covering indexes below).
UNION_FIGURES_COLUMNS = ("id", "fund", "borrower", "principal", "planned_jobs")


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
    day_off_rule = day_off_rule_field()
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
    # date of the pass that last changed them (the book's date is the last CloseOfBusinessRun).
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
            # A union's quarterly figures (reports.quarterly: its loans of each period, by union,
            # and the follow-up visits of its loans) read these alone. Covering only columns
            # fixed at disbursement, so the daily run's and the repayments' updates of a loan
            # stay in place (HOT, see above).
            models.Index(
                fields=["superior_union", "disbursed_on"],
                include=[*UNION_FIGURES_COLUMNS, "grassroots_union"],
                name="loan_su_disbursed",
            ),
            # Also the status: a union's page lists its active loans, newest first, from this
            # index alone (a loan's status changes once or twice in its life).
            models.Index(
                fields=["grassroots_union", "disbursed_on"],
                include=[*UNION_FIGURES_COLUMNS, "superior_union", "status"],
                name="loan_gu_disbursed",
            ),
            # A union officer's loan list, newest first.
            models.Index(fields=["grassroots_union", "-id"], name="loan_gu_newest"),
            # The fund officer's loan list, newest first, and its capped count: an index-only
            # scan of 10,001 entries instead of the primary key's with a heap visit per row.
            models.Index(fields=["fund", "-id"], name="loan_fund_newest"),
        ]

    def __str__(self):
        return _("Khoản vay #%(id)s — %(name)s") % {"id": self.pk, "name": self.borrower.full_name}

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
    # Posted to money in transit (1131, sub-ledger ``remittance:<id>``) until the bank's
    # statement confirms it; the remittances posted before that rule debited 1121 directly.
    in_transit = models.BooleanField(_("qua tiền đang chuyển"), default=False)

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
