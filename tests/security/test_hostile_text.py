"""User text never becomes markup in a PDF or a formula in a spreadsheet (issue #18).

A member, union or memo named like an attack goes through every PDF (the collection sheet, the
quarterly report) and every export (the auditor's tables in XLSX and CSV — audit log, general
ledger —, the union export, the quarterly report's XLSX) and comes out as the same plain text."""

import csv
import io
from datetime import date
from types import SimpleNamespace

import pdfplumber
import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from accounting.formatting import FORMULA_TRIGGERS, spreadsheet_text, spreadsheet_text_read
from fund.models import CapitalSource
from fund.services import capital_contribution_post, capital_source_create, grassroots_union_update
from loans.tests.factories import new_key
from reports.exports import table_csv, table_xlsx
from reports.pdf import pdf_text
from reports.sheets import collection_sheet_pdf

MARKUP = '"><img src=x onerror=alert(1)>'
FETCH = '<img src="http://127.0.0.1:9/track.png" width="10" height="10"/>'
LINK = '<link href="javascript:alert(1)">bấm vào đây</link>'
BROKEN = "Nguyễn <b>Văn & A"
FORMULAS = ['=HYPERLINK("http://evil.example","Xem")', "+1+1", "-2+3", "@SUM(A1:A9)", "\tX", "\rX"]


def _pdf_text(data: bytes) -> str:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        assert all(not p.hyperlinks for p in pdf.pages)
        assert all(not p.images for p in pdf.pages)
        return " ".join(" ".join((p.extract_text() or "").split()) for p in pdf.pages)


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt of reportlab to fetch a URL fails the test."""
    from reportlab.lib import utils

    def refuse(*args, **kwargs):
        raise AssertionError(f"reportlab fetched {args!r}")

    monkeypatch.setattr(utils, "rlUrlRead", refuse)


def test_the_helpers():
    assert pdf_text("<a&b>") == "&lt;a&amp;b&gt;"
    for trigger in FORMULA_TRIGGERS:
        assert spreadsheet_text(f"{trigger}x") == f"'{trigger}x"
        assert spreadsheet_text_read(spreadsheet_text(f"{trigger}x")) == f"{trigger}x"
    assert spreadsheet_text("Nguyễn Văn A") == "Nguyễn Văn A"
    assert spreadsheet_text(-5) == -5 and spreadsheet_text(None) is None


def test_the_collection_sheet_draws_hostile_names_as_text(org, no_network):
    org.lb1.name = MARKUP
    lines = [
        SimpleNamespace(
            borrower=SimpleNamespace(full_name=name),
            loan=SimpleNamespace(pk=n),
            due_by_month_end=100_000,
            overdue=0,
            total=100_000,
        )
        for n, name in enumerate([MARKUP, FETCH, LINK, BROKEN], 1)
    ]
    buf = io.BytesIO()
    collection_sheet_pdf(union=org.lb1, year=2025, month=3, lines=lines, target=buf)
    text = _pdf_text(buf.getvalue())
    assert b"javascript" not in buf.getvalue()
    for fragment in ("onerror=alert(1)", "track.png", "bấm vào đây", "Nguyễn <b>Văn & A"):
        assert fragment in text


def test_the_collection_sheet_page_answers_for_a_hostile_union(org, officers, no_network):
    grassroots_union_update(grassroots_union=org.lb1, name=MARKUP)
    c = Client()
    c.force_login(officers.grassroots)
    r = c.get(reverse("collection_sheet_pdf") + "?month=2025-03")
    assert r.status_code == 200
    assert '"><IMG SRC=X ONERROR=ALERT(1)>' in _pdf_text(r.content)


def test_the_quarterly_report_pdf_and_xlsx(federation, no_network):
    from reports.services import quarterly_report_generate

    org = federation.org
    org.lb.name = FETCH
    org.lb.save(update_fields=["name"])
    org.hbt.name = FORMULAS[0]
    org.hbt.save(update_fields=["name"])
    report = quarterly_report_generate(fund_id=org.fund.pk, year=2025, quarter=1)
    with open(report.pdf.path, "rb") as f:
        text = _pdf_text(f.read())
    assert "<img src=" in text  # the union's name, cut to fit its column, as text
    wb = load_workbook(report.xlsx.path)
    values = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    texts = [v for v in values if isinstance(v, str)]
    assert "'" + FORMULAS[0] in texts
    assert not any(v.startswith(FORMULA_TRIGGERS) for v in texts)


def _cells_csv(data: bytes) -> list[str]:
    return [c for row in csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")) for c in row]


def _cells_xlsx(data: bytes) -> list[str]:
    wb = load_workbook(io.BytesIO(data))
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert all(c.data_type != "f" for c in cells)  # not one formula
    return [c.value for c in cells if isinstance(c.value, str)]


def test_the_export_helpers_neutralise_every_trigger():
    rows = [[f, 1] for f in FORMULAS]
    for cells in (
        _cells_csv(table_csv(["=A", "B"], rows)),
        _cells_xlsx(table_xlsx(["=A", "B"], rows)),
    ):
        assert "'=A" in cells
        for f in FORMULAS:  # (XML reads a lone CR back as LF)
            assert "'" + f in cells or "'" + f.replace("\r", "\n") in cells
        assert not any(c.startswith(FORMULA_TRIGGERS) for c in cells if isinstance(c, str))


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_auditors_exports(org, officers, fmt):
    grassroots_union_update(grassroots_union=org.lb1, name=FORMULAS[0], actor=officers.fund)
    source = capital_source_create(
        fund=org.fund, code="NS", name="Ngân sách", kind=CapitalSource.Kind.CITY_BUDGET
    )
    movement = capital_contribution_post(
        fund=org.fund,
        source=source,
        amount=1_000_000,
        effective_date=date(2025, 1, 2),
        idempotency_key=new_key("capital"),
        memo="@SUM(A1:A9)",
    )
    c = Client()
    c.force_login(officers.auditor)
    read = _cells_csv if fmt == "csv" else _cells_xlsx
    log = c.get(reverse("audit:audit_log") + f"?format={fmt}")
    assert log.status_code == 200
    assert any(
        FORMULAS[0] in cell and cell.startswith("'") or "'=" in cell for cell in read(log.content)
    )
    account = movement.journal_entry.postings.first().account.code
    gl = c.get(
        reverse("audit:general_ledger")
        + f"?account={account}&start=2025-01-01&end=2025-12-31&format={fmt}"
    )
    assert gl.status_code == 200
    cells = read(gl.getvalue())  # the ledger's exports stream
    assert "'@SUM(A1:A9)" in cells
    assert not any(c.startswith(FORMULA_TRIGGERS) for c in cells)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_union_export_and_its_reimport(org, officers, fmt):
    grassroots_union_update(grassroots_union=org.lb1, name=FORMULAS[0])
    c = Client()
    c.force_login(officers.fund)
    r = c.get(reverse("api:union_export") + f"?level=grassroots&format={fmt}")
    assert r.status_code == 200
    cells = (_cells_csv if fmt == "csv" else _cells_xlsx)(r.content)
    assert "'" + FORMULAS[0] in cells
    assert not any(c.startswith(FORMULA_TRIGGERS) for c in cells)
    # Imported back as it is, the name is the union's own again (nothing changes).
    upload = io.BytesIO(r.content)
    upload.name = f"cdcs.{fmt}"
    back = c.post(reverse("api:union_import"), {"file": upload, "level": "grassroots"})
    assert back.status_code == 200, back.content
    org.lb1.refresh_from_db()
    assert org.lb1.name == FORMULAS[0]
