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

from accounting.formatting import format_date_vi
from fund.models import Role
from fund.tests.factories import OfficerFactory
from loans.servicing.close_of_business import close_of_business_catch_up
from loans.tests.factories import today
from tests.web.helpers import in_english

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
