"""Exports of the operational lists: the loans, the members, the overdue list. Each is opened
with openpyxl: amounts are numbers with the đồng format, dates are dates, the rows are those
of the page (its filters, its scope), and member text never runs as a formula."""

import io
from datetime import date, datetime, timedelta

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from loans.tests.factories import BorrowerFactory, today
from reports.exports import DATE_NUMBER_FORMAT, VND_NUMBER_FORMAT
from reports.web import lists

pytestmark = pytest.mark.django_db


def body(response) -> bytes:
    assert response.status_code == 200
    return b"".join(response.streaming_content)  # the exports stream


def sheet(response):
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(body(response))).active.iter_rows())
    return rows[1], rows[2:]  # headers, data (the first row is the title)


def values(cells):
    return [c.value for c in cells]


def test_the_loan_book_exports_real_numbers_with_the_page_filters(
    as_user, officers, loan, other_loan
):
    c = as_user(officers.fund)
    page = c.get(reverse("loans:loan_list"), {"q": "Hoa"}).content.decode()
    assert reverse("reports:loans_export") + "?q=Hoa" in page
    head, rows = sheet(c.get(reverse("reports:loans_export"), {"q": "Hoa"}))
    assert values(head)[:2] == ["Khoản vay", "Thành viên"]
    assert len(rows) == 1
    row = rows[0]
    assert row[0].value == loan.pk and row[1].value == "Nguyễn Thị Hoa"
    assert row[2].value == "LB-001"
    assert isinstance(row[4].value, datetime) and row[4].value.date() == loan.disbursed_on
    assert row[4].number_format == DATE_NUMBER_FORMAT
    assert row[5].value == 12_000_000 and row[5].number_format == VND_NUMBER_FORMAT
    assert isinstance(row[6].value, int) and row[6].number_format == VND_NUMBER_FORMAT
    assert row[9].value == "Đang vay"
    # Without a filter both loans; a superior officer of HBT only its own.
    _h, rows = sheet(c.get(reverse("reports:loans_export")))
    assert {r[0].value for r in rows} == {loan.pk, other_loan.pk}
    _h, rows = sheet(as_user(officers.superior_hbt).get(reverse("reports:loans_export")))
    assert [r[0].value for r in rows] == [other_loan.pk]
    _h, rows = sheet(as_user(officers.other_fund).get(reverse("reports:loans_export")))
    assert rows == []


def test_the_loan_book_export_in_csv(as_user, officers, loan):
    r = as_user(officers.fund).get(reverse("reports:loans_export"), {"format": "csv"})
    text = body(r).decode("utf-8-sig")
    assert f"{loan.pk},Nguyễn Thị Hoa,LB-001," in text and ",12000000," in text


def test_members_export_their_dates_and_a_formula_stays_text(as_user, officers, org):
    BorrowerFactory(
        grassroots_union=org.lb1, full_name="=HYPERLINK(1)", date_of_birth=date(1980, 5, 17)
    )
    BorrowerFactory(grassroots_union=org.hbt1, full_name="Trần Văn Bình")
    c = as_user(officers.grassroots)
    assert (
        reverse("reports:borrowers_export")
        in c.get(reverse("loans:borrower_list")).content.decode()
    )
    head, rows = sheet(c.get(reverse("reports:borrowers_export")))
    assert values(head) == [
        "Họ và tên",
        "CCCD",
        "Ngày sinh",
        "Hoàn cảnh",
        "Mã CĐCS",
        "Công đoàn cơ sở",
    ]
    assert len(rows) == 1  # HBT-001's member is not LB-001's officer's
    name, _cccd, born, *_rest = rows[0]
    assert name.value == "'=HYPERLINK(1)" and name.data_type == "s"
    assert born.value == datetime(1980, 5, 17) and born.number_format == DATE_NUMBER_FORMAT
    _h, rows = sheet(as_user(officers.fund).get(reverse("reports:borrowers_export"), {"q": "Bình"}))
    assert [r[0].value for r in rows] == ["Trần Văn Bình"]
    assert as_user(officers.auditor).get(reverse("reports:borrowers_export")).status_code == 403


def test_the_overdue_list_exports_amounts_days_and_dates(as_user, officers, org, loan, other_loan):
    from loans.servicing.close_of_business import close_of_business_catch_up

    # The list is the book as the close of business classified it (through yesterday).
    as_of = today() - timedelta(days=1)
    close_of_business_catch_up(fund_id=org.fund.pk, through_date=as_of)
    c = as_user(officers.fund)
    assert reverse("reports:overdue_export") in c.get(reverse("loans:overdue")).content.decode()
    head, rows = sheet(c.get(reverse("reports:overdue_export")))
    assert values(head)[-1] == "Số tiền quá hạn"
    assert [r[1].value for r in rows] == [loan.pk]  # other_loan is 10 days old: nothing late
    member, number, code, _union, since, days, group, amount = rows[0]
    assert member.value == "Nguyễn Thị Hoa" and code.value == "LB-001"
    first = loan.installments.order_by("due_date").first()
    assert since.value.date() == first.due_date and since.number_format == DATE_NUMBER_FORMAT
    assert days.value == (as_of - first.due_date).days
    assert isinstance(group.value, int)
    assert isinstance(amount.value, int) and amount.value > 0
    assert amount.number_format == VND_NUMBER_FORMAT
    _h, rows = sheet(as_user(officers.superior_hbt).get(reverse("reports:overdue_export")))
    assert rows == []


def test_an_export_is_bounded_and_says_so(as_user, officers, loan, other_loan, monkeypatch):
    monkeypatch.setattr(lists, "EXPORT_MAX_ROWS", 1)
    r = as_user(officers.fund).get(reverse("reports:loans_export"))
    rows = list(load_workbook(io.BytesIO(body(r))).active.iter_rows(values_only=True))
    assert "1 dòng đầu" in rows[0][0]
    assert len(rows) == 3 and rows[2][0] == max(loan.pk, other_loan.pk)
