"""Report services: generate and store the quarterly report, and e-mail it.

``quarterly_report_generate`` keeps ONE current report per (fund, superior union, year,
quarter): a regeneration replaces the figures and both files in the same row (``generation``
counts up) and deletes the previous files after the commit. The figures are a function of the
books for the quarter (see ``reports.quarterly``), so regenerating reproduces them; the chain
head stored with each generation tells which sealed ledger it read.
"""

from __future__ import annotations

import hashlib
import io
import logging

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from accounting.formatting import format_date_vi
from accounting.selectors import ledger_chain_head, ledger_signed_head
from fund.models import OfficerProfile, Role, SuperiorUnion
from reports.models import QuarterlyReport
from reports.quarterly import quarterly_report_figures
from reports.quarterly_render import (
    chain_head_text,
    chain_state_text,
    render_pdf,
    render_xlsx,
    report_title,
)

log = logging.getLogger(__name__)

PDF_TYPE = "application/pdf"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def report_file_stem(*, year: int, quarter: int, unit_code: str, generated_at) -> str:
    return f"bao-cao-quy-{quarter}-{year}-{unit_code}-{generated_at:%Y%m%d%H%M%S%f}"


def quarterly_report_generate(
    *, fund_id: int, year: int, quarter: int, superior_union_id: int | None = None
) -> QuarterlyReport:
    """Compute the figures, render the PDF and XLSX, and store them as the current report of
    the unit and quarter (replacing the previous generation)."""
    signed = ledger_signed_head()
    seq, head = (signed.seq, signed.link_hash) if signed else ledger_chain_head()
    figures = quarterly_report_figures(
        fund_id=fund_id, year=year, quarter=quarter, superior_union_id=superior_union_id
    )
    generated_at = timezone.localtime()
    state = chain_state_text(seq, head)
    pdf_buf, xlsx_buf = io.BytesIO(), io.BytesIO()
    full = chain_head_text(signed)
    render_pdf(pdf_buf, figures, generated_at=generated_at, chain_state=state, chain_head=full)
    render_xlsx(xlsx_buf, figures, generated_at=generated_at, chain_state=state, chain_head=full)
    pdf, xlsx = pdf_buf.getvalue(), xlsx_buf.getvalue()
    stem = report_file_stem(
        year=year, quarter=quarter, unit_code=figures.unit_code, generated_at=generated_at
    )
    old_files: list = []
    with transaction.atomic():
        lookup = dict(fund_id=fund_id, year=year, quarter=quarter)
        report = (
            QuarterlyReport.objects.select_for_update()
            .filter(superior_union_id=superior_union_id, **lookup)
            .order_by("pk")  # no join to the union (its default ordering) under FOR UPDATE
            .first()
        )
        if report is None:
            report = QuarterlyReport(superior_union_id=superior_union_id, generation=0, **lookup)
        else:
            old_files = [report.pdf.name, report.xlsx.name]
        report.generation += 1
        report.generated_at = generated_at
        report.chain_seq, report.chain_hash = seq, head
        report.headline = figures.headline
        report.figures = figures.as_json()
        report.pdf.save(f"{stem}.pdf", ContentFile(pdf), save=False)
        report.xlsx.save(f"{stem}.xlsx", ContentFile(xlsx), save=False)
        report.pdf_sha256, report.xlsx_sha256 = _sha256(pdf), _sha256(xlsx)
        report.emailed_at, report.emailed_to = None, []
        report.full_clean()
        report.save()
        storage = report.pdf.storage

        def _drop_old():
            for name in old_files:
                if name and name not in (report.pdf.name, report.xlsx.name):
                    storage.delete(name)

        transaction.on_commit(_drop_old)
    return report


def quarterly_report_recipients(*, report: QuarterlyReport) -> list[str]:
    """Who receives the report: the fund officers for the fund's; that superior union's
    officers (and its contact address) for a superior union's."""
    officers = OfficerProfile.objects.filter(fund_id=report.fund_id, user__is_active=True)
    if report.superior_union_id is None:
        officers = officers.filter(role=Role.FUND_OFFICER)
        extra = []
    else:
        officers = officers.filter(
            role=Role.SUPERIOR_OFFICER, superior_union_id=report.superior_union_id
        )
        extra = [
            SuperiorUnion.objects.values_list("contact_email", flat=True).get(
                pk=report.superior_union_id
            )
        ]
    addresses = list(officers.exclude(user__email="").values_list("user__email", flat=True))
    seen, out = set(), []
    for a in [*addresses, *extra]:
        if a and a.lower() not in seen:
            seen.add(a.lower())
            out.append(a)
    return sorted(out)


def quarterly_report_email(*, report: QuarterlyReport) -> list[str]:
    """E-mail the report (PDF and XLSX attached) to its recipients; returns the addresses
    (empty when there is nobody to send to — nothing is sent then)."""
    to = quarterly_report_recipients(report=report)
    if not to:
        log.warning("Báo cáo quý #%s: không có địa chỉ nhận thư.", report.pk)
        return []
    f = report.figures
    subject = f"[Quỹ Trợ vốn] Báo cáo {f['label']} — {f['unit_name']}"
    body = (
        f"Kính gửi các đồng chí,\n\n{report.headline}\n\n"
        f"Báo cáo kết quả cho vay và thực hiện kế hoạch {f['label']} của {f['unit_name']} "
        f"(lập lúc {timezone.localtime(report.generated_at):%H:%M} ngày "
        f"{format_date_vi(report.generated_at)}, theo sổ cái đã niêm phong đến mắt xích "
        f"#{report.chain_seq}) gửi kèm dạng PDF và XLSX.\n\n{f['fund_name']}\n"
    )
    msg = EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, to)
    for field, mime in ((report.pdf, PDF_TYPE), (report.xlsx, XLSX_TYPE)):
        with field.open("rb") as fh:
            msg.attach(field.name.rsplit("/", 1)[-1], fh.read(), mime)
    msg.send()
    QuarterlyReport.objects.filter(pk=report.pk).update(emailed_at=timezone.now(), emailed_to=to)
    report.emailed_to = to
    return to


def quarterly_report_generate_and_email(
    *, fund_id: int, year: int, quarter: int, superior_union_id: int | None = None
) -> QuarterlyReport:
    report = quarterly_report_generate(
        fund_id=fund_id, year=year, quarter=quarter, superior_union_id=superior_union_id
    )
    quarterly_report_email(report=report)
    return report


def previous_quarter(today) -> tuple[int, int]:
    """The quarter that closed last before `today`: (year, quarter)."""
    q = (today.month - 1) // 3 + 1
    return (today.year - 1, 4) if q == 1 else (today.year, q - 1)


__all__ = [
    "previous_quarter",
    "quarterly_report_email",
    "quarterly_report_generate",
    "quarterly_report_generate_and_email",
    "quarterly_report_recipients",
    "report_title",
]
