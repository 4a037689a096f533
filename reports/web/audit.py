"""The auditor's pages: the books of the fund for any period, read-only, each table exportable.

Auditors and fund officers of a fund read that fund's postings (``fund_id`` dimension), its
entries (an entry of another fund answers 404) and its audit log. Every page answers GET only
(a POST is refused with 405) and ``?format=xlsx|csv`` turns its table into a spreadsheet
(``reports.exports``). Periods are typed day first (dd/mm/yyyy) and default to the current
quarter. Mount with ``path("audit/", include("reports.web.audit_urls"))``.
"""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from accounting.dates import business_today
from accounting.errors import UnknownAccount
from accounting.formatting import format_date_vi
from accounting.models import Account, ChainLink, JournalEntry, Posting
from accounting.selectors import (
    account_get,
    balance_sheet,
    general_ledger_page,
    general_ledger_rows,
    income_statement,
    ledger_chain_head,
    ledger_signed_head,
    ledger_verify,
    published_heads_check,
    trial_balance,
    turnover_by_account,
)
from fund.access import READERS_FUND_WIDE, access
from fund.audit import audit_log_list
from fund.integrity import CHECK_LABELS, integrity_check_latest, integrity_verify
from fund.labels import (
    account_name,
    action_label,
    changes_text,
    model_label,
    model_of,
    quarter_name,
)
from fund.models import AuditLog, Fund, GrassrootsUnion, OfficerProfile, SuperiorUnion
from fund.people import name_sort_key, person_name
from fund.web.forms import date_field
from reports.exports import (
    chain_head_text,
    export_filename,
    export_format,
    table_response,
    table_streaming_response,
)
from reports.templatetags.audit_tags import indent, vnd_or_blank

ZERO = Decimal(0)
AUDIT_LOG_PAGE_SIZE = 50
GENERAL_LEDGER_PAGE_SIZE = 500  # lines a page; the exports hold the whole period
AUDIT_LOG_EXPORT_LIMIT = 100_000


# Periods ---------------------------------------------------------------------------------------


def quarter_of(day: date) -> tuple[date, date]:
    """The first and last day of the quarter `day` falls in."""
    first_month = (day.month - 1) // 3 * 3 + 1
    last_month = first_month + 2
    return (
        date(day.year, first_month, 1),
        date(day.year, last_month, monthrange(day.year, last_month)[1]),
    )


class PeriodForm(forms.Form):
    start = date_field(gettext_lazy("Từ ngày"), required=False)
    end = date_field(gettext_lazy("Đến ngày"), required=False)

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            self.add_error("end", _("Ngày cuối kỳ phải sau hoặc bằng ngày đầu kỳ."))
        return data


@dataclass
class Period:
    start: date
    end: date
    form: PeriodForm

    def _text(self, name: str) -> str:
        """What the field shows: the user's own text when it was refused, else the date."""
        if self.form.is_bound and name in self.form.errors:
            return self.form.data.get(name, "")
        return format_date_vi(getattr(self, name))

    @property
    def start_text(self) -> str:
        return self._text("start")

    @property
    def end_text(self) -> str:
        return self._text("end")

    @property
    def label(self) -> str:
        q_start, q_end = quarter_of(self.start)
        if (q_start, q_end) == (self.start, self.end):
            return quarter_name((self.start.month - 1) // 3 + 1, self.start.year)
        return f"{format_date_vi(self.start)} – {format_date_vi(self.end)}"


def period_from(request) -> Period:
    """The period asked for (dd/mm/yyyy or ISO); the current quarter where missing or invalid."""
    default_start, default_end = quarter_of(business_today())
    form = PeriodForm(request.GET or None)
    start, end = default_start, default_end
    if form.is_bound and form.is_valid():
        start = form.cleaned_data.get("start") or default_start
        end = form.cleaned_data.get("end") or (
            quarter_of(start)[1] if form.cleaned_data.get("start") else default_end
        )
    elif not form.is_bound:
        form = PeriodForm(initial={"start": start, "end": end})
    return Period(start, end, form)


def quarter_links(request, year: int) -> list[tuple[str, str]]:
    """Links to the four quarters of a year, keeping the page's other parameters."""
    links = []
    for q in range(1, 5):
        start = date(year, 3 * q - 2, 1)
        end = quarter_of(start)[1]
        params = request.GET.copy()
        params.pop("format", None)
        params.pop("page", None)
        params["start"], params["end"] = start.isoformat(), end.isoformat()
        links.append((quarter_name(q, year), "?" + params.urlencode()))
    return links


def export_links(request) -> dict[str, str]:
    links = {}
    for fmt in ("xlsx", "csv"):
        params = request.GET.copy()
        params.pop("page", None)
        params["format"] = fmt
        links[fmt] = "?" + params.urlencode()
    return links


def _page(request, template: str, context: dict, *, period: Period | None = None):
    context.setdefault("export", export_links(request))
    if period is not None:
        context["period"] = period
        context["quarters"] = quarter_links(request, period.end.year)
    return render(request, template, context)


def _fund(request) -> Fund:
    # The officer profile comes with its fund (config.auth_backend): no query of its own.
    officer = getattr(request.user, "officer", None)
    if officer is not None and officer.fund_id == request.scope.fund_id:
        return officer.fund
    return Fund.objects.get(pk=request.scope.fund_id)


# Trial balance ---------------------------------------------------------------------------------


@dataclass
class TrialBalanceRow:
    account: Account
    depth: int
    is_leaf: bool
    opening_debit: Decimal
    opening_credit: Decimal
    debit: Decimal
    credit: Decimal
    closing_debit: Decimal
    closing_credit: Decimal

    @property
    def is_zero(self) -> bool:
        return not any(
            (self.opening_debit, self.opening_credit, self.debit, self.credit)
            + (self.closing_debit, self.closing_credit)
        )


def _split(balance: Decimal) -> tuple[Decimal, Decimal]:
    return (balance, ZERO) if balance > 0 else (ZERO, -balance)


def trial_balance_rows(*, fund_id: int, start: date, end: date):
    """Opening balances, debit and credit movement and closing balances of every account."""
    accounts = list(Account.objects.order_by("path"))
    opening = trial_balance(as_of=start - timedelta(days=1), fund_id=fund_id, accounts=accounts)
    closing = trial_balance(as_of=end, fund_id=fund_id, accounts=accounts)
    leaf_turnover = turnover_by_account(start=start, end=end, fund_id=fund_id)
    parents = {r.account.pk: r.account.parent_id for r in closing.rows}
    turnover: dict[int, list[Decimal]] = {}
    for acc_id, (d, c) in leaf_turnover.items():
        node = acc_id
        while node is not None:
            t = turnover.setdefault(node, [ZERO, ZERO])
            t[0] += d
            t[1] += c
            node = parents.get(node)
    rows = []
    for o, c in zip(opening.rows, closing.rows, strict=True):
        d_, c_ = turnover.get(c.account.pk, (ZERO, ZERO))
        rows.append(
            TrialBalanceRow(
                c.account, c.depth, c.is_leaf, *_split(o.balance), d_, c_, *_split(c.balance)
            )
        )
    rows = [r for r in rows if not r.is_zero]
    leaves = [r for r in rows if r.is_leaf]
    totals = {
        f: sum((getattr(r, f) for r in leaves), ZERO)
        for f in (
            "opening_debit",
            "opening_credit",
            "debit",
            "credit",
            "closing_debit",
            "closing_credit",
        )
    }
    balanced = (
        totals["opening_debit"] == totals["opening_credit"]
        and totals["debit"] == totals["credit"]
        and totals["closing_debit"] == totals["closing_credit"]
    )
    return rows, totals, balanced


TRIAL_BALANCE_HEADERS = [
    gettext_lazy("Số hiệu TK"),
    gettext_lazy("Tên tài khoản"),
    gettext_lazy("Dư Nợ đầu kỳ"),
    gettext_lazy("Dư Có đầu kỳ"),
    gettext_lazy("Phát sinh Nợ"),
    gettext_lazy("Phát sinh Có"),
    gettext_lazy("Dư Nợ cuối kỳ"),
    gettext_lazy("Dư Có cuối kỳ"),
]


@access(READERS_FUND_WIDE)
@require_GET
def trial_balance_view(request):
    period = period_from(request)
    rows, totals, balanced = trial_balance_rows(
        fund_id=request.scope.fund_id, start=period.start, end=period.end
    )
    title = _("Bảng cân đối số phát sinh")
    if fmt := export_format(request):
        figures = (
            "opening_debit",
            "opening_credit",
            "debit",
            "credit",
            "closing_debit",
            "closing_credit",
        )
        table = [
            [r.account.code, account_name(r.account.name, r.account.name_en)]
            + [getattr(r, f) for f in figures]
            for r in rows
        ]
        table.append(["", _("Tổng cộng"), *(totals[f] for f in figures)])
        return table_response(
            format=fmt,
            filename=export_filename("can-doi-so-phat-sinh", period.start, period.end),
            headers=TRIAL_BALANCE_HEADERS,
            rows=table,
            title=f"{title} {period.label}",
            chain_head=_chain_head(),
        )
    return _page(
        request,
        "audit/trial_balance.html",
        {
            "title": title,
            "fund": _fund(request),
            "rows": rows,
            "cells": _trial_balance_cells(rows, period),
            "totals": totals,
            "balanced": balanced,
        },
        period=period,
    )


def _trial_balance_cells(rows: list[TrialBalanceRow], period: Period) -> list[tuple]:
    """The table's cells, formatted once here rather than by a filter or tag per cell: row
    class, account code, its general-ledger link for the period, indent class, name, and the
    six amounts (blank where zero)."""
    ledger = reverse("audit:general_ledger")
    dates = f"start={period.start.isoformat()}&end={period.end.isoformat()}"
    return [
        (
            "leaf" if r.is_leaf else "parent",
            r.account.code,
            f"{ledger}?account={r.account.code}&{dates}",
            indent(r.depth),
            account_name(r.account.name, r.account.name_en),
            *(
                vnd_or_blank(v)
                for v in (
                    r.opening_debit,
                    r.opening_credit,
                    r.debit,
                    r.credit,
                    r.closing_debit,
                    r.closing_credit,
                )
            ),
        )
        for r in rows
    ]


# Balance sheet and income statement ------------------------------------------------------------

SECTION_LABELS = {
    "asset": gettext_lazy("Tài sản"),
    "liability": gettext_lazy("Nợ phải trả"),
    "equity": gettext_lazy("Nguồn vốn quỹ"),
    "income": gettext_lazy("Thu nhập"),
    "expense": gettext_lazy("Chi phí"),
}


STATEMENT_HEADERS = [gettext_lazy("Số hiệu TK"), gettext_lazy("Chỉ tiêu"), gettext_lazy("Số tiền")]


def _statement_rows(lines) -> list[list]:
    return [[x.code, account_name(str(x.name), x.name_en), x.amount] for x in lines]


@access(READERS_FUND_WIDE)
@require_GET
def balance_sheet_view(request):
    period = period_from(request)
    sheet = balance_sheet(as_of=period.end, fund_id=request.scope.fund_id)
    sections = [
        (key, SECTION_LABELS[key], lines, sum((x.amount for x in lines), ZERO))
        for key, lines in sheet.items()
    ]
    total_assets = sections[0][3]
    total_sources = sum((s[3] for s in sections[1:]), ZERO)
    title = _("Bảng cân đối kế toán")
    if fmt := export_format(request):
        table = []
        for _key, label, lines, total in sections:
            table += _statement_rows(lines)
            table.append(["", _("Cộng %(section)s") % {"section": label.lower()}, total])
        return table_response(
            format=fmt,
            filename=export_filename("can-doi-ke-toan", period.end),
            headers=STATEMENT_HEADERS,
            rows=table,
            title=f"{title} {_('ngày')} {format_date_vi(period.end)}",
            chain_head=_chain_head(),
        )
    return _page(
        request,
        "audit/balance_sheet.html",
        {
            "title": title,
            "fund": _fund(request),
            "sections": sections,
            "total_assets": total_assets,
            "total_sources": total_sources,
            "balanced": total_assets == total_sources,
        },
        period=period,
    )


@access(READERS_FUND_WIDE)
@require_GET
def income_statement_view(request):
    period = period_from(request)
    stmt = income_statement(start=period.start, end=period.end, fund_id=request.scope.fund_id)
    title = _("Báo cáo thu nhập và chi phí")
    if fmt := export_format(request):
        table = _statement_rows(stmt["income"])
        table.append(["", _("Tổng thu nhập"), stmt["total_income"]])
        table += _statement_rows(stmt["expense"])
        table.append(["", _("Tổng chi phí"), stmt["total_expense"]])
        table.append(["", _("Chênh lệch thu chi"), stmt["surplus"]])
        return table_response(
            format=fmt,
            filename=export_filename("thu-nhap-chi-phi", period.start, period.end),
            headers=STATEMENT_HEADERS,
            rows=table,
            title=f"{title} {period.label}",
            chain_head=_chain_head(),
        )
    return _page(
        request,
        "audit/income_statement.html",
        {"title": title, "fund": _fund(request), "stmt": stmt},
        period=period,
    )


# General ledger and entries --------------------------------------------------------------------

# Business documents behind ledger entries: the page of each, when the site has one.
DOCUMENT_PAGES = {
    "loan_disbursement": ("loans:loan_detail", gettext_lazy("Giải ngân khoản vay")),
    "loan_repayment": ("loans:loan_detail", gettext_lazy("Thu nợ khoản vay")),
    "loan_repayment_batch": (None, gettext_lazy("Bảng kê thu nợ")),
    "capital_contribution": (None, gettext_lazy("Góp vốn")),
}


def document_reference(document_type: str, document_id: str) -> dict | None:
    """The label and, when the page exists, the link of an entry's business document."""
    if not document_type:
        return None
    url_name, label = DOCUMENT_PAGES.get(document_type, (None, document_type))
    url = None
    if url_name and document_id:
        try:
            url = reverse(url_name, args=[document_id])
        except NoReverseMatch:
            url = None
    if document_type.startswith("capital_") and document_type not in DOCUMENT_PAGES:
        label = _("Nghiệp vụ vốn (%(kind)s)") % {"kind": document_type.removeprefix("capital_")}
    return {"label": label, "id": document_id, "url": url, "type": document_type}


def _document_text(document_type: str, document_id: str) -> str:
    ref = document_reference(document_type, document_id)
    return f"{ref['label']} {ref['id']}".strip() if ref else ""


GENERAL_LEDGER_HEADERS = [
    gettext_lazy("Ngày hạch toán"),
    gettext_lazy("Số bút toán"),
    gettext_lazy("Diễn giải"),
    gettext_lazy("Chứng từ"),
    gettext_lazy("Phát sinh Nợ"),
    gettext_lazy("Phát sinh Có"),
    gettext_lazy("Số dư"),
]


def _page_number(request) -> int:
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1


def _general_ledger_export(request, fmt: str, account, period: Period, title: str):
    """The whole period's ledger, streamed: rows read from the database in chunks as the file
    is written, the totals added up on the way (the lines are never all in memory)."""
    account, opening, lines = general_ledger_rows(
        account=account, start=period.start, end=period.end, fund_id=request.scope.fund_id
    )

    def rows():
        debit = credit = Decimal(0)
        closing = opening
        yield ["", "", _("Số dư đầu kỳ"), "", None, None, opening]
        for line in lines:
            debit += line.debit
            credit += line.credit
            closing = line.balance
            yield [
                line.effective_date,
                line.entry_id,
                line.memo,
                _document_text(line.document_type, line.document_id),
                line.debit,
                line.credit,
                line.balance,
            ]
        yield ["", "", _("Cộng phát sinh"), "", debit, credit, None]
        yield ["", "", _("Số dư cuối kỳ"), "", None, None, closing]

    return table_streaming_response(
        format=fmt,
        filename=export_filename("so-cai", account.code, period.start, period.end),
        headers=GENERAL_LEDGER_HEADERS,
        rows=rows(),
        title=" ".join(
            [title, account.code, account_name(account.name, account.name_en), period.label]
        ),
        chain_head=_chain_head(),
    )


@access(READERS_FUND_WIDE)
@require_GET
def general_ledger_view(request):
    """The auditor's general ledger of one account, a page of lines at a time: each page starts
    with the balance brought forward from the pages before; the exports hold the whole period."""
    period = period_from(request)
    accounts = list(Account.objects.order_by("path"))
    code = (request.GET.get("account") or "").strip()
    gl = None
    error = ""
    title = _("Sổ cái tài khoản")
    if code:
        try:
            account = account_get(code)
        except UnknownAccount as e:
            error = e.message
        else:
            if fmt := export_format(request):
                return _general_ledger_export(request, fmt, account, period, title)
            gl = general_ledger_page(
                account=account,
                start=period.start,
                end=period.end,
                page=_page_number(request),
                per_page=GENERAL_LEDGER_PAGE_SIZE,
                fund_id=request.scope.fund_id,
            )
    lines, page, query = [], None, ""
    if gl is not None:
        lines = [
            (line, document_reference(line.document_type, line.document_id)) for line in gl.lines
        ]
        page, query = _ledger_pager(request, gl)
    return _page(
        request,
        "audit/general_ledger.html",
        {
            "title": title,
            "fund": _fund(request),
            "accounts": accounts,
            "code": code,
            "gl": gl,
            "lines": lines,
            "page": page,
            "query": query,
            "error": error,
        },
        period=period,
    )


def _ledger_pager(request, gl) -> tuple:
    """The shared pager's page (``includes/pager.html``) and the query string of the other
    pages: the ledger's page counted by the selector, no query here."""
    page = Paginator(range(gl.count), gl.per_page).get_page(gl.page)
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()


def _entry_in_scope(request, pk) -> JournalEntry:
    """An entry with at least one posting of the user's fund; 404 otherwise."""
    entry = (
        JournalEntry.objects.select_related("posted_by", "reversal_of")
        .filter(pk=pk, postings__fund_id=request.scope.fund_id)
        .distinct()
        .first()
    )
    if entry is None:
        raise Http404(_("Không tìm thấy."))
    return entry


@access(READERS_FUND_WIDE)
@require_GET
def entry_detail_view(request, pk: int):
    entry = _entry_in_scope(request, pk)
    postings = list(Posting.objects.filter(entry=entry).select_related("account").order_by("id"))
    su_names = dict(
        SuperiorUnion.objects.filter(
            pk__in={p.superior_union_id for p in postings if p.superior_union_id}
        ).values_list("pk", "name")
    )
    gu_names = dict(
        GrassrootsUnion.objects.filter(
            pk__in={p.grassroots_union_id for p in postings if p.grassroots_union_id}
        ).values_list("pk", "name")
    )
    fund_names = dict(
        Fund.objects.filter(pk__in={p.fund_id for p in postings if p.fund_id}).values_list(
            "pk", "name"
        )
    )
    rows = [
        {
            "posting": p,
            "fund": fund_names.get(p.fund_id, p.fund_id or ""),
            "superior_union": su_names.get(p.superior_union_id, p.superior_union_id or ""),
            "grassroots_union": gu_names.get(p.grassroots_union_id, p.grassroots_union_id or ""),
        }
        for p in postings
    ]
    link = ChainLink.objects.filter(entry=entry).first()
    prev_entry_id = next_entry_id = None
    if link is not None:
        prev_entry_id = (
            ChainLink.objects.filter(seq=link.seq - 1).values_list("entry_id", flat=True).first()
        )
        next_entry_id = (
            ChainLink.objects.filter(seq=link.seq + 1).values_list("entry_id", flat=True).first()
        )
    reversed_by = JournalEntry.objects.filter(reversal_of=entry).values_list("pk", flat=True)
    title = _("Bút toán #%(id)s") % {"id": entry.pk}
    if fmt := export_format(request):
        return table_response(
            format=fmt,
            filename=export_filename("but-toan", entry.pk),
            headers=[
                _("Tài khoản"),
                _("Tên tài khoản"),
                _("Nợ"),
                _("Có"),
                _("Quỹ"),
                _("Công đoàn cấp trên"),
                _("Công đoàn cơ sở"),
                _("Sổ chi tiết"),
            ],
            rows=[
                [
                    r["posting"].account.code,
                    account_name(r["posting"].account.name, r["posting"].account.name_en),
                    Decimal(r["posting"].debit),
                    Decimal(r["posting"].credit),
                    str(r["fund"]),
                    str(r["superior_union"]),
                    str(r["grassroots_union"]),
                    r["posting"].subledger,
                ]
                for r in rows
            ],
            title=f"{title} {format_date_vi(entry.effective_date)} {entry.memo}"[:200],
            chain_head=_chain_head(),
        )
    return _page(
        request,
        "audit/entry_detail.html",
        {
            "title": title,
            "entry": entry,
            "rows": rows,
            "total_debit": sum((Decimal(p.debit) for p in postings), ZERO),
            "total_credit": sum((Decimal(p.credit) for p in postings), ZERO),
            "link": link,
            "prev_entry_id": prev_entry_id,
            "next_entry_id": next_entry_id,
            "reversed_by": reversed_by.first(),
            "document": document_reference(entry.document_type, entry.document_id),
        },
    )


def _chain_head() -> str:
    """The signed head printed under every ledger statement export."""
    return chain_head_text(ledger_signed_head())


# Chain verification ----------------------------------------------------------------------------


class PublishedHeadsForm(forms.Form):
    """The heads an auditor kept (a file, or lines pasted), to check against today's chain."""

    MAX_BYTES = 1_000_000

    heads_file = forms.FileField(label=gettext_lazy("Tệp đầu chuỗi đã lưu"), required=False)
    heads_text = forms.CharField(
        label=gettext_lazy("hoặc dán các dòng 'trovon-head'"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=MAX_BYTES,
    )

    def clean_heads_file(self):
        f = self.cleaned_data.get("heads_file")
        if f is None:
            return ""
        if f.size > self.MAX_BYTES:
            raise forms.ValidationError(_("Tệp lớn quá 1 MB."))
        try:
            return f.read().decode("utf-8")
        except UnicodeDecodeError:
            raise forms.ValidationError(_("Tệp không phải văn bản UTF-8.")) from None

    def clean(self):
        data = super().clean()
        text = "\n".join(filter(None, [data.get("heads_file"), data.get("heads_text")]))
        if not self.errors and not published_heads_check(text):
            self.add_error(
                "heads_file", _("Không tìm thấy dòng đầu chuỗi 'trovon-head' nào để kiểm tra.")
            )
        data["text"] = text
        return data


@access(READERS_FUND_WIDE)
@require_http_methods(["GET", "POST"])
def chain_verify_view(request):
    """The signed chain head and the last scheduled verification of the books; with ``?run=1``
    every verification now (the ledger's chain and heads, turnover, checkpoints, the audit
    log's chain); a POST checks the heads an auditor kept against today's chain."""
    head_seq, head_hash = ledger_chain_head()
    report = checks = None
    if request.GET.get("run") or export_format(request):
        report = ledger_verify()
        checks = integrity_verify(chain=report)
    posted = request.method == "POST"
    heads_form = PublishedHeadsForm(request.POST, request.FILES) if posted else PublishedHeadsForm()
    published = None
    if posted and heads_form.is_valid():
        published = published_heads_check(heads_form.cleaned_data["text"])
    title = _("Kiểm tra chuỗi niêm phong sổ cái")
    if fmt := export_format(request):
        table = [[c.label, _("khớp") if c.ok else _("KHÔNG KHỚP"), c.problem] for c in checks]
        table += [
            [_("Số mắt xích đã kiểm"), report.links_checked, ""],
            [_("Mắt xích cuối"), report.head_seq, report.head_hash],
            [_("Bút toán chưa niêm phong"), report.unsealed_entries, ""],
        ]
        signed = ledger_signed_head()
        if signed is not None:
            table.append([_("Đầu chuỗi đã ký"), signed.seq, signed.line()])
        return table_response(
            format=fmt,
            filename=export_filename("kiem-tra-chuoi", business_today()),
            headers=[_("Chỉ tiêu"), _("Giá trị"), _("Chi tiết")],
            rows=table,
            title=title,
        )
    broken_entry_visible = False
    if report is not None and report.first_broken_entry_id:
        broken_entry_visible = Posting.objects.filter(
            entry_id=report.first_broken_entry_id, fund_id=request.scope.fund_id
        ).exists()
    head_entry_id = (
        ChainLink.objects.filter(seq=head_seq).values_list("entry_id", flat=True).first()
        if head_seq
        else None
    )
    last = integrity_check_latest()
    return _page(
        request,
        "audit/chain.html",
        {
            "title": title,
            "head_seq": head_seq,
            "head_hash": head_hash,
            "head_entry_id": head_entry_id,
            "signed_head": ledger_signed_head(),
            "report": report,
            "checks": checks,
            "last_check": last,
            "last_check_results": [
                {**r, "label": CHECK_LABELS.get(r["check"], r["check"])} for r in last.results
            ]
            if last
            else [],
            "heads_form": heads_form,
            "published": published,
            "broken_entry_visible": broken_entry_visible,
            "checked_at": timezone.now() if report is not None else None,
        },
    )


# Audit log -------------------------------------------------------------------------------------


class AuditLogFilterForm(PeriodForm):
    actor = forms.TypedChoiceField(
        label=gettext_lazy("Người thực hiện"), required=False, coerce=int, empty_value=None
    )
    model = forms.ChoiceField(label=gettext_lazy("Loại đối tượng"), required=False)

    def __init__(self, *args, fund_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        users = get_user_model().objects.filter(
            officer__in=OfficerProfile.objects.filter(fund_id=fund_id)
        )
        people = sorted(((person_name(u), u.pk) for u in users), key=lambda p: name_sort_key(p[0]))
        self.fields["actor"].choices = [("", _("Tất cả"))] + [(pk, name) for name, pk in people]
        types = ContentType.objects.filter(
            pk__in=AuditLog.objects.filter(fund_id=fund_id)
            .order_by()
            .values_list("content_type_id", flat=True)
            .distinct()
        )
        self.fields["model"].choices = [("", _("Tất cả"))] + sorted(
            (
                (
                    f"{ct.app_label}.{ct.model}",
                    str(ct.model_class()._meta.verbose_name).capitalize(),
                )
                for ct in types
                if ct.model_class() is not None
            ),
            key=lambda c: c[1],
        )


AUDIT_LOG_HEADERS = [
    gettext_lazy("Thời điểm"),
    gettext_lazy("Người thực hiện"),
    gettext_lazy("Thao tác"),
    gettext_lazy("Loại đối tượng"),
    gettext_lazy("Mã"),
    gettext_lazy("Đối tượng"),
    gettext_lazy("Thay đổi"),
]


def _changes_text(entry: AuditLog) -> str:
    return changes_text(model_of(entry.content_type), entry.changes)


@access(READERS_FUND_WIDE)
@require_GET
def audit_log_view(request):
    form = AuditLogFilterForm(request.GET or None, fund_id=request.scope.fund_id)
    filters = {}
    if form.is_bound and form.is_valid():
        cd = form.cleaned_data
        filters = {
            "start": cd.get("start"),
            "end": cd.get("end"),
            "model": cd.get("model") or None,
        }
        if cd.get("actor"):
            filters["actor"] = cd["actor"]
    qs = audit_log_list(scope=request.scope, **filters).order_by("-at", "-id")
    title = _("Nhật ký thay đổi")
    if fmt := export_format(request):
        rows = (
            [
                e.at,
                e.actor_name or _("hệ thống"),
                action_label(e.action),
                model_label(e.content_type),
                e.object_id,
                e.object_repr,
                _changes_text(e),
            ]
            for e in qs[:AUDIT_LOG_EXPORT_LIMIT]
        )
        return table_response(
            format=fmt,
            filename=export_filename("nhat-ky", filters.get("start"), filters.get("end")),
            headers=AUDIT_LOG_HEADERS,
            rows=rows,
            title=title,
        )
    page = Paginator(qs, AUDIT_LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return _page(
        request,
        "audit/audit_log.html",
        {
            "title": title,
            "form": form,
            "page": page,
            "entries": [(e, _changes_text(e)) for e in page.object_list],
            "query": params.urlencode(),
        },
    )


# Index -----------------------------------------------------------------------------------------


@access(READERS_FUND_WIDE)
@require_GET
def audit_index_view(request):
    return render(request, "audit/index.html", {"title": _("Kiểm toán"), "fund": _fund(request)})
