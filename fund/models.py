"""The fund's organisation: federation fund, superior unions, grassroots unions, officers.

A grassroots union's superior union can change; ``GrassrootsUnionAffiliation`` keeps the history
(valid_from / valid_to) so that reports for a past period use the affiliation of that period, and
ledger postings carry the union ids as they were when posted.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Fund(models.Model):
    code = models.CharField(_("mã quỹ"), max_length=32, unique=True)
    name = models.CharField(_("tên quỹ"), max_length=255)
    federation_name = models.CharField(_("liên đoàn lao động"), max_length=255)
    address = models.CharField(_("địa chỉ"), max_length=255, blank=True)
    # Fund settings that loan rules read (a product may tighten them, never loosen).
    borrower_outstanding_limit = models.DecimalField(
        _("dư nợ tối đa mỗi thành viên (đồng)"),
        max_digits=20,
        decimal_places=0,
        default=50_000_000,
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
