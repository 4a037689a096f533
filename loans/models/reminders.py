"""Models of the reminders: stages, templates and deliveries."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from loans.models.loan import Installment

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
