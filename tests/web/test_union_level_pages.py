"""A union's pages: attainment (the quarterly report's own figures), loan book, arrears and PAR,
the quarterly report on the web, and the paged, searchable lists of unions; each in scope only."""

import html
import io
import re
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from accounting.formatting import format_vnd
from fund.models import CapitalSource
from fund.tests.factories import GrassrootsUnionFactory
from reports.quarterly import quarterly_report_figures, quarterly_unit_row
from reports.tests.fixtures import lend
from tests.web.helpers import in_english, vietnamese_left, visible_text

pytestmark = pytest.mark.django_db
Q1_2025 = {"quarter": "2025-1"}


def _cell(body: str, figure: str) -> str:
    """The value cell of a figure's row on a grassroots union's page."""
    row = body.split(f'data-figure="{figure}"', 1)[1].split("</tr>", 1)[0]
    return row.rsplit('<td class="num">', 1)[1].split("</td>", 1)[0]


def _units_row(body: str, code: str) -> str:
    return body.split(f'data-unit="{code}"', 1)[1].split("</tr>", 1)[0]


def test_superior_union_page_shows_the_quarterly_reports_figures(as_user, federation):
    org, officers = federation.org, federation.officers
    figures = quarterly_report_figures(
        fund_id=org.fund.pk, year=2025, quarter=1, superior_union_id=org.lb.pk
    )
    for user in (officers.superior, officers.fund, officers.auditor):
        r = as_user(user).get(reverse("reports:superior_union_page", args=[org.lb.pk]), Q1_2025)
        assert r.status_code == 200
        body = r.content.decode()
        assert figures.headline in body
        amount = figures.indicator("disbursed_amount")
        assert amount.quarter == 60_000_000  # LB-001 30 + 20, LB-002 10 (by hand)
        row = body.split('data-indicator="disbursed_amount"', 1)[1].split("</tr>", 1)[0]
        assert format_vnd(amount.quarter) in row and format_vnd(amount.plan_year) in row
        for unit in figures.units:  # each grassroots union's row, linked to its page
            cells = _units_row(body, unit.code)
            assert format_vnd(unit.disbursed) in cells
            assert reverse("reports:grassroots_union_page", args=[unit.unit_id]) in cells
        assert "HBT-001" not in body
        # The loan book of the union: LB's six active loans (LB-002's Q2 loan too).
        assert 'data-testid="loan-count">6<' in body


def test_grassroots_union_page_is_its_row_of_the_report(as_user, federation):
    org, officers = federation.org, federation.officers
    figures = quarterly_report_figures(
        fund_id=org.fund.pk, year=2025, quarter=1, superior_union_id=org.lb.pk
    )
    row = next(u for u in figures.units if u.code == "LB-001")
    assert row.disbursed == 50_000_000
    for user in (officers.grassroots, officers.superior, officers.fund, officers.auditor):
        r = as_user(user).get(reverse("reports:grassroots_union_page", args=[org.lb1.pk]), Q1_2025)
        assert r.status_code == 200
        body = r.content.decode()
        assert _cell(body, "disbursed") == format_vnd(row.disbursed)
        assert _cell(body, "plan_year") == format_vnd(row.plan_year)
        assert _cell(body, "outstanding") == format_vnd(row.outstanding)
        assert _cell(body, "loans") == str(row.loans) == "2"
        assert _cell(body, "jobs_created") == str(row.jobs_created) == "3"
    # The loans of the union only: LB-001's four, none of LB-002.
    body = as_user(officers.grassroots).get(
        reverse("reports:grassroots_union_page", args=[org.lb1.pk])
    )
    assert 'data-testid="loan-count">4<' in body.content.decode()


def test_a_grassroots_unions_row_read_alone_is_its_row_of_the_report(federation, chain):
    """``quarterly_unit_row`` reads one union's loans, ledger and visits: the same row as the
    superior union's report, for every union (one without loans too) and quarter."""
    org = federation.org
    GrassrootsUnionFactory(superior_union=org.lb, code="LB-900", name="CĐCS chưa vay")
    lend(chain, org.lb2, 8_000_000, date(2025, 2, 3), 1)
    checked, lent = 0, 0
    for su in (org.lb, org.hbt):
        for quarter in (1, 2):
            figures = quarterly_report_figures(
                fund_id=org.fund.pk, year=2025, quarter=quarter, superior_union_id=su.pk
            )
            for unit in figures.units:
                alone = quarterly_unit_row(
                    fund_id=org.fund.pk,
                    year=2025,
                    quarter=quarter,
                    grassroots_union_id=unit.unit_id,
                )
                assert alone == unit, (su.code, quarter, unit.code)
                checked += 1
                lent += bool(unit.disbursed and unit.outstanding)
    assert checked >= 8 and lent >= 3  # not only empty rows compared


def test_other_unions_pages_are_404(as_user, federation):
    org, officers = federation.org, federation.officers
    su_page = lambda su: reverse("reports:superior_union_page", args=[su.pk])  # noqa: E731
    gu_page = lambda gu: reverse("reports:grassroots_union_page", args=[gu.pk])  # noqa: E731
    superior = as_user(officers.superior)  # LB
    assert superior.get(su_page(org.hbt)).status_code == 404
    assert superior.get(gu_page(org.hbt1)).status_code == 404
    assert superior.get(su_page(org.other_su)).status_code == 404
    grassroots = as_user(officers.grassroots)  # LB-001
    assert grassroots.get(gu_page(org.lb2)).status_code == 404
    assert grassroots.get(su_page(org.lb)).status_code == 403  # no superior union page at all
    assert as_user(officers.fund).get(gu_page(org.other_gu)).status_code == 404
    assert as_user(officers.auditor).get(su_page(org.other_su)).status_code == 404
    # The PAR page narrowed to another union, the quarterly report of another superior union.
    par = reverse("reports:portfolio_at_risk")
    assert superior.get(par, {"superior_union": org.hbt.pk}).status_code == 404
    assert superior.get(par, {"grassroots_union": org.hbt1.pk}).status_code == 404
    assert superior.get(par, {"superior_union": org.lb.pk}).status_code == 200
    quarterly = reverse("reports:quarterly_web")
    assert superior.get(quarterly, {"superior_union": org.hbt.pk}).status_code == 404
    assert grassroots.get(quarterly).status_code == 403
    # Where "my union" leads.
    assert grassroots.get(reverse("reports:my_union"))["Location"] == gu_page(org.lb1)
    assert superior.get(reverse("reports:my_union"))["Location"] == su_page(org.lb)


def test_quarterly_report_on_the_web(as_user, federation):
    org, officers = federation.org, federation.officers
    fund_figures = quarterly_report_figures(fund_id=org.fund.pk, year=2025, quarter=1)
    body = as_user(officers.fund).get(reverse("reports:quarterly_web"), Q1_2025).content.decode()
    assert fund_figures.headline in body
    assert format_vnd(fund_figures.outstanding) in body
    for unit in fund_figures.units:
        assert format_vnd(unit.disbursed) in _units_row(body, unit.code)
    assert "/reports/" not in body.split('data-testid="stored"', 1)[1].split("</p>", 1)[0]
    # A superior union's officer: their own union's report, without asking.
    lb = quarterly_report_figures(
        fund_id=org.fund.pk, year=2025, quarter=1, superior_union_id=org.lb.pk
    )
    body = (
        as_user(officers.superior).get(reverse("reports:quarterly_web"), Q1_2025).content.decode()
    )
    assert lb.headline in body and 'data-unit="LB-001"' in body and "HBT-001" not in body
    assert lb.indicator("disbursed_amount").percent_of_year == Decimal("24.00")


def test_the_report_offers_its_stored_files(as_user, federation, emails):
    from reports.services import quarterly_report_generate

    org, officers = federation.org, federation.officers
    report = quarterly_report_generate(
        fund_id=org.fund.pk, year=2025, quarter=1, superior_union_id=org.lb.pk
    )
    body = (
        as_user(officers.superior).get(reverse("reports:quarterly_web"), Q1_2025).content.decode()
    )
    assert reverse("reports:report_download", args=[report.pk, "pdf"]) in body


def test_union_list_pages_searches_and_links(as_user, officers, org):
    for i in range(280):
        GrassrootsUnionFactory(
            superior_union=org.lb, code=f"LB-{i + 100:03d}", name=f"CĐCS Trường Mầm non số {i}"
        )
    GrassrootsUnionFactory(superior_union=org.lb, code="LB-999", name="CĐCS Điện lực Long Biên")
    c = as_user(officers.superior)
    url = reverse("loans:unions")
    with CaptureQueriesContext(connection) as ctx:
        body = c.get(url).content.decode()
    # PostgreSQL adds a savepoint and its release around the session's save: not reads. The
    # menu's count of remittances not received reads the business date itself (17th).
    reads = [q for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(reads) <= 17, len(reads)
    assert body.count("data-unit=") == 25 and "Trang 1/12" in body
    assert reverse("reports:grassroots_union_page", args=[org.lb1.pk]) in body
    assert "HBT-001" not in body
    last = c.get(url, {"page": 12}).content.decode()
    assert last.count("data-unit=") == 283 - 11 * 25
    # Accents and case do not matter.
    for text in ("dien luc", "ĐIỆN LỰC", "lb-999"):
        found = c.get(url, {"q": text}).content.decode()
        assert found.count("data-unit=") == 1 and "LB-999" in found, text
    assert c.get(url, {"q": "Chợ Mơ"}).content.decode().count("data-unit=") == 0  # HBT's
    # Fund officers: every union of the fund, by superior union.
    fund = as_user(officers.fund)
    assert "HBT-001" in fund.get(url, {"q": "cho mo"}).content.decode()
    only_hbt = fund.get(url, {"superior_union": org.hbt.pk}).content.decode()
    assert only_hbt.count("data-unit=") == 1
    supers = fund.get(reverse("reports:superior_union_list"), {"q": "hai ba"}).content.decode()
    assert supers.count("data-unit=") == 1
    assert reverse("reports:superior_union_page", args=[org.hbt.pk]) in supers
    assert as_user(officers.grassroots).get(url).status_code == 403
    assert as_user(officers.superior).get(reverse("reports:superior_union_list")).status_code == 403


def test_superior_union_page_pages_its_grassroots_unions(as_user, federation):
    """50 grassroots unions a page, by code; the total row is the whole union's on every page;
    the XLSX/CSV of the table hold every union and the total."""
    org, officers = federation.org, federation.officers
    for i in range(60):
        GrassrootsUnionFactory(superior_union=org.lb, code=f"LB-{i + 100:03d}", name=f"CĐCS {i}")
    figures = quarterly_report_figures(
        fund_id=org.fund.pk, year=2025, quarter=1, superior_union_id=org.lb.pk
    )
    assert len(figures.units) == 62
    c = as_user(officers.superior)
    url = reverse("reports:superior_union_page", args=[org.lb.pk])
    first = c.get(url, Q1_2025).content.decode()
    second = c.get(url, {**Q1_2025, "units_page": 2}).content.decode()

    def units(body):
        table = body.split('data-testid="units"', 1)[1].split("</table>", 1)[0]
        return re.findall(r'data-unit="([^"]+)"', table)

    codes = sorted(u.code for u in figures.units)
    assert units(first) == [*codes[:50], "total"]
    assert units(second) == [*codes[50:], "total"]
    amount = figures.indicator("disbursed_amount")
    for body in (first, second):
        total = _units_row(body, "total")
        assert amount.quarter == 60_000_000 and format_vnd(amount.quarter) in total
        assert format_vnd(amount.plan_year) in total and format_vnd(figures.outstanding) in total
        assert "Trang" in body and "units_page=" in body
    # The loan book's own pager keeps the table's page, and the table's keeps the loan book's.
    assert "units_page=2" in c.get(url, {**Q1_2025, "units_page": 2, "page": 1}).content.decode()
    # The exports: every union and the total row.
    r = c.get(url, {**Q1_2025, "format": "csv"})
    lines = r.content.decode("utf-8-sig").strip().splitlines()
    assert len(lines) == 1 + 62 + 1
    assert lines[1].startswith("LB-001,") and lines[-1].startswith(",Tổng,")
    r = c.get(url, {**Q1_2025, "format": "xlsx"})
    rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert rows[-1][1] == "Tổng" and rows[-1][3] == amount.quarter == 60_000_000
    assert rows[-1][4] == pytest.approx(0.24)  # of the union's own plan of the year, 250 million
    lb1 = next(u for u in figures.units if u.code == "LB-001")
    assert next(r for r in rows if r[0] == "LB-001")[3] == lb1.disbursed == 50_000_000


# Upper bounds: the quarterly report's figures are a fixed set of grouped queries (about twenty),
# the loan book, arrears and PAR a few more; the session and the officer's profile one each.
MAX_QUERIES = {"superior": 20, "grassroots": 20, "quarterly": 20, "unions": 12}


def _query_counts(as_user, fed) -> dict[str, int]:
    org, officers = fed.org, fed.officers
    pages = {
        "superior": (officers.superior, reverse("reports:superior_union_page", args=[org.lb.pk])),
        "grassroots": (
            officers.grassroots,
            reverse("reports:grassroots_union_page", args=[org.lb1.pk]),
        ),
        "quarterly": (officers.fund, reverse("reports:quarterly_web")),
        "unions": (officers.fund, reverse("loans:unions")),
    }
    out = {}
    for name, (user, url) in pages.items():
        c = as_user(user)
        c.get(url, Q1_2025)
        with CaptureQueriesContext(connection) as ctx:
            assert c.get(url, Q1_2025).status_code == 200
        out[name] = len(ctx.captured_queries)
    return out


def test_union_pages_query_counts_do_not_grow(as_user, federation, chain):
    before = _query_counts(as_user, federation)
    for name, n in before.items():
        assert n <= MAX_QUERIES[name], (name, n)
    org = federation.org
    for gu, day in (
        (org.lb1, date(2025, 2, 3)),
        (org.lb2, date(2025, 3, 3)),
        (org.lb1, date(2025, 3, 20)),
    ):
        lend(chain, gu, 8_000_000, day, 1)
    assert _query_counts(as_user, federation) == before


def test_union_pages_in_english_have_no_vietnamese_of_their_own(as_user, federation):
    """Everything is English or data: the indicators' names and the report's headline too."""
    org, officers = federation.org, federation.officers
    pages = [
        (officers.superior, reverse("reports:superior_union_page", args=[org.lb.pk])),
        (officers.grassroots, reverse("reports:grassroots_union_page", args=[org.lb1.pk])),
        (officers.fund, reverse("reports:quarterly_web")),
        (officers.fund, reverse("reports:superior_union_list")),
        (officers.fund, reverse("loans:unions")),
        (officers.superior, reverse("reports:portfolio_at_risk") + f"?superior_union={org.lb.pk}"),
    ]
    found = {}
    for user, url in pages:
        r = in_english(as_user(user)).get(url, Q1_2025)
        assert r.status_code == 200, url
        page = r.content.decode()
        for source in CapitalSource.objects.values_list("name", flat=True):  # data
            page = page.replace(source, " ")
        if left := vietnamese_left(visible_text(page)):
            found[url] = left
    assert not found, found
    r = in_english(as_user(officers.fund)).get(reverse("reports:quarterly_web"), Q1_2025)
    body = r.content.decode()
    assert 'lang="vi"' not in body.split("<body", 1)[1]
    headline = body.split('data-testid="headline">', 1)[1].split("</p>", 1)[0]
    assert html.unescape(headline) == (
        "Quarter I/2025: 75.000.000 ₫ lent to 4 members of 3 grassroots unions (18,75% of the "
        "year's plan, up 275,00% on the same quarter last year), creating 7 new jobs."
    )
    for label in ("Lending (VND)", "Members lent to", "New jobs (confirmed at follow-up visits)"):
        assert f"<td>{label}</td>" in body
    # The table's export too: its title names the quarter in English.
    r = in_english(as_user(officers.superior)).get(
        reverse("reports:superior_union_page", args=[org.lb.pk]), {**Q1_2025, "format": "xlsx"}
    )
    title = next(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))[0]
    assert title.startswith("Quarter I/2025 · "), title


def test_the_report_page_hands_its_reader_the_documents_in_their_language(as_user, federation):
    """The stored files are the Vietnamese ones the federation files; the page also makes the
    whole report now, in the reader's language, from the figures it shows."""
    from tests.web.helpers import pdf_text

    org, officers = federation.org, federation.officers
    url = reverse("reports:quarterly_web")
    fund = as_user(officers.fund)
    body = fund.get(url, Q1_2025).content.decode()
    assert "quarter=2025-1&amp;document=pdf" in body
    vi = fund.get(url, {**Q1_2025, "document": "pdf"})
    assert vi.status_code == 200 and vi["Content-Type"] == "application/pdf"
    assert vi["Content-Disposition"].endswith('-vi.pdf"')
    assert "BÁO CÁO" in pdf_text(vi.content)
    english = in_english(as_user(officers.fund))
    en = english.get(url, {**Q1_2025, "document": "pdf"})
    text = pdf_text(en.content)
    assert "REPORT ON LENDING AND THE PLAN'S ATTAINMENT, QUARTER I/2025" in text
    assert "BÁO CÁO" not in text and en["Content-Disposition"].endswith('-en.pdf"')
    sheet = load_workbook(
        io.BytesIO(english.get(url, {**Q1_2025, "document": "xlsx"}).content)
    ).worksheets[0]
    assert sheet.title == "Attainment of the plan"
    # A superior union's officer: their own union's report, whatever they ask.
    lb = quarterly_report_figures(
        fund_id=org.fund.pk, year=2025, quarter=1, superior_union_id=org.lb.pk
    )
    mine = as_user(officers.superior).get(
        url, {**Q1_2025, "superior_union": org.hbt.pk, "document": "pdf"}
    )
    assert mine.status_code == 404 or lb.unit_name in pdf_text(mine.content)
    own = as_user(officers.superior).get(url, {**Q1_2025, "document": "pdf"})
    assert lb.unit_name in pdf_text(own.content) and "HBT" not in own["Content-Disposition"]
    assert fund.get(url, {**Q1_2025, "document": "docx"}).status_code == 404
    assert as_user(officers.grassroots).get(url, {**Q1_2025, "document": "pdf"}).status_code == 403
