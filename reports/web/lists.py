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

from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from fund.access import ALL_ROLES, WRITERS, access
from loans.models import HouseholdStatus, LoanStatus
from loans.origination.selectors import borrower_search
from loans.servicing.collection_sheets import overdue_lines, overdue_rows
from loans.servicing.selectors import loan_search
from loans.web.forms import LoanFilterForm
from reports.exports import export_filename, table_streaming_response

EXPORT_MAX_ROWS = 100_000
CHUNK = 2_000


def _format(request) -> str:
    return "csv" if (request.GET.get("format") or "").lower() == "csv" else "xlsx"


def _title(name: str, *, cut: bool) -> str:
    """The title row: the list's name and today's date; says when the list was cut at
    ``EXPORT_MAX_ROWS`` rows."""
    title = _("%(name)s ngày %(day)s") % {
        "name": name,
        "day": f"{timezone.localdate():%d/%m/%Y}",
    }
    if cut:
        title = _("%(title)s — %(n)s dòng đầu; lọc để thu hẹp danh sách") % {
            "title": title,
            "n": f"{EXPORT_MAX_ROWS:,}".replace(",", "."),
        }
    return title


def _cut(qs) -> bool:
    """Whether `qs` holds more than ``EXPORT_MAX_ROWS`` rows (one indexed probe, no count)."""
    return qs[EXPORT_MAX_ROWS : EXPORT_MAX_ROWS + 1].exists()


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
    title = _title(_("Danh sách khoản vay"), cut=_cut(values))
    return table_streaming_response(
        format=_format(request),
        filename=export_filename("khoan-vay", timezone.localdate()),
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
        title=title,
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
    title = _title(_("Danh sách thành viên vay vốn"), cut=_cut(values))
    return table_streaming_response(
        format=_format(request),
        filename=export_filename("thanh-vien", timezone.localdate()),
        headers=[
            _("Họ và tên"),
            _("CCCD"),
            _("Ngày sinh"),
            _("Hoàn cảnh"),
            _("Mã CĐCS"),
            _("Công đoàn cơ sở"),
        ],
        rows=rows,
        title=title,
    )


def _overdue_rows(late, today):
    late = list(late[:EXPORT_MAX_ROWS])  # three values a loan
    for start in range(0, len(late), CHUNK):
        for x in overdue_lines(late[start : start + CHUNK], on=today):
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


@require_GET
@access(WRITERS)
def overdue_export(request):
    """The overdue list as its page shows it (``loans:overdue``), the longest overdue first."""
    today = timezone.localdate()
    late = overdue_rows(scope=request.scope, on=today)
    title = _title(_("Nợ quá hạn"), cut=_cut(late))
    return table_streaming_response(
        format=_format(request),
        filename=export_filename("no-qua-han", today),
        rows=_overdue_rows(late, today),
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
        title=title,
    )
