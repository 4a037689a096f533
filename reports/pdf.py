"""PDF building blocks shared by every trovon report (reportlab).

Vietnamese needs a font with every precomposed letter (ả, ẫ, ự, đ…): reportlab's built-in
Helvetica has none of them, so we embed DejaVu Sans (Debian's fonts-dejavu-core, installed by
`make`/.ci/run when missing; `TROVON_PDF_FONT_DIR` points elsewhere). Each page carries its
number, the generation time and the ledger chain state the figures were built on, so that an
auditor can tie a printed report to the exact sealed ledger.

Text is never markup: reportlab's ``Paragraph`` reads its text as mini-HTML (``<img src>``
fetches, ``<a href>`` links, an unclosed ``<`` a crash), so every string goes through
:func:`pdf_text` (or :func:`para`, a paragraph of plain text) before it is drawn; our own markup
(``<b>``, ``<br/>``) is written around escaped values only. Images and links are loaded from
our own files only: reportlab is told to trust no remote host.

A document's own words (titles, headers, the footer) go through gettext: a PDF is in the
language active when it is made (the reader's for a PDF made on request; Vietnamese for the
stored quarterly report made by the worker).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import escape

from django.utils.translation import gettext as _
from reportlab import rl_config
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

FONT = "TrovonSans"
FONT_BOLD = "TrovonSans-Bold"
_FONT_DIRS = [
    os.environ.get("TROVON_PDF_FONT_DIR", ""),
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/dejavu",
    "/usr/local/share/fonts",
]


# No resource from the network, whatever a paragraph asks for (reportlab reads these settings
# when it first opens a resource): only our own files and inline data.
rl_config.trustedHosts = ["trovon-no-remote-resources.invalid"]
rl_config.trustedSchemes = ["file", "data"]


def pdf_text(value) -> str:
    """Any value as the text of a reportlab Paragraph: ``&``, ``<`` and ``>`` escaped, so a
    member named ``"><img src=x>`` prints as written and never becomes markup."""
    return escape(str(value))


def para(value, style) -> Paragraph:
    """A paragraph of plain text (escaped by :func:`pdf_text`)."""
    return Paragraph(pdf_text(value), style)


class FontMissing(RuntimeError):
    pass


def register_fonts() -> None:
    """Register DejaVu Sans (regular and bold) once; refuse clearly when it is missing."""
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    for d in filter(None, _FONT_DIRS):
        regular, bold = Path(d) / "DejaVuSans.ttf", Path(d) / "DejaVuSans-Bold.ttf"
        if regular.exists() and bold.exists():
            pdfmetrics.registerFont(TTFont(FONT, str(regular)))
            pdfmetrics.registerFont(TTFont(FONT_BOLD, str(bold)))
            pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD)
            return
    raise FontMissing(
        "Không tìm thấy phông DejaVu Sans để in tiếng Việt (cài gói fonts-dejavu-core hoặc đặt "
        "TROVON_PDF_FONT_DIR)."
    )


def styles() -> dict[str, ParagraphStyle]:
    register_fonts()
    base = ParagraphStyle("base", fontName=FONT, fontSize=9, leading=12)
    return {
        "base": base,
        "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=9.5),
        "title": ParagraphStyle(
            "title", parent=base, fontName=FONT_BOLD, fontSize=14, leading=18, alignment=TA_CENTER
        ),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=10, alignment=TA_CENTER),
        "h2": ParagraphStyle(
            "h2",
            parent=base,
            fontName=FONT_BOLD,
            fontSize=11,
            leading=14,
            spaceBefore=8,
            spaceAfter=4,
            keepWithNext=1,  # a section's title never ends a page without its table
        ),
        "headline": ParagraphStyle(
            "headline",
            parent=base,
            fontSize=10.5,
            leading=15,
            spaceBefore=6,
            spaceAfter=6,
            borderPadding=6,
            backColor=colors.HexColor("#eef4fb"),
        ),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8, leading=10),
        "cell_bold": ParagraphStyle(
            "cell_bold", parent=base, fontName=FONT_BOLD, fontSize=8, leading=10
        ),
    }


@dataclass
class PageInfo:
    """What every page's footer says."""

    organisation: str
    generated_at: datetime
    chain_state: str  # e.g. "chuỗi niêm phong #1234 · 8f1b7a78…"


FRAME_WIDTH = 180 * mm  # A4 portrait less the margins
FRAME_WIDTH_LANDSCAPE = 267 * mm  # A4 landscape less the margins
CELL_PAD = 2.0  # points of padding on each side of a cell


def _words(text: str) -> list[str]:
    return text.split() or [""]


def _cell_text(value) -> str:
    return "" if value is None else str(value)


@dataclass
class TableLayout:
    """Column widths and type size computed from a table's content (see :func:`table_layout`)."""

    widths: list[float]
    font_size: float


def table_layout(
    header: Sequence[str],
    rows: Sequence[Sequence],
    *,
    width: float,
    numeric_cols: Sequence[int] = (),
    total_row: bool = False,
    font_size: float = 8.0,
    min_font_size: float = 6.0,
) -> TableLayout:
    """Widths of the columns from what they hold, measured with the font's own metrics.

    Each column is at least as wide as its longest word (a header word in bold, a number whole:
    nothing is ever broken inside a word). Above that, room goes first to printing every cell
    on one line, then to the headers on one line, then in proportion to all columns. When even
    the minimums do not fit, the type shrinks by half points down to `min_font_size`. Text
    wraps only between words, in the cells and the header.
    """
    register_fonts()
    numeric = set(numeric_cols)
    texts = [[_cell_text(c) for c in r] for r in rows]
    size = font_size
    while True:
        least, body, most = [], [], []
        for i, h in enumerate(header):
            head_word = max(stringWidth(w, FONT_BOLD, size) for w in _words(str(h)))
            lo = hi = head_word
            for n, r in enumerate(texts):
                text = r[i] if i < len(r) else ""
                font = FONT_BOLD if total_row and n == len(texts) - 1 else FONT
                full = max(stringWidth(line, font, size) for line in text.split("\n"))
                hi = max(hi, full)
                if i in numeric:
                    lo = max(lo, full)
                else:
                    lo = max(lo, max(stringWidth(w, font, size) for w in _words(text)))
            extra = 2 * CELL_PAD + 0.5
            least.append(lo + extra)
            body.append(hi + extra)
            most.append(max(hi, stringWidth(str(h), FONT_BOLD, size)) + extra)
        if sum(least) <= width or size - 0.5 < min_font_size:
            break
        size -= 0.5
    # Three widths per column, each wider than the one before: the longest word (the least a
    # column may have), every cell on one line (the header may wrap), the header on one line
    # too. Cells wrap only when the header has wrapped all it can.
    if sum(most) <= width:
        spare = width - sum(most)
        widths = [w + spare * w / sum(most) for w in most]
    elif sum(least) >= width:
        widths = least  # the narrowest possible at the smallest type: wider than the frame
    else:
        lower, upper = (body, most) if sum(body) <= width else (least, body)
        spare, need = width - sum(lower), sum(upper) - sum(lower)
        widths = [lo + (hi - lo) * spare / need for lo, hi in zip(lower, upper, strict=True)]
    return TableLayout(widths=widths, font_size=size)


def _wrap(text: str, font: str, size: float, width: float) -> str:
    """`text` broken into lines of at most `width` points, between words only."""
    return "\n".join(simpleSplit(text, font, size, width - 2 * CELL_PAD)) if text else ""


def data_table(
    header: Sequence[str],
    rows: Sequence[Sequence],
    *,
    width: float = FRAME_WIDTH,
    numeric_cols: Sequence[int] = (),
    total_row: bool = False,
    font_size: float = 8.0,
) -> Table:
    """Every table of every PDF: header row shaded and repeated on each page, numbers
    right-aligned, column widths from the content (:func:`table_layout`), text wrapped between
    words and never cut. Cells are plain strings drawn as text (never markup); the last row is
    the total row when `total_row`."""
    numeric = set(numeric_cols)
    layout = table_layout(
        header,
        rows,
        width=width,
        numeric_cols=numeric,
        total_row=total_row,
        font_size=font_size,
    )
    size, widths = layout.font_size, layout.widths
    body = [[_wrap(str(h), FONT_BOLD, size, widths[i]) for i, h in enumerate(header)]]
    last = len(rows) - 1
    for n, r in enumerate(rows):
        font = FONT_BOLD if total_row and n == last else FONT
        body.append(
            [
                _cell_text(c) if i in numeric else _wrap(_cell_text(c), font, size, widths[i])
                for i, c in enumerate(r)
            ]
        )
    t = Table(body, colWidths=widths, repeatRows=1)
    commands = [
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("FONTNAME", (0, 0), (-1, 0), FONT_BOLD),
        ("FONTSIZE", (0, 0), (-1, -1), size),
        ("LEADING", (0, 0), (-1, -1), size * 1.22),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#d9e2f3")),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#7f8fa6")),
        ("VALIGN", (0, 0), (-1, 0), "MIDDLE"),
        ("VALIGN", (0, 1), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("LEFTPADDING", (0, 0), (-1, -1), CELL_PAD),
        ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PAD),
    ]
    for c in sorted(numeric):
        commands.append(("ALIGN", (c, 1), (c, -1), "RIGHT"))
    if total_row and rows:
        commands.append(("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#f2f2f2")))
        commands.append(("FONTNAME", (0, -1), (-1, -1), FONT_BOLD))
    t.setStyle(TableStyle(commands))
    return t


def bar_chart(
    labels: Sequence[str],
    planned: Sequence[int],
    achieved: Sequence[int],
    *,
    title: str,
    unit: str,
    width: float = 170 * mm,
    height: float = 70 * mm,
) -> Drawing:
    """Plan vs achieved bars per label. Values are presentation-only (already scaled)."""
    register_fonts()
    d = Drawing(width, height)
    chart = VerticalBarChart()
    chart.x, chart.y = 40, 30
    chart.width, chart.height = width - 60, height - 60
    chart.data = [list(planned), list(achieved)]
    chart.categoryAxis.categoryNames = [str(x) for x in labels]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 6.5
    chart.categoryAxis.labels.angle = 20 if len(labels) > 6 else 0
    chart.categoryAxis.labels.boxAnchor = "ne" if len(labels) > 6 else "n"
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor = colors.HexColor("#9db4d8")
    chart.bars[1].fillColor = colors.HexColor("#1f4e96")
    chart.barSpacing = 1
    d.add(chart)
    legend = Legend()
    legend.fontName = FONT
    legend.fontSize = 7
    legend.x, legend.y = width - 150, height - 8
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.colorNamePairs = [
        (colors.HexColor("#9db4d8"), _("Kế hoạch")),
        (colors.HexColor("#1f4e96"), _("Thực hiện")),
    ]
    d.add(legend)
    d.add(String(40, height - 10, f"{title} ({unit})", fontName=FONT_BOLD, fontSize=8))
    return d


def build_pdf(target, story: list, *, info: PageInfo, title: str, landscape_pages=False) -> None:
    """Write `story` to `target` (a path or a binary file) with the standard footer."""
    register_fonts()
    pagesize = landscape(A4) if landscape_pages else A4

    class FooterCanvas(Canvas):
        """Holds every page back until the end, so each footer can say "page X of Y"."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages = []

        def showPage(self):
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self._footer(total)
                super().showPage()
            super().save()

        def _footer(self, total):
            self.saveState()
            self.setFont(FONT, 7)
            w = pagesize[0]
            self.drawString(
                15 * mm,
                8 * mm,
                " · ".join(
                    filter(
                        None,
                        (
                            info.organisation,
                            _("Lập lúc %(time)s") % {"time": f"{info.generated_at:%H:%M %d/%m/%Y}"},
                            info.chain_state,
                        ),
                    )
                ),
            )
            self.drawRightString(
                w - 15 * mm,
                8 * mm,
                _("Trang %(page)s/%(pages)s") % {"page": self._pageNumber, "pages": total},
            )
            self.restoreState()

    doc = SimpleDocTemplate(
        target,
        pagesize=pagesize,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=14 * mm,
        bottomMargin=16 * mm,
        title=title,
        author=info.organisation,
        creator="trovon",
    )
    doc.build(story, canvasmaker=FooterCanvas)


def spacer(h_mm: float = 4) -> Spacer:
    return Spacer(1, h_mm * mm)
