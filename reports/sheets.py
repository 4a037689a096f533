"""The month's collection sheet of a grassroots union, printable (PDF with signature lines).

The union's officer takes it round the members: who owes what this month (and what is late
from before), a column for the amount collected and one for the member's signature; the
officer and the union's chair sign at the bottom.
"""

from __future__ import annotations

import io
from datetime import date

from django.http import HttpResponse
from django.utils import timezone
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Table, TableStyle

from accounting.dates import business_today
from accounting.formatting import format_vnd
from fund.access import access
from fund.models import GrassrootsUnion, Role
from fund.scoping import scoped_get_or_404
from loans.servicing.collection_sheets import collection_sheet, union_months
from reports.pdf import PageInfo, build_pdf, data_table, para, spacer, styles


def collection_sheet_pdf(*, union, year: int, month: int, lines, target, months=()) -> None:
    """Write the sheet of `lines` (``loans.servicing.collection_sheets.CollectionLine``) to
    `target`; `months` (``MonthCollection``): the union's recent months, due, remitted and
    confirmed by the bank, printed below."""
    st = styles()
    story = [
        para(union.name.upper(), st["base"]),
        para(f"BẢNG THU NỢ THÁNG {month:02d}/{year}", st["title"]),
        para(union.fund.name, st["subtitle"]),
        spacer(),
    ]
    rows = []
    for n, line in enumerate(lines, 1):
        rows.append(
            [
                n,
                line.borrower.full_name,
                f"#{line.loan.pk}",
                format_vnd(line.due_this_month, symbol=False),
                format_vnd(line.overdue, symbol=False),
                format_vnd(line.total, symbol=False),
                "",
                "",
            ]
        )
    rows.append(
        [
            "",
            "Cộng",
            "",
            *(
                format_vnd(sum((getattr(x, f) for x in lines), 0), symbol=False)
                for f in ("due_this_month", "overdue", "total")
            ),
            "",
            "",
        ]
    )
    story.append(
        data_table(
            [
                "STT",
                "Họ và tên",
                "Khoản vay",
                "Phải trả trong tháng",
                "Quá hạn kỳ trước",
                "Tổng phải thu",
                "Số tiền đã nộp",
                "Ký nhận",
            ],
            rows,
            numeric_cols=(3, 4, 5),
            total_row=True,
        )
    )
    if months:
        story.append(spacer(6))
        story.append(
            data_table(
                ["Tháng", "Phải thu", "Đã nộp", "Ngân hàng đã xác nhận", "Đang chuyển"],
                [
                    [
                        f"{m.month:02d}/{m.year}",
                        format_vnd(m.due, symbol=False),
                        format_vnd(m.remitted, symbol=False),
                        format_vnd(m.confirmed, symbol=False),
                        format_vnd(m.in_transit, symbol=False),
                    ]
                    for m in months
                ],
                numeric_cols=(1, 2, 3, 4),
            )
        )
    story.append(spacer(8))
    sign = Table(
        [
            [
                Paragraph("<b>NGƯỜI LẬP BẢNG</b><br/>(Ký, ghi rõ họ tên)", st["subtitle"]),
                Paragraph(
                    f"Ngày ..... tháng {month:02d} năm {year}<br/><b>TM. BAN CHẤP HÀNH "
                    "CĐCS</b><br/>(Ký, ghi rõ họ tên, đóng dấu)",
                    st["subtitle"],
                ),
            ],
            ["", ""],
        ],
        colWidths=[90 * mm, 90 * mm],
        rowHeights=[None, 25 * mm],
    )
    sign.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story.append(sign)
    now = timezone.localtime()
    build_pdf(
        target,
        story,
        info=PageInfo(organisation=union.name, generated_at=now, chain_state=""),
        title=f"Bảng thu nợ tháng {month:02d}/{year} — {union.name}",
    )


def _month(request) -> tuple[int, int]:
    today = business_today()
    try:
        year, month = (int(x) for x in request.GET.get("month", "").split("-"))
        date(year, month, 1)
        return year, month
    except (TypeError, ValueError):
        return today.year, today.month


SHEET_READERS = (Role.GRASSROOTS_OFFICER, Role.SUPERIOR_OFFICER, Role.FUND_OFFICER)


def sheet_union(request):
    """The union whose sheet is asked for: a grassroots officer's own union; above it,
    ``?union=<id>`` within the scope (another unit's id → 404)."""
    if request.scope.role == Role.GRASSROOTS_OFFICER:
        return request.user.officer.grassroots_union
    return scoped_get_or_404(
        GrassrootsUnion.objects.all(),
        request.scope,
        pk=request.GET.get("union", ""),
        grassroots_field="",
    )


@access(SHEET_READERS)
def collection_sheet_pdf_view(request):
    """The PDF of a union's month: a grassroots officer's own union; above it, ``?union=<id>``
    within the scope (another unit's id → 404)."""
    scope = request.scope
    union = sheet_union(request)
    year, month = _month(request)
    lines = collection_sheet(scope=scope, grassroots_union=union, year=year, month=month)
    buf = io.BytesIO()
    months = union_months(scope=scope, grassroots_union=union, year=year, month=month)
    collection_sheet_pdf(
        union=union, year=year, month=month, lines=lines, target=buf, months=months
    )
    response = HttpResponse(buf.getvalue(), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="bang-thu-no-{union.code}-{year:04d}-{month:02d}.pdf"'
    )
    return response
