"""Models of the decisions on a loan's terms: schedule revisions, interest waivers, write-offs and
recoveries, closures, and the requests to change a loan's terms (four eyes)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounting.money import money_field
from loans.models.loan import FollowUpVisit, Loan, Repayment
from loans.models.origination import METHOD_CHOICES

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


class LoanChangeRequest(models.Model):
    """A request to change a loan's terms — a rescheduling or a write-off — filed by an officer in
    charge of the loan and decided by another, a fund officer (four eyes, as for applications).

    The requester's own act is on record (who asked, when, with which terms); the approval runs
    the decision (``loans.restructuring.decisions``) with those terms and links its result. A loan
    has at most one pending request of each kind."""

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
