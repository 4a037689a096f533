"""The attainment operation answers for every role without naming a unit: the reader's own."""

import pytest

pytestmark = pytest.mark.django_db


def _achieved(c, **params):
    r = c.get(
        "/api/v1/attainment/",
        {"year": params.pop("year"), "period": "year", "indicator": "disbursed_amount", **params},
    )
    assert r.status_code == 200, r.content
    return r.json()["achieved"]


def test_superior_officer_defaults_to_their_superior_union(api, officers, org, loan, loan_hbt):
    year = loan.disbursed_on.year
    c = api(officers.superior)  # LB: the loan of LB-001, not the loan of HBT-001
    assert _achieved(c, year=year) == str(int(loan.principal.amount))
    assert _achieved(c, year=year) == _achieved(c, year=year, superior_union=org.lb.pk)
    assert c.get("/api/v1/attainment/", {"superior_union": org.hbt.pk}).status_code == 404
    everything = _achieved(api(officers.fund), year=year)
    assert everything == str(int((loan.principal + loan_hbt.principal).amount))


def test_grassroots_officer_defaults_to_their_union(api, officers, org, loan, loan_hbt):
    year = loan.disbursed_on.year
    c = api(officers.grassroots)  # LB-001
    assert _achieved(c, year=year) == str(int(loan.principal.amount))
    assert _achieved(c, year=year) == _achieved(c, year=year, grassroots_union=org.lb1.pk)
    assert c.get("/api/v1/attainment/", {"superior_union": org.lb.pk}).status_code == 404
    assert c.get("/api/v1/attainment/", {"grassroots_union": org.lb2.pk}).status_code == 404
