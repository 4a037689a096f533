"""Each role's main pages in English show no Vietnamese of their own: everything left with a
Vietnamese letter on the page is data (names of people, unions, the fund, products)."""

import pytest
from django.urls import reverse

from tests.web.helpers import in_english, vietnamese_left, visible_text

pytestmark = pytest.mark.django_db


PAGES = {
    "fund": [
        ("loans:dashboard", ()),
        ("loans:loan_list", ()),
        ("loans:loan_detail", ("loan",)),
        ("loans:application_detail", ("application",)),
        ("loans:reminder_log", ()),
        ("fundweb:plans", ()),
        ("fundweb:year_closes", ()),
    ],
    "superior": [
        ("loans:unions", ()),
        ("loans:borrower_list", ()),
        ("fundweb:officers", ()),
        ("fundweb:officer_new", ()),
        ("fundweb:officer", ("grassroots_officer",)),
    ],
    "auditor": [("fundweb:officers", ()), ("fundweb:year_closes", ())],
    "grassroots": [("loans:collections", ()), ("loans:overdue", ())],
}


@pytest.mark.parametrize("role", sorted(PAGES))
def test_each_roles_pages_in_english_have_no_vietnamese_of_their_own(as_user, officers, loan, role):
    c = in_english(as_user(getattr(officers, role)))
    found = {}
    for url_name, args in PAGES[role]:
        values = {
            "loan": loan.pk,
            "application": loan.application_id,
            "grassroots_officer": officers.grassroots.officer.pk,
        }
        url = reverse(url_name, args=[values[a] for a in args])
        r = c.get(url)
        assert r.status_code == 200, url
        left = vietnamese_left(visible_text(r.content.decode()))
        if left:
            found[url] = left
    assert not found, "\n".join(f"{u}: {w}" for u, w in found.items())


def test_a_loan_and_an_application_are_titled_in_the_singular(as_user, officers, loan):
    c = in_english(as_user(officers.fund))
    body = c.get(reverse("loans:loan_detail", args=[loan.pk])).content.decode()
    assert f"<title>Loan #{loan.pk} ·" in body and "Loans #" not in body
    body = c.get(reverse("loans:application_detail", args=[loan.application_id])).content.decode()
    assert f"Loan application #{loan.application_id}" in body


def test_dashboard_says_what_each_plan_share_measures_and_its_date(as_user, officers, loan):
    body = as_user(officers.fund).get(reverse("loans:dashboard")).content.decode()
    assert "kế hoạch quý" in body and "kế hoạch năm" in body and "cả năm" not in body
    assert 'data-testid="as-of"' in body and "Số liệu đến ngày" in body
