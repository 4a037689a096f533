"""Exports of the loan book's operational lists (XLSX by default, CSV with ``?format=csv``):
the loans, the members, the overdue list. Each reads the rows its page shows, through the same
selector, filters and scope, so an export never holds a row the page would not; amounts are
numbers in đồng and dates are dates (``reports.exports``).

Streamed and bounded: at most ``EXPORT_MAX_ROWS`` rows, read in chunks (a server-side cursor
on PostgreSQL) as the file is written (``table_streaming_response``: the CSV chunk by chunk, the
XLSX through a temporary file); a longer list says so in its title row and the filters narrow
it.
"""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounting.dates import business_today
from fund.access import ALL_ROLES, WRITERS, access
from loans.models import HouseholdStatus, LoanStatus
from loans.origination.selectors import borrower_search
from loans.servicing.collection_sheets import union_member_months
from loans.servicing.selectors import (
    arrears_lines,
    business_date,
    loan_search,
    loans_in_arrears,
)
from loans.web.forms import LoanFilterForm, MonthRangeForm
from reports.exports import export_filename, export_format, table_streaming_response
from reports.sheets import SHEET_READERS, sheet_union

EXPORT_MAX_ROWS = 50_000  # an XLSX of 50,000 rows is written in about 15 s (docs/reports.md)
CHUNK = 2_000


def _format(request) -> str:
    return export_format(request) or "xlsx"


def _title(name: str, *, cut: bool, day) -> str:
    """The title row: the list's name and its date; says when the list was cut at
    ``EXPORT_MAX_ROWS`` rows."""
    title = _("%(name)s ngày %(day)s") % {"name": name, "day": f"{day:%d/%m/%Y}"}
    if cut:
        title = _("%(title)s — %(n)s dòng đầu; lọc để thu hẹp danh sách") % {
            "title": title,
            "n": f"{EXPORT_MAX_ROWS:,}".replace(",", "."),
        }
    return title


def _cut(qs) -> bool:
    """Whether `qs` holds more than ``EXPORT_MAX_ROWS`` rows (one indexed probe, no count)."""
    return qs[EXPORT_MAX_ROWS : EXPORT_MAX_ROWS + 1].exists()


def _list_export(request, *, name, stem: str, headers, rows, qs, day=None):
    """A list's export, dated `day` (today unless given) in its title and file name: `rows`
    (read lazily, at most ``EXPORT_MAX_ROWS`` of them) under the title saying when `qs`, the
    list they come from, holds more."""
    day = day or business_today()
    return table_streaming_response(
        format=_format(request),
        filename=export_filename(stem, day),
        headers=headers,
        rows=rows,
        title=_title(name, cut=_cut(qs), day=day),
    )


@require_GET
@access(ALL_ROLES)
def loans_export(request):
    """The loan book as its page lists it (``loans:loan_list`` and its filters)."""
    form = LoanFilterForm(request.GET or None, scope=request.scope)
    qs = loan_search(scope=request.scope, **form.filters())
    statuses = dict(LoanStatus.choices)
    values = qs.values_list(
        "id",
        "borrower__full_name",
        "grassroots_union__code",
        "grassroots_union__name",
        "disbursed_on",
        "principal",
        "outstanding_principal",
        "days_past_due",
        "debt_group",
        "status",
    )
    rows = (
        [*row[:-1], str(statuses.get(row[-1], row[-1]))]
        for row in values[:EXPORT_MAX_ROWS].iterator(chunk_size=CHUNK)
    )
    return _list_export(
        request,
        name=_("Danh sách khoản vay"),
        stem="khoan-vay",
        headers=[
            _("Khoản vay"),
            _("Thành viên"),
            _("Mã CĐCS"),
            _("Công đoàn cơ sở"),
            _("Ngày giải ngân"),
            _("Số tiền vay"),
            _("Dư nợ gốc"),
            _("Số ngày quá hạn"),
            _("Nhóm nợ"),
            _("Trạng thái"),
        ],
        rows=rows,
        qs=values,
    )


@require_GET
@access(WRITERS)
def borrowers_export(request):
    """The members as their page lists them (``loans:borrower_list``: name, id number, union)."""
    gu = request.GET.get("grassroots_union", "")
    qs = borrower_search(
        scope=request.scope,
        q=request.GET.get("q", ""),
        grassroots_union_id=int(gu) if gu.isdigit() else None,
    )
    values = qs.values_list(
        "full_name",
        "national_id",
        "date_of_birth",
        "household_status",
        "grassroots_union__code",
        "grassroots_union__name",
    )
    statuses = dict(HouseholdStatus.choices)
    rows = (
        [name, cccd, born, str(statuses.get(status, status)), code, union]
        for name, cccd, born, status, code, union in values[:EXPORT_MAX_ROWS].iterator(
            chunk_size=CHUNK
        )
    )
    return _list_export(
        request,
        name=_("Danh sách thành viên vay vốn"),
        stem="thanh-vien",
        headers=[
            _("Họ và tên"),
            _("CCCD"),
            _("Ngày sinh"),
            _("Hoàn cảnh"),
            _("Mã CĐCS"),
            _("Công đoàn cơ sở"),
        ],
        rows=rows,
        qs=values,
    )


def _overdue_rows(loans, as_of):
    for start in range(0, EXPORT_MAX_ROWS, CHUNK):
        chunk = list(loans[start : min(start + CHUNK, EXPORT_MAX_ROWS)])
        for x in arrears_lines(chunk, as_of=as_of):
            yield [
                x.loan.borrower.full_name,
                x.loan.pk,
                x.loan.grassroots_union.code,
                x.loan.grassroots_union.name,
                x.oldest_due,
                x.days_past_due,
                x.loan.debt_group,
                x.overdue_amount,
            ]
        if len(chunk) < CHUNK:
            return


@require_GET
@access(WRITERS)
def overdue_export(request):
    """The overdue list as its page shows it (``loans:overdue``): the loans in arrears as of the
    fund's business date, the longest overdue first."""
    as_of = business_date(fund_id=request.scope.fund_id)
    loans = loans_in_arrears(scope=request.scope)
    return _list_export(
        request,
        name=_("Nợ quá hạn"),
        stem="no-qua-han",
        day=as_of,
        rows=_overdue_rows(loans, as_of),
        qs=loans,
        headers=[
            _("Thành viên"),
            _("Khoản vay"),
            _("Mã CĐCS"),
            _("Công đoàn cơ sở"),
            _("Quá hạn từ"),
            _("Số ngày"),
            _("Nhóm nợ"),
            _("Số tiền quá hạn"),
        ],
    )


@require_GET
@access(SHEET_READERS)
def collection_history_export(request):
    """A union's collection history (the collection page's table): per month and member, what
    fell due, what the union remitted and what the bank confirmed; ``?first=&last=`` months."""
    union = sheet_union(request)
    # The page's own range: ``?first=&last=``, else the three months up to the sheet's month.
    first, last = MonthRangeForm.of_sheet(request.GET).months()
    rows = (
        [
            date(r.year, r.month, 1),
            r.borrower,
            r.loan_id,
            r.due,
            r.remitted,
            r.confirmed,
            r.remitted - r.confirmed,
        ]
        for r in union_member_months(
            scope=request.scope, grassroots_union=union, first=first, last=last
        )
    )
    title = _("Lịch sử thu nộp của %(union)s, %(first)s–%(last)s") % {
        "union": union.name,
        "first": f"{first[1]:02d}/{first[0]}",
        "last": f"{last[1]:02d}/{last[0]}",
    }
    return table_streaming_response(
        format=_format(request),
        filename=export_filename(
            "lich-su-thu-nop",
            union.code,
            f"{first[0]:04d}-{first[1]:02d}",
            f"{last[0]:04d}-{last[1]:02d}",
        ),
        headers=[
            _("Tháng"),
            _("Thành viên"),
            _("Khoản vay"),
            _("Phải thu"),
            _("Đã nộp"),
            _("Ngân hàng đã xác nhận"),
            _("Đang chuyển"),
        ],
        rows=rows,
        title=title,
    )
