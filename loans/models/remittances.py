"""The bank's side of a union's remittance: imported bank statements and their lines.

A grassroots union's remittance (``RepaymentBatch``) is posted to money in transit (VAS 1131)
on the union's word; the money is in the fund's bank account (1121) only once a line of the
bank's statement has been matched to it and a fund officer has confirmed the match
(``loans.servicing.remittances``). A statement line is a receipt of the bank, identified by the
bank's own reference: importing the same line again adds nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounting.money import money_field


class BankStatement(models.Model):
    """One imported statement file (CSV or XLSX as the bank exported it)."""

    fund = models.ForeignKey(
        "fund.Fund", verbose_name=_("quỹ"), on_delete=models.PROTECT, related_name="+"
    )
    file_name = models.CharField(_("tên tệp"), max_length=255, blank=True)
    file_sha256 = models.CharField(_("mã băm tệp"), max_length=64)
    lines_read = models.PositiveIntegerField(_("số dòng đọc được"), default=0)
    lines_added = models.PositiveIntegerField(_("số dòng mới"), default=0)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người nhập"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    imported_at = models.DateTimeField(_("thời điểm nhập"), auto_now_add=True)

    class Meta:
        verbose_name = _("sao kê ngân hàng")
        verbose_name_plural = _("sao kê ngân hàng")
        ordering = ["-imported_at", "-id"]

    def __str__(self):
        return f"Sao kê #{self.pk} ({self.file_name})"


class BankStatementLine(models.Model):
    """One receipt on the fund's bank account, as the statement shows it.

    ``batch`` is set when a fund officer confirms that this receipt is that remittance (one
    receipt for one remittance, each at most once); ``journal_entry`` is the Dr 1121 / Cr 1131
    entry the confirmation posted.
    """

    statement = models.ForeignKey(
        BankStatement,
        verbose_name=_("sao kê"),
        on_delete=models.PROTECT,
        related_name="lines",
    )
    fund = models.ForeignKey(
        "fund.Fund", verbose_name=_("quỹ"), on_delete=models.PROTECT, related_name="+"
    )
    row_number = models.PositiveIntegerField(_("dòng trong tệp"))
    booked_on = models.DateField(_("ngày giao dịch"))
    amount = money_field(_("số tiền"))
    bank_reference = models.CharField(_("số tham chiếu"), max_length=64)
    description = models.CharField(_("nội dung"), max_length=500, blank=True)
    batch = models.OneToOneField(
        "loans.RepaymentBatch",
        verbose_name=_("đợt nộp đã đối chiếu"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="bank_line",
    )
    journal_entry = models.ForeignKey(
        "accounting.JournalEntry",
        verbose_name=_("bút toán xác nhận"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người xác nhận"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("thời điểm xác nhận"), null=True, blank=True)

    class Meta:
        verbose_name = _("dòng sao kê ngân hàng")
        verbose_name_plural = _("dòng sao kê ngân hàng")
        ordering = ["booked_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["fund", "bank_reference"], name="bank_statement_line_reference"
            ),
        ]
        indexes = [models.Index(fields=["fund", "batch"], name="bank_line_fund_batch")]

    def __str__(self):
        return f"{self.bank_reference} ({self.booked_on:%d/%m/%Y})"
