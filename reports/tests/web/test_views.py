"""Downloads of stored reports: each role sees what its scope allows; other units → 404."""

import pytest
from django.urls import resolve, reverse

from fund.access import view_access_rule
from fund.models import Role
from reports.services import quarterly_report_generate

pytestmark = pytest.mark.django_db


@pytest.fixture
def stored(federation):
    org = federation.org

    def gen(su=None):
        return quarterly_report_generate(
            fund_id=org.fund.pk, year=2025, quarter=1, superior_union_id=su.pk if su else None
        )

    return {"fund": gen(), "lb": gen(org.lb), "hbt": gen(org.hbt)}


def url(report, kind="pdf"):
    return reverse("reports:report_download", args=[report.pk, kind])


def get(client, user, path):
    client.force_login(user)
    return client.get(path)


def test_every_report_view_has_an_access_rule():
    for name in ("reports:report_list",):
        assert view_access_rule(resolve(reverse(name)).func) is not None
    rule = view_access_rule(resolve("/reports/1/pdf/").func)
    assert set(rule) == {Role.FUND_OFFICER, Role.AUDITOR, Role.SUPERIOR_OFFICER}


@pytest.mark.parametrize("who", ["fund", "auditor"])
def test_fund_officers_and_auditors_download_every_report(client, federation, stored, who):
    user = getattr(federation.officers, who)
    for report in stored.values():
        r = get(client, user, url(report))
        assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
        assert b"".join(r.streaming_content)[:5] == b"%PDF-"
    r = get(client, user, url(stored["fund"], "xlsx"))
    assert r.status_code == 200 and "spreadsheetml" in r["Content-Type"]
    page = get(client, user, reverse("reports:report_list")).content.decode()
    assert page.count("/pdf/") == 3 and "Toàn quỹ" in page


def test_a_superior_officer_sees_only_their_union_s_report(client, federation, stored):
    user = federation.officers.superior  # Long Biên
    assert get(client, user, url(stored["lb"])).status_code == 200
    assert get(client, user, url(stored["hbt"])).status_code == 404
    assert get(client, user, url(stored["fund"], "xlsx")).status_code == 404
    page = get(client, user, reverse("reports:report_list")).content.decode()
    assert url(stored["lb"]) in page and url(stored["hbt"]) not in page
    assert "LĐLĐ quận Long Biên" in page and "Toàn quỹ" not in page


def test_others_are_refused(client, federation, stored):
    assert get(client, federation.officers.grassroots, url(stored["lb"])).status_code == 403
    # Another fund's officer: their fund has no such report.
    assert get(client, federation.officers.other_fund, url(stored["fund"])).status_code == 404
    assert (
        get(client, federation.officers.fund, f"/reports/{stored['fund'].pk}/doc/").status_code
        == 404
    )
    client.logout()
    r = client.get(url(stored["fund"]))
    assert r.status_code == 302 and "login" in r["Location"]
