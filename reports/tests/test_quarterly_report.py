"""The stored quarterly report: its PDF (text and a rendered page), its XLSX, regeneration,
e-mail, the management command and the tasks (eager)."""

import hashlib
import io
from pathlib import Path

import pdfplumber
import pypdfium2
import pytest
from django.core import mail
from django.core.management import call_command
from openpyxl import load_workbook

from accounting.selectors import ledger_chain_head, ledger_signed_head
from accounting.services import ledger_seal
from accounting.signing import heads_parse
from reports.models import QuarterlyReport
from reports.services import (
    previous_quarter,
    quarterly_report_email,
    quarterly_report_generate,
    quarterly_reports_due,
    quarterly_reports_schedule,
)
from reports.tasks import quarterly_report_task, quarterly_reports_fund_task
from tests.web.test_audit_english import VIETNAMESE

pytestmark = pytest.mark.django_db
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
HEADLINE = (
    "Quý I/2025: giải ngân cho 4 đoàn viên của 3 CĐCS, số tiền 75.000.000 ₫ (đạt 18,75% kế "
    "hoạch, tăng 275,00% so với cùng kỳ), tạo việc làm mới cho 7 lao động."
)


def generate(fed, su=None):
    return quarterly_report_generate(
        fund_id=fed.org.fund.pk, year=2025, quarter=1, superior_union_id=su.pk if su else None
    )


def flat(text: str) -> str:
    return " ".join(text.split())


def test_pdf_says_the_headline_with_every_diacritic_and_numbers_its_pages(federation):
    ledger_seal()
    seq, head = ledger_chain_head()
    report = generate(federation)
    assert (report.chain_seq, report.chain_hash) == (seq, head) and seq > 0
    data = Path(report.pdf.path).read_bytes()
    assert hashlib.sha256(data).hexdigest() == report.pdf_sha256
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        pages = [p.extract_text() for p in pdf.pages]
    n = len(pages)
    assert n >= 2
    assert HEADLINE in flat(" ".join(pages))
    signed = ledger_signed_head()
    assert signed.seq == seq
    # The full signed head, to keep: the line verify_ledger --published reads back.
    assert [h.line() for h in heads_parse(flat(pages[-1]))] == [signed.line()]
    for i, text in enumerate(pages, start=1):
        assert f"Trang {i}/{n}" in text
        assert f"chuỗi niêm phong #{seq} · {head[:12]}" in text
        assert "Lập lúc" in text
    everything = flat(" ".join(pages))
    for words in ("Kết quả thực hiện kế hoạch", "công đoàn cấp trên", "Nguồn vốn theo nguồn"):
        assert words in everything


def test_rendered_first_page_is_inked(federation):
    report = generate(federation)
    doc = pypdfium2.PdfDocument(Path(report.pdf.path).read_bytes())
    image = doc[0].render(scale=1.5).to_pil().convert("L")
    ARTIFACTS.mkdir(exist_ok=True)
    image.save(ARTIFACTS / "quarterly_report_page1.png")
    w, h = image.size
    band = image.crop((0, 0, w, h // 3))  # titles and the headline
    dark = sum(band.histogram()[:128])
    assert dark > 0.01 * band.size[0] * band.size[1]
    assert "giải ngân cho 4 đoàn viên" in doc[0].get_textpage().get_text_range()


def test_xlsx_has_the_same_tables_with_numbers_as_numbers(federation):
    ledger_seal()
    report = generate(federation)
    data = Path(report.xlsx.path).read_bytes()
    assert hashlib.sha256(data).hexdigest() == report.xlsx_sha256
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == [
        "Kết quả thực hiện kế hoạch",
        "Dư nợ, nợ quá hạn theo nhóm nợ",
        "Nguồn vốn theo nguồn",
        "Kết quả theo công đoàn cấp trên",
    ]
    first = wb.worksheets[0]
    assert first["A1"].value == HEADLINE
    assert ledger_signed_head().line() in first["A3"].value
    row = next(r for r in first.iter_rows(min_row=6) if r[0].value == "Doanh số cho vay (đồng)")
    assert row[1].value == 400_000_000 and row[3].value == 75_000_000
    assert row[1].number_format == '#,##0 "₫"'
    # A percentage is a fraction with a percent format, so a formula on it is right.
    assert row[5].value == pytest.approx(0.1875) and row[5].number_format == "0.00%"
    units = wb["Kết quả theo công đoàn cấp trên"]
    by_code = {r[0].value: r for r in units.iter_rows(min_row=3)}
    assert by_code["LB"][3].value == 60_000_000 and by_code["HBT"][3].value == 15_000_000
    assert isinstance(by_code["LB"][13].value, int)  # outstanding, a number


def test_regenerating_reproduces_the_figures_and_keeps_one_current_report(
    federation, django_capture_on_commit_callbacks
):
    first = generate(federation)
    old_pdf = Path(first.pdf.path)
    with django_capture_on_commit_callbacks(execute=True):
        second = generate(federation)
    assert second.pk == first.pk and second.generation == 2
    assert second.figures == first.figures
    assert QuarterlyReport.objects.filter(superior_union=None).count() == 1
    assert Path(second.pdf.path).exists() and not old_pdf.exists()
    lb = generate(federation, federation.org.lb)
    assert lb.pk != first.pk and QuarterlyReport.objects.count() == 2


def test_mail_goes_to_the_officers_concerned(federation, emails):
    fund_report = generate(federation)
    to = quarterly_report_email(report=fund_report)
    assert to == ["quy_duyet@congdoan.vn", "quy_lap@congdoan.vn"]
    msg = mail.outbox[-1]
    assert HEADLINE in msg.body and "Quý I/2025" in msg.subject
    names = [a[0] for a in msg.attachments]
    assert names[0].endswith(".pdf") and names[1].endswith(".xlsx")
    assert msg.attachments[0][1][:5] == b"%PDF-"
    lb_report = generate(federation, federation.org.lb)
    assert quarterly_report_email(report=lb_report) == ["capten_lb@congdoan.vn"]
    lb_report.refresh_from_db()
    assert lb_report.emailed_to == ["capten_lb@congdoan.vn"] and lb_report.emailed_at


def test_command_and_tasks_give_the_same_reports(
    federation, emails, django_capture_on_commit_callbacks
):
    out = io.StringIO()
    call_command("quarterly_report", year=2025, quarter=1, fund="HN", all=True, stdout=out)
    text = out.getvalue()
    assert HEADLINE in text
    assert "Quý I/2025, LĐLĐ quận Long Biên" in text and "Quý I/2025, LĐLĐ quận Hai Bà" in text
    assert text.count("PDF:") == 3 and text.count(".xlsx") == 3
    by_command = {r.superior_union_id: r.figures for r in QuarterlyReport.objects.filter(year=2025)}
    assert len(by_command) == 3 and len(mail.outbox) == 3
    # The tasks (eager here) run the same service: same figures, next generation; the fund's
    # task queues the superior unions' reports through the outbox.
    with django_capture_on_commit_callbacks(execute=True):
        quarterly_reports_fund_task.delay(federation.org.fund.pk, 2025, 1)
    reports = QuarterlyReport.objects.filter(year=2025)
    assert {r.superior_union_id: r.figures for r in reports} == by_command
    assert {r.generation for r in reports} == {2}
    assert len(mail.outbox) == 6
    pk = quarterly_report_task.delay(federation.org.fund.pk, 2025, 1, federation.org.hbt.pk).get()
    assert QuarterlyReport.objects.get(pk=pk).superior_union == federation.org.hbt


def test_command_for_one_superior_union_and_refusals(federation):
    out = io.StringIO()
    call_command(
        "quarterly_report", year=2025, quarter=1, superior_union="HBT", no_email=True, stdout=out
    )
    assert out.getvalue().startswith("Quý I/2025, LĐLĐ quận Hai Bà Trưng: giải ngân cho 1")
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("quarterly_report", year=2025, quarter=1, superior_union="NOPE")
    with pytest.raises(CommandError):
        call_command("quarterly_report", year=2025, quarter=1, fund="NOPE")
    # Without --fund: every fund's report, as the beat task does.
    out = io.StringIO()
    call_command("quarterly_report", year=2025, quarter=1, no_email=True, stdout=out)
    assert out.getvalue().count("PDF:") == 2


def test_previous_quarter():
    from datetime import date

    assert previous_quarter(date(2025, 1, 2)) == (2024, 4)
    assert previous_quarter(date(2025, 4, 2)) == (2025, 1)
    assert previous_quarter(date(2025, 10, 2)) == (2025, 3)


def test_beat_runs_the_reports_after_each_quarter():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["quarterly-reports"]
    assert entry["task"] == "reports.tasks.quarterly_reports_due_task"
    assert entry["schedule"].minute == {0, 15, 30, 45}


def test_scheduled_reports_are_queued_once_through_the_outbox(
    federation, emails, django_capture_on_commit_callbacks
):
    """Due from 06:00 on the 2nd for a week; asked again (every quarter of an hour) it queues
    nothing more; queued through the outbox, the reports are made (eagerly here)."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from fund.models import OutboxMessage

    due = datetime(2025, 4, 2, 6, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    assert quarterly_reports_due(now=due - timedelta(minutes=1)) is None
    assert quarterly_reports_due(now=due) == (2025, 1)
    assert quarterly_reports_due(now=due + timedelta(days=6, hours=23)) == (2025, 1)
    assert quarterly_reports_due(now=due + timedelta(days=7)) is None
    assert quarterly_reports_due(now=datetime(2026, 1, 2, 9, tzinfo=ZoneInfo("UTC"))) == (2025, 4)
    with django_capture_on_commit_callbacks(execute=True):
        assert quarterly_reports_schedule(now=due + timedelta(minutes=10)) == (2025, 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert quarterly_reports_schedule(now=due + timedelta(hours=3)) == (2025, 1)
    assert OutboxMessage.objects.filter(key__startswith="quarterly-reports:").count() == 2
    # Both funds: the fund's report and each superior union's, made once.
    reports = QuarterlyReport.objects.filter(year=2025, quarter=1)
    assert reports.count() == 1 + 2 + 1 + 1
    assert {r.generation for r in reports} == {1}


ENGLISH_HEADLINE = (
    "Quarter I/2025: 75.000.000 ₫ lent to 4 members of 3 grassroots unions (18,75% of the year's "
    "plan, up 275,00% on the same quarter last year), creating 7 new jobs."
)


def _documents(fed, language: str):
    """The fund's Q1 2025 figures, PDF text and first sheet made in `language`."""
    from django.utils import timezone, translation

    from reports.quarterly import quarterly_report_figures
    from reports.quarterly_render import render_pdf, render_xlsx

    with translation.override(language):
        f = quarterly_report_figures(fund_id=fed.org.fund.pk, year=2025, quarter=1)
        pdf, xlsx = io.BytesIO(), io.BytesIO()
        render_pdf(pdf, f, generated_at=timezone.localtime(), chain_state="-")
        render_xlsx(xlsx, f, generated_at=timezone.localtime(), chain_state="-")
    with pdfplumber.open(pdf) as doc:
        text = flat(
            " ".join([doc.metadata.get("Title", ""), *(p.extract_text() for p in doc.pages)])
        )
    sheet = load_workbook(xlsx).worksheets[0]
    return f, text, sheet


def _words_not_in_names(f, text: str) -> set[str]:
    """The words of `text` with a letter only Vietnamese has that are no word of a name the
    report prints as written (the fund's, the federation's, the unions', the capital
    sources'): a label left in Vietnamese shows up here, a name never does."""
    names = [f.fund_name, f.federation_name, f.unit_name, *(u.name for u in f.units)]
    names += [c.name for c in f.capital]
    name_words = {w for n in names for w in n.split()} | {
        w.upper() for n in names for w in n.split()
    }
    return {
        w
        for w in text.replace("·", " ").split()
        if VIETNAMESE.search(w) and w.strip("()[],.:;") not in name_words
    }


def _sheet_texts(workbook) -> str:
    return " ".join(
        [*workbook.sheetnames]
        + [str(c.value) for ws in workbook for row in ws.iter_rows() for c in row if c.value]
        + [workbook.properties.title or ""]
    )


def test_documents_made_in_english_name_the_indicators_and_say_the_headline_in_english(
    federation,
):
    f, text, sheet = _documents(federation, "en")
    assert f.headline == ENGLISH_HEADLINE and ENGLISH_HEADLINE in text
    assert sheet["A1"].value == ENGLISH_HEADLINE
    labels = [r[0].value for r in sheet.iter_rows(min_row=7, max_row=12)]
    assert labels == [
        "Lending (VND)",
        "Loans",
        "Members lent to",
        "Grassroots unions with borrowers",
        "New jobs (planned in the loans)",
        "New jobs (confirmed at follow-up visits)",
    ]
    for words in ("Lending (VND)", "Members lent to", "Group 1 (standard)", "Group 5 (loss)"):
        assert words in text
    # The tables' titles and headers too (the sheets are named after the titles).
    assert sheet.title == "Attainment of the plan"
    assert [c.value for c in sheet[6]][:4] == [
        "Indicator",
        "Year plan",
        "Quarter's plan",
        "Achieved Quarter I/2025",
    ]
    assert sheet.parent.sheetnames[1:] == [
        "Outstanding, overdue by debt gr",
        "Capital by source",
        "Results by superior union",
    ]
    for words in ("I. Attainment of the plan", "III. Capital by source", "Total capital"):
        assert words in text
    # Headers whose words the pages use otherwise: a unit's code, counts of loans and borrowers.
    workbook = sheet.parent
    capital, units = workbook["Capital by source"], workbook["Results by superior union"]
    assert [c.value for c in capital[2]][:2] == ["Code", "Source"]
    header = [c.value for c in units[2]]
    assert header[:2] == ["Code", "Superior union"]
    assert header[9:11] == ["Loans", "Borrowers"]
    # Nothing else stays Vietnamese: the title, the period, the year-to-date paragraph, the
    # classification note, the charts, the chain texts, the footer; only names as written.
    for words in (
        "REPORT ON LENDING AND THE PLAN'S ATTAINMENT, QUARTER I/2025",
        "from 01/01/2025 to 31/03/2025",
        "Year to date: 75.000.000 ₫",
        "Lending by quarter",
        "(million VND)",
        "Page 1/",
        "Lending report Quarter I/2025",
    ):
        assert words in text
    assert not _words_not_in_names(f, text)
    assert not _words_not_in_names(f, _sheet_texts(sheet.parent))
    assert "made at" in sheet["A2"].value and "Quarter I/2025 (01/01/2025–31/03/2025)" in (
        sheet["A2"].value
    )
    # Made in Vietnamese (the stored report), word for word as before.
    f, text, sheet = _documents(federation, "vi")
    assert f.headline == HEADLINE and HEADLINE in text and sheet["A1"].value == HEADLINE
    assert [r[0].value for r in sheet.iter_rows(min_row=7, max_row=12)] == [
        "Doanh số cho vay (đồng)",
        "Số khoản vay",
        "Số lượt thành viên được vay",
        "Số CĐCS có thành viên vay",
        "Việc làm tạo mới (theo dự án vay)",
        "Việc làm tạo mới (đã xác nhận sau kiểm tra)",
    ]
    assert "Nhóm 1 (nợ đủ tiêu chuẩn)" in text
    # The check above sees Vietnamese labels (it is not blind): the Vietnamese documents' own.
    assert {"BÁO", "CÁO", "Lũy", "Biểu", "đồ", "Lập"} <= _words_not_in_names(f, text)
    assert {"lập", "lúc"} <= _words_not_in_names(f, _sheet_texts(sheet.parent))
    assert "BÁO CÁO KẾT QUẢ CHO VAY VÀ THỰC HIỆN KẾ HOẠCH QUÝ I/2025" in text
    assert "Báo cáo kết quả cho vay Quý I/2025 — " in text
