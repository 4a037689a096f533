"""The loan book's arrears as each close of business left it: one row per grassroots union,
product and arrears-ageing bucket, so that portfolio at risk and ageing can be read as of any
closed date (``loans.servicing.portfolio``)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounting.money import money_field


class PortfolioSnapshot(models.Model):
    fund = models.ForeignKey("fund.Fund", on_delete=models.PROTECT, related_name="+")
    business_date = models.DateField(_("ngày nghiệp vụ"))
    # The units as recorded on the loans (at disbursement), as every figure of the loan book.
    superior_union = models.ForeignKey(
        "fund.SuperiorUnion", on_delete=models.PROTECT, related_name="+"
    )
    grassroots_union = models.ForeignKey(
        "fund.GrassrootsUnion", on_delete=models.PROTECT, related_name="+"
    )
    product = models.ForeignKey("loans.LoanProduct", on_delete=models.PROTECT, related_name="+")
    bucket = models.PositiveSmallIntegerField(_("nhóm tuổi nợ"))
    loans = models.PositiveIntegerField(_("số khoản vay"))
    outstanding = money_field(_("dư nợ gốc"))
    overdue_principal = money_field(_("gốc quá hạn"))

    class Meta:
        verbose_name = _("ảnh chụp dư nợ theo tuổi nợ")
        verbose_name_plural = _("ảnh chụp dư nợ theo tuổi nợ")
        constraints = [
            models.UniqueConstraint(
                fields=["fund", "business_date", "grassroots_union", "product", "bucket"],
                name="portfolio_snapshot_once",
            )
        ]
        indexes = [models.Index(fields=["fund", "business_date"], name="portfolio_by_date")]
