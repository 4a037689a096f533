"""The PDF layer renders Vietnamese correctly: checked by extracting the text and by rendering."""

import io
from datetime import datetime
from pathlib import Path

import pdfplumber
import pypdfium2
from reportlab.platypus import Paragraph

from reports.pdf import PageInfo, bar_chart, build_pdf, data_table, styles
from reports.pdf import spacer as gap

HEADLINE = (
    "Quý I/2024: giải ngân cho 503 đoàn viên của 35 CĐCS, số tiền 15.220.000.000 ₫ (đạt 25,16% "
    "kế hoạch, tăng 3,33% so với cùng kỳ), tạo việc làm mới cho 557 lao động."
)
# Every Vietnamese vowel with every tone mark, and đ/Đ.
ALL_LETTERS = (
    "aàáảãạ ăằắẳẵặ âầấẩẫậ eèéẻẽẹ êềếểễệ iìíỉĩị oòóỏõọ ôồốổỗộ ơờớởỡợ uùúủũụ ưừứửữự yỳýỷỹỵ đ"
)
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _sample_pdf(pages: int = 1) -> bytes:
    st = styles()
    story = [
        Paragraph("BÁO CÁO KẾT QUẢ HOẠT ĐỘNG QUỸ TRỢ VỐN", st["title"]),
        gap(),
        Paragraph(HEADLINE, st["headline"]),
        Paragraph(ALL_LETTERS, st["base"]),
        Paragraph(ALL_LETTERS.upper(), st["base"]),
    ]
    rows = [[f"LĐLĐ quận số {i}", "1.000.000 ₫", "25,16%"] for i in range(40 * pages)]
    story.append(data_table(["Đơn vị", "Giải ngân", "Đạt"], rows, numeric_cols=(1, 2)))
    story.append(
        bar_chart(
            ["Long Biên", "Hai Bà Trưng"], [10, 20], [5, 25], title="Giải ngân", unit="triệu đồng"
        )
    )
    buf = io.BytesIO()
    info = PageInfo("LĐLĐ TP Hà Nội", datetime(2024, 4, 2, 8, 30), "chuỗi niêm phong #42 · ab12")
    build_pdf(buf, story, info=info, title="Báo cáo quý")
    return buf.getvalue()


def test_vietnamese_text_extracts_exactly():
    data = _sample_pdf()
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        text = "\n".join(p.extract_text() for p in pdf.pages)
        fonts = {c["fontname"] for p in pdf.pages for c in p.chars}
    flat = " ".join(text.split())
    assert " ".join(HEADLINE.split()) in flat
    for word in ALL_LETTERS.split():
        assert word in flat, word
        assert word.upper() in flat, word.upper()
    assert all("DejaVu" in f or "TrovonSans" in f for f in fonts), fonts


def test_footer_numbers_pages_and_states_the_chain():
    data = _sample_pdf(pages=3)
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        n = len(pdf.pages)
        assert n >= 3
        for i, page in enumerate(pdf.pages, start=1):
            text = page.extract_text()
            assert f"Trang {i}/{n}" in text
            assert "chuỗi niêm phong #42" in text
            assert "Lập lúc 08:30 02/04/2024" in text


def test_rendered_page_shows_the_text():
    """Render page 1 and keep it as an artifact; the glyph area must be inked, not blank boxes."""
    data = _sample_pdf()
    doc = pypdfium2.PdfDocument(data)
    image = doc[0].render(scale=1.5).to_pil().convert("L")
    ARTIFACTS.mkdir(exist_ok=True)
    image.save(ARTIFACTS / "report_sample_page1.png")
    w, h = image.size
    top = image.crop((0, 0, w, h // 4))
    dark = top.histogram()[:128]
    dark = sum(dark)
    assert dark > 0.005 * top.size[0] * top.size[1]
    # pdfium's own text layer agrees with what we wrote.
    assert "CĐCS" in doc[0].get_textpage().get_text_range()
