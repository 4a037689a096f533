"""Portfolio at risk and arrears ageing, as of any closed business date.

Each close of business, after the arrears pass has classified the book, stores the active loans
of the fund grouped by grassroots union, product and ageing bucket (`portfolio_snapshot_write`,
one INSERT … SELECT whatever the size of the book). The page reads those rows for the date asked
(`portfolio_report`), so the figures of a past date never change.

Definitions (stated on the page):
- *Dư nợ* (gross loan portfolio): the outstanding principal of active loans; loans written off
  or closed are not in it.
- *Ageing bucket* of a loan: its days past due on the business date (the oldest unpaid
  installment's), in the buckets of `BUCKETS`.
- *PAR n* by amount: the whole outstanding principal (not only the overdue part) of the loans
  n or more days past due, over the gross loan portfolio; by count: those loans over all active
  loans.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    DateField,
    Exists,
    IntegerField,
    OuterRef,
    Sum,
    Value,
    When,
)
from django.utils.translation import gettext_lazy as _

from accounting.money import CURRENCY
from fund.scoping import Scope
from loans.db import insert_select
from loans.models import CloseOfBusinessRun, Loan, LoanStatus, PortfolioSnapshot
from loans.origination.selectors import own_fund_first

# (bucket number, first day past due, last day past due or None, label)
BUCKETS: tuple[tuple[int, int, int | None, str], ...] = (
    (0, 0, 0, _("Trong hạn")),
    (1, 1, 29, _("1–29 ngày")),
    (2, 30, 59, _("30–59 ngày")),
    (3, 60, 89, _("60–89 ngày")),
    (4, 90, 179, _("90–179 ngày")),
    (5, 180, None, _("Từ 180 ngày")),
)
PAR_DAYS = (1, 30, 60, 90)
DIMENSIONS = {
    "fund": None,
    "superior_union": ("superior_union_id", "superior_union__code", "superior_union__name"),
    "grassroots_union": ("grassroots_union_id", "grassroots_union__code", "grassroots_union__name"),
    "product": ("product_id", "product__code", "product__name"),
}
DIMENSION_LABELS = {
    "fund": _("Toàn quỹ"),
    "superior_union": _("Theo công đoàn cấp trên"),
    "grassroots_union": _("Theo công đoàn cơ sở"),
    "product": _("Theo sản phẩm"),
}


def _bucket_case():
    whens = [
        When(days_past_due__gte=low, days_past_due__lte=high, then=Value(n))
        for n, low, high, _label in BUCKETS
        if high is not None
    ]
    return Case(*whens, default=Value(BUCKETS[-1][0]), output_field=IntegerField())


def portfolio_snapshot_write(*, fund_id: int, business_date: date) -> int:
    """Store the fund's active loans by grassroots union, product and bucket as of
    `business_date` (after the arrears pass of that date): one ``INSERT … SELECT … GROUP BY``,
    whatever the size of the book; a second write of the same date replaces the first. Runs
    inside the close of business's transaction (or its own). Returns the number of rows."""
    grouped = (
        Loan.objects.filter(fund_id=fund_id, status=LoanStatus.ACTIVE)
        .annotate(bucket=_bucket_case())
        .values("superior_union_id", "grassroots_union_id", "product_id", "bucket")
        .annotate(
            n=Count("id"),
            out=Sum("outstanding_principal"),
            od=Sum("overdue_principal"),
            f=Value(fund_id, output_field=IntegerField()),
            d=Value(business_date, output_field=DateField()),
            cur=Value(CURRENCY, output_field=CharField()),
        )
        .order_by()
    )
    columns = {
        "fund_id": "f",
        "business_date": "d",
        "superior_union_id": "superior_union_id",
        "grassroots_union_id": "grassroots_union_id",
        "product_id": "product_id",
        "bucket": "bucket",
        "loans": "n",
        "outstanding": "out",
        "outstanding_currency": "cur",
        "overdue_principal": "od",
        "overdue_principal_currency": "cur",
    }
    with transaction.atomic(savepoint=False):
        PortfolioSnapshot.objects.filter(fund_id=fund_id, business_date=business_date).delete()
        return insert_select(PortfolioSnapshot, grouped, columns)


def closed_dates(*, fund_id: int, limit: int = 400) -> list[date]:
    """The fund's closed business dates, latest first: the dates a report can be asked for."""
    return list(
        CloseOfBusinessRun.objects.filter(fund_id=fund_id, status=CloseOfBusinessRun.Status.DONE)
        .order_by("-business_date")
        .values_list("business_date", flat=True)[:limit]
    )


@dataclass
class PortfolioRow:
    """One unit's (or the fund's) loans by bucket, and its PAR figures."""

    key: object
    code: str
    name: str
    loans: list[int] = field(default_factory=lambda: [0] * len(BUCKETS))
    outstanding: list[Decimal] = field(default_factory=lambda: [Decimal(0)] * len(BUCKETS))
    overdue_principal: Decimal = Decimal(0)

    @property
    def total_loans(self) -> int:
        return sum(self.loans)

    @property
    def total_outstanding(self) -> Decimal:
        return sum(self.outstanding, Decimal(0))

    def _from(self, days: int) -> int:
        return next(n for n, low, _high, _label in BUCKETS if low >= days)

    def par_amount(self, days: int) -> Decimal | None:
        """The share (a fraction, not a percentage) of the outstanding at risk `days`+."""
        total = self.total_outstanding
        at_risk = sum(self.outstanding[self._from(days) :], Decimal(0))
        return None if not total else at_risk / total

    def par_count(self, days: int) -> Decimal | None:
        total = self.total_loans
        return None if not total else Decimal(sum(self.loans[self._from(days) :])) / total

    @property
    def par(self) -> list[tuple[int, Decimal | None, Decimal | None]]:
        return [(d, self.par_amount(d), self.par_count(d)) for d in PAR_DAYS]


@dataclass
class PortfolioReport:
    as_of: date | None
    by: str
    rows: list[PortfolioRow]
    total: PortfolioRow


def _snapshot_rows(scope: Scope, as_of: date):
    """The snapshot rows of the closed date `as_of` within `scope` (index portfolio_by_date);
    a fund-wide scope reads the rows' own fund, without joining each row's union."""
    return own_fund_first(PortfolioSnapshot.objects.filter(business_date=as_of), scope).filter(
        fund_id=scope.fund_id
    )


def portfolio_units(*, scope: Scope, as_of: date | None, by: str):
    """The ids of the units of `by` (not ``fund``) holding loans in the snapshot of `as_of`
    within `scope`, by code, to page; a page's ids go to `portfolio_report`. The units are read
    in code order (their fund's index on code), each kept when a snapshot row of it exists (an
    index probe), so a page of 50 stops after about 50 units instead of sorting the distinct
    units of every row of the date."""
    dim = DIMENSIONS[by]
    unit = PortfolioSnapshot._meta.get_field(dim[0].removesuffix("_id")).related_model
    if as_of is None:
        return unit.objects.none().values_list("pk", flat=True)
    rows = _snapshot_rows(scope, as_of).filter(**{dim[0]: OuterRef("pk")})
    # Unions and products are each a fund's, unique by code within it: index (fund, code).
    return (
        unit.objects.filter(Exists(rows), fund_id=scope.fund_id)
        .order_by("code", "pk")
        .values_list("pk", flat=True)
    )


def portfolio_report(
    *, scope: Scope, as_of: date | None, by: str = "fund", units: list | None = None
) -> PortfolioReport:
    """The scope's loans by ageing bucket as of the closed date `as_of`, one row per unit of
    `by` (``fund``, ``superior_union``, ``grassroots_union``, ``product``) and a total.
    `units` (ids of `by`'s units, e.g. one page of `portfolio_units`) narrows the rows read to
    those units; the total is still the whole scope's."""
    total = PortfolioRow(key=None, code="", name=str(DIMENSION_LABELS["fund"]))
    if as_of is None:
        return PortfolioReport(as_of, by, [], total)
    dim = DIMENSIONS[by]
    qs = _snapshot_rows(scope, as_of)
    if units is not None and dim is not None:
        total = portfolio_report(scope=scope, as_of=as_of, by="fund").total
        qs = qs.filter(**{f"{dim[0]}__in": units})
        # The page's rows only add to a row of their own, not to the scope's total.
        page_total = PortfolioRow(key=None, code="", name="")
    else:
        page_total = total
    keys = dim or ()
    grouped = (
        qs.values(*keys, "bucket")
        .annotate(n=Sum("loans"), out=Sum("outstanding"), od=Sum("overdue_principal"))
        .order_by(*(keys[1:2] or ()), "bucket")
    )
    rows: dict[object, PortfolioRow] = {}
    for g in grouped:
        targets = [page_total]
        if dim is not None:
            key = g[dim[0]]
            if key not in rows:
                rows[key] = PortfolioRow(key=key, code=g[dim[1]], name=g[dim[2]])
            targets.append(rows[key])
        for row in targets:
            row.loans[g["bucket"]] += g["n"] or 0
            row.outstanding[g["bucket"]] += Decimal(g["out"] or 0)
            row.overdue_principal += Decimal(g["od"] or 0)
    return PortfolioReport(as_of, by, list(rows.values()), total)
