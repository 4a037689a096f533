"""Unions, capital, plans, attainment and the read-only ledger through the API."""

import pytest

from fund.models import CapitalMovement, CapitalSource
from loans.tests.factories import today
from tests.api.helpers import money

pytestmark = pytest.mark.django_db


def test_unions_search_filter_and_paging(api, officers, org):
    c = api(officers.fund)
    r = c.get("/api/v1/grassroots-unions/", {"superior_union": org.lb.pk}).json()
    assert {u["code"] for u in r["results"]} == {"LB-001", "LB-002"}
    r = c.get("/api/v1/grassroots-unions/", {"q": "May 10"}).json()
    assert [u["code"] for u in r["results"]] == ["LB-002"]
    page = c.get("/api/v1/grassroots-unions/", {"limit": 1, "offset": 1}).json()
    assert page["count"] == 3 and len(page["results"]) == 1 and page["next"]
    assert c.get("/api/v1/grassroots-unions/", {"superior_union": "abc"}).status_code == 400
    assert c.get(f"/api/v1/superior-unions/{org.other_su.pk}/").status_code == 404


def test_capital_contribution_and_withdrawal(api, officers, org):
    source = CapitalSource.objects.create(
        fund=org.fund, code="CD", name="Quỹ công đoàn", kind=CapitalSource.Kind.UNION_FUNDS
    )
    c = api(officers.fund)
    # The fund raises its threshold of four eyes on capital: these moves post at once.
    duties = "/api/v1/fund/duties/set/"
    r = c.post(duties, {"capital_confirmation_threshold": money(1_000_000_000)}, format="json")
    assert r.status_code == 200 and r.json()["capital_confirmation_threshold"] == money(
        1_000_000_000
    )
    assert api(officers.auditor).post(duties, {}, format="json").status_code == 403
    body = {
        "source": source.pk,
        "amount": money(500_000_000),
        "effective_date": today().isoformat(),
        "memo": "LĐLĐ cấp bổ sung vốn",
    }
    url = "/api/v1/capital/contributions/create/"
    assert c.post(url, body, format="json").status_code == 400  # no Idempotency-Key
    r = c.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="von-1")
    assert r.status_code == 201, r.json()
    assert r.json()["amount"] == money(500_000_000)
    assert c.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="von-1").json() == r.json()
    other = {**body, "amount": money(1)}
    assert c.post(url, other, format="json", HTTP_IDEMPOTENCY_KEY="von-1").status_code == 409
    assert CapitalMovement.objects.count() == 1

    summary = c.get("/api/v1/capital/").json()
    assert summary["total"] == money(500_000_000)
    assert summary["by_source"] == {"CD": money(500_000_000)}

    out = "/api/v1/capital/withdrawals/create/"
    too_much = {**body, "amount": money(600_000_000)}
    r = c.post(out, too_much, format="json", HTTP_IDEMPOTENCY_KEY="rut-1")
    assert r.status_code == 400 and r.json()["code"] == "insufficient_capital"
    assert r.json()["field"] == "amount"
    r = c.post(
        out, {**body, "amount": money(100_000_000)}, format="json", HTTP_IDEMPOTENCY_KEY="rut-2"
    )
    assert r.status_code == 201
    sources = c.get("/api/v1/capital/sources/").json()
    assert sources[0]["balance"] == money(400_000_000)
    movements = c.get("/api/v1/capital/movements/", {"kind": "withdrawal"}).json()
    assert movements["count"] == 1

    assert (
        c.post(url, {**body, "source": 999999}, format="json", HTTP_IDEMPOTENCY_KEY="x").status_code
        == 404
    )
    # Superior officers do not handle capital.
    r = api(officers.superior).post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="von-9")
    assert r.status_code == 403


def test_plans_splits_and_attainment(api, officers, org, loan):
    c = api(officers.fund)
    year = today().year
    r = c.post(
        "/api/v1/plans/set/",
        {"year": year, "disbursed_amount": money(100_000_000), "borrowers": 10, "jobs": 20},
        format="json",
    )
    assert r.status_code == 200, r.json()
    assert r.json()["disbursed_amount"] == money(100_000_000)
    r = c.post(
        f"/api/v1/plans/{year}/splits/set/",
        {"superior_union": org.lb.pk, "disbursed_amount": money(60_000_000)},
        format="json",
    )
    assert r.status_code == 200, r.json()
    assert r.json()["splits"][0]["superior_union_id"] == org.lb.pk
    too_much = c.post(
        f"/api/v1/plans/{year}/splits/set/",
        {"superior_union": org.hbt.pk, "disbursed_amount": money(60_000_000)},
        format="json",
    )
    assert too_much.status_code == 400 and too_much.json()["field"] == "disbursed_amount"
    assert c.get(f"/api/v1/plans/{year}/").json()["year"] == year
    assert c.get("/api/v1/plans/1999/").status_code == 404

    a = c.get(
        "/api/v1/attainment/",
        {"year": loan.disbursed_on.year, "period": "year", "indicator": "disbursed_amount"},
    ).json()
    assert a["achieved"] == "12000000"
    assert c.get("/api/v1/attainment/", {"indicator": "nope"}).json()["field"] == "indicator"


def test_ledger_reads(api, officers, loan):
    c = api(officers.auditor)
    tb = c.get("/api/v1/ledger/trial-balance/").json()
    assert tb["balanced"] is True
    assert tb["total_debit"] == tb["total_credit"]
    gl = c.get("/api/v1/ledger/general-ledger/", {"account": "1283", "start": "2000-01-01"}).json()
    assert gl["closing"] == money(12_000_000)
    entry_id = gl["lines"][0]["entry_id"]
    entry = c.get(f"/api/v1/ledger/entries/{entry_id}/").json()
    assert sum(int(p["amount"]["amount"]) for p in entry["postings"]) == 0
    assert c.get("/api/v1/ledger/general-ledger/", {"account": "9999"}).status_code == 404
    bad = c.get("/api/v1/ledger/income-statement/", {"start": "2026-02-01", "end": "2026-01-01"})
    assert bad.status_code == 400 and bad.json()["field"] == "start"
    assert c.get("/api/v1/ledger/balance-sheet/", {"as_of": "0001-01-01"}).status_code == 400
    verified = c.get("/api/v1/ledger/verify/").json()
    assert verified["ok"] is True
    assert [x["check"] for x in verified["checks"]] == [
        "ledger",
        "turnover",
        "checkpoints",
        "audit",
    ]


def test_general_ledger_is_paged_with_the_period_figures_on_every_page(api, officers, org):
    from datetime import timedelta
    from urllib.parse import parse_qs, urlsplit

    from accounting.tests.factories import entry_post

    start, end = today() - timedelta(days=30), today()
    entry_post(40_000_000, on=start - timedelta(days=1), fund_id=org.fund.pk)  # the opening
    for i in range(7):
        entry_post(1_000_000 + i, on=start + timedelta(days=i), fund_id=org.fund.pk)
    entry_post(500_000, dr="4111", cr="1121", on=end, fund_id=org.fund.pk)  # a credit line
    c = api(officers.auditor)
    url = "/api/v1/ledger/general-ledger/"
    query = {"account": "1121", "start": start.isoformat(), "end": end.isoformat()}
    whole = c.get(url, query).json()  # default limit (50): the whole of 8 lines
    assert whole["count"] == 8 and len(whole["lines"]) == 8 and whole["next"] is None
    assert whole["opening"] == whole["page_opening"] == money(40_000_000)
    assert whole["closing"] == whole["page_closing"] == money(40_000_000 + 7_000_021 - 500_000)

    first = c.get(url, {**query, "limit": 3}).json()
    assert len(first["lines"]) == 3 and first["previous"] is None
    assert parse_qs(urlsplit(first["next"]).query)["offset"] == ["3"]
    pages, r = [], first
    while True:
        pages.append(r)
        if not r["next"]:
            break
        r = c.get(r["next"]).json()
    assert [len(p["lines"]) for p in pages] == [3, 3, 2] and pages[-1]["previous"]
    assert [ln for p in pages for ln in p["lines"]] == whole["lines"]
    for n, p in enumerate(pages):
        # The period's figures on every page; the page's balance carried from the one before.
        for k in ("count", "opening", "total_debit", "total_credit", "closing"):
            assert p[k] == whole[k]
        carried = pages[n - 1]["lines"][-1]["balance"] if n else whole["opening"]
        assert p["page_opening"] == carried
        assert p["page_closing"] == p["lines"][-1]["balance"]
    # An offset off a page boundary still carries the balance of the lines before it.
    odd = c.get(url, {**query, "limit": 2, "offset": 5}).json()
    assert odd["lines"] == whole["lines"][5:7]
    assert odd["page_opening"] == whole["lines"][4]["balance"]
    # Past the end: a refusal naming the offset, not an empty page or a 500.
    for offset in (8, 9, 10**15):
        beyond = c.get(url, {**query, "offset": offset})
        assert beyond.status_code == 400 and beyond.json()["field"] == "offset"
        assert beyond.json()["message"] == "Sổ cái kỳ này chỉ có 8 dòng."
    english = c.get(url, {**query, "offset": 8}, HTTP_ACCEPT_LANGUAGE="en")
    assert english.json()["message"] == "The general ledger of this period has only 8 lines."
    # At most 500 lines a page, whatever is asked; a limit that is not a number is the default.
    assert c.get(url, {**query, "limit": 10_000}).json()["lines"] == whole["lines"]
    assert len(c.get(url, {**query, "limit": "x"}).json()["lines"]) == 8
    # An empty period is one empty page, not a refusal.
    empty = {**query, "start": "2001-01-01", "end": "2001-01-31"}
    r = c.get(url, empty).json()
    assert (r["count"], r["lines"], r["next"]) == (0, [], None)
