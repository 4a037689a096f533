"""The fund's business date: the arrears on every page and in the API are those of the last
close of business, and the pages say which date that is. The overdue list, the loan list's
overdue filter, the superior union's unions and the API count the same loans."""

import json
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounting.formatting import format_date_vi, format_vnd
from fund.models import Role
from fund.tests.factories import OfficerFactory
from loans.servicing.close_of_business import close_of_business_catch_up
from loans.servicing.repayments import repayment_batch_post
from loans.tests.factories import new_key, today
from tests.web.helpers import in_english, pdf_text

pytestmark = pytest.mark.django_db


def _api_overdue_count(user) -> int:
    c = APIClient()
    _, token = AuthToken.objects.create(user)
    c.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    r = c.get("/api/v1/loans/", {"overdue": "true"})
    assert r.status_code == 200, r.content
    return json.loads(r.content)["count"]


def _page_overdue_count(client) -> int:
    body = client.get(reverse("loans:overdue")).content.decode()
    return body.count('<tr class="overdue">')


def _loan_list_overdue_count(client) -> int:
    body = client.get(reverse("loans:loan_list"), {"overdue": "on"}).content.decode()
    return body.count('<tr class="overdue">')


def test_page_and_api_count_the_same_loans_as_of_the_business_date(
    as_user, officers, org, loan, other_loan
):
    fund = as_user(officers.fund)
    # Never closed: nothing is classified yet, on the page as in the API, and the page says so
    # (counting late installments against today's date, the page showed the loan as overdue).
    body = fund.get(reverse("loans:overdue")).content.decode()
    assert 'data-testid="figures-as-of"' in body and "Chưa khóa sổ cuối ngày" in body
    assert _page_overdue_count(fund) == _api_overdue_count(officers.fund) == 0

    # Closed through yesterday: the first installment of `loan` (disbursed 45 days ago) is
    # late, `other_loan`'s (10 days ago) not yet due.
    yesterday = today() - timedelta(days=1)
    close_of_business_catch_up(fund_id=org.fund.pk, through_date=yesterday)
    loan.refresh_from_db()
    assert loan.days_past_due > 0
    for user in (officers.fund, officers.superior, officers.grassroots):
        client = as_user(user)
        page = _page_overdue_count(client)
        assert page == _api_overdue_count(user) == 1, user
        body = client.get(reverse("loans:overdue")).content.decode()
        assert f"Số liệu đến ngày {format_date_vi(yesterday)}" in body
        assert f'<td class="num">{loan.days_past_due}</td>' in body
    assert _loan_list_overdue_count(fund) == _api_overdue_count(officers.fund) == 1
    # Another superior union's officer sees none of it.
    hbt = OfficerFactory(fund=org.fund, role=Role.SUPERIOR_OFFICER, superior_union=org.hbt).user
    assert _page_overdue_count(as_user(hbt)) == 0
    assert _api_overdue_count(hbt) == 0


def test_the_api_says_the_business_date(officers, org, loan):
    c = APIClient()
    _, token = AuthToken.objects.create(officers.grassroots)
    c.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert json.loads(c.get("/api/v1/business-date/").content) == {"business_date": None}
    yesterday = today() - timedelta(days=1)
    close_of_business_catch_up(fund_id=org.fund.pk, through_date=yesterday)
    body = json.loads(c.get("/api/v1/business-date/").content)
    assert body == {"business_date": yesterday.isoformat()}
    # Another fund's officer reads their own fund's date (never closed).
    c.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(officers.other_fund)[1]}")
    assert json.loads(c.get("/api/v1/business-date/").content) == {"business_date": None}


def test_dashboard_and_unions_say_the_business_date(as_user, officers, org, loan):
    yesterday = today() - timedelta(days=1)
    close_of_business_catch_up(fund_id=org.fund.pk, through_date=yesterday)
    shown = f"Số liệu đến ngày {format_date_vi(yesterday)}"
    assert shown in as_user(officers.fund).get(reverse("loans:dashboard")).content.decode()
    body = as_user(officers.superior).get(reverse("loans:unions")).content.decode()
    assert shown in body
    # The union's row counts its overdue loan, as the API does for that officer.
    assert re.search(r"LB-001.*?</tr>", body, re.S)
    assert _api_overdue_count(officers.superior) == 1
    # A page without arrears figures does not carry the line.
    body = as_user(officers.fund).get(reverse("loans:borrower_list")).content.decode()
    assert 'data-testid="figures-as-of"' not in body


def test_the_line_is_in_english_too(as_user, officers, org, loan):
    yesterday = today() - timedelta(days=1)
    close_of_business_catch_up(fund_id=org.fund.pk, through_date=yesterday)
    c = in_english(as_user(officers.fund))
    body = c.get(reverse("loans:overdue")).content.decode()
    assert f"Figures as of {format_date_vi(yesterday)}" in body


def test_the_loan_page_counts_arrears_as_of_the_business_date(as_user, officers, org, loan):
    """The loan's own page says what the overdue list says: with the business date before its
    first due date, nothing is late yet, although that date has passed today; once the close
    of business has passed it, the days past due are the business date's."""
    first_due = loan.installments.order_by("due_date").first().due_date
    assert first_due < today()
    url = reverse("loans:loan_detail", args=[loan.pk])
    c = as_user(officers.fund)
    body = c.get(url).content.decode()
    assert "Chưa khóa sổ cuối ngày" in body and 'data-testid="arrears"' not in body

    behind = first_due - timedelta(days=1)
    close_of_business_catch_up(fund_id=org.fund.pk, through_date=behind)
    body = c.get(url).content.decode()
    assert f"Số liệu đến ngày {format_date_vi(behind)}" in body
    assert 'data-testid="arrears"' not in body and '<tr class="overdue">' not in body

    on = first_due + timedelta(days=3)
    close_of_business_catch_up(fund_id=org.fund.pk, through_date=on)
    loan.refresh_from_db()
    assert loan.days_past_due == 3
    body = c.get(url).content.decode()
    assert f"Số liệu đến ngày {format_date_vi(on)}" in body
    assert "Quá hạn 3 ngày" in body  # the business date's, not today's
    assert body.count('<tr class="overdue">') == 1
    # The same loan on the overdue list, with the same days.
    assert (
        f'<td class="num">{loan.days_past_due}</td>'
        in c.get(reverse("loans:overdue")).content.decode()
    )


def _sheet_row(body: str) -> list[str]:
    """The cells of the collection sheet's first row: due by the month's end, overdue, total."""
    row = body.split('data-testid="collection-sheet"', 1)[1].split('<tr data-row="1"', 1)[1]
    row = row.split("</tr>", 1)[0]
    return re.findall(r'<td class="num col-detail">([^<]*)</td>', row)


def test_the_collection_sheet_is_overdue_as_of_the_business_date(as_user, officers, org, loan):
    """The sheet's overdue column is what was late on the business date, not today: with the
    business date before the first due date (already past today), that installment is still
    due; once the close of business has passed it, it is overdue. The page and the PDF say the
    date."""
    from loans.servicing.collection_sheets import installment_owed

    first = loan.installments.order_by("due_date").first()
    assert first.due_date < today()
    month = {"month": f"{first.due_date:%Y-%m}"}
    c = as_user(officers.grassroots)
    behind = first.due_date - timedelta(days=1)
    close_of_business_catch_up(fund_id=org.fund.pk, through_date=behind)
    body = c.get(reverse("loans:collections"), month).content.decode()
    assert f"Số liệu đến ngày {format_date_vi(behind)}" in body
    due, overdue, total = _sheet_row(body)
    assert overdue == "0" and due == total != "0"
    pdf = c.get(reverse("collection_sheet_pdf"), month)
    assert f"Quá hạn tính đến ngày {format_date_vi(behind)}" in pdf_text(pdf.content)

    on = first.due_date + timedelta(days=2)
    close_of_business_catch_up(fund_id=org.fund.pk, through_date=on)
    first.refresh_from_db()
    body = c.get(reverse("loans:collections"), month).content.decode()
    due, overdue, total = _sheet_row(body)
    assert overdue == format_vnd(installment_owed(first), symbol=False) != "0"
    assert f"Quá hạn tính đến ngày {format_date_vi(on)}" in pdf_text(
        c.get(reverse("collection_sheet_pdf"), month).content
    )


def test_remittances_wait_to_the_business_date(as_user, officers, org, loan):
    """A remittance paid 7 days ago waits 7 days today but fewer on a business date behind it:
    the list counts to the business date and lists it only once the fund's days have passed
    by that date."""
    paid_on = today() - timedelta(days=7)
    repayment_batch_post(
        grassroots_union=org.lb1,
        receipt_number="UNC-BD",
        paid_on=paid_on,
        lines=[(loan, 100_000)],
        idempotency_key=new_key("remit"),
    )
    days = org.fund.remittance_receipt_days
    url = reverse("loans:remittances_pending")
    c = as_user(officers.fund)
    # Before any close of business: counted to today.
    assert "UNC-BD" in c.get(url).content.decode()
    close_of_business_catch_up(fund_id=org.fund.pk, through_date=paid_on + timedelta(days=days - 1))
    body = c.get(url).content.decode()
    assert "UNC-BD" not in body
    assert f"Số liệu đến ngày {format_date_vi(paid_on + timedelta(days=days - 1))}" in body
    inbox = c.get(reverse("loans:inbox")).content.decode()
    close_of_business_catch_up(fund_id=org.fund.pk, through_date=paid_on + timedelta(days=days))
    body = c.get(url).content.decode()
    row = body.split("UNC-BD", 1)[1].split("</tr>", 1)[0]
    assert f'<td class="num">{days}</td>' in row  # not the 7 days to today
    assert inbox != c.get(reverse("loans:inbox")).content.decode()  # its count follows


def test_the_par_page_defaults_to_the_business_date(as_user, officers, org, loan):
    """With several closed dates, the PAR page shows the business date (the latest closed one,
    even when behind today) unless another closed date is asked for."""
    from loans.servicing.selectors import business_date

    bd = today() - timedelta(days=5)
    close_of_business_catch_up(fund_id=org.fund.pk, through_date=bd)
    close_of_business_catch_up(fund_id=org.fund.pk, through_date=bd)  # nothing more to run
    assert business_date(fund_id=org.fund.pk) == bd
    c = as_user(officers.fund)
    url = reverse("reports:portfolio_at_risk")
    body = c.get(url).content.decode()
    assert f'<option value="{bd:%Y-%m-%d}" selected>' in body
    assert f"Số liệu tại cuối ngày {format_date_vi(bd)}" in body
    # A date not closed (today): the business date still.
    body = c.get(url, {"as_of": today().isoformat()}).content.decode()
    assert f'<option value="{bd:%Y-%m-%d}" selected>' in body
