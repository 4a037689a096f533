"""The quarterly report's two documents from its figures: a PDF (reportlab, A4 landscape,
page X/Y, generation time and ledger chain state on every page) and an XLSX for auditors
(openpyxl; the same tables one sheet each, amounts as numbers in a VND format, the headline on
the first sheet). Both read only the ``QuarterlyFigures``: no query here.

Every word of theirs goes through gettext, so a document is in the language active when it is
made: the stored report (made by the worker) in Vietnamese, one made in English in English; only
names (the fund's, the unions', the capital sources') stay as written."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from reportlab.lib.units import mm
from reportlab.platypus import PageBreak

from accounting.formatting import format_date_vi, format_vnd, spreadsheet_text
from fund.accounts import CAPITAL
from fund.attainment import growth_display, percent_display
from fund.labels import quarter_name
from reports.pdf import (
    FRAME_WIDTH_LANDSCAPE,
    PageInfo,
    bar_chart,
    build_pdf,
    data_table,
    para,
    spacer,
    styles,
)
from reports.quarterly import MONEY_INDICATORS, QuarterlyFigures

VND_FORMAT = '#,##0 "₫"'
COUNT_FORMAT = "#,##0"
# Ratios are stored as fractions (0.2516) with a percent format (shows 25,16%), so a formula on
# them is right; the report's figures are percentages (25.16), divided by 100 when written.
PERCENT_FORMAT = "0.00%"


def _n(value, money: bool = False) -> str:
    return format_vnd(value, symbol=money)


def report_title(f: QuarterlyFigures) -> str:
    return _("Báo cáo kết quả cho vay %(quarter)s — %(unit)s") % {
        "quarter": quarter_name(f.quarter, f.year),
        "unit": f.unit_name,
    }


def _period_text(f: QuarterlyFigures) -> str:
    return _("từ %(start)s đến %(end)s") % {
        "start": format_date_vi(f.start),
        "end": format_date_vi(f.end),
    }


# The context of the tables' headers whose English differs from the same words on the pages
# ("Mã" is a unit's code, not an id; "Khoản vay" and "Thành viên vay" head counts).
HEADER = "quarterly report header"


# --------------------------------------------------------------------------------------------
# Tables shared by the PDF and the XLSX: (title, header, rows of raw values, kinds)
# kinds: "text", "money", "count", "percent", "growth". Titles and headers are in the language
# the document is made in (the stored report: Vietnamese), the quarter named by quarter_name.


def _indicator_table(f: QuarterlyFigures):
    header = [
        _("Chỉ tiêu"),
        _("Kế hoạch năm"),
        _("Kế hoạch quý"),
        _("Thực hiện %(quarter)s") % {"quarter": quarter_name(f.quarter, f.year)},
        _("% KH quý"),
        _("% KH năm"),
        _("Lũy kế năm"),
        _("Lũy kế % KH năm"),
        _("Cùng kỳ năm trước"),
        _("Tăng/giảm so cùng kỳ"),
    ]
    rows, kinds = [], []
    for i in f.indicators:
        k = "money" if i.indicator in MONEY_INDICATORS else "count"
        rows.append(
            [
                str(i.label),  # in the language the document is made in
                i.plan_year,
                i.plan_quarter,
                i.quarter,
                i.percent_quarter,
                i.percent_of_year,
                i.ytd,
                i.percent_ytd,
                i.previous_quarter,
                i.growth,
            ]
        )
        kinds.append(["text", k, k, k, "percent", "percent", k, "percent", k, "growth"])
    return _("I. Kết quả thực hiện kế hoạch"), header, rows, kinds


def _risk_table(f: QuarterlyFigures):
    header = [_("Nhóm nợ"), _("Số khoản vay"), _("Dư nợ gốc"), _("Gốc quá hạn")]
    header += [_("Dự phòng đã trích"), _("Tỷ trọng")]
    rows = [
        [str(g.label), g.loans, g.outstanding, g.overdue_principal, g.provision_held, g.share]
        for g in f.debt_groups
    ]
    kinds = [["text", "count", "money", "money", "money", "percent"]] * len(rows)
    rows.append(
        [
            _("Cộng"),
            sum(g.loans for g in f.debt_groups),
            f.loan_book_outstanding,
            f.overdue_principal,
            f.provisions_held,
            Decimal(100) if f.loan_book_outstanding else None,
        ]
    )
    kinds.append(["text", "count", "money", "money", "money", "percent"])
    return _("II. Dư nợ, nợ quá hạn theo nhóm nợ và dự phòng rủi ro"), header, rows, kinds


def _capital_table(f: QuarterlyFigures):
    balance = _("Số dư đến %(date)s") % {"date": format_date_vi(f.end)}
    header = [pgettext(HEADER, "Mã"), pgettext(HEADER, "Nguồn vốn"), _("Tài khoản"), balance]
    rows = [[c.code, c.name, c.account, c.amount] for c in f.capital]
    rows.append(["", _("Tổng nguồn vốn"), CAPITAL, f.capital_total])
    kinds = [["text", "text", "text", "money"]] * len(rows)
    return _("III. Nguồn vốn theo nguồn"), header, rows, kinds


def _unit_table(f: QuarterlyFigures):
    superior = f.unit_kind == "superior_union"
    unit = _("Công đoàn cấp trên") if superior else _("Công đoàn cơ sở")
    header = [
        pgettext(HEADER, "Mã"),
        unit,
        _("Kế hoạch năm"),
        _("Giải ngân %(quarter)s") % {"quarter": quarter_name(f.quarter, f.year)},
        _("% KH năm"),
        _("Lũy kế năm"),
        _("Lũy kế % KH"),
        _("Cùng kỳ năm trước"),
        _("Tăng/giảm"),
        pgettext(HEADER, "Khoản vay"),
        pgettext(HEADER, "Thành viên vay"),
    ]
    kinds_row = ["text", "text", "money", "money", "percent", "money", "percent", "money"]
    kinds_row += ["growth", "count", "count"]
    if f.unit_kind == "superior_union":
        header.append(_("CĐCS vay"))
        kinds_row.append("count")
    header += [_("Việc làm mới"), _("Dư nợ cuối quý"), _("Nợ quá hạn"), _("Tỷ lệ NQH")]
    kinds_row += ["count", "money", "money", "percent"]
    rows = []
    for u in f.units:
        row = [
            u.code,
            u.name,
            u.plan_year,
            u.disbursed,
            u.percent_of_year,
            u.ytd_disbursed,
            u.percent_ytd,
            u.previous_disbursed,
            u.growth,
            u.loans,
            u.borrowers,
        ]
        if f.unit_kind == "superior_union":
            row.append(u.grassroots_unions)
        row += [u.jobs_created, u.outstanding, u.overdue, u.overdue_rate]
        rows.append(row)
    number = "IV" if f.unit_kind == "superior_union" else "III"
    title = (
        _("%(number)s. Kết quả theo công đoàn cấp trên")
        if superior
        else _("%(number)s. Kết quả theo công đoàn cơ sở")
    ) % {"number": number}
    return title, header, rows, [kinds_row] * len(rows)


def report_tables(f: QuarterlyFigures):
    tables = [_indicator_table(f), _risk_table(f)]
    if f.superior_union_id is None:
        tables.append(_capital_table(f))
    tables.append(_unit_table(f))
    return tables


def _display(value, kind: str) -> str:
    if kind == "text":
        return "" if value is None else str(value)
    if value is None and kind in ("money", "count"):
        return "—"
    if kind == "money":
        return _n(value)
    if kind == "count":
        return _n(value)
    if kind == "percent":
        return percent_display(value)
    return growth_display(value)


# --------------------------------------------------------------------------------------------
# PDF


def render_pdf(
    target, f: QuarterlyFigures, *, generated_at: datetime, chain_state: str, chain_head: str = ""
) -> None:
    """Write the report's PDF to `target` (a path or a binary file)."""
    st = styles()
    width = FRAME_WIDTH_LANDSCAPE
    story = [
        para(f.federation_name.upper() or f.fund_name.upper(), st["subtitle"]),
        para(f.fund_name, st["subtitle"]),
        spacer(3),
        para(
            _("BÁO CÁO KẾT QUẢ CHO VAY VÀ THỰC HIỆN KẾ HOẠCH %(quarter)s")
            % {"quarter": quarter_name(f.quarter, f.year).upper()},
            st["title"],
        ),
        # The fund's name is on the line above: a superior union's report adds the union's.
        para(
            " · ".join([f.unit_name] * (f.unit_name != f.fund_name) + [_period_text(f)]),
            st["subtitle"],
        ),
        spacer(3),
        para(f.headline, st["headline"]),
    ]
    amount = f.indicator("disbursed_amount")
    story.append(
        para(
            _(
                "Lũy kế từ đầu năm: %(ytd)s, đạt %(percent_ytd)s kế hoạch năm (%(plan)s); cùng "
                "kỳ năm trước %(previous_ytd)s (%(growth_ytd)s). Dư nợ cuối quý %(outstanding)s, "
                "nợ quá hạn %(overdue)s (%(overdue_rate)s), dự phòng rủi ro %(provisions)s."
            )
            % {
                "ytd": format_vnd(amount.ytd),
                "percent_ytd": percent_display(amount.percent_ytd),
                "plan": format_vnd(amount.plan_year),
                "previous_ytd": format_vnd(amount.previous_ytd),
                "growth_ytd": growth_display(amount.growth_ytd),
                "outstanding": format_vnd(f.outstanding),
                "overdue": format_vnd(f.overdue),
                "overdue_rate": percent_display(f.overdue_rate),
                "provisions": format_vnd(f.provisions),
            },
            st["base"],
        )
    )
    for title, header, rows, kinds in report_tables(f):
        story.append(para(title, st["h2"]))
        # II is the debt groups' table; III the capital's in the fund's report (both totalled).
        totalled = title.startswith("II.") or (
            f.superior_union_id is None and title.startswith("III.")
        )
        if title.startswith("II.") and f.classified_on:
            story.append(
                para(
                    _(
                        "Theo kết quả phân loại nợ ngày %(classified_on)s; dư nợ và dự phòng "
                        "trên sổ cái đến %(end)s: %(outstanding)s và %(provisions)s."
                    )
                    % {
                        "classified_on": format_date_vi(f.classified_on),
                        "end": format_date_vi(f.end),
                        "outstanding": format_vnd(f.outstanding),
                        "provisions": format_vnd(f.provisions),
                    },
                    st["small"],
                )
            )
        if not rows:
            story.append(para(_("Không có số liệu."), st["base"]))
            continue
        col_kinds = kinds[0]
        numeric = [i for i, k in enumerate(col_kinds) if k != "text"]
        body = [
            [_display(v, k) for v, k in zip(r, kk, strict=True)]
            for r, kk in zip(rows, kinds, strict=True)
        ]
        story.append(
            data_table(
                header,
                body,
                width=width,
                numeric_cols=numeric,
                total_row=totalled,
                # A row per union is a long table: a smaller type.
                font_size=7 if len(header) > 10 else 8,
            )
        )
    # Plan against achieved: per quarter of the year, and per unit (year plan / year to date).
    story.append(PageBreak())
    story.append(para(_("Biểu đồ kế hoạch và thực hiện"), st["h2"]))
    bn = Decimal(1_000_000)

    def millions(amount) -> int:
        # Bar heights only (the figures printed come from the exact amounts): whole millions.
        return int((Decimal(amount) / bn).to_integral_value())

    by_quarter = _("Doanh số cho vay theo quý")
    if not any(q.planned for q in f.quarters):
        by_quarter = _("%(title)s (kế hoạch chưa phân bổ theo quý)") % {"title": by_quarter}
    story.append(
        bar_chart(
            [quarter_name(q.quarter, f.year) for q in f.quarters],
            [millions(q.planned) for q in f.quarters],
            [millions(q.achieved) for q in f.quarters],
            title=by_quarter,
            unit=_("triệu đồng"),
            width=width,
            height=60 * mm,
        )
    )
    if f.units:
        shown = (
            f.units
            if len(f.units) <= 60
            else sorted(f.units, key=lambda u: u.ytd_disbursed, reverse=True)[:60]
        )
        by_unit = (
            _("Kế hoạch năm và lũy kế thực hiện theo công đoàn cấp trên")
            if f.unit_kind == "superior_union"
            else _("Kế hoạch năm và lũy kế thực hiện theo CĐCS")
        )
        if len(shown) != len(f.units):
            by_unit = _("%(title)s (60 đơn vị giải ngân nhiều nhất)") % {"title": by_unit}
        story.append(spacer(4))
        story.append(
            bar_chart(
                [u.code for u in shown],
                [millions(u.plan_year) for u in shown],
                [millions(u.ytd_disbursed) for u in shown],
                title=by_unit,
                unit=_("triệu đồng"),
                width=width,
                height=85 * mm,
            )
        )
    if chain_head:
        story.append(spacer(4))
        story.append(para(chain_head, st["small"]))
    info = PageInfo(organisation=f.fund_name, generated_at=generated_at, chain_state=chain_state)
    build_pdf(target, story, info=info, title=report_title(f), landscape_pages=True)


# --------------------------------------------------------------------------------------------
# XLSX


def _sheet_name(title: str) -> str:
    name = title.split(". ", 1)[-1]
    for ch in "[]:*?/\\":
        name = name.replace(ch, " ")
    return name[:31].strip()


def render_xlsx(
    target, f: QuarterlyFigures, *, generated_at: datetime, chain_state: str, chain_head: str = ""
) -> None:
    """Write the XLSX to `target` (a path or a binary file): numbers stay numbers."""
    wb = Workbook()
    first = True
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="D9E2F3")
    for title, header, rows, kinds in report_tables(f):
        ws = wb.active if first else wb.create_sheet()
        ws.title = _sheet_name(title)
        r0 = 1
        if first:
            ws["A1"] = spreadsheet_text(f.headline)
            ws["A1"].font = Font(bold=True, size=12)
            ws["A2"] = spreadsheet_text(
                _("%(unit)s · %(quarter)s (%(start)s–%(end)s) · lập lúc %(time)s · %(chain)s")
                % {
                    "unit": f.unit_name,
                    "quarter": quarter_name(f.quarter, f.year),
                    "start": format_date_vi(f.start),
                    "end": format_date_vi(f.end),
                    "time": f"{generated_at:%H:%M %d/%m/%Y}",
                    "chain": chain_state,
                }
            )
            ws["A3"] = spreadsheet_text(chain_head)
            r0 = 5
            first = False
        ws.cell(row=r0, column=1, value=spreadsheet_text(title)).font = bold
        for c, h in enumerate(header, start=1):
            cell = ws.cell(row=r0 + 1, column=c, value=spreadsheet_text(h))
            cell.font, cell.fill = bold, fill
            cell.alignment = Alignment(wrap_text=True, vertical="center")
        for i, (row, kk) in enumerate(zip(rows, kinds, strict=True)):
            for c, (v, k) in enumerate(zip(row, kk, strict=True), start=1):
                cell = ws.cell(row=r0 + 2 + i, column=c)
                if k == "text":
                    cell.value = spreadsheet_text(v)
                elif v is None:
                    cell.value = None
                elif k == "money":
                    cell.value = int(v)
                    cell.number_format = VND_FORMAT
                elif k == "count":
                    cell.value = int(v)
                    cell.number_format = COUNT_FORMAT
                else:  # a percentage, as an exact fraction: openpyxl writes a Decimal as a number
                    cell.value = Decimal(v) / 100
                    cell.number_format = PERCENT_FORMAT
        for c, k in enumerate(kinds[0] if kinds else [], start=1):
            ws.column_dimensions[get_column_letter(c)].width = {
                "text": 34,
                "money": 20,
            }.get(k, 12)
        ws.freeze_panes = ws.cell(row=r0 + 2, column=1)
    wb.properties.title = report_title(f)
    wb.properties.creator = "trovon"
    wb.save(target)
