"""Each role's inbox: what waits for the officer, counted through their scope (another union's
rows are never counted), linked to its list; the same counts in the navigation, cached; the
inbox is the start page of every role that acts."""

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from fund.models import CapitalSource
from fund.services import capital_source_create
from loans.origination.applications import application_review
from loans.tests.factories import BorrowerFactory, application_to, new_key
from tests.web.helpers import bank_statement_line, capital_move_waiting, reschedule_requested

pytestmark = pytest.mark.django_db

INBOX = reverse("loans:inbox")


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def counts(client) -> dict[str, int]:
    body = client.get(INBOX).content.decode()
    return {
        key: int(n)
        for key, n in re.findall(
            r'data-testid="inbox-([a-z_]+)"><a href="[^"]*">[^<]*</a><span class="count">(\d+)',
            body,
        )
    }


def _app(status, union, *, officers, product, name):
    member = BorrowerFactory(grassroots_union=union, full_name=name)
    lb = union.code.startswith("LB")
    maker = officers.grassroots if union.code == "LB-001" else officers.grassroots_lb2
    if not lb:
        maker = None
    if status == "returned":
        app = application_to(
            "submitted", borrower=member, product=product, maker=maker, approver=None
        )
        return application_review(
            application=app,
            decision="return",
            note="Thiếu giấy xác nhận hộ nghèo",
            idempotency_key=new_key("return"),
            actor=officers.superior,
        )
    return application_to(
        status,
        borrower=member,
        product=product,
        maker=maker,
        reviewer=(officers.superior if lb else officers.superior_hbt),
        approver=officers.checker,
    )


@pytest.fixture
def waiting(org, officers, product, loan, capital):
    """Some of everything: in LB-001 (the grassroots officer's), LB-002 and HBT-001."""
    a = dict(officers=officers, product=product)
    _app("submitted", org.lb1, name="Lê Thị Một", **a)
    _app("submitted", org.lb2, name="Lê Thị Hai", **a)
    _app("submitted", org.hbt1, name="Lê Thị Ba", **a)
    _app("reviewed", org.lb1, name="Lê Thị Bốn", **a)
    _app("approved", org.hbt1, name="Lê Thị Năm", **a)
    _app("returned", org.lb1, name="Lê Thị Sáu", **a)
    _app("returned", org.lb2, name="Lê Thị Bảy", **a)
    reschedule_requested(loan, officers.grassroots)
    source = capital_source_create(
        fund=org.fund, code="NS", name="Ngân sách", kind=CapitalSource.Kind.CITY_BUDGET
    )
    capital_move_waiting(org.fund, source, officers.checker)
    bank_statement_line(org.fund, 1500000, "Nop tien khong ro")


def test_each_role_counts_what_waits_for_it_in_its_scope(as_user, officers, waiting):
    fund = counts(as_user(officers.fund))
    assert fund == {
        "approvals": 1,
        # approved by the checker: this officer may pay it out
        "disbursements": 1,
        "change_requests": 1,
        "capital_requests": 1,
        "receipts_unmatched": 1,
        "remittances_pending": 0,
        "reminders_failed": 0,
    }
    checker = counts(as_user(officers.checker))
    # Four eyes: never one's own capital move; their own approval only when the fund allows.
    assert checker["capital_requests"] == 0
    assert checker["change_requests"] == 1
    assert counts(as_user(officers.superior)) == {"reviews": 2, "remittances_pending": 0}
    assert counts(as_user(officers.superior_hbt)) == {"reviews": 1, "remittances_pending": 0}
    assert counts(as_user(officers.grassroots)) == {"returned": 1}
    assert counts(as_user(officers.grassroots_lb2)) == {"returned": 1}
    # Another fund's officer sees nothing of this fund.
    other = counts(as_user(officers.other_fund))
    assert set(other.values()) == {0}


def test_the_inbox_links_to_each_list(as_user, officers, waiting):
    body = as_user(officers.grassroots).get(INBOX).content.decode()
    url = reverse("loans:application_list") + "?status=returned"
    assert f'<a href="{url}">' in body
    listed = as_user(officers.grassroots).get(url).content.decode()
    assert "Lê Thị Sáu" in listed and "Lê Thị Bảy" not in listed
    body = as_user(officers.fund).get(INBOX).content.decode()
    for name in ("loans:approvals", "loans:disbursements", "fundweb:capital_requests"):
        assert f'<a href="{reverse(name)}">' in body


def test_the_navigation_shows_the_counts_and_caches_them(as_user, officers, waiting):
    c = as_user(officers.superior)
    body = c.get(reverse("loans:borrower_list")).content.decode()
    nav = body[body.index('id="site-nav"') :]
    assert re.search(r'href="/loans/reviews/"[^>]* data-count="2">', nav)
    assert re.search(r'href="/loans/inbox/"[^>]* data-count="2">', nav)
    # The next pages read the counts from the cache: no count query of the inbox's tables.
    with CaptureQueriesContext(connection) as ctx:
        assert c.get(reverse("loans:borrower_list")).status_code == 200
    assert not [q for q in ctx.captured_queries if "loans_loanapplication" in q["sql"]]


def test_the_inbox_is_the_start_page_and_its_queries_are_bounded(as_user, officers, waiting):
    for user in (officers.fund, officers.superior, officers.grassroots):
        r = as_user(user).get("/")
        assert r.status_code == 302 and r["Location"] == INBOX
    assert as_user(officers.auditor).get(INBOX).status_code == 403
    c = as_user(officers.fund)
    c.get(INBOX)
    with CaptureQueriesContext(connection) as ctx:
        assert c.get(INBOX).status_code == 200
    # Session, user with profile, one count per item (7), the fund's receipt days: a fixed
    # number whatever the size of the book.
    assert len(ctx.captured_queries) <= 12, [q["sql"] for q in ctx.captured_queries]


def test_nothing_waits_on_a_new_fund(as_user, officers):
    assert counts(as_user(officers.fund)) == {
        "approvals": 0,
        "disbursements": 0,
        "change_requests": 0,
        "capital_requests": 0,
        "receipts_unmatched": 0,
        "remittances_pending": 0,
        "reminders_failed": 0,
    }
