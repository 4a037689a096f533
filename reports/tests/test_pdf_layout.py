"""The PDFs' tables, checked the way a reader sees them: the text extracted from the rendered
file must hold every header word whole (no "Tăng/giả m", no "ST/T"), every name whole (no "…"),
and a page is rendered to a PNG under test-artifacts/ for people to look at."""

import io
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pdfplumber
import pypdfium2
import pytest
from django.utils import translation
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth

from reports.pdf import (
    FONT,
    FONT_BOLD,
    FRAME_WIDTH_LANDSCAPE,
    PageInfo,
    build_pdf,
    data_table,
    table_layout,
)
from reports.quarterly import quarterly_report_figures
from reports.quarterly_render import render_pdf, report_tables
from reports.sheets import collection_sheet_pdf
from tests.web.test_audit_english import VIETNAMESE

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
LONG_UNION = "Công đoàn ngành Giáo dục thành phố Hà Nội"
HEADER = [
    "Mã",
    "Công đoàn cấp trên",
    "Kế hoạch năm",
    "Giải ngân Quý I/2025",
    "% KH năm",
    "Lũy kế năm",
    "Lũy kế % KH",
    "Cùng kỳ năm trước",
    "Tăng/giảm",
    "Khoản vay",
    "Thành viên vay",
    "CĐCS vay",
    "Việc làm mới",
    "Dư nợ cuối quý",
    "Nợ quá hạn",
    "Tỷ lệ NQH",
]


def words_of(data: bytes) -> list[list[str]]:
    """The words of each page as a reader's copy-paste gives them (cells kept apart)."""
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return [[w["text"] for w in p.extract_words(x_tolerance=1.5)] for p in pdf.pages]


def save_png(data: bytes, name: str, page: int = 0) -> Path:
    """Page `page` as a PNG under test-artifacts/ (pdfium renders it; no poppler needed)."""
    image = pypdfium2.PdfDocument(data)[page].render(scale=1.5).to_pil().convert("L")
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    image.save(path)
    w, h = image.size
    assert sum(image.histogram()[:128]) > 0.002 * w * h, "the page rendered blank"
    return path


def assert_whole(texts, words: list[str]) -> None:
    """Every word of every text in `texts` is one word of the extracted `words`."""
    present = set(words)
    missing = [w for t in texts for w in str(t).split() if w not in present]
    assert not missing, f"broken or cut in the PDF: {missing}"
    assert not [w for w in words if w.endswith("…")], "a cell was cut with an ellipsis"


def _pdf(story, *, landscape=True) -> bytes:
    buf = io.BytesIO()
    info = PageInfo("LĐLĐ TP Hà Nội", datetime(2025, 4, 2, 8, 30), "chuỗi niêm phong #42 · ab12")
    build_pdf(buf, story, info=info, title="Bảng thử", landscape_pages=landscape)
    return buf.getvalue()


def test_layout_never_narrows_a_column_below_its_longest_word():
    rows = [
        [
            "LB",
            LONG_UNION,
            *["15.220.000.000"] * 3,
            "25,16%",
            "—",
            "+3,33%",
            "1.503",
            "1.503",
            "357",
        ],
    ]
    header = HEADER[:11]
    layout = table_layout(header, rows, width=200 * mm, numeric_cols=range(2, 11))
    assert sum(layout.widths) == pytest.approx(200 * mm)
    # The union's name wraps (narrower than its full length) but keeps its longest word.
    size = layout.font_size
    assert layout.widths[1] < stringWidth(LONG_UNION, FONT, size)
    for i, h in enumerate(header):
        longest = max(stringWidth(w, FONT_BOLD, size) for w in h.split())
        assert layout.widths[i] > longest, h
    for i in range(2, 11):
        assert layout.widths[i] > stringWidth(rows[0][i], FONT, size)


def test_wide_table_keeps_every_header_word_and_every_name_whole():
    rows = [
        [
            f"SU{i}",
            f"{LONG_UNION} số {i}",
            "60.500.000.000",
            "15.220.000.000",
            "25,16%",
            "15.220.000.000",
            "25,16%",
            "14.730.000.000",
            "+3,33%",
            "1.503",
            "1.503",
            "357",
            "1.557",
            "150.220.000.000",
            "1.220.000.000",
            "0,81%",
        ]
        for i in range(60)
    ]
    data = _pdf([data_table(HEADER, rows, width=FRAME_WIDTH_LANDSCAPE, numeric_cols=range(2, 16))])
    pages = words_of(data)
    assert len(pages) >= 2
    for words in pages:  # the header is repeated, whole, on every page
        assert_whole(HEADER, words)
    assert_whole([r[1] for r in rows], [w for p in pages for w in p])
    save_png(data, "pdf_wide_table_page2.png", page=1)


def test_a_narrow_column_wraps_its_header_between_words_only():
    # Too narrow for the headers on one line: they wrap, and the type shrinks rather than
    # breaking a word.
    header = ["STT", "Họ và tên", "Tăng/giảm so cùng kỳ", "Thành viên vay"]
    rows = [[1, "Nguyễn Thị Thu Hương", "+3,33%", "12"]]
    data = _pdf([data_table(header, rows, width=60 * mm, numeric_cols=(0, 2, 3))], landscape=False)
    (words,) = words_of(data)[:1]
    assert_whole(header + rows[0][1:], words)


@pytest.mark.django_db
def test_quarterly_report_tables_print_every_word_and_every_debt_group(federation):
    org = federation.org
    org.lb.name = LONG_UNION
    org.lb.save(update_fields=["name"])
    f = quarterly_report_figures(fund_id=org.fund.pk, year=2025, quarter=1)
    assert [g.group for g in f.debt_groups] == [1, 2, 3, 4, 5]
    buf = io.BytesIO()
    render_pdf(buf, f, generated_at=datetime(2025, 4, 2, 6, 0), chain_state="chuỗi #1")
    data = buf.getvalue()
    pages = words_of(data)
    everything = [w for p in pages for w in p]
    for _title, header, rows, kinds in report_tables(f):
        assert_whole(header, everything)
        texts = [
            v
            for r, kk in zip(rows, kinds, strict=True)
            for v, k in zip(r, kk, strict=True)
            if k == "text"
        ]
        assert_whole(texts, everything)
    assert_whole([LONG_UNION], everything)
    # Groups without loans print as rows of zeros.
    text = " ".join(" ".join(p) for p in pages)
    assert "Nhóm 5 (nợ có khả năng mất vốn) 0 0 0 0" in text
    # The fund's name once in the titles (the footer repeats it on every page).
    first_page = " ".join(pages[0])
    head = first_page[: first_page.index("BÁO CÁO KẾT QUẢ")]
    after_title = first_page[len(head) : first_page.index("Quý I/2025:")]
    assert head.count(f.fund_name) == 1 and f.fund_name not in after_title
    for i in range(len(pages)):
        save_png(data, f"quarterly_report_page{i + 1}_layout.png", page=i)


# The collection sheet's header in each language.
SHEET_HEADER = {
    "vi": "STT|Họ và tên|Khoản vay|Phải trả đến cuối tháng|Quá hạn|Tổng phải thu|Số tiền đã nộp|"
    "Ký nhận".split("|"),
    "en": "No.|Full name|Loan|Due by the month's end|Overdue|Total to collect|Amount paid|"
    "Signature".split("|"),
}


def _line(n: int, due: int, overdue: int):
    return SimpleNamespace(
        borrower=SimpleNamespace(full_name=f"Nguyễn Thị Thu Hương {n}"),
        loan=SimpleNamespace(pk=1000 + n),
        due_by_month_end=Decimal(due),
        overdue=Decimal(overdue),
        total=Decimal(due + overdue),
    )


def test_collection_sheet_has_whole_headers_totals_of_every_money_column_and_one_fund_name():
    fund = SimpleNamespace(name="Quỹ Trợ vốn CNVCLĐ nghèo thành phố Hà Nội")
    union = SimpleNamespace(name="CĐCS Công ty TNHH May Thăng Long", fund=fund)
    lines = [_line(1, 1_250_000, 0), _line(2, 2_000_000, 750_000), _line(3, 500_000, 1_000_000)]
    months = [
        SimpleNamespace(
            year=2025, month=2, due=3_000_000, remitted=2_000_000, confirmed=1_000_000, in_transit=0
        )
    ]
    buf = io.BytesIO()
    collection_sheet_pdf(union=union, year=2025, month=3, lines=lines, target=buf, months=months)
    data = buf.getvalue()
    (words, *_) = words_of(data)
    assert_whole(SHEET_HEADER["vi"], words)
    assert_whole([x.borrower.full_name for x in lines], words)
    # The total row sums every money column: 3.750.000, 1.750.000 and 5.500.000.
    i = words.index("Cộng")
    assert words[i + 1 : i + 4] == ["3.750.000", "1.750.000", "5.500.000"]
    text = " ".join(words)
    assert text.count("Quỹ Trợ vốn") == 1
    save_png(data, "collection_sheet_page1.png")


def test_collection_sheet_in_english_has_english_headers_whole_and_no_vietnamese_label():
    fund = SimpleNamespace(name="Quỹ Trợ vốn CNVCLĐ nghèo thành phố Hà Nội")
    union = SimpleNamespace(name="CĐCS Công ty TNHH May Thăng Long", fund=fund)
    lines = [_line(1, 1_250_000, 0), _line(2, 2_000_000, 750_000)]
    months = [
        SimpleNamespace(
            year=2025, month=2, due=3_000_000, remitted=2_000_000, confirmed=1_000_000, in_transit=0
        )
    ]
    history = [
        SimpleNamespace(
            year=2025,
            month=2,
            borrower="Nguyễn Thị Thu Hương 1",
            loan_id=1001,
            due=1_250_000,
            remitted=1_250_000,
            confirmed=0,
        )
    ]
    buf = io.BytesIO()
    with translation.override("en"):
        collection_sheet_pdf(
            union=union,
            year=2025,
            month=3,
            lines=lines,
            target=buf,
            months=months,
            as_of=date(2025, 3, 14),
            history=history,
        )
    data = buf.getvalue()
    (words, *_) = words_of(data)
    assert_whole(SHEET_HEADER["en"], words)
    assert_whole(["Month", "Due", "Remitted", "Confirmed by the bank", "In transit"], words)
    assert_whole(["Member"], words)
    text = " ".join(words)
    assert "COLLECTION SHEET FOR 03/2025" in text and "Overdue as of 14/03/2025" in text
    assert "COLLECTION HISTORY BY MONTH AND MEMBER" in text and "Page 1/1" in text
    i = len(words) - 1 - words[::-1].index("Total")  # the total row, after the headers
    assert words[i + 1 : i + 4] == ["3.250.000", "750.000", "4.000.000"]
    # What is left with a Vietnamese letter is data: the union's, the fund's, the members' names.
    for name in [union.name, fund.name, union.name.upper(), *(x.borrower.full_name for x in lines)]:
        text = text.replace(name, " ")
    assert not [w for w in text.split() if VIETNAMESE.search(w)]
    save_png(data, "collection_sheet_page1_en.png")
