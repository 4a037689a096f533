"""Each role's main pages in English show no Vietnamese of their own: everything left with a
Vietnamese letter on the page is data (names of people, unions, the fund, products)."""

import re
from html import unescape

import pytest
from django.urls import reverse

from accounting.models import JournalEntry
from fund.models import Fund, GrassrootsUnion, SuperiorUnion
from loans.models import ApplicationEvent, Borrower, LoanApplication, LoanProduct
from tests.web.helpers import in_english
from tests.web.test_audit_english import VIETNAMESE

pytestmark = pytest.mark.django_db


def _visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"<option\b[^>]*>.*?</option>", " ", html, flags=re.S)  # data lists
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _data_names() -> list[str]:
    names = [
        *Fund.objects.values_list("name", flat=True),
        *Fund.objects.values_list("federation_name", flat=True),
        *SuperiorUnion.objects.values_list("name", flat=True),
        *GrassrootsUnion.objects.values_list("name", flat=True),
        *Borrower.objects.values_list("full_name", flat=True),
        *LoanProduct.objects.values_list("name", flat=True),
        # What people wrote (a purpose, a group's name, a note) and the ledger's descriptions
        # are data, kept as written.
        *LoanApplication.objects.values_list("purpose", flat=True),
        *LoanApplication.objects.values_list("group_name", flat=True),
        *ApplicationEvent.objects.values_list("note", flat=True),
        *JournalEntry.objects.values_list("memo", flat=True),
    ]
    from django.contrib.auth import get_user_model

    from fund.people import person_name

    names += [person_name(u) for u in get_user_model().objects.all()]
    return sorted({n for n in names if n}, key=len, reverse=True)


def _vietnamese_left(text: str) -> list[str]:
    for name in _data_names():
        text = text.replace(name, " ")
    return sorted({w for w in text.split() if VIETNAMESE.search(w)})


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
        left = _vietnamese_left(_visible_text(r.content.decode()))
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
