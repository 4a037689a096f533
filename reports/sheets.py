"""The month's collection sheet of a grassroots union, printable (PDF with signature lines).

The union's officer takes it round the members: who owes what by the month's end (and what is
late as of the fund's business date), a column for the amount collected and one for the
member's signature; the officer and the union's chair sign at the bottom. Below: the union's
recent months and its collection history per month and member.

The sheet is made on request, in the reader's language (the language active for the request,
as every page): its titles, headers and footnotes go through gettext; the Vietnamese sheet is
word for word the one the unions know.
"""

from __future__ import annotations

import io

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Table, TableStyle

from accounting.formatting import format_date_vi, format_vnd
from fund.access import access
from fund.models import GrassrootsUnion, Role
from fund.scoping import scoped_get_or_404
from loans.servicing.collection_sheets import (
    collection_sheet,
    union_member_months,
    union_months,
)
from loans.servicing.selectors import business_date
from loans.web.forms import MonthRangeForm, sheet_month
from reports.pdf import PageInfo, build_pdf, data_table, para, pdf_text, spacer, styles


def collection_sheet_pdf(
    *, union, year: int, month: int, lines, target, months=(), as_of=None, history=()
) -> None:
    """Write the sheet of `lines` (``loans.servicing.collection_sheets.CollectionLine``) to
    `target`, overdue as of `as_of` (the fund's business date; None: no close of business yet);
    `months` (``MonthCollection``): the union's recent months, due, remitted and confirmed by
    the bank, printed below; `history` (``MemberMonth``): the same per month and member."""
    st = styles()
    period = {"month": f"{month:02d}", "year": year}
    story = [
        para(union.name.upper(), st["base"]),
        para(_("BẢNG THU NỢ THÁNG %(month)s/%(year)s") % period, st["title"]),
        para(union.fund.name, st["subtitle"]),
        para(
            _("Quá hạn tính đến ngày %(day)s (ngày đã khóa sổ cuối ngày)")
            % {"day": format_date_vi(as_of)}
            if as_of
            else _("Chưa khóa sổ cuối ngày lần nào: chưa tính quá hạn."),
            st["subtitle"],
        ),
        spacer(),
    ]
    rows = []
    for n, line in enumerate(lines, 1):
        rows.append(
            [
                n,
                line.borrower.full_name,
                f"#{line.loan.pk}",
                format_vnd(line.due_by_month_end, symbol=False),
                format_vnd(line.overdue, symbol=False),
                format_vnd(line.total, symbol=False),
                "",
                "",
            ]
        )
    rows.append(
        [
            "",
            _("Cộng"),
            "",
            *(
                format_vnd(sum((getattr(x, f) for x in lines), 0), symbol=False)
                for f in ("due_by_month_end", "overdue", "total")
            ),
            "",
            "",
        ]
    )
    story.append(
        data_table(
            [
                _("STT"),
                _("Họ và tên"),
                pgettext("column", "Khoản vay"),
                _("Phải trả đến cuối tháng"),
                _("Quá hạn"),
                _("Tổng phải thu"),
                _("Số tiền đã nộp"),
                _("Ký nhận"),
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
                [
                    _("Tháng"),
                    _("Phải thu"),
                    _("Đã nộp"),
                    _("Ngân hàng đã xác nhận"),
                    _("Đang chuyển"),
                ],
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
    if history:
        story.append(spacer(6))
        story.append(para(_("LỊCH SỬ THU NỘP THEO THÁNG VÀ THÀNH VIÊN"), st["base"]))
        story.append(
            data_table(
                [
                    _("Tháng"),
                    pgettext("column", "Thành viên"),
                    pgettext("column", "Khoản vay"),
                    _("Phải thu"),
                    _("Đã nộp"),
                    _("Ngân hàng đã xác nhận"),
                ],
                [
                    [
                        f"{r.month:02d}/{r.year}",
                        r.borrower,
                        f"#{r.loan_id}",
                        format_vnd(r.due, symbol=False),
                        format_vnd(r.remitted, symbol=False),
                        format_vnd(r.confirmed, symbol=False),
                    ]
                    for r in history
                ],
                numeric_cols=(3, 4, 5),
            )
        )
    story.append(spacer(8))
    # Our own markup (bold, line breaks) around translated text, escaped like any other.
    sign = Table(
        [
            [
                Paragraph(
                    f"<b>{pdf_text(_('NGƯỜI LẬP BẢNG'))}</b><br/>"
                    f"{pdf_text(_('(Ký, ghi rõ họ tên)'))}",
                    st["subtitle"],
                ),
                Paragraph(
                    f"{pdf_text(_('Ngày ..... tháng %(month)s năm %(year)s') % period)}<br/>"
                    f"<b>{pdf_text(_('TM. BAN CHẤP HÀNH CĐCS'))}</b><br/>"
                    f"{pdf_text(_('(Ký, ghi rõ họ tên, đóng dấu)'))}",
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
        title=_("Bảng thu nợ tháng %(month)s/%(year)s — %(union)s")
        % {**period, "union": union.name},
    )


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
    year, month = sheet_month(request.GET)
    as_of = business_date(fund_id=scope.fund_id)
    lines = collection_sheet(
        scope=scope, grassroots_union=union, year=year, month=month, as_of=as_of
    )
    buf = io.BytesIO()
    months = union_months(scope=scope, grassroots_union=union, year=year, month=month)
    # The history of the months the page shows (``?first=&last=``, else the three up to the
    # sheet's month), as the page and its XLSX.
    first, last = MonthRangeForm.of_sheet(request.GET).months()
    history = union_member_months(scope=scope, grassroots_union=union, first=first, last=last)
    collection_sheet_pdf(
        union=union,
        year=year,
        month=month,
        lines=lines,
        target=buf,
        months=months,
        as_of=as_of,
        history=history,
    )
    response = HttpResponse(buf.getvalue(), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="bang-thu-no-{union.code}-{year:04d}-{month:02d}.pdf"'
    )
    return response
