"""Plan attainment: planned against achieved for a unit, a period and an indicator.

The fund does not know about loans. The loans layer registers, at start-up, one function per
indicator that returns the achieved figure for a unit and a date range::

    register_indicator_source("disbursed_amount", disbursed_between)

    def disbursed_between(*, fund, superior_union=None, grassroots_union=None, start, end): ...

An indicator nobody has registered has achieved nothing yet (0).

Planned figures come from the annual plan and its split (``PlanSplit``). A unit without a
quarter split is measured, for a quarter or year-to-date, against its whole year's plan — the
way the federation reports ("Q1/2024: 25,16% of the year's plan"). ``percent_of_year`` always
gives that figure as well.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext_lazy as _

from accounting.formatting import format_percent
from accounting.money import amount_of
from fund.errors import FundError
from fund.models import AnnualPlan, Fund, GrassrootsUnion, PlanSplit, SuperiorUnion

INDICATORS = (
    "disbursed_amount",
    "borrowers",
    "loans",
    "grassroots_unions",
    "jobs_created",  # jobs planned on the loans disbursed
    "jobs_confirmed",  # jobs confirmed on follow-up visits
)

# The one home of the indicators' names: the web pages, the quarterly report's PDF and XLSX.
INDICATOR_LABELS = {
    "disbursed_amount": _("Doanh số cho vay (đồng)"),
    "borrowers": _("Số lượt thành viên được vay"),
    "loans": _("Số khoản vay"),
    "grassroots_unions": _("Số CĐCS có thành viên vay"),
    "jobs_created": _("Việc làm tạo mới (theo dự án vay)"),
    "jobs_confirmed": _("Việc làm tạo mới (đã xác nhận sau kiểm tra)"),
}

# The plan figure each indicator is measured against.
PLAN_FIELD = {
    "disbursed_amount": "disbursed_amount",
    "borrowers": "borrowers",
    "loans": "loans",
    "grassroots_unions": "grassroots_unions",
    "jobs_created": "jobs",
    "jobs_confirmed": "jobs",
}

PERIODS = ("quarter", "ytd", "year")

_SOURCES: dict[str, Callable] = {}


def register_indicator_source(indicator: str, fn: Callable) -> None:
    """Make `fn(*, fund, superior_union=None, grassroots_union=None, start, end)` the source of
    the achieved figure of `indicator` (registering again replaces it)."""
    if indicator not in INDICATORS:
        raise ValueError(f"Unknown indicator {indicator!r}; expected one of {INDICATORS}")
    _SOURCES[indicator] = fn


def achieved(
    *,
    fund: Fund,
    indicator: str,
    start: date,
    end: date,
    superior_union: SuperiorUnion | None = None,
    grassroots_union: GrassrootsUnion | None = None,
):
    _check_indicator(indicator)
    fn = _SOURCES.get(indicator)
    if fn is None:
        return 0
    return fn(
        fund=fund,
        superior_union=superior_union,
        grassroots_union=grassroots_union,
        start=start,
        end=end,
    )


def _check_indicator(indicator: str) -> None:
    if indicator not in INDICATORS:
        raise FundError(
            _("Chỉ tiêu không hợp lệ: %(indicator)s."),
            field="indicator",
            params={"indicator": indicator},
        )


# --------------------------------------------------------------------------------------------
# Planned figures


def quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    start = date(year, 3 * quarter - 2, 1)
    end = date(year, 12, 31) if quarter == 4 else date(year, 3 * quarter + 1, 1) - timedelta(1)
    return start, end


def period_bounds(year: int, period: str, quarter: int | None) -> tuple[date, date]:
    if period == "year":
        return date(year, 1, 1), date(year, 12, 31)
    if quarter not in (1, 2, 3, 4):
        raise FundError(_("Kỳ quý hoặc lũy kế cần số quý từ 1 đến 4."), field="quarter")
    if period == "quarter":
        return quarter_bounds(year, quarter)
    if period == "ytd":
        return date(year, 1, 1), quarter_bounds(year, quarter)[1]
    raise _bad_period(period)


def _bad_period(period) -> FundError:
    return FundError(_("Kỳ không hợp lệ: %(period)s."), field="period", params={"period": period})


def _unit_rows(plan: AnnualPlan, superior_union, grassroots_union):
    rows = PlanSplit.objects.filter(plan=plan)
    if grassroots_union is not None:
        return rows.filter(grassroots_union=grassroots_union)
    if superior_union is not None:
        return rows.filter(superior_union=superior_union, grassroots_union__isnull=True)
    return rows.filter(superior_union__isnull=True, grassroots_union__isnull=True)


def planned_figure(
    *,
    fund: Fund,
    year: int,
    field: str,
    quarters: tuple[int, ...] | None = None,
    superior_union: SuperiorUnion | None = None,
    grassroots_union: GrassrootsUnion | None = None,
) -> Decimal:
    """A unit's plan for the whole year (`quarters` None) or the sum of some quarters.

    A unit's year figure is its year row, else the sum of its quarter rows; a superior union
    with no rows of its own adds up its grassroots unions' rows. Without a quarter split, the
    unit's year figure stands for any part of the year.
    """
    by_quarter = planned_by_quarter(
        fund=fund,
        year=year,
        field=field,
        superior_union=superior_union,
        grassroots_union=grassroots_union,
    )
    return planned_figure_of(by_quarter, quarters)


def planned_figure_of(by_quarter: dict[int, Decimal], quarters: tuple[int, ...] | None) -> Decimal:
    """The plan of the whole year (`quarters` None) or of some quarters, from
    ``planned_by_quarter``'s rows (the year's figure where the year is not split)."""
    year_total = by_quarter.get(0, Decimal(0))
    if quarters is None or not any(q for q in by_quarter):
        return year_total
    return sum((by_quarter.get(q, Decimal(0)) for q in quarters), Decimal(0))


def planned_by_quarter(
    *,
    fund: Fund,
    year: int,
    field: str,
    superior_union: SuperiorUnion | None = None,
    grassroots_union: GrassrootsUnion | None = None,
) -> dict[int, Decimal]:
    """A unit's plan rows as {0: the year, q: quarter q} (quarters only where split), read in
    two queries; ``planned_figure`` gives the figure of any part of the year from it."""
    plan = AnnualPlan.objects.filter(fund=fund, year=year).first()
    if plan is None:
        return {}
    if superior_union is None and grassroots_union is None:
        return fund_plan_by_quarter(plan=plan, fields=(field,))[field]
    by_quarter = _by_quarter(_unit_rows(plan, superior_union, grassroots_union), field)
    if not by_quarter and grassroots_union is None:
        by_quarter = _gu_sum(plan, superior_union, field)
    return {q: Decimal(v) for q, v in by_quarter.items()}


def fund_plan_by_quarter(
    *, plan: AnnualPlan | None, fields: tuple[str, ...]
) -> dict[str, dict[int, Decimal]]:
    """``planned_by_quarter`` of the whole fund for several plan fields at once: {field: {0: the
    year, q: quarter q}}, the quarters read in one query ({} for each field without a plan)."""
    if plan is None:
        return {f: {} for f in fields}
    out: dict[str, dict[int, Decimal]] = {f: {} for f in fields}
    for quarter, *values in _unit_rows(plan, None, None).values_list("quarter", *fields):
        for f, v in zip(fields, values, strict=True):
            out[f][quarter] = Decimal(v)
    for f in fields:
        out[f][0] = Decimal(amount_of(getattr(plan, f)))
    return out


def _by_quarter(rows, field: str) -> dict[int, Decimal]:
    """{quarter: figure} of one unit's rows, with 0 (the year) filled in from the quarters."""
    out = {q: Decimal(v) for q, v in rows.values_list("quarter", field)}
    if out and 0 not in out:
        out[0] = sum(out.values(), Decimal(0))
    return out


def _gu_sum(plan: AnnualPlan, superior_union: SuperiorUnion, field: str) -> dict[int, Decimal]:
    rows = PlanSplit.objects.filter(plan=plan, superior_union=superior_union).exclude(
        grassroots_union=None
    )
    per_gu: dict[int, dict[int, Decimal]] = {}
    for gu_id, q, v in rows.values_list("grassroots_union_id", "quarter", field):
        per_gu.setdefault(gu_id, {})[q] = Decimal(v)
    out: dict[int, Decimal] = {}
    for figs in per_gu.values():
        if 0 not in figs:
            figs[0] = sum(figs.values(), Decimal(0))
        for q, v in figs.items():
            out[q] = out.get(q, Decimal(0)) + v
    return out


# --------------------------------------------------------------------------------------------
# Attainment


def percent_of(part, whole) -> Decimal | None:
    """``part / whole`` in percent, two places (half up); None when `whole` is 0."""
    whole = Decimal(whole)
    if whole == 0:
        return None
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.01"), ROUND_HALF_UP)


def growth_of(current, previous) -> Decimal | None:
    """Growth on the same period a year earlier, in percent; None when there was nothing."""
    previous = Decimal(previous)
    if previous == 0:
        return None
    return ((Decimal(current) - previous) * 100 / previous).quantize(Decimal("0.01"), ROUND_HALF_UP)


@dataclass(frozen=True)
class Attainment:
    indicator: str
    period: str
    year: int
    quarter: int | None
    start: date
    end: date
    planned: Decimal
    achieved: Decimal
    percent: Decimal | None  # achieved / planned
    previous: Decimal  # achieved in the same period a year earlier
    growth_percent: Decimal | None  # achieved on previous
    previous_planned: Decimal
    year_planned: Decimal
    percent_of_year: Decimal | None  # achieved / the whole year's plan

    @property
    def percent_display(self) -> str:
        return percent_display(self.percent)

    @property
    def growth_display(self) -> str:
        return growth_display(self.growth_percent)

    @property
    def percent_of_year_display(self) -> str:
        return percent_display(self.percent_of_year)


def attainment(
    *,
    fund: Fund,
    indicator: str,
    year: int,
    quarter: int | None = None,
    period: str = "quarter",
    superior_union: SuperiorUnion | None = None,
    grassroots_union: GrassrootsUnion | None = None,
    compare: bool = True,
    plan_of_year: dict[int, Decimal] | None = None,
    achieved_figure: Decimal | int | None = None,
) -> Attainment:
    """Planned, achieved, % of plan and growth on the same period last year, for one unit.

    ``compare=False`` skips last year (``previous`` and ``previous_planned`` 0, no growth) for
    callers that do not show it, such as the dashboard. ``plan_of_year``: the unit's
    ``planned_by_quarter`` of `year` for the indicator's plan field, when the caller has it;
    ``achieved_figure``: the period's achieved figure, when the caller read it with others.
    """
    _check_indicator(indicator)
    if period not in PERIODS:
        raise _bad_period(period)
    start, end = period_bounds(year, period, quarter)
    prev_start, prev_end = period_bounds(year - 1, period, quarter)
    quarters = {
        "year": None,
        "quarter": (quarter,),
        "ytd": tuple(range(1, (quarter or 4) + 1)),
    }[period]
    field = PLAN_FIELD[indicator]
    unit = {"superior_union": superior_union, "grassroots_union": grassroots_union}
    this_year = plan_of_year
    if this_year is None:
        this_year = planned_by_quarter(fund=fund, year=year, field=field, **unit)
    planned = planned_figure_of(this_year, quarters)
    year_planned = planned_figure_of(this_year, None)
    if achieved_figure is None:
        achieved_figure = achieved(fund=fund, indicator=indicator, start=start, end=end, **unit)
    got = Decimal(achieved_figure)
    previous_planned = prev = Decimal(0)
    if compare:
        previous_planned = planned_figure_of(
            planned_by_quarter(fund=fund, year=year - 1, field=field, **unit), quarters
        )
        prev = Decimal(
            achieved(fund=fund, indicator=indicator, start=prev_start, end=prev_end, **unit)
        )
    return Attainment(
        indicator=indicator,
        period=period,
        year=year,
        quarter=quarter if period != "year" else None,
        start=start,
        end=end,
        planned=planned,
        achieved=got,
        percent=percent_of(got, planned),
        previous=prev,
        growth_percent=growth_of(got, prev),
        previous_planned=previous_planned,
        year_planned=year_planned,
        percent_of_year=percent_of(got, year_planned),
    )


def percent_display(value: Decimal | None) -> str:
    """Vietnamese presentation: Decimal('25.16') -> '25,16%'; None -> '—'."""
    return "—" if value is None else format_percent(value)


def growth_display(value: Decimal | None) -> str:
    """Signed: Decimal('3.33') -> '+3,33%', Decimal('-1.5') -> '-1,50%'; None -> '—'."""
    if value is None:
        return "—"
    return ("+" if value > 0 else "") + format_percent(value)
