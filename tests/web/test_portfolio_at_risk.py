"""Portfolio at risk and arrears ageing, checked by hand on a small book: four loans of one
grassroots union, 10, 20, 30 and 40 million, 0, 5, 45 and 120 days past due."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from loans.models import CloseOfBusinessRun, Loan, PortfolioSnapshot
from loans.servicing.portfolio import portfolio_report, portfolio_snapshot_write
from loans.tests.factories import today
from loans.tests.helpers import make_loan

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def book(chain, org, capital):
    """The four loans, classified as the arrears pass would, and the day closed."""
    day = today() - timedelta(days=1)
    for amount, dpd in ((10, 0), (20, 5), (30, 45), (40, 120)):
        loan = make_loan(chain, amount=amount * 1_000_000)
        Loan.objects.filter(pk=loan.pk).update(
            days_past_due=dpd, overdue_principal=1_000_000 if dpd else 0
        )
    portfolio_snapshot_write(fund_id=org.fund.pk, business_date=day)
    CloseOfBusinessRun.objects.create(
        fund=org.fund, business_date=day, status=CloseOfBusinessRun.Status.DONE
    )
    return day


def test_par_by_amount_and_count_and_the_ageing_buckets(book, officers):
    from fund.scoping import scope_for

    report = portfolio_report(scope=scope_for(officers.fund), as_of=book, by="grassroots_union")
    t = report.total
    assert t.total_loans == 4 and t.total_outstanding == D(100_000_000)
    assert t.overdue_principal == D(3_000_000)
    assert [(d, a, c) for d, a, c in t.par] == [
        (1, D("0.9"), D("0.75")),
        (30, D("0.7"), D("0.5")),
        (60, D("0.4"), D("0.25")),
        (90, D("0.4"), D("0.25")),
    ]
    assert t.loans == [1, 1, 1, 0, 1, 0]
    assert t.outstanding == [D(v * 1_000_000) for v in (10, 20, 30, 0, 40, 0)]
    assert [r.code for r in report.rows] == ["LB-001"]


def test_each_role_sees_its_scope_and_a_past_date_does_not_change(book, officers, org):
    from fund.scoping import scope_for

    assert (
        portfolio_report(scope=scope_for(officers.superior_hbt), as_of=book).total.loans == [0] * 6
    )
    assert portfolio_report(scope=scope_for(officers.grassroots), as_of=book).total.total_loans
    Loan.objects.update(days_past_due=0)  # a later day's classification
    portfolio_snapshot_write(fund_id=org.fund.pk, business_date=book + timedelta(days=1))
    again = portfolio_report(scope=scope_for(officers.fund), as_of=book).total
    assert again.par[0][1] == D("0.9")
    assert PortfolioSnapshot.objects.filter(business_date=book).count() == 4


def test_the_page_states_its_definitions_and_exports_real_numbers(book, as_user, officers):
    c = as_user(officers.fund)
    url = reverse("reports:portfolio_at_risk")
    page = c.get(url, {"by": "grassroots_union"})
    assert page.status_code == 200
    html = page.content.decode()
    total = html.split('data-unit="total"', 1)[1].split("</tr>", 1)[0]
    assert "100.000.000 ₫" in total and "90,00%" in total and "75,00%" in total
    assert "PAR n theo dư nợ" in html
    r = c.get(url, {"by": "grassroots_union", "format": "xlsx", "as_of": book.isoformat()})
    ws = load_workbook(io.BytesIO(r.content)).active
    rows = list(ws.iter_rows(values_only=True))
    header = rows[1]
    last = rows[-1]
    par1 = header.index("PAR 1 theo dư nợ")
    assert last[par1] == pytest.approx(0.9) and last[header.index("Dư nợ gốc")] == 100_000_000
    cell = list(ws.iter_rows())[-1][par1]
    assert cell.number_format == "0.00%"
    assert c.get(url, {"format": "csv"}).status_code == 200


@pytest.mark.parametrize("who", ["superior", "grassroots", "auditor"])
def test_every_role_opens_the_page(book, as_user, officers, who):
    assert (
        as_user(getattr(officers, who)).get(reverse("reports:portfolio_at_risk")).status_code == 200
    )


def test_the_close_of_business_stores_the_day_s_ageing(chain, org, capital):
    from loans.servicing.close_of_business import close_of_business_run

    make_loan(chain, amount=15_000_000)
    day = today() - timedelta(days=1)
    close_of_business_run(fund_id=org.fund.pk, business_date=day)
    row = PortfolioSnapshot.objects.get(business_date=day)
    assert (row.loans, row.outstanding.amount, row.grassroots_union) == (
        1,
        D(15_000_000),
        chain.borrower.grassroots_union,
    )


def _many_units(book, org, count, first=100):
    """`count` more grassroots unions of LB in the snapshot, one loan each in bucket `i % 6`."""
    from fund.tests.factories import GrassrootsUnionFactory

    snap = PortfolioSnapshot.objects.filter(business_date=book).first()
    rows = []
    for i in range(count):
        gu = GrassrootsUnionFactory(superior_union=org.lb, code=f"LB-{i + first:03d}")
        rows.append(
            PortfolioSnapshot(
                fund_id=snap.fund_id,
                business_date=book,
                superior_union_id=snap.superior_union_id,
                grassroots_union=gu,
                product_id=snap.product_id,
                bucket=i % 6,
                loans=1,
                outstanding=D(1_000_000 + i),
                overdue_principal=D(i % 6 and 1000),
            )
        )
    PortfolioSnapshot.objects.bulk_create(rows)


def test_the_page_by_union_is_paged_with_the_whole_total(book, as_user, officers, org):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from fund.scoping import scope_for
    from fund.tests.factories import GrassrootsUnionFactory

    _many_units(book, org, 120)  # 121 units with LB-001: three pages of 50
    GrassrootsUnionFactory(superior_union=org.lb, code="LB-050")  # no loans: no row, not listed
    unpaged = portfolio_report(scope=scope_for(officers.fund), as_of=book, by="grassroots_union")
    c = as_user(officers.fund)
    url = reverse("reports:portfolio_at_risk")
    seen, loans, outstanding = [], 0, D(0)
    for number in (1, 2, 3):
        html = c.get(url, {"by": "grassroots_union", "page": number}).content.decode()
        par = html.split('data-testid="par"', 1)[1].split("</table>", 1)[0]
        units = [u.split('"', 1)[0] for u in par.split('data-unit="')[1:] if u[:5] != "total"]
        seen += units
        total = par.split('data-unit="total"', 1)[1].split("</tr>", 1)[0]
        assert "220.007.140 ₫" in total  # always the whole scope's total
        assert 'data-testid="par-order"' in html
    assert seen == sorted(r.code for r in unpaged.rows) and len(seen) == 121
    assert [len(seen[i : i + 50]) for i in (0, 50, 100)] == [50, 50, 21]
    assert "LB-050" not in seen
    # A superior union's officer pages through their own unions only.
    lb = as_user(officers.superior).get(url, {"by": "grassroots_union", "page": 3})
    par = lb.content.decode().split('data-testid="par"', 1)[1].split("</table>", 1)[0]
    lb_units = [u.split('"', 1)[0] for u in par.split('data-unit="')[1:] if u[:5] != "total"]
    assert lb_units == [u for u in seen if u.startswith("LB-")][100:]
    for row in unpaged.rows:
        loans += row.total_loans
        outstanding += row.total_outstanding
    assert loans == unpaged.total.total_loans == 124
    assert outstanding == unpaged.total.total_outstanding == D(220_007_140)
    # The number of queries does not grow with the number of units.
    with CaptureQueriesContext(connection) as few:
        c.get(url, {"by": "grassroots_union", "page": 2})
    _many_units(book, org, 200, first=300)
    with CaptureQueriesContext(connection) as many:
        assert c.get(url, {"by": "grassroots_union", "page": 2}).status_code == 200
    assert len(many) == len(few) <= 20
    # The exports hold every unit.
    r = c.get(url, {"by": "grassroots_union", "format": "csv", "as_of": book.isoformat()})
    body = b"".join(r.streaming_content) if r.streaming else r.content
    assert body.decode("utf-8-sig").count("\nLB-") == 321
