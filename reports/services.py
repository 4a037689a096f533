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
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from accounting.formatting import format_date_vi
from accounting.selectors import ledger_chain_head, ledger_signed_head
from fund.models import Fund, OfficerProfile, Role, SuperiorUnion
from reports.exports import chain_head_text, chain_state_text
from reports.models import QuarterlyReport
from reports.quarterly import QuarterlyFigures, quarterly_report_figures
from reports.quarterly_render import (
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


@dataclass(frozen=True)
class ReportDocuments:
    """A quarter's report rendered: its figures, the sealed ledger they were read from (link and
    hash, read before the figures), when, and the files by kind (``pdf``, ``xlsx``)."""

    figures: QuarterlyFigures
    chain_seq: int
    chain_hash: str
    generated_at: datetime
    files: dict[str, bytes]


RENDERERS = {"pdf": render_pdf, "xlsx": render_xlsx}


def quarterly_report_documents(
    *,
    fund_id: int,
    year: int,
    quarter: int,
    superior_union_id: int | None = None,
    kinds: tuple[str, ...] = ("pdf", "xlsx"),
) -> ReportDocuments:
    """The quarter's report as documents in the active language, made now and not stored: the
    generator files them (in Vietnamese, the worker's language); the web page hands one to its
    reader in theirs."""
    signed = ledger_signed_head()
    seq, head = (signed.seq, signed.link_hash) if signed else ledger_chain_head()
    figures = quarterly_report_figures(
        fund_id=fund_id, year=year, quarter=quarter, superior_union_id=superior_union_id
    )
    generated_at = timezone.localtime()
    state, full = chain_state_text(seq, head), chain_head_text(signed)
    files = {}
    for kind in kinds:
        buf = io.BytesIO()
        RENDERERS[kind](buf, figures, generated_at=generated_at, chain_state=state, chain_head=full)
        files[kind] = buf.getvalue()
    return ReportDocuments(figures, seq, head, generated_at, files)


def quarterly_report_generate(
    *, fund_id: int, year: int, quarter: int, superior_union_id: int | None = None
) -> QuarterlyReport:
    """Compute the figures, render the PDF and XLSX, and store them as the current report of
    the unit and quarter (replacing the previous generation)."""
    made = quarterly_report_documents(
        fund_id=fund_id, year=year, quarter=quarter, superior_union_id=superior_union_id
    )
    figures, generated_at = made.figures, made.generated_at
    seq, head = made.chain_seq, made.chain_hash
    pdf, xlsx = made.files["pdf"], made.files["xlsx"]
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


# Task names, as the outbox rows store them (reports.tasks registers them).
FUND_REPORTS_TASK = "reports.tasks.quarterly_reports_fund_task"
REPORT_TASK = "reports.tasks.quarterly_report_task"
# The quarter's reports are due on the 2nd of the next quarter's first month at 06:00 (Hà Nội);
# a run missed then (Redis or the workers down) is still made within this many days, later only
# by hand (manage.py quarterly_report), so that a new installation does not mail old quarters.
QUARTERLY_REPORTS_DUE_DAY = 2
QUARTERLY_REPORTS_DUE_HOUR = 6
QUARTERLY_REPORTS_CATCH_UP_DAYS = 7


def quarterly_reports_queue(*, year: int, quarter: int, fund_ids=None, key_prefix=None) -> int:
    """Queue, through the outbox, each fund's reports of the quarter (the fund's, then its
    superior unions'); returns how many funds. With `key_prefix`, a second call for the same
    quarter queues nothing again (the scheduled run)."""
    from fund.outbox import outbox_enqueue

    funds = Fund.objects.order_by("pk")
    if fund_ids is not None:
        funds = funds.filter(pk__in=fund_ids)
    ids = list(funds.values_list("pk", flat=True))
    with transaction.atomic():
        for fund_id in ids:
            outbox_enqueue(
                task_name=FUND_REPORTS_TASK,
                args=[fund_id, year, quarter],
                key=f"{key_prefix}:{fund_id}:{year}-Q{quarter}" if key_prefix else None,
            )
    return len(ids)


def quarterly_reports_fund_queue_unions(*, fund_id: int, year: int, quarter: int) -> int:
    """Queue every superior union's report of the quarter (after the fund's own), in parallel."""
    from fund.outbox import outbox_enqueue

    su_ids = list(
        SuperiorUnion.objects.filter(fund_id=fund_id).order_by("code").values_list("id", flat=True)
    )
    with transaction.atomic():
        for su_id in su_ids:
            outbox_enqueue(task_name=REPORT_TASK, args=[fund_id, year, quarter, su_id])
    return len(su_ids)


def quarterly_reports_due(*, now=None) -> tuple[int, int] | None:
    """The quarter whose scheduled reports are due at `now` (and not past the catch-up window),
    else None."""
    now = timezone.localtime(now)
    first_month = 3 * ((now.month - 1) // 3) + 1
    due = now.replace(
        month=first_month,
        day=QUARTERLY_REPORTS_DUE_DAY,
        hour=QUARTERLY_REPORTS_DUE_HOUR,
        minute=0,
        second=0,
        microsecond=0,
    )
    if not (due <= now < due + timedelta(days=QUARTERLY_REPORTS_CATCH_UP_DAYS)):
        return None
    return previous_quarter(now.date())


def quarterly_reports_schedule(*, now=None) -> tuple[int, int] | None:
    """The scheduled run (beat, every quarter of an hour): queue the due quarter's reports once.

    Idempotent by the outbox key of each fund and quarter, so it can be asked as often as wanted:
    a Redis outage at 06:00 on the 2nd delays the reports to the first run after Redis returns
    instead of losing them."""
    due = quarterly_reports_due(now=now)
    if due is None:
        return None
    year, quarter = due
    quarterly_reports_queue(year=year, quarter=quarter, key_prefix="quarterly-reports")
    return due


def previous_quarter(today) -> tuple[int, int]:
    """The quarter that closed last before `today`: (year, quarter)."""
    q = (today.month - 1) // 3 + 1
    return (today.year - 1, 4) if q == 1 else (today.year, q - 1)


__all__ = [
    "previous_quarter",
    "quarterly_reports_due",
    "quarterly_reports_fund_queue_unions",
    "quarterly_reports_queue",
    "quarterly_reports_schedule",
    "quarterly_report_email",
    "quarterly_report_generate",
    "quarterly_report_generate_and_email",
    "quarterly_report_recipients",
    "report_title",
]
