"""The figures plan attainment reads (disbursed amount, borrowers, loans, unions, jobs),
registered with ``fund.attainment`` in ``apps.ready``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import Sum

from accounting.money import ZERO
from fund.models import Fund, GrassrootsUnion, SuperiorUnion
from loans.models import (
    FollowUpVisit,
    Loan,
)

# --------------------------------------------------------------------------------------------
# Plan attainment figures (fund.attainment calls these with a unit and a date range)


def _disbursed(*, fund, superior_union=None, grassroots_union=None, start: date, end: date):
    """Loans disbursed in [start, end], by the unions recorded on the loan at disbursement."""
    qs = Loan.objects.filter(fund=fund, disbursed_on__gte=start, disbursed_on__lte=end)
    if superior_union is not None:
        qs = qs.filter(superior_union=superior_union)
    if grassroots_union is not None:
        qs = qs.filter(grassroots_union=grassroots_union)
    return qs.order_by()


def disbursed_amount_between(**unit_and_period) -> Decimal:
    return _disbursed(**unit_and_period).aggregate(s=Sum("principal"))["s"] or ZERO


def borrowers_between(**unit_and_period) -> int:
    return _disbursed(**unit_and_period).values("borrower_id").distinct().count()


def loans_between(**unit_and_period) -> int:
    return _disbursed(**unit_and_period).count()


def grassroots_unions_between(**unit_and_period) -> int:
    return _disbursed(**unit_and_period).values("grassroots_union_id").distinct().count()


def jobs_created_between(**unit_and_period) -> int:
    return _disbursed(**unit_and_period).aggregate(s=Sum("planned_jobs"))["s"] or 0


def jobs_confirmed_between(
    *,
    fund: Fund,
    superior_union: SuperiorUnion | None = None,
    grassroots_union: GrassrootsUnion | None = None,
    start: date,
    end: date,
) -> int:
    """Jobs confirmed by follow-up visits made in [start, end] (any disbursement date)."""
    qs = FollowUpVisit.objects.filter(loan__fund=fund, visited_on__gte=start, visited_on__lte=end)
    if superior_union is not None:
        qs = qs.filter(loan__superior_union=superior_union)
    if grassroots_union is not None:
        qs = qs.filter(loan__grassroots_union=grassroots_union)
    return qs.aggregate(s=Sum("jobs_confirmed"))["s"] or 0


def disbursed_by_quarter(*, fund: Fund, year: int) -> dict[int, Decimal]:
    """{quarter: principal disbursed} of the fund's loans in `year`, in one query (the
    dashboard's chart; the same loans as ``disbursed_amount_between``)."""
    return {
        q: amount for q, (amount, _jobs) in disbursements_by_quarter(fund=fund, year=year).items()
    }


def disbursements_by_quarter(*, fund: Fund, year: int) -> dict[int, tuple[Decimal, int]]:
    """{quarter: (principal disbursed, jobs planned)} of the fund's loans disbursed in `year`,
    in one grouped read of the covering index: per quarter the figures of
    ``disbursed_amount_between`` and ``jobs_created_between``."""
    from django.db.models.functions import ExtractQuarter

    rows = (
        _disbursed(fund=fund, start=date(year, 1, 1), end=date(year, 12, 31))
        .annotate(q=ExtractQuarter("disbursed_on"))
        .values("q")
        .annotate(s=Sum("principal"), j=Sum("planned_jobs"))
        .values_list("q", "s", "j")
    )
    out = {q: (ZERO, 0) for q in range(1, 5)}
    out.update({int(q): (s, j) for q, s, j in rows})
    return out


INDICATOR_SOURCES = {
    "disbursed_amount": disbursed_amount_between,
    "borrowers": borrowers_between,
    "loans": loans_between,
    "grassroots_unions": grassroots_unions_between,
    "jobs_created": jobs_created_between,
    "jobs_confirmed": jobs_confirmed_between,
}
