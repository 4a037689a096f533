"""Stored reports.

``QuarterlyReport`` — one CURRENT report per (fund, superior union or none, year, quarter):
regenerating a quarter replaces the row's figures and files (the old files are deleted once the
new ones are committed) and counts up ``generation``; the figures of a quarter do not change
between generations unless someone posts into the quarter, and the report records the ledger
chain head it was built on, so any difference can be traced. Files live under MEDIA_ROOT with
their SHA-256 stored beside them.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class QuarterlyReport(models.Model):
    fund = models.ForeignKey(
        "fund.Fund", verbose_name=_("quỹ"), on_delete=models.PROTECT, related_name="+"
    )
    superior_union = models.ForeignKey(
        "fund.SuperiorUnion",
        verbose_name=_("công đoàn cấp trên"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="quarterly_reports",
        help_text=_("Để trống: báo cáo của toàn quỹ."),
    )
    year = models.PositiveSmallIntegerField(_("năm"))
    quarter = models.PositiveSmallIntegerField(_("quý"))
    generated_at = models.DateTimeField(_("thời điểm lập"))
    generation = models.PositiveIntegerField(_("lần lập"), default=1)
    chain_seq = models.BigIntegerField(_("số mắt xích niêm phong"), default=0)
    chain_hash = models.CharField(_("mã băm mắt xích"), max_length=64, blank=True)
    headline = models.TextField(_("câu tóm tắt"))
    figures = models.JSONField(_("số liệu"))
    pdf = models.FileField(_("tệp PDF"), upload_to="reports/quarterly/", max_length=255)
    pdf_sha256 = models.CharField(_("SHA-256 của tệp PDF"), max_length=64)
    xlsx = models.FileField(_("tệp XLSX"), upload_to="reports/quarterly/", max_length=255)
    xlsx_sha256 = models.CharField(_("SHA-256 của tệp XLSX"), max_length=64)
    emailed_at = models.DateTimeField(_("thời điểm gửi thư"), null=True, blank=True)
    emailed_to = models.JSONField(_("đã gửi tới"), default=list, blank=True)

    class Meta:
        verbose_name = _("báo cáo quý")
        verbose_name_plural = _("báo cáo quý")
        ordering = ["-year", "-quarter", "superior_union__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["fund", "year", "quarter"],
                condition=Q(superior_union__isnull=True),
                name="quarterly_report_fund_unique",
            ),
            models.UniqueConstraint(
                fields=["fund", "superior_union", "year", "quarter"],
                condition=Q(superior_union__isnull=False),
                name="quarterly_report_su_unique",
            ),
            models.CheckConstraint(
                name="quarterly_report_quarter_range", condition=Q(quarter__gte=1, quarter__lte=4)
            ),
        ]

    def __str__(self):
        unit = self.superior_union or "Toàn quỹ"
        return f"Báo cáo quý {self.quarter}/{self.year} — {unit}"
