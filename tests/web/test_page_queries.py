"""The pages of the web benchmark (bench/web.py) run a fixed number of queries: more loans, more
repayments, more ledger lines add none (no N+1, nothing per row of the book)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from loans.models import CloseOfBusinessRun
from loans.servicing.portfolio import portfolio_snapshot_write
from loans.servicing.repayments import repayment_post
from loans.tests.factories import BorrowerFactory, new_key, today
from loans.tests.helpers import disbursed_loan

pytestmark = pytest.mark.django_db

# Upper bounds with room for the session (read from the database here: no Redis cache in the
# tests) and the user with their officer profile and unit (one query); the loan page also reads
# its actions and its record of decisions (a few small queries by key), its journal (one), its
# documents (one) and the fund's business date its arrears are those of (one).
# The inbox: one count per queue of the role (fund 7, superior union 2, grassroots union 1),
# the business date and the fund's receipt days. A union's page: the quarterly report's grouped
# reads (a grassroots union's: the same narrowed to it), its loan book's totals and page, arrears
# and PAR. The PAR page: the closed dates, the page's units, their rows and the scope's total.
MAX_QUERIES = {
    "dashboard": 12,
    "loan_list": 8,
    "loan_page": 12,
    "trial_balance": 10,
    "inbox_fund": 12,
    "inbox_superior": 8,
    "inbox_grassroots": 5,
    "union_page": 28,
    "grassroots_page": 28,
    "par_page": 8,
}


def _pages(officers, loan):
    gu = loan.grassroots_union
    return {
        "dashboard": (officers.fund, reverse("loans:dashboard")),
        "loan_list": (officers.fund, reverse("loans:loan_list")),
        "loan_page": (officers.fund, reverse("loans:loan_detail", args=[loan.pk])),
        "trial_balance": (officers.auditor, reverse("audit:trial_balance")),
        "inbox_fund": (officers.fund, reverse("loans:inbox")),
        "inbox_superior": (officers.superior, reverse("loans:inbox")),
        "inbox_grassroots": (officers.grassroots, reverse("loans:inbox")),
        "union_page": (
            officers.superior,
            reverse("reports:superior_union_page", args=[gu.superior_union_id]),
        ),
        "grassroots_page": (
            officers.grassroots,
            reverse("reports:grassroots_union_page", args=[gu.pk]),
        ),
        "par_page": (officers.fund, reverse("reports:portfolio_at_risk") + "?by=grassroots_union"),
    }


def _close_the_day(fund):
    """Yesterday closed with its PAR snapshot, as the close of business leaves it (the PAR page
    and a union's PAR read it)."""
    day = today() - timedelta(days=1)
    CloseOfBusinessRun.objects.update_or_create(
        fund=fund, business_date=day, defaults={"status": CloseOfBusinessRun.Status.DONE}
    )
    portfolio_snapshot_write(fund_id=fund.pk, business_date=day)


def _counts(as_user, officers, loan) -> dict[str, int]:
    out = {}
    for name, (user, url) in _pages(officers, loan).items():
        client = as_user(user)
        client.get(url)  # first request: session and caches settle
        with CaptureQueriesContext(connection) as ctx:
            r = client.get(url)
        assert r.status_code == 200, (name, r.status_code)
        out[name] = len(ctx.captured_queries)
    return out


def test_query_counts_do_not_grow_with_the_loan_book(as_user, officers, org, loan, product):
    _close_the_day(org.fund)
    before = _counts(as_user, officers, loan)
    for name, n in before.items():
        assert n <= MAX_QUERIES[name], (name, n)
    # More loans in several unions, and repayments (ledger lines, loan-book rows) on the
    # loan whose page is read.
    for i, gu in enumerate([org.lb1, org.lb1, org.hbt1]):
        member = BorrowerFactory(grassroots_union=gu, full_name=f"Thành viên {i}")
        disbursed_loan(borrower=member, product=product, officers=officers, days_ago=20 + i)
    for days_ago in (30, 10):
        repayment_post(
            loan=loan,
            amount=600_000,
            paid_on=today() - timedelta(days=days_ago),
            idempotency_key=new_key("repay"),
            actor=officers.fund,
        )
    _close_the_day(org.fund)
    after = _counts(as_user, officers, loan)
    assert after == before


def test_the_officer_profile_and_unit_are_read_with_the_user(as_user, officers, loan):
    """The user, their officer profile and its unit come in one query, not one each."""
    for user, url in (
        (officers.fund, reverse("loans:loan_list")),
        (officers.grassroots, reverse("loans:collections")),
    ):
        client = as_user(user)
        client.get(url)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        sqls = [q["sql"] for q in ctx.captured_queries]
        lookups = [
            'FROM "fund_officerprofile" WHERE "fund_officerprofile"."user_id" =',
            'FROM "fund_fund" WHERE "fund_fund"."id" =',
            'FROM "fund_grassrootsunion" WHERE "fund_grassrootsunion"."id" =',
        ]
        for lookup in lookups:
            assert not any(lookup in sql for sql in sqls), (lookup, sqls)
