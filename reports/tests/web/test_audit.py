"""The auditor's pages through the test client: figures, periods, exports, drill-down, scope."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from accounting.formatting import format_vnd
from accounting.models import JournalEntry
from accounting.selectors import account_balance, balance_sheet, income_statement, trial_balance
from accounting.tests.helpers import tamper
from fund.models import AuditLog
from loans.servicing.repayments import repayment_reverse
from loans.tests.factories import new_key, today
from reports.exports import VND_NUMBER_FORMAT
from reports.web import audit as audit_views
from reports.web.audit import document_reference, quarter_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def books(two_funds_books):
    return two_funds_books


@pytest.fixture
def auditor(client, books):
    client.force_login(books.main.officers.auditor)
    return client


def page(client, name, **params):
    return client.get(reverse(f"audit:{name}"), params)


def body(response) -> bytes:
    """The bytes of a response, streamed (the general ledger's exports) or not."""
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def xlsx_rows(response) -> list[list]:
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(body(response))).active
    return [list(r) for r in ws.iter_rows(values_only=True)]


def csv_rows(response) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    data = body(response)
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


# Periods ---------------------------------------------------------------------------------------


def test_quarter_of():
    assert quarter_of(date(2024, 2, 29)) == (date(2024, 1, 1), date(2024, 3, 31))
    assert quarter_of(date(2024, 12, 31)) == (date(2024, 10, 1), date(2024, 12, 31))
    assert quarter_of(date(2025, 5, 1)) == (date(2025, 4, 1), date(2025, 6, 30))


def test_pages_default_to_the_current_quarter(auditor):
    start, end = quarter_of(today())
    for name in ("trial_balance", "balance_sheet", "income_statement", "general_ledger"):
        r = page(auditor, name)
        assert r.status_code == 200, name
        assert r.context["period"].start == start and r.context["period"].end == end
        assert f'value="{end:%d/%m/%Y}"' in r.content.decode()  # shown day first


def test_periods_are_typed_day_first(auditor):
    r = page(auditor, "trial_balance", start="01/02/2024", end="31/03/2024")
    assert (r.context["period"].start, r.context["period"].end) == (
        date(2024, 2, 1),
        date(2024, 3, 31),
    )
    assert "01/02/2024 – 31/03/2024" in r.content.decode()
    r = page(auditor, "trial_balance", start="2024-01-01", end="2024-03-31")
    assert "Quý I/2024" in r.content.decode()


def test_a_period_ending_before_it_starts_is_refused_next_to_the_field(auditor):
    r = page(auditor, "trial_balance", start="31/03/2024", end="01/01/2024")
    assert r.status_code == 200
    html = r.content.decode()
    assert "Ngày cuối kỳ phải sau hoặc bằng ngày đầu kỳ." in html
    assert 'value="01/01/2024"' in html  # what was typed stays in the field
    assert r.context["period"].start == quarter_of(today())[0]  # fell back to the quarter


# Trial balance ---------------------------------------------------------------------------------


def test_trial_balance_is_balanced_and_shows_only_the_auditors_fund(auditor, books):
    r = page(auditor, "trial_balance")
    html = r.content.decode()
    assert r.context["balanced"] and "Cân đối: tổng Nợ bằng tổng Có." in html
    own = trial_balance(as_of=quarter_of(today())[1], fund_id=books.main.fund.pk)
    everyone = trial_balance(as_of=quarter_of(today())[1])
    totals = r.context["totals"]
    assert totals["closing_debit"] == own.total_debit == totals["closing_credit"]
    assert totals["closing_debit"] != everyone.total_debit  # the other fund's books are left out
    assert format_vnd(own.total_debit) in html
    assert "1.000.000.000 ₫" in html  # the capital, on 4111
    codes = [row.account.code for row in r.context["rows"]]
    assert {"1121", "1283", "4111"} <= set(codes)
    assert f'href="{reverse("audit:general_ledger")}?account=1283' in html


def test_trial_balance_opening_movement_and_closing(auditor, books):
    # A period that starts after the capital came in: it shows as an opening balance.
    day = books.paid_on
    r = page(auditor, "trial_balance", start=day.strftime("%d/%m/%Y"), end=day.isoformat())
    row = {x.account.code: x for x in r.context["rows"]}
    assert row["4111"].opening_credit == 1_000_000_000 and row["4111"].credit == 0
    before = day - timedelta(days=1)
    lent = account_balance(account="1283", as_of=before, fund_id=books.main.fund.pk)
    assert row["1283"].opening_debit == lent > 12_000_000  # both unions' loans
    assert row["1283"].credit > 0  # the repayment's principal, paid that day
    assert r.context["totals"]["debit"] == r.context["totals"]["credit"] == 1_500_000
    # A period before any posting is empty.
    r = page(auditor, "trial_balance", start="01/01/2020", end="31/03/2020")
    assert r.context["rows"] == [] and "Không có số liệu trong kỳ." in r.content.decode()


def test_trial_balance_exports_parse_back(auditor):
    start, end = quarter_of(today())
    html_totals = page(auditor, "trial_balance").context["totals"]
    r = page(auditor, "trial_balance", format="xlsx")
    name = f"can-doi-so-phat-sinh_{start.isoformat()}_{end.isoformat()}.xlsx"
    assert r["Content-Disposition"] == f'attachment; filename="{name}"'
    rows = xlsx_rows(r)
    assert rows[0][0].startswith("Bảng cân đối số phát sinh")
    assert rows[1][:2] == ["Số hiệu TK", "Tên tài khoản"]
    total = rows[-1]
    assert total[1] == "Tổng cộng"
    assert total[6] == total[7] == int(html_totals["closing_debit"])  # numbers, not text
    ws = load_workbook(io.BytesIO(r.content)).active
    assert ws.cell(row=ws.max_row, column=7).number_format == VND_NUMBER_FORMAT
    by_code = {row[0]: row for row in rows[2:]}
    assert by_code["4111"][1] == "Vốn ngân sách thành phố"

    r = page(auditor, "trial_balance", format="csv")
    assert r["Content-Disposition"].endswith('.csv"')
    rows = csv_rows(r)
    assert rows[0][0] == "Số hiệu TK" and rows[-1][1] == "Tổng cộng"
    assert rows[-1][6] == str(int(html_totals["closing_debit"]))
    assert "Vốn ngân sách thành phố" in {row[1] for row in rows}


# Statements ------------------------------------------------------------------------------------


def test_balance_sheet_balances_and_exports(auditor, books):
    r = page(auditor, "balance_sheet")
    assert r.context["balanced"]
    sheet = balance_sheet(as_of=quarter_of(today())[1], fund_id=books.main.fund.pk)
    assets = sum(x.amount for x in sheet["asset"])
    assert r.context["total_assets"] == assets == r.context["total_sources"]
    assert format_vnd(assets) in r.content.decode()
    rows = xlsx_rows(page(auditor, "balance_sheet", format="xlsx"))
    assert [None, "Cộng tài sản", int(assets)] in rows  # an empty cell is None in openpyxl
    rows = csv_rows(page(auditor, "balance_sheet", format="csv"))
    assert ["", "Cộng tài sản", str(int(assets))] in rows


def test_income_statement_and_exports(auditor, books):
    start, end = quarter_of(today())
    stmt = income_statement(start=start, end=end, fund_id=books.main.fund.pk)
    assert stmt["total_income"] > 0  # interest paid with the repayment
    r = page(auditor, "income_statement")
    assert r.context["stmt"]["surplus"] == stmt["surplus"]
    assert format_vnd(stmt["total_income"]) in r.content.decode()
    rows = csv_rows(page(auditor, "income_statement", format="csv"))
    assert ["", "Tổng thu nhập", str(int(stmt["total_income"]))] in rows
    rows = xlsx_rows(page(auditor, "income_statement", format="xlsx"))
    assert rows[-1] == [None, "Chênh lệch thu chi", int(stmt["surplus"])]


# General ledger and entries --------------------------------------------------------------------


def test_general_ledger_opening_closing_and_links_to_entries(auditor, books):
    r = page(auditor, "general_ledger", account="1283")
    gl = r.context["gl"]
    assert gl.opening == 0 and len(gl.lines) == 4  # two unions' disbursements and repayments
    assert gl.closing == gl.opening + gl.total_debit - gl.total_credit
    html = r.content.decode()
    entry = books.main.entry
    assert reverse("audit:entry_detail", args=[entry.pk]) in html
    assert "Giải ngân khoản vay" in html and format_vnd(12_000_000) in html
    assert books.other.entry.memo not in html
    # Opening balance when the period starts after the disbursement.
    day = books.paid_on
    r = page(auditor, "general_ledger", account="1283", start=day.isoformat(), end=day.isoformat())
    fund_id = books.main.fund.pk
    lent = account_balance(account="1283", as_of=day - timedelta(days=1), fund_id=fund_id)
    assert r.context["gl"].opening == lent > 0 and len(r.context["gl"].lines) == 1


def test_general_ledger_exports_and_unknown_account(auditor):
    rows = xlsx_rows(page(auditor, "general_ledger", account="1283", format="xlsx"))
    assert rows[1][0] == "Ngày hạch toán"
    assert rows[2][2] == "Số dư đầu kỳ" and rows[-1][2] == "Số dư cuối kỳ"
    assert isinstance(rows[3][0], datetime) and rows[3][4] == 12_000_000  # a date, a number
    assert rows[3][3].startswith("Giải ngân khoản vay ")  # the document, named
    rows = csv_rows(page(auditor, "general_ledger", account="1283", format="csv"))
    assert rows[-1][2] == "Số dư cuối kỳ" and rows[-2][2] == "Cộng phát sinh"
    assert int(rows[-1][6]) == int(rows[-2][4]) - int(rows[-2][5])  # opening is 0
    r = page(auditor, "general_ledger", account="9999")
    assert r.status_code == 200 and r.context["gl"] is None
    assert "9999" in r.content.decode()


def test_general_ledger_pages_carry_the_balance_and_exports_stream_the_whole_period(
    auditor, books, monkeypatch
):
    whole = page(auditor, "general_ledger", account="1283").context["gl"]
    assert len(whole.lines) == 4 and whole.pages == 1
    monkeypatch.setattr(audit_views, "GENERAL_LEDGER_PAGE_SIZE", 3)
    first = page(auditor, "general_ledger", account="1283")
    gl = first.context["gl"]
    assert (gl.page, gl.pages, gl.count, len(gl.lines)) == (1, 2, 4, 3)
    html = first.content.decode()
    assert 'id="carried-forward"' in html and 'id="brought-forward"' not in html
    assert "page=2" in html and "Trang 1/2" in html
    second = page(auditor, "general_ledger", account="1283", page="2")
    gl2 = second.context["gl"]
    # The balance at the page boundary is the unpaged figure, and so is every line after it.
    assert gl2.page_opening == whole.lines[2].balance == gl.page_closing
    assert [ln.balance for ln in gl.lines + gl2.lines] == [ln.balance for ln in whole.lines]
    assert (gl2.total_debit, gl2.closing) == (whole.total_debit, whole.closing)
    assert 'id="brought-forward"' in second.content.decode()
    assert format_vnd(gl2.page_opening) in second.content.decode()
    # A page past the last, or not a number, shows a page that exists.
    assert page(auditor, "general_ledger", account="1283", page="9").context["gl"].page == 2
    assert page(auditor, "general_ledger", account="1283", page="x").context["gl"].page == 1
    # The exports hold every line of the period, whatever the page size, and stream.
    r = page(auditor, "general_ledger", account="1283", format="csv")
    assert r.streaming
    rows = csv_rows(r)
    assert len(rows) == 1 + 1 + 4 + 2  # header, opening, the lines, totals and closing
    assert [int(x[6]) for x in rows[2:6]] == [int(ln.balance) for ln in whole.lines]
    assert int(rows[-2][4]) == int(whole.total_debit)
    r = page(auditor, "general_ledger", account="1283", format="xlsx", page="2")
    assert r.streaming and r["Content-Disposition"].startswith("attachment;")
    assert len(xlsx_rows(r)) == 1 + 1 + 1 + 4 + 2  # the title row too


def test_entry_page_shows_postings_dimensions_and_chain(auditor, books):
    entry = books.main.entry
    r = auditor.get(reverse("audit:entry_detail", args=[entry.pk]))
    html = r.content.decode()
    assert r.status_code == 200
    assert entry.memo in html and entry.idempotency_key in html
    assert books.main.officers.fund.username in html  # the poster (the disbursing officer)
    assert books.main.grassroots_union.name in html and books.main.superior_union.name in html
    assert f"loan:{books.main.loan.pk}" in html  # the sub-ledger
    assert format_vnd(12_000_000) in html
    link = entry.chain_link
    assert link.link_hash in html and link.entry_hash in html
    # The business document: the officers' loan page of the disbursed loan.
    assert r.context["document"] == {
        "label": "Giải ngân khoản vay",
        "id": str(books.main.loan.pk),
        "url": reverse("loans:loan_detail", args=[books.main.loan.pk]),
        "type": "loan_disbursement",
    }
    rows = csv_rows(auditor.get(reverse("audit:entry_detail", args=[entry.pk]), {"format": "csv"}))
    assert rows[0][0] == "Tài khoản" and {r[0] for r in rows[1:]} >= {"1283", "1121"}


def test_another_funds_entry_is_not_found(auditor, books):
    assert (
        auditor.get(reverse("audit:entry_detail", args=[books.other.entry.pk])).status_code == 404
    )
    assert auditor.get(reverse("audit:entry_detail", args=[10**9])).status_code == 404


def test_reversal_links_both_ways(auditor, books):
    rep = books.main.repayment
    repayment_reverse(
        repayment=rep,
        reason="Ghi nhầm",
        idempotency_key=new_key("rev"),
        actor=books.main.officers.fund,
    )
    rep.refresh_from_db()
    reversal = rep.reversal_entry
    html = auditor.get(reverse("audit:entry_detail", args=[reversal.pk])).content.decode()
    assert reverse("audit:entry_detail", args=[rep.journal_entry_id]) in html
    html = auditor.get(reverse("audit:entry_detail", args=[rep.journal_entry_id])).content.decode()
    assert 'id="reversed-by"' in html and f"#{reversal.pk}" in html


@pytest.mark.urls("reports.tests.web.urls_with_loan_page")
def test_documents_link_to_the_officers_loan_page_when_it_exists():
    ref = document_reference("loan_repayment", "42")
    assert ref["url"] == "/loans/42/" and ref["label"] == "Thu nợ khoản vay"
    assert document_reference("capital_contribution", "k1")["url"] is None
    assert document_reference("", "") is None


# Chain verification ----------------------------------------------------------------------------


def test_chain_page_shows_the_head_and_verifies_on_demand(auditor):
    r = page(auditor, "chain")
    html = r.content.decode()
    assert r.context["report"] is None and r.context["head_seq"] > 0
    assert r.context["head_hash"] in html
    r = page(auditor, "chain", run="1")
    assert r.context["report"].ok and all(c.ok for c in r.context["checks"])
    assert "Chuỗi toàn vẹn" in r.content.decode()
    rows = csv_rows(page(auditor, "chain", format="csv"))
    assert rows[1] == ["Chuỗi niêm phong sổ cái và đầu chuỗi đã ký", "khớp", ""]


def test_chain_page_reports_an_altered_entry(auditor, books):
    entry = books.main.entry
    tamper("UPDATE accounting_journalentry SET memo = %s WHERE id = %s", ["sửa lén", entry.pk])
    r = page(auditor, "chain", run="1")
    assert not r.context["report"].ok
    assert r.context["report"].first_broken_entry_id == entry.pk
    html = r.content.decode()
    assert "BỊ PHÁ VỠ" in html and "đã bị sửa sau khi niêm phong" in html


# Audit log -------------------------------------------------------------------------------------


def test_audit_log_filters_by_user_type_and_date(auditor, books):
    r = page(auditor, "audit_log")
    total = r.context["page"].paginator.count
    own = AuditLog.objects.filter(fund_id=books.main.fund.pk).count()
    assert total == own > 0
    maker = books.main.officers.grassroots
    r = page(auditor, "audit_log", actor=maker.pk)
    entries = [e for e, _ in r.context["entries"]]
    assert entries and {e.actor_id for e in entries} == {maker.pk}
    r = page(auditor, "audit_log", model="loans.loanapplication")
    assert {e.content_type.model for e, _ in r.context["entries"]} == {"loanapplication"}
    tomorrow = today() + timedelta(days=1)
    r = page(auditor, "audit_log", start=tomorrow.strftime("%d/%m/%Y"))
    assert r.context["page"].paginator.count == 0
    r = page(auditor, "audit_log", actor=books.other.officers.fund.pk)  # not a user of this fund
    assert "actor" in r.context["form"].errors


def test_audit_log_is_paginated_and_exports(auditor, books, monkeypatch):
    monkeypatch.setattr(audit_views, "AUDIT_LOG_PAGE_SIZE", 2)
    r = page(auditor, "audit_log", page="2")
    assert r.context["page"].number == 2 and len(r.context["entries"]) == 2
    assert 'rel="prev"' in r.content.decode()
    total = AuditLog.objects.filter(fund_id=books.main.fund.pk).count()
    rows = csv_rows(page(auditor, "audit_log", format="csv"))
    assert rows[0][:3] == ["Thời điểm", "Người thực hiện", "Thao tác"]
    assert len(rows) == total + 1
    rows = xlsx_rows(page(auditor, "audit_log", format="xlsx"))
    assert len(rows) == total + 2  # title and headers


# Who may open the pages ------------------------------------------------------------------------


def test_fund_officers_may_read_other_roles_may_not(client, books):
    url = reverse("audit:trial_balance")
    people = books.main.officers
    for user, status in (
        (people.fund, 200),
        (people.auditor, 200),
        (people.superior, 403),
        (people.grassroots, 403),
    ):
        client.force_login(user)
        assert client.get(url).status_code == status, user.username
    client.logout()
    assert client.get(url).status_code == 302


def test_nothing_is_posted_by_opening_the_pages(auditor):
    before = JournalEntry.objects.count()
    for name in ("trial_balance", "balance_sheet", "income_statement", "chain", "audit_log"):
        # The chain page's POST checks kept heads (an upload): it reads, never writes.
        assert auditor.post(reverse(f"audit:{name}")).status_code == (
            200 if name == "chain" else 405
        )
        page(auditor, name, run="1")
    assert JournalEntry.objects.count() == before
