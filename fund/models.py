"""The fund: its organisation, officers, capital, plans and the audit log.

Design overview
---------------
* ``Fund`` — one per federation; several can share one database, so every row below hangs off a
  fund and every ledger leg the fund posts carries ``fund_id``.
* ``SuperiorUnion`` / ``GrassrootsUnion`` — the organisation. A grassroots union's superior union
  can change; ``GrassrootsUnion.superior_union`` is the current one and
  ``GrassrootsUnionAffiliation`` keeps the history (``valid_from`` inclusive, ``valid_to``
  exclusive) so that a report for a past period uses the affiliation of that period, while ledger
  postings carry the union ids as they were when posted.
* ``OfficerProfile`` — a user's role and unit; ``fund.scoping`` turns it into the scope that
  every view, API, export and report applies.
* ``CapitalSource`` / ``CapitalMovement`` — where the capital comes from (city budget 4111, union
  funds 4112, donors 4113, reflows 4118) and each contribution, withdrawal or transfer, posted to
  the ledger once under an idempotency key. The ledger is the truth for amounts; the movement row
  is the business document that points at its entry.
* ``LendingAllocation`` — optional lending capacity (hạn mức) of a superior union from a date.
* ``CapitalCommitment`` — capital held for approved, not yet disbursed loans, by reference.
* ``AnnualPlan`` / ``PlanSplit`` — the year's targets and their split by quarter, superior union
  and grassroots union; what is not split is shown as unallocated, never invented.
* ``AuditLog`` — who changed what, when, written by the services, never edited.
"""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounting.formatting import format_vnd
from accounting.models import SealedLink
from accounting.money import money_field


class Fund(models.Model):
    code = models.CharField(_("mã quỹ"), max_length=32, unique=True)
    name = models.CharField(_("tên quỹ"), max_length=255)
    federation_name = models.CharField(_("liên đoàn lao động"), max_length=255)
    address = models.CharField(_("địa chỉ"), max_length=255, blank=True)
    # Fund settings that loan rules read (a product may tighten them, never loosen).
    borrower_outstanding_limit = money_field(_("dư nợ tối đa mỗi thành viên"), default=50_000_000)
    # Separation of duties (``fund.duties``), on by default; changed only through
    # ``fund.services.fund_duties_set`` (audited).
    duty_approver_not_disburser = models.BooleanField(
        _("người phê duyệt khoản vay không được giải ngân khoản vay đó"), default=True
    )
    duty_recorder_not_reverser = models.BooleanField(
        _("người ghi thu nợ, nộp tiền không được hủy chính nghiệp vụ đó"), default=True
    )
    # A capital move above it is confirmed by a second fund officer before it posts; None: never.
    capital_confirmation_threshold = money_field(
        _("ngưỡng nghiệp vụ vốn cần cán bộ quỹ thứ hai xác nhận"),
        default=100_000_000,
        null=True,
        blank=True,
    )
    # A union's remittance not seen on the bank's statement after this many days is listed as
    # not received (for the fund and the union's superior union).
    remittance_receipt_days = models.PositiveSmallIntegerField(
        _("số ngày chờ tiền nộp về tài khoản"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
    )
    # Back-dating (docs/ledger.md, "Value dates"): a posting or decision dated before the 1st of
    # the month this many months before the current one (0: the current month) needs a reason.
    backdate_open_months = models.PositiveSmallIntegerField(
        _("số tháng trước được ghi sổ lùi ngày không cần lý do"),
        default=0,
        validators=[MaxValueValidator(120)],
        help_text=_(
            "0: chỉ trong tháng hiện tại; ngày trước đầu kỳ này phải nêu lý do ghi sổ lùi ngày."
        ),
    )
    # Reminder SMS without diacritics fit the GSM alphabet: 160 characters a part instead of 70
    # (a Vietnamese text with diacritics is sent as Unicode), as Vietnamese SMS are often sent.
    sms_without_diacritics = models.BooleanField(
        _("gửi tin nhắn SMS không dấu"),
        default=False,
        help_text=_(
            "Tin không dấu ngắn hơn một nửa về số phần tin (160 ký tự một phần, có dấu: 70)."
        ),
    )
    # Two-factor sign-in (TOTP, docs/security.md): required of the fund's officers and auditors
    # when on; union officers may turn it on for themselves.
    two_factor_required = models.BooleanField(
        _("bắt buộc xác thực hai bước với cán bộ quỹ và kiểm soát viên"), default=True
    )

    class Meta:
        verbose_name = _("quỹ")
        verbose_name_plural = _("quỹ")

    def __str__(self):
        return self.name


class SuperiorUnion(models.Model):
    class Kind(models.TextChoices):
        DISTRICT = "district", _("LĐLĐ quận, huyện, thị xã")
        INDUSTRY = "industry", _("Công đoàn ngành")
        OTHER = "other", _("Công đoàn cấp trên khác")

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="superior_unions")
    code = models.CharField(_("mã"), max_length=32)
    name = models.CharField(_("tên công đoàn cấp trên"), max_length=255)
    kind = models.CharField(_("loại"), max_length=16, choices=Kind.choices, default=Kind.DISTRICT)
    address = models.CharField(_("địa chỉ"), max_length=255, blank=True)
    contact_name = models.CharField(_("cán bộ phụ trách"), max_length=255, blank=True)
    contact_phone = models.CharField(_("điện thoại"), max_length=32, blank=True)
    contact_email = models.EmailField(_("thư điện tử"), blank=True)
    active_from = models.DateField(_("hoạt động từ"), null=True, blank=True)
    active_to = models.DateField(_("ngừng hoạt động từ"), null=True, blank=True)

    class Meta:
        verbose_name = _("công đoàn cấp trên")
        verbose_name_plural = _("công đoàn cấp trên")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["fund", "code"], name="superior_union_code_unique")
        ]

    def __str__(self):
        return self.name


class GrassrootsUnion(models.Model):
    class Kind(models.TextChoices):
        ADMINISTRATIVE = "administrative", _("Cơ quan hành chính, sự nghiệp")
        SCHOOL = "school", _("Trường học")
        STATE_ENTERPRISE = "state_enterprise", _("Doanh nghiệp nhà nước")
        PRIVATE_ENTERPRISE = "private_enterprise", _("Doanh nghiệp ngoài nhà nước")
        OTHER = "other", _("Khác")

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="grassroots_unions")
    # The current affiliation; its history is in GrassrootsUnionAffiliation.
    superior_union = models.ForeignKey(
        SuperiorUnion,
        verbose_name=_("công đoàn cấp trên"),
        on_delete=models.PROTECT,
        related_name="grassroots_unions",
    )
    code = models.CharField(_("mã"), max_length=32)
    name = models.CharField(_("tên công đoàn cơ sở"), max_length=255)
    kind = models.CharField(_("loại hình"), max_length=24, choices=Kind.choices)
    address = models.CharField(_("địa chỉ"), max_length=255, blank=True)
    contact_name = models.CharField(_("cán bộ phụ trách"), max_length=255, blank=True)
    contact_phone = models.CharField(_("điện thoại"), max_length=32, blank=True)
    contact_email = models.EmailField(_("thư điện tử"), blank=True)
    active_from = models.DateField(_("hoạt động từ"), null=True, blank=True)
    active_to = models.DateField(_("ngừng hoạt động từ"), null=True, blank=True)

    class Meta:
        verbose_name = _("công đoàn cơ sở")
        verbose_name_plural = _("công đoàn cơ sở")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["fund", "code"], name="grassroots_union_code_unique")
        ]

    def __str__(self):
        return self.name


class GrassrootsUnionAffiliation(models.Model):
    grassroots_union = models.ForeignKey(
        GrassrootsUnion, on_delete=models.PROTECT, related_name="affiliations"
    )
    superior_union = models.ForeignKey(
        SuperiorUnion, on_delete=models.PROTECT, related_name="affiliations"
    )
    valid_from = models.DateField(_("từ ngày"))
    valid_to = models.DateField(_("đến trước ngày"), null=True, blank=True)

    class Meta:
        verbose_name = _("lịch sử trực thuộc")
        verbose_name_plural = _("lịch sử trực thuộc")
        ordering = ["grassroots_union", "valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["grassroots_union", "valid_from"], name="affiliation_start_unique"
            ),
            models.CheckConstraint(
                name="affiliation_dates_ordered",
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=models.F("valid_from")),
            ),
        ]
        indexes = [models.Index(fields=["superior_union", "valid_from"], name="affiliation_su")]

    def __str__(self):
        end = f"{self.valid_to:%d/%m/%Y}" if self.valid_to else "nay"
        return (
            f"{self.grassroots_union_id} → {self.superior_union_id} "
            f"({self.valid_from:%d/%m/%Y}–{end})"
        )


class Role(models.TextChoices):
    FUND_OFFICER = "fund_officer", _("Cán bộ quỹ")
    SUPERIOR_OFFICER = "superior_officer", _("Cán bộ công đoàn cấp trên")
    GRASSROOTS_OFFICER = "grassroots_officer", _("Cán bộ công đoàn cơ sở")
    AUDITOR = "auditor", _("Kiểm toán viên")


class OfficerProfile(models.Model):
    """A user's role and unit. The scope every view, API, export and report applies."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="officer"
    )
    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="officers")
    role = models.CharField(_("vai trò"), max_length=24, choices=Role.choices)
    superior_union = models.ForeignKey(
        SuperiorUnion, null=True, blank=True, on_delete=models.PROTECT, related_name="officers"
    )
    grassroots_union = models.ForeignKey(
        GrassrootsUnion, null=True, blank=True, on_delete=models.PROTECT, related_name="officers"
    )
    phone = models.CharField(_("điện thoại"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("cán bộ")
        verbose_name_plural = _("cán bộ")
        constraints = [
            models.CheckConstraint(
                name="officer_unit_matches_role",
                condition=(
                    models.Q(role="superior_officer", superior_union__isnull=False)
                    | models.Q(role="grassroots_officer", grassroots_union__isnull=False)
                    | models.Q(role__in=["fund_officer", "auditor"])
                ),
            )
        ]

    def __str__(self):
        return f"{self.user} ({self.get_role_display()})"


# --------------------------------------------------------------------------------------------
# Working days


class CalendarDay(models.Model):
    """A day the fund sets apart from the rule (Saturdays, Sundays and Vietnam's public holidays
    are days off): a day off it adds (the Government's extended Tết break, a bridge day) or a
    working day it adds (a Saturday worked in exchange). See ``fund.calendar``."""

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="calendar_days")
    day = models.DateField(_("ngày"))
    working = models.BooleanField(_("ngày làm việc"))
    note = models.CharField(_("ghi chú"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("ngày trong lịch làm việc")
        verbose_name_plural = _("lịch làm việc")
        constraints = [
            models.UniqueConstraint(fields=["fund", "day"], name="calendar_day_once_per_fund")
        ]
        ordering = ["day"]

    def __str__(self):
        return f"{self.day:%d/%m/%Y}"


# --------------------------------------------------------------------------------------------
# Capital


class CapitalSource(models.Model):
    class Kind(models.TextChoices):
        CITY_BUDGET = "city_budget", _("Ngân sách thành phố")
        UNION_FUNDS = "union_funds", _("Quỹ của tổ chức công đoàn")
        DONORS = "donors", _("Tài trợ, ủng hộ")
        REFLOWS = "reflows", _("Bổ sung từ kết quả hoạt động")

    # The capital account (Circular 200/99 style) each kind of source is credited to.
    ACCOUNTS = {
        Kind.CITY_BUDGET: "4111",
        Kind.UNION_FUNDS: "4112",
        Kind.DONORS: "4113",
        Kind.REFLOWS: "4118",
    }

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="capital_sources")
    code = models.CharField(_("mã nguồn vốn"), max_length=32)
    name = models.CharField(_("tên nguồn vốn"), max_length=255)
    kind = models.CharField(_("loại nguồn"), max_length=16, choices=Kind.choices)
    note = models.CharField(_("ghi chú"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("nguồn vốn")
        verbose_name_plural = _("nguồn vốn")
        ordering = ["fund", "code"]
        constraints = [
            models.UniqueConstraint(fields=["fund", "code"], name="capital_source_code_unique")
        ]

    def __str__(self):
        return self.name

    @property
    def account_code(self) -> str:
        return self.ACCOUNTS[self.Kind(self.kind)]

    @property
    def subledger(self) -> str:
        """Tag on the capital legs, so the ledger answers "how much does this source finance"."""
        return f"capital_source:{self.pk}"


class CapitalMovement(models.Model):
    class Kind(models.TextChoices):
        CONTRIBUTION = "contribution", _("Góp, bổ sung vốn")
        WITHDRAWAL = "withdrawal", _("Rút, hoàn trả vốn")
        TRANSFER = "transfer", _("Điều chuyển giữa các nguồn vốn")

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="capital_movements")
    kind = models.CharField(_("loại nghiệp vụ"), max_length=16, choices=Kind.choices)
    source = models.ForeignKey(
        CapitalSource,
        verbose_name=_("nguồn vốn"),
        on_delete=models.PROTECT,
        related_name="movements",
    )
    target_source = models.ForeignKey(
        CapitalSource,
        verbose_name=_("chuyển sang nguồn vốn"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="movements_in",
    )
    amount = money_field(_("số tiền"), default=None)
    effective_date = models.DateField(_("ngày hạch toán"))
    memo = models.CharField(_("diễn giải"), max_length=500)
    idempotency_key = models.CharField(_("khóa chống trùng"), max_length=180, unique=True)
    journal_entry = models.OneToOneField(
        "accounting.JournalEntry",
        verbose_name=_("bút toán"),
        on_delete=models.PROTECT,
        related_name="capital_movement",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người lập"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("thời điểm lập"), auto_now_add=True)
    # The second fund officer who confirmed it (a move above the fund's threshold).
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người xác nhận"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("nghiệp vụ nguồn vốn")
        verbose_name_plural = _("nghiệp vụ nguồn vốn")
        ordering = ["-effective_date", "-id"]
        constraints = [
            models.CheckConstraint(name="capital_movement_positive", condition=Q(amount__gt=0)),
            models.CheckConstraint(
                name="capital_transfer_has_target",
                condition=Q(kind="transfer", target_source__isnull=False)
                | (~Q(kind="transfer") & Q(target_source__isnull=True)),
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {format_vnd(self.amount)} ({self.source})"


class CapitalMoveRequest(models.Model):
    """A capital move above the fund's threshold, entered by one fund officer and waiting for
    another to confirm it (``fund.services.capital_move_confirm``) or reject it; it posts only
    when confirmed, as the ``CapitalMovement`` it then points at."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Chờ xác nhận")
        CONFIRMED = "confirmed", _("Đã xác nhận")
        REJECTED = "rejected", _("Đã từ chối")

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="capital_requests")
    kind = models.CharField(
        _("loại nghiệp vụ"), max_length=16, choices=CapitalMovement.Kind.choices
    )
    source = models.ForeignKey(
        CapitalSource, verbose_name=_("nguồn vốn"), on_delete=models.PROTECT, related_name="+"
    )
    target_source = models.ForeignKey(
        CapitalSource,
        verbose_name=_("chuyển sang nguồn vốn"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    amount = money_field(_("số tiền"), default=None)
    effective_date = models.DateField(_("ngày hạch toán"))
    memo = models.CharField(_("diễn giải"), max_length=500, blank=True)
    cash_account = models.CharField(_("tài khoản tiền"), max_length=16, blank=True)
    idempotency_key = models.CharField(_("khóa chống trùng"), max_length=180, unique=True)
    status = models.CharField(
        _("trạng thái"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người lập"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("thời điểm lập"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người xác nhận / từ chối"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("thời điểm quyết định"), null=True, blank=True)
    reason = models.CharField(_("lý do từ chối"), max_length=500, blank=True)
    # Why the move is dated before the fund's open window (``fund.validation``); the posting
    # made when it is confirmed keeps it.
    backdated_reason = models.CharField(_("lý do ghi sổ lùi ngày"), max_length=500, blank=True)
    movement = models.OneToOneField(
        CapitalMovement,
        verbose_name=_("nghiệp vụ đã hạch toán"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="request",
    )

    class Meta:
        verbose_name = _("nghiệp vụ vốn chờ xác nhận")
        verbose_name_plural = _("nghiệp vụ vốn chờ xác nhận")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(name="capital_request_positive", condition=Q(amount__gt=0)),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {format_vnd(self.amount)} ({self.get_status_display()})"


class YearClose(models.Model):
    """A fund's year closed (``fund.closing.year_close``): its income and expenses moved to the
    result 911 and on to the surplus 4212 by one closing entry dated 31 December, and that
    surplus carried to 4211 by an entry dated 1 January of the next year. One per fund and
    year; a year without income or expenses is closed with no entry."""

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="year_closes")
    year = models.PositiveSmallIntegerField(_("năm"))
    surplus = money_field(_("chênh lệch thu chi của năm"), default=0)
    total_income = money_field(_("tổng thu"), default=0)
    total_expense = money_field(_("tổng chi"), default=0)
    closing_entry = models.OneToOneField(
        "accounting.JournalEntry",
        verbose_name=_("bút toán kết chuyển"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="year_close",
    )
    carry_entry = models.OneToOneField(
        "accounting.JournalEntry",
        verbose_name=_("bút toán chuyển sang năm trước"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="year_carry",
    )
    idempotency_key = models.CharField(_("khóa chống trùng"), max_length=180, unique=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người khóa sổ"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("thời điểm khóa sổ"), auto_now_add=True)

    class Meta:
        verbose_name = _("khóa sổ cuối năm")
        verbose_name_plural = _("khóa sổ cuối năm")
        ordering = ["fund", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["fund", "year"], name="year_close_once_per_fund_year")
        ]

    def __str__(self):
        return f"{self.fund} {self.year}"


class LendingAllocation(models.Model):
    """A superior union's lending capacity (hạn mức) from ``valid_from`` on.

    The allocation in force on a date is the latest one starting on or before it; an allocation
    with no amount ends the limit (the union then lends within the fund-wide capital).
    """

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="lending_allocations")
    superior_union = models.ForeignKey(
        SuperiorUnion,
        verbose_name=_("công đoàn cấp trên"),
        on_delete=models.PROTECT,
        related_name="lending_allocations",
    )
    amount = money_field(
        _("hạn mức cho vay"),
        default=None,
        null=True,
        blank=True,
        help_text=_("Để trống: bỏ hạn mức từ ngày này."),
    )
    valid_from = models.DateField(_("áp dụng từ ngày"))
    note = models.CharField(_("ghi chú"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("thời điểm lập"), auto_now_add=True)

    class Meta:
        verbose_name = _("hạn mức cho vay")
        verbose_name_plural = _("hạn mức cho vay")
        ordering = ["superior_union", "-valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["superior_union", "valid_from"], name="lending_allocation_unique"
            ),
            models.CheckConstraint(
                name="lending_allocation_nonnegative",
                condition=Q(amount__isnull=True) | Q(amount__gte=0),
            ),
        ]

    def __str__(self):
        return f"{self.superior_union} từ {self.valid_from:%d/%m/%Y}"


class CapitalCommitment(models.Model):
    """Capital held for an approved loan until it is disbursed, rejected or cancelled."""

    class Status(models.TextChoices):
        OPEN = "open", _("Đang giữ")
        RELEASED = "released", _("Đã giải phóng")

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="capital_commitments")
    superior_union = models.ForeignKey(
        SuperiorUnion,
        verbose_name=_("công đoàn cấp trên"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="capital_commitments",
    )
    reference = models.CharField(_("tham chiếu"), max_length=100, unique=True)
    amount = money_field(_("số tiền"), default=None)
    status = models.CharField(
        _("trạng thái"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    created_at = models.DateTimeField(_("thời điểm giữ vốn"), default=timezone.now)
    released_at = models.DateTimeField(_("thời điểm giải phóng"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("vốn đã cam kết")
        verbose_name_plural = _("vốn đã cam kết")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(name="commitment_positive", condition=Q(amount__gt=0)),
        ]
        indexes = [models.Index(fields=["fund", "status"], name="commitment_fund_status")]

    def __str__(self):
        return self.reference


# --------------------------------------------------------------------------------------------
# Plans


class PlanFiguresMixin(models.Model):
    """The targets of a plan, or of one part of its split."""

    disbursed_amount = money_field(_("doanh số cho vay"))
    borrowers = models.PositiveIntegerField(_("số lượt thành viên vay"), default=0)
    loans = models.PositiveIntegerField(_("số khoản vay"), default=0)
    grassroots_unions = models.PositiveIntegerField(_("số CĐCS có thành viên vay"), default=0)
    jobs = models.PositiveIntegerField(_("số việc làm tạo mới"), default=0)

    FIGURES = ("disbursed_amount", "borrowers", "loans", "grassroots_unions", "jobs")

    class Meta:
        abstract = True


class AnnualPlan(PlanFiguresMixin):
    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="plans")
    year = models.PositiveSmallIntegerField(
        _("năm"), validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    note = models.CharField(_("ghi chú"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("kế hoạch năm")
        verbose_name_plural = _("kế hoạch năm")
        ordering = ["fund", "-year"]
        constraints = [models.UniqueConstraint(fields=["fund", "year"], name="plan_year_unique")]

    def __str__(self):
        return f"Kế hoạch năm {self.year}"


class PlanSplit(PlanFiguresMixin):
    """One part of a plan: a quarter of the fund's, a superior union's (year or quarter), or a
    grassroots union's (year or quarter).

    ``quarter`` 0 means the whole year. A grassroots union's row also records the superior union
    it belonged to when the plan was split, so that the superior union's split adds up.
    """

    plan = models.ForeignKey(AnnualPlan, on_delete=models.CASCADE, related_name="splits")
    quarter = models.PositiveSmallIntegerField(
        _("quý"), default=0, validators=[MaxValueValidator(4)], help_text=_("0: cả năm")
    )
    superior_union = models.ForeignKey(
        SuperiorUnion,
        verbose_name=_("công đoàn cấp trên"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="plan_splits",
    )
    grassroots_union = models.ForeignKey(
        GrassrootsUnion,
        verbose_name=_("công đoàn cơ sở"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="plan_splits",
    )

    class Meta:
        verbose_name = _("phân bổ kế hoạch")
        verbose_name_plural = _("phân bổ kế hoạch")
        ordering = ["plan", "superior_union", "grassroots_union", "quarter"]
        constraints = [
            models.CheckConstraint(name="plan_split_quarter_range", condition=Q(quarter__lte=4)),
            # The fund's own rows are its quarters; its year is the plan itself.
            models.CheckConstraint(
                name="plan_split_fund_row_is_quarter",
                condition=Q(superior_union__isnull=False) | Q(quarter__gte=1),
            ),
            models.CheckConstraint(
                name="plan_split_grassroots_has_superior",
                condition=Q(grassroots_union__isnull=True) | Q(superior_union__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["plan", "quarter"],
                condition=Q(superior_union__isnull=True, grassroots_union__isnull=True),
                name="plan_split_fund_unique",
            ),
            models.UniqueConstraint(
                fields=["plan", "quarter", "superior_union"],
                condition=Q(grassroots_union__isnull=True),
                name="plan_split_superior_unique",
            ),
            models.UniqueConstraint(
                fields=["plan", "quarter", "grassroots_union"],
                condition=Q(grassroots_union__isnull=False),
                name="plan_split_grassroots_unique",
            ),
        ]

    def __str__(self):
        unit = self.grassroots_union or self.superior_union or "Quỹ"
        period = f"quý {self.quarter}" if self.quarter else "cả năm"
        return f"{self.plan}: {unit}, {period}"


# --------------------------------------------------------------------------------------------
# Audit log


class AuditLog(models.Model):
    """One change to fund data. Written by the services (``fund.audit.audit_record``) only.

    The union ids are copied (not foreign keys) so that the log reads the same after a union
    moves, and so that the scope filters it like any other fund row.
    """

    at = models.DateTimeField(_("thời điểm"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người thực hiện"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_name = models.CharField(_("tên người thực hiện"), max_length=150, blank=True)
    action = models.CharField(_("thao tác"), max_length=32)
    content_type = models.ForeignKey(
        ContentType, verbose_name=_("loại đối tượng"), on_delete=models.PROTECT, related_name="+"
    )
    object_id = models.CharField(_("mã đối tượng"), max_length=64)
    object_repr = models.CharField(_("đối tượng"), max_length=255)
    changes = models.JSONField(_("nội dung thay đổi"), default=dict, blank=True)
    fund = models.ForeignKey(
        Fund,
        verbose_name=_("quỹ"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    superior_union_id = models.BigIntegerField(_("công đoàn cấp trên"), null=True, blank=True)
    grassroots_union_id = models.BigIntegerField(_("công đoàn cơ sở"), null=True, blank=True)

    class Meta:
        verbose_name = _("nhật ký thay đổi")
        verbose_name_plural = _("nhật ký thay đổi")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["content_type", "object_id"], name="audit_object"),
            models.Index(fields=["fund", "at"], name="audit_fund_at"),
        ]

    def __str__(self):
        return f"{self.at:%d/%m/%Y %H:%M} {self.actor_name or '—'} {self.action} {self.object_repr}"


class AuditLink(SealedLink):
    """One sealed row of the audit log in its hash chain, as the ledger's ``ChainLink``:
    ``link_hash = sha256(prev_hash + row_hash)``; ``fund.audit.audit_seal`` appends links in
    batches (beat, every minute) and signs the head it leaves (chain ``audit``)."""

    log = models.OneToOneField(
        AuditLog,
        verbose_name=_("dòng nhật ký"),
        on_delete=models.PROTECT,
        related_name="chain_link",
    )
    row_hash = models.CharField(_("mã băm dòng nhật ký"), max_length=64)

    class Meta:
        verbose_name = _("mắt xích nhật ký")
        verbose_name_plural = _("chuỗi niêm phong nhật ký thay đổi")
        ordering = ["seq"]


class IntegrityCheck(models.Model):
    """One run of every verification of the books (``fund.integrity``): the ledger's chain and
    signed heads, the daily turnover, the checkpoints and the audit log's chain. The nightly
    job writes one; auditors and fund officers see the latest, and a failure is e-mailed."""

    at = models.DateTimeField(_("thời điểm kiểm tra"), default=timezone.now, db_index=True)
    ok = models.BooleanField(_("toàn vẹn"))
    seconds = models.FloatField(_("thời gian chạy (giây)"))
    # [{"check": "ledger", "ok": true, "checked": 120, "problem": ""}, ...]
    results = models.JSONField(_("kết quả từng phép kiểm tra"), default=list)
    emailed_to = models.JSONField(_("đã báo tin cho"), default=list, blank=True)

    class Meta:
        verbose_name = _("lần kiểm tra toàn vẹn sổ sách")
        verbose_name_plural = _("các lần kiểm tra toàn vẹn sổ sách")
        ordering = ["-at", "-id"]


# --------------------------------------------------------------------------------------------
# Transactional outbox


class OutboxMessage(models.Model):
    """A Celery task to publish, written in the transaction of the change that asks for it.

    ``fund.outbox``: the row commits with the business change or not at all; after the commit it
    is published to the broker, and while the broker is down it stays ``pending`` until the relay
    (``manage.py outbox_relay``, and a beat task) publishes it. Publishing is at least once (a
    crash between the broker's acceptance and the row's update republishes it), so the tasks sent
    this way are idempotent.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Chờ gửi vào hàng đợi")
        PUBLISHED = "published", _("Đã gửi vào hàng đợi")

    task_name = models.CharField(_("tác vụ"), max_length=200)
    args = models.JSONField(_("tham số"), default=list, blank=True)
    kwargs = models.JSONField(_("tham số có tên"), default=dict, blank=True)
    # Optional: a second enqueue under the same key returns the first row (nothing re-sent).
    key = models.CharField(
        _("khóa chống trùng"), max_length=200, null=True, blank=True, unique=True
    )
    status = models.CharField(
        _("trạng thái"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    created_at = models.DateTimeField(_("thời điểm ghi"), default=timezone.now)
    available_at = models.DateTimeField(_("gửi lại từ"), default=timezone.now)
    attempts = models.PositiveIntegerField(_("số lần gửi không thành công"), default=0)
    last_error = models.TextField(_("lỗi gần nhất"), blank=True)
    published_at = models.DateTimeField(_("thời điểm gửi"), null=True, blank=True)
    task_id = models.CharField(_("mã tác vụ"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("tác vụ chờ gửi (outbox)")
        verbose_name_plural = _("tác vụ chờ gửi (outbox)")
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["available_at", "id"],
                condition=Q(status="pending"),
                name="outbox_pending",
            )
        ]

    def __str__(self):
        return f"{self.task_name} #{self.pk} ({self.get_status_display()})"
