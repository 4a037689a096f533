"""A union's collection history on its collection page: per month and member, what fell due,
what the union remitted and what the bank confirmed, over a chosen range of months; its XLSX."""

import io
from datetime import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from fund.scoping import scope_for
from loans.models import BankStatement, BankStatementLine
from loans.servicing.collection_sheets import union_member_months
from loans.servicing.repayments import repayment_batch_post
from loans.tests.factories import BorrowerFactory, new_key, today
from loans.tests.helpers import disbursed_loan
from reports.exports import DATE_NUMBER_FORMAT, VND_NUMBER_FORMAT
from tests.web.helpers import in_english, pdf_text

pytestmark = pytest.mark.django_db


def month_of(day):
    return day.year, day.month


@pytest.fixture
def history(org, loan, product, officers):
    """Hoa's loan (45 days old) and Út's (40 days old) of LB-001; a remittance today of
    1.000.000 for Hoa, confirmed by the bank, and one of 700.000 for Út, not yet confirmed."""
    member = BorrowerFactory(grassroots_union=org.lb1, full_name="Trần Thị Út")
    second = disbursed_loan(borrower=member, product=product, officers=officers, days_ago=40)
    confirmed = repayment_batch_post(
        grassroots_union=org.lb1,
        receipt_number="UNC-1",
        paid_on=today(),
        lines=[(loan, Decimal(1_000_000))],
        idempotency_key=new_key("b"),
        actor=officers.fund,
    )
    repayment_batch_post(
        grassroots_union=org.lb1,
        receipt_number="UNC-2",
        paid_on=today(),
        lines=[(second, Decimal(700_000))],
        idempotency_key=new_key("b"),
        actor=officers.fund,
    )
    statement = BankStatement.objects.create(fund=org.fund, file_sha256="0" * 64)
    BankStatementLine.objects.create(
        statement=statement,
        fund=org.fund,
        row_number=1,
        booked_on=today(),
        amount=Decimal(1_000_000),
        bank_reference="FT1",
        batch=confirmed,
    )
    return loan, second


def test_per_month_and_member_due_remitted_confirmed(officers, org, history):
    first, second = history
    this = month_of(today())
    rows = union_member_months(
        scope=scope_for(officers.grassroots), grassroots_union=org.lb1, first=this, last=this
    )
    by_loan = {r.loan_id: r for r in rows}
    assert (by_loan[first.pk].remitted, by_loan[first.pk].confirmed) == (1_000_000, 1_000_000)
    assert (by_loan[second.pk].remitted, by_loan[second.pk].confirmed) == (700_000, 0)
    assert by_loan[second.pk].borrower == "Trần Thị Út"
    # What fell due, month by month, adds up to the installments due in those months.
    months = sorted({(i.due_date.year, i.due_date.month) for i in first.installments.all()})
    span = union_member_months(
        scope=scope_for(officers.fund), grassroots_union=org.lb1, first=months[0], last=months[2]
    )
    due = sum(r.due for r in span if r.loan_id == first.pk)
    expected = sum(
        i.principal_due.amount + i.interest_due.amount + i.penalty_due.amount + i.savings_due.amount
        for i in first.installments.filter(schedule_version=first.schedule_version)
        if (i.due_date.year, i.due_date.month) <= months[2]
    )
    assert due == expected and due > 0
    # Another superior union's officer sees none of it.
    assert not union_member_months(
        scope=scope_for(officers.superior_hbt), grassroots_union=org.lb1, first=this, last=this
    )


def test_the_page_shows_the_range_and_exports_it(as_user, officers, org, history):
    first, second = history
    c = as_user(officers.grassroots)
    this = f"{today():%Y-%m}"
    page = c.get(reverse("loans:collections"), {"first": this, "last": this}).content.decode()
    table = page.split('data-testid="collection-history"', 1)[1].split("</table>", 1)[0]
    assert "Trần Thị Út" in table and "700.000" in table and "1.000.000" in table
    export = reverse("reports:collection_history_export") + f"?first={this}&amp;last={this}"
    assert export in page
    # A wrong range: said by the field, the default months shown.
    bad = c.get(reverse("loans:collections"), {"first": this, "last": "2000-01"})
    assert bad.status_code == 200 and 'data-field="first"' in bad.content.decode()
    r = c.get(reverse("reports:collection_history_export"), {"first": this, "last": this})
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(b"".join(r.streaming_content))).active
    rows = list(ws.iter_rows())[2:]
    line = next(row for row in rows if row[2].value == second.pk)
    month, name, _loan, _due, remitted, confirmed, in_transit = line
    assert month.value == datetime(today().year, today().month, 1)
    assert month.number_format == DATE_NUMBER_FORMAT and name.value == "Trần Thị Út"
    assert remitted.value == 700_000 and remitted.number_format == VND_NUMBER_FORMAT
    assert confirmed.value == 0 and in_transit.value == 700_000
    # The fund asks by union; another fund's officer gets 404, an auditor 403.
    url = reverse("reports:collection_history_export")
    assert as_user(officers.fund).get(url, {"union": org.lb1.pk}).status_code == 200
    assert as_user(officers.other_fund).get(url, {"union": org.lb1.pk}).status_code == 404
    assert as_user(officers.auditor).get(url, {"union": org.lb1.pk}).status_code == 403


def test_the_sheet_pdf_prints_the_history_per_month_and_member(as_user, officers, org, history):
    first, second = history
    c = as_user(officers.grassroots)
    this = f"{today():%Y-%m}"
    page = c.get(reverse("loans:collections"), {"first": this, "last": this}).content.decode()
    # The page's PDF link carries the range the page shows.
    assert f"first={this}&amp;last={this}" in page.split('id="sheet-pdf"')[0].rsplit("<a", 1)[1]
    r = c.get(reverse("collection_sheet_pdf"), {"first": this, "last": this})
    assert r.status_code == 200
    text = pdf_text(r.content)
    history_part = text.split("LỊCH SỬ THU NỘP THEO THÁNG VÀ THÀNH VIÊN", 1)[1]
    assert "Ngân hàng đã xác nhận" in history_part
    month = f"{today():%m/%Y}"
    lines = {line for line in history_part.splitlines() if line.startswith(month)}
    # One line per member of the month: due, remitted, confirmed (the bank saw Hoa's only).
    ut = next(line for line in lines if "Trần Thị Út" in line)
    assert ut.split()[-2:] == ["700.000", "0"], ut
    hoa = next(line for line in lines if first.borrower.full_name in line)
    assert hoa.split()[-2:] == ["1.000.000", "1.000.000"], hoa
    # The fund officer's PDF of the union: the same lines; another superior union's: 404.
    r = as_user(officers.fund).get(
        reverse("collection_sheet_pdf"), {"union": org.lb1.pk, "first": this, "last": this}
    )
    assert "Trần Thị Út" in pdf_text(r.content).split("LỊCH SỬ THU NỘP", 1)[1]
    r = as_user(officers.superior_hbt).get(reverse("collection_sheet_pdf"), {"union": org.lb1.pk})
    assert r.status_code == 404


def test_the_sheet_pdf_follows_the_readers_language(as_user, officers, org, history):
    first, second = history
    this = f"{today():%Y-%m}"
    c = in_english(as_user(officers.grassroots))
    text = pdf_text(c.get(reverse("collection_sheet_pdf"), {"first": this, "last": this}).content)
    assert "COLLECTION SHEET FOR" in text and "Due by the month's end" in text
    history_part = text.split("COLLECTION HISTORY BY MONTH AND MEMBER", 1)[1]
    assert "Confirmed by the bank" in history_part and "Trần Thị Út" in history_part
    assert "LỊCH SỬ THU NỘP" not in text and "Ký nhận" not in text and "Trang " not in text


def test_the_export_takes_the_pages_range_for_the_sheets_month(as_user, officers, org, history):
    """Without ``first``/``last``, the page, its PDF and its XLSX show the same months: the
    three up to the sheet's month (``?month=``), not up to today."""
    c = as_user(officers.grassroots)
    y, m = month_of(today())
    y, m = (y, m - 4) if m > 4 else (y - 1, m + 8)  # four months back
    sheet = f"{y:04d}-{m:02d}"
    first = f"{y:04d}-{m - 2:02d}" if m > 2 else f"{y - 1:04d}-{m + 10:02d}"
    page = c.get(reverse("loans:collections"), {"month": sheet}).content.decode()
    assert f'name="first" value="{first}"' in page and f'name="last" value="{sheet}"' in page
    r = c.get(reverse("reports:collection_history_export"), {"month": sheet, "format": "csv"})
    assert r.status_code == 200
    assert f"_{first}_{sheet}.csv" in r["Content-Disposition"], r["Content-Disposition"]
    # Nothing asked: the months up to the business day's, as the page.
    this = f"{today():%Y-%m}"
    r = c.get(reverse("reports:collection_history_export"), {"format": "csv"})
    assert f"_{this}.csv" in r["Content-Disposition"]
