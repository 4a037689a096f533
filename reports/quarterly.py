"""The quarterly plan-attainment report: every figure, read set-based (selectors).

``quarterly_report_figures(fund_id=, year=, quarter=, superior_union_id=None)`` returns a plain
``QuarterlyFigures`` that the PDF, the XLSX, the stored JSON and the e-mail all render; nothing
below it runs a query per union (each figure is one aggregate grouped by union), so the fund
report of 45 superior unions and 100,000 loans costs a dozen queries.

Where each figure comes from, and why it reproduces:

* Disbursed amount, loans, borrowers, grassroots unions that borrowed, jobs planned: the loans
  disbursed in the period, by the unions recorded ON THE LOAN at disbursement (never the current
  affiliation), so a later move does not change a past quarter. A member who borrows twice in the
  period counts once; a grassroots union counts once.
* Jobs confirmed: follow-up visits dated in the period (shown beside the planned jobs).
* Plans: ``AnnualPlan``/``PlanSplit`` with the rules of ``fund.attainment.planned_figure`` (a unit
  without a quarter split is measured against its year; a superior union without rows of its own
  adds up its grassroots unions'), computed here from one read of the split.
* "đạt x% kế hoạch" in the headline is the quarter's amount against the YEAR's plan (the
  federation's way: "Quý I/2024 … đạt 25,16% kế hoạch"); the tables also give % of the quarter's
  plan and the year-to-date %.
* Outstanding principal and provisions: the ledger (1283, 2293) at the end of the quarter's last
  day, by the union dimensions on the postings: they only change if someone posts into the
  quarter, which a closed period refuses.
* Debt groups and overdue: the loan book's latest classification (``Loan.debt_group``,
  ``overdue_principal``, ``provision_held``) of the loans disbursed by the quarter's end and still
  active; "nợ quá hạn" is the outstanding principal of loans in group 2 and above (the whole loan
  is classified, Circular 14/2024), the rate is that over the loan book's outstanding. This table
  is the only one that follows the latest classification rather than the quarter's end.
* Capital by source: the 411x sub-ledgers at the end of the quarter (``fund.selectors``).

Headline wording when a figure is missing (the federation's phrasing kept):
no plan for the year → "chưa có kế hoạch năm"; nothing in the same quarter a year earlier →
"cùng kỳ năm trước chưa giải ngân"; the same amount → "bằng cùng kỳ"; nothing disbursed in the
quarter → "Quý I/2024: chưa giải ngân khoản vay nào (…)".
"""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict, namedtuple
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import partial

from django.db import connection
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from accounting.formatting import format_percent, format_vnd, quarter_label
from accounting.models import Account, Posting
from accounting.money import amount_of
from fund.accounts import LOAN_LOSS_PROVISION, LOANS_RECEIVABLE
from fund.attainment import INDICATOR_LABELS, PLAN_FIELD, growth_of, percent_of, quarter_bounds
from fund.errors import FundError
from fund.labels import quarter_name
from fund.models import AnnualPlan, Fund, GrassrootsUnion, PlanSplit, SuperiorUnion
from fund.selectors import capital_by_source
from loans.models import FollowUpVisit, Loan, LoanStatus

ZERO = Decimal(0)
# The indicators in the order the report lists them (labels: fund.attainment.INDICATOR_LABELS).
REPORT_INDICATORS = (
    "disbursed_amount",
    "loans",
    "borrowers",
    "grassroots_unions",
    "jobs_created",
    "jobs_confirmed",
)
MONEY_INDICATORS = {"disbursed_amount"}
DEBT_GROUP_LABELS = {
    1: _l("Nhóm 1 (nợ đủ tiêu chuẩn)"),
    2: _l("Nhóm 2 (nợ cần chú ý)"),
    3: _l("Nhóm 3 (nợ dưới tiêu chuẩn)"),
    4: _l("Nhóm 4 (nợ nghi ngờ)"),
    5: _l("Nhóm 5 (nợ có khả năng mất vốn)"),
}


# --------------------------------------------------------------------------------------------
# The figures


@dataclass
class IndicatorLine:
    indicator: str
    label: str  # lazy: in the language of the page or document that shows it
    plan_year: Decimal
    plan_quarter: Decimal | None  # None: the year's plan is not split by quarter
    quarter: Decimal
    ytd: Decimal
    previous_quarter: Decimal  # the same quarter a year earlier
    previous_ytd: Decimal
    percent_quarter: Decimal | None  # quarter / quarter's plan
    percent_of_year: Decimal | None  # quarter / year's plan
    percent_ytd: Decimal | None  # year to date / year's plan
    growth: Decimal | None  # quarter on the same quarter a year earlier
    growth_ytd: Decimal | None


@dataclass
class UnitRow:
    """One superior union (fund report) or grassroots union (a superior union's report)."""

    unit_id: int
    code: str
    name: str
    plan_year: Decimal
    plan_quarter: Decimal | None
    disbursed: Decimal
    loans: int
    borrowers: int
    grassroots_unions: int
    jobs_created: int
    jobs_confirmed: int
    ytd_disbursed: Decimal
    previous_disbursed: Decimal
    percent_of_year: Decimal | None
    percent_quarter: Decimal | None
    percent_ytd: Decimal | None
    growth: Decimal | None
    outstanding: Decimal  # ledger 1283 at the quarter's end
    provisions: Decimal  # ledger 2293 at the quarter's end
    overdue: Decimal  # loan book: outstanding of loans in debt group >= 2
    overdue_rate: Decimal | None


@dataclass
class DebtGroupRow:
    group: int
    label: str  # lazy, as an indicator's
    loans: int
    outstanding: Decimal
    overdue_principal: Decimal
    provision_held: Decimal
    share: Decimal | None  # of the loan book's outstanding


@dataclass
class CapitalRow:
    code: str
    name: str
    account: str
    amount: Decimal


@dataclass
class QuarterPoint:
    quarter: int
    label: str
    planned: Decimal
    achieved: Decimal


@dataclass
class QuarterlyFigures:
    fund_id: int
    fund_name: str
    federation_name: str
    superior_union_id: int | None
    unit_code: str
    unit_name: str  # the fund's name, or the superior union's
    year: int
    quarter: int
    label: str  # "Quý I/2024"
    start: date
    end: date
    indicators: list[IndicatorLine]
    quarters: list[QuarterPoint]  # plan vs achieved amount of each quarter of the year so far
    outstanding: Decimal
    provisions: Decimal
    provisions_held: Decimal
    loan_book_outstanding: Decimal
    overdue: Decimal
    overdue_principal: Decimal
    overdue_rate: Decimal | None
    classified_on: date | None
    debt_groups: list[DebtGroupRow]
    capital: list[CapitalRow]
    capital_total: Decimal
    unit_kind: str  # "superior_union" (rows of the fund report) or "grassroots_union"
    units: list[UnitRow] = field(default_factory=list)
    headline: str = ""

    def indicator(self, name: str) -> IndicatorLine:
        return next(i for i in self.indicators if i.indicator == name)

    def total_row(self) -> UnitRow:
        """The whole unit (the fund, or the superior union) as a row of its units' table: its
        own indicators and ledger figures, not a sum of the rows (a member who borrowed in two
        unions counts once, a plan of the superior union's own is its own)."""
        amount = self.indicator("disbursed_amount")
        return UnitRow(
            unit_id=self.superior_union_id or self.fund_id,
            code=self.unit_code,
            name=self.unit_name,
            plan_year=amount.plan_year,
            plan_quarter=amount.plan_quarter,
            disbursed=amount.quarter,
            loans=int(self.indicator("loans").quarter),
            borrowers=int(self.indicator("borrowers").quarter),
            grassroots_unions=int(self.indicator("grassroots_unions").quarter),
            jobs_created=int(self.indicator("jobs_created").quarter),
            jobs_confirmed=int(self.indicator("jobs_confirmed").quarter),
            ytd_disbursed=amount.ytd,
            previous_disbursed=amount.previous_quarter,
            percent_of_year=amount.percent_of_year,
            percent_quarter=amount.percent_quarter,
            percent_ytd=amount.percent_ytd,
            growth=amount.growth,
            outstanding=self.outstanding,
            provisions=self.provisions,
            overdue=self.overdue,
            overdue_rate=self.overdue_rate,
        )

    def as_json(self) -> dict:
        """Plain JSON (Decimals as strings, dates ISO) — what the stored report keeps."""
        return json.loads(json.dumps(dataclasses.asdict(self), default=_json_default))


def _json_default(value):
    if isinstance(value, Promise):  # a label, kept in the language the report was made in
        return str(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(type(value))


# --------------------------------------------------------------------------------------------
# The headline


def _count(n) -> str:
    return format_vnd(n, symbol=False)  # 1234 -> "1.234"


def _pct(value: Decimal) -> str:
    return format_percent(abs(value))


def headline_sentence(
    *,
    label: str,
    borrowers: int,
    grassroots_unions: int,
    amount,
    jobs: int,
    percent_of_plan: Decimal | None,
    growth: Decimal | None,
    previous_amount=ZERO,
    unit_name: str = "",
) -> str:
    """The federation's sentence: "Quý I/2024: giải ngân cho 503 đoàn viên của 35 CĐCS, số tiền
    15.220.000.000 ₫ (đạt 25,16% kế hoạch, tăng 3,33% so với cùng kỳ), tạo việc làm mới cho 557
    lao động." A superior union's report names the union after the quarter. In the active
    language (the stored report's: Vietnamese; a page's: the reader's), `label` too."""
    head = f"{label}, {unit_name}" if unit_name else label
    plan = (
        _("chưa có kế hoạch năm")
        if percent_of_plan is None
        else _("đạt %(percent)s kế hoạch") % {"percent": format_percent(percent_of_plan)}
    )
    if Decimal(amount) == 0:
        prev = (
            _("cùng kỳ năm trước %(amount)s") % {"amount": format_vnd(previous_amount)}
            if Decimal(previous_amount)
            else _("cùng kỳ năm trước cũng chưa giải ngân")
        )
        return _("%(head)s: chưa giải ngân khoản vay nào (%(plan)s; %(previous)s).") % {
            "head": head,
            "plan": plan,
            "previous": prev,
        }
    if growth is None:
        comparison = _("cùng kỳ năm trước chưa giải ngân")
    elif growth > 0:
        comparison = _("tăng %(percent)s so với cùng kỳ") % {"percent": _pct(growth)}
    elif growth < 0:
        comparison = _("giảm %(percent)s so với cùng kỳ") % {"percent": _pct(growth)}
    else:
        comparison = _("bằng cùng kỳ")
    return _(
        "%(head)s: giải ngân cho %(borrowers)s đoàn viên của %(unions)s CĐCS, số tiền "
        "%(amount)s (%(plan)s, %(comparison)s), tạo việc làm mới cho %(jobs)s lao động."
    ) % {
        "head": head,
        "borrowers": _count(borrowers),
        "unions": _count(grassroots_unions),
        "amount": format_vnd(amount),
        "plan": plan,
        "comparison": comparison,
        "jobs": _count(jobs),
    }


# --------------------------------------------------------------------------------------------
# Plans, read once


class _Plans:
    """The year's plan and split, read in one query, answering ``planned_figure``'s rules for
    any unit (see fund.attainment.planned_figure)."""

    def __init__(self, fund: Fund, year: int):
        self.plan = AnnualPlan.objects.filter(fund=fund, year=year).first()
        self.fund_rows: dict[int, dict] = {}
        self.su_rows: dict[int, dict[int, dict]] = defaultdict(dict)
        self.gu_rows: dict[int, dict[int, dict]] = defaultdict(dict)
        self.gu_of_su: dict[int, set[int]] = defaultdict(set)
        self._worked_out: dict[tuple, dict[int, Decimal]] = {}
        if self.plan is None:
            return
        fields = PlanSplit.FIGURES
        for row in PlanSplit.objects.filter(plan=self.plan).values(
            "quarter", "superior_union_id", "grassroots_union_id", *fields
        ):
            figs = {f: Decimal(amount_of(row[f])) for f in fields}
            if row["grassroots_union_id"] is not None:
                self.gu_rows[row["grassroots_union_id"]][row["quarter"]] = figs
                self.gu_of_su[row["superior_union_id"]].add(row["grassroots_union_id"])
            elif row["superior_union_id"] is not None:
                self.su_rows[row["superior_union_id"]][row["quarter"]] = figs
            else:
                self.fund_rows[row["quarter"]] = figs

    @staticmethod
    def _with_year(rows: dict[int, dict], fld: str) -> dict[int, Decimal]:
        out = {q: v[fld] for q, v in rows.items()}
        if out and 0 not in out:
            out[0] = sum(out.values(), ZERO)
        return out

    def _by_quarter(self, fld: str, su_id=None, gu_id=None) -> dict[int, Decimal]:
        """{quarter (0: the year): plan} of a unit, worked out once per unit and figure (a
        report's rows ask each several times)."""
        key = (fld, su_id, gu_id)
        if key not in self._worked_out:
            self._worked_out[key] = self._work_out(fld, su_id, gu_id)
        return self._worked_out[key]

    def _work_out(self, fld: str, su_id, gu_id) -> dict[int, Decimal]:
        if self.plan is None:
            return {}
        if gu_id is not None:
            return self._with_year(self.gu_rows.get(gu_id, {}), fld)
        if su_id is not None:
            own = self._with_year(self.su_rows.get(su_id, {}), fld)
            if own:
                return own
            out: dict[int, Decimal] = {}
            for g in self.gu_of_su.get(su_id, ()):
                for q, v in self._with_year(self.gu_rows[g], fld).items():
                    out[q] = out.get(q, ZERO) + v
            return out
        out = {q: v[fld] for q, v in self.fund_rows.items()}
        out[0] = Decimal(amount_of(getattr(self.plan, fld)))
        return out

    def figure(self, fld: str, quarters: tuple[int, ...] | None, su_id=None, gu_id=None):
        by_q = self._by_quarter(fld, su_id, gu_id)
        year_total = by_q.get(0, ZERO)
        if quarters is None or not any(q for q in by_q):
            return year_total
        return sum((by_q.get(q, ZERO) for q in quarters), ZERO)

    def quarter_figure(self, fld: str, quarter: int, su_id=None, gu_id=None) -> Decimal | None:
        """The quarter's own plan, or None when the unit's plan is not split by quarter (the
        report then says "—" rather than pretend the whole year is the quarter's target)."""
        if not self.has_quarters(fld, su_id, gu_id):
            return None
        return self.figure(fld, (quarter,), su_id, gu_id)

    def has_quarters(self, fld: str, su_id=None, gu_id=None) -> bool:
        return any(q for q in self._by_quarter(fld, su_id, gu_id))


# --------------------------------------------------------------------------------------------
# Achieved figures, one grouped query per source


_METRICS = ("amount", "loans", "borrowers", "gus", "jobs")
Unit = namedtuple("Unit", "code name")  # a row's union


def _column(model, name: str) -> str:
    """A model field's column as SQL, qualified by its table."""
    q = connection.ops.quote_name
    return f"{q(model._meta.db_table)}.{q(model._meta.get_field(name).column)}"


def _loan_conditions(fund_id: int, where: dict, **more) -> tuple[list[str], list]:
    """SQL conditions and parameters on the loans: of the fund, `where`'s unions (``{"superior_
    union_id": …}``) and `more` fields, each equal to its value."""
    equal = {"fund": fund_id, **{k.removesuffix("_id"): v for k, v in where.items()}, **more}
    return [f"{_column(Loan, name)} = %s" for name in equal], list(equal.values())


def _by_period(measures: dict[str, str], dated: str, periods) -> tuple[list[str], list[str], list]:
    """Each measure (an SQL aggregate) over the rows whose `dated` column falls in each period:
    the result names ("<measure>_<period>"), the SQL select expressions and their parameters."""
    names, selects, params = [], [], []
    for p, (start, end) in periods.items():
        for measure, expr in measures.items():
            names.append(f"{measure}_{p}")
            selects.append(f"{expr} FILTER (WHERE {dated} >= %s AND {dated} <= %s)")
            params += [start, end]
    return names, selects, params


def _grouping_sets(keys: list[str | None], aggregates: list[str], source: str, params: list):
    """Rows of the `aggregates` (SQL, with `params[0]` their parameters) over `source` ("FROM …
    WHERE …", `params[1]`) grouped by each of `keys` alone (None: the whole of `source`):
    ``(index of the key, its value, *aggregates)``. PostgreSQL reads the rows once (``GROUPING
    SETS``); SQLite, the embedded default, once per key (``UNION ALL``)."""
    select_params, source_params = params
    listed = ", ".join(aggregates)
    if connection.vendor == "postgresql":
        grouped = [(i, k) for i, k in enumerate(keys) if k is not None]
        which = " ".join(f"WHEN GROUPING({k}) = 0 THEN {i}" for i, k in grouped)
        value = " ".join(f"WHEN GROUPING({k}) = 0 THEN {k}" for _i, k in grouped)
        sets = ", ".join(f"({k})" if k is not None else "()" for k in keys)
        sql = (
            f"SELECT CASE {which} ELSE {keys.index(None) if None in keys else -1} END, "
            f"CASE {value} END, {listed} {source} GROUP BY GROUPING SETS ({sets})"
        )
        args = [*select_params, *source_params]
    else:
        sql = " UNION ALL ".join(
            f"SELECT {i}, {k}, {listed} {source} GROUP BY {k}"
            if k is not None
            else f"SELECT {i}, NULL, {listed} {source}"
            for i, k in enumerate(keys)
        )
        args = [*select_params, *source_params] * len(keys)
    with connection.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def _loan_figures(fund_id: int, where: dict, periods: dict[str, tuple[date, date]], group: str):
    """The loans' figures of each period, by `group` (a union dimension of the loan) and for the
    whole of `where`, in ONE statement: ``({group value: figures}, figures of the whole)``, each
    figures a {"<metric>_<period>": value}. The whole is read with the rows, not added up from
    them: a member who borrowed in two unions counts once.

    Written as SQL rather than through the ORM: forty filtered aggregates cost the ORM more to
    build than the database to answer (a superior union's page reads this on every view).
    Both groupings come from one statement (``_grouping_sets``)."""
    q = connection.ops.quote_name
    col = partial(_column, Loan)
    disbursed = col("disbursed_on")
    inside = f"{disbursed} >= %s AND {disbursed} <= %s"
    measures = {  # one per _METRICS
        "amount": f"SUM({col('principal')})",
        "loans": "COUNT(*)",
        "borrowers": f"COUNT(DISTINCT {col('borrower')})",
        "gus": f"COUNT(DISTINCT {col('grassroots_union')})",
        "jobs": f"SUM({col('planned_jobs')})",
    }
    names, selects, select_params = _by_period(measures, disbursed, periods)
    conditions, where_params = _loan_conditions(fund_id, where)
    conditions.append(inside)
    where_params += [min(s for s, _ in periods.values()), max(e for _, e in periods.values())]
    source = f"FROM {q(Loan._meta.db_table)} WHERE {' AND '.join(conditions)}"
    by_group, whole = {}, dict.fromkeys(names, 0)
    # Amounts as Decimal (whole đồng: PostgreSQL's numeric; SQLite may hand back an int or a
    # float), counts as int; a period without loans: 0.
    amounts = [name.startswith("amount") for name in names]
    for which, unit, *values in _grouping_sets(
        [col(group.removesuffix("_id")), None], selects, source, (select_params, where_params)
    ):
        figures = {
            name: (v if type(v) is Decimal else Decimal(v or 0)) if amount else (v or 0)
            for name, amount, v in zip(names, amounts, values, strict=True)
        }
        if which == 1:
            whole = figures
        else:
            by_group[unit] = figures
    return by_group, whole


def _visits(fund_id, where: dict, periods, group: str) -> dict:
    """Jobs confirmed by follow-up visits dated in each period, by the loan's union (`group`):
    ``{union id: {period: jobs}}``, in one statement (as ``_loan_figures``)."""
    q = connection.ops.quote_name
    names, selects, params = _by_period(
        {"jobs": f"SUM({_column(FollowUpVisit, 'jobs_confirmed')})"},
        _column(FollowUpVisit, "visited_on"),
        periods,
    )
    conditions, where_params = _loan_conditions(fund_id, where)
    key = _column(Loan, group)
    joined = f"{_column(FollowUpVisit, 'loan')} = {_column(Loan, 'id')}"
    sql = (
        f"SELECT {key}, {', '.join(selects)} FROM {q(FollowUpVisit._meta.db_table)} "
        f"JOIN {q(Loan._meta.db_table)} ON {joined} "
        f"WHERE {' AND '.join(conditions)} GROUP BY {key}"
    )
    with connection.cursor() as cur:
        cur.execute(sql, [*params, *where_params])
        return {
            unit: {
                name.removeprefix("jobs_"): v or 0 for name, v in zip(names, values, strict=True)
            }
            for unit, *values in cur.fetchall()
        }


def _ledger_by(codes: tuple[str, ...], *, fund_id, end: date, where: dict, group: str):
    """Signed balances at the end of `end` of each account's subtree (`codes`), grouped by a
    union dimension of the postings (`group`): ``{code: {group value: balance}}``, in one
    statement (an account is in a subtree when its path starts with the root's)."""
    q = connection.ops.quote_name
    posting, account = partial(_column, Posting), partial(_column, Account)
    root = "root"  # the subtrees' roots: the accounts table again, under this name
    root_path = f"{root}.{q(Account._meta.get_field('path').column)}"
    root_code = f"{root}.{q(Account._meta.get_field('code').column)}"
    equal = {"fund_id": fund_id, **where}  # the postings' own fund and union columns
    key = posting(group)
    roots = f"{root_code} IN ({', '.join(['%s'] * len(codes))})"
    sql = (
        f"SELECT {key}, "
        + ", ".join(f"SUM({posting('amount')}) FILTER (WHERE {root_code} = %s)" for _ in codes)
        + f" FROM {q(Posting._meta.db_table)}"
        f" JOIN {q(Account._meta.db_table)} ON {account('id')} = {posting('account')}"
        f" JOIN {q(Account._meta.db_table)} {root} ON {roots}"
        f" AND SUBSTR({account('path')}, 1, LENGTH({root_path})) = {root_path}"
        f" WHERE {' AND '.join(f'{posting(name)} = %s' for name in equal)}"
        f" AND {posting('effective_date')} <= %s GROUP BY {key}"
    )
    out: dict[str, dict] = {code: {} for code in codes}
    with connection.cursor() as cur:
        cur.execute(sql, [*codes, *codes, *equal.values(), end])
        for unit, *sums in cur.fetchall():
            for code, v in zip(codes, sums, strict=True):
                out[code][unit] = Decimal(v or 0)
    return out


_BOOK_SUMS = ("loans", "outstanding", "overdue", "overdue_principal", "provision")


def _book(fund_id, where: dict, end: date, group: str):
    """The loan book's classification of the loans active and disbursed by `end`, by `group` (a
    union dimension) and by debt group, in one statement (``_grouping_sets``):
    ``({(unit,): figures}, {(debt group,): figures})``, each figures a {name: value or None}
    (``_BOOK_SUMS`` and the latest ``classified_on``)."""
    q = connection.ops.quote_name
    col = partial(_column, Loan)
    outstanding, debt_group = col("outstanding_principal"), col("debt_group")
    aggregates = [
        "COUNT(*)",
        f"SUM({outstanding})",
        f"SUM({outstanding}) FILTER (WHERE {debt_group} >= %s)",  # overdue: group 2 and up
        f"SUM({col('overdue_principal')})",
        f"SUM({col('provision_held')})",
        f"MAX({col('classified_on')})",
    ]
    conditions, where_params = _loan_conditions(fund_id, where, status=LoanStatus.ACTIVE)
    conditions.append(f"{col('disbursed_on')} <= %s")
    source = f"FROM {q(Loan._meta.db_table)} WHERE {' AND '.join(conditions)}"
    by_unit: dict[tuple, dict] = {}
    by_debt_group: dict[tuple, dict] = {}
    for which, key, n, *sums, classified_on in _grouping_sets(
        [col(group.removesuffix("_id")), debt_group],
        aggregates,
        source,
        ([2], [*where_params, end]),
    ):
        figures = {
            "loans": n,
            **{
                k: None if v is None else Decimal(v)
                for k, v in zip(_BOOK_SUMS[1:], sums, strict=True)
            },
            # SQLite hands a date column's MAX back as its text.
            "classified_on": date.fromisoformat(classified_on)
            if isinstance(classified_on, str)
            else classified_on,
        }
        (by_unit if which == 0 else by_debt_group)[(key,)] = figures
    return by_unit, by_debt_group


def _z(v):
    return v if v is not None else ZERO


# --------------------------------------------------------------------------------------------
# The report's figures


def quarterly_report_figures(
    *, fund_id: int, year: int, quarter: int, superior_union_id: int | None = None
) -> QuarterlyFigures:
    """Every figure of the quarterly plan-attainment report of the fund (or of one superior
    union): the same inputs give the same figures (see the module notes on what each reads)."""
    return _figures(
        fund_id=fund_id, year=year, quarter=quarter, superior_union_id=superior_union_id
    )


def quarterly_unit_row(*, fund_id: int, year: int, quarter: int, grassroots_union_id: int):
    """A grassroots union's row of its superior union's quarterly report (``UnitRow``), read
    from that union's loans, ledger lines and visits only: every figure of a row is grouped by
    the union, so narrowing each read to it gives the report's row at a fraction of the cost
    (a grassroots union's page)."""
    gu = GrassrootsUnion.objects.filter(
        pk=grassroots_union_id, superior_union__fund_id=fund_id
    ).first()
    if gu is None:
        raise FundError("Không tìm thấy công đoàn cơ sở của quỹ.", field="grassroots_union")
    (row,) = _figures(
        fund_id=fund_id,
        year=year,
        quarter=quarter,
        superior_union_id=gu.superior_union_id,
        grassroots_union_id=gu.pk,
    ).units
    return row


def _figures(
    *,
    fund_id: int,
    year: int,
    quarter: int,
    superior_union_id: int | None = None,
    grassroots_union_id: int | None = None,
) -> QuarterlyFigures:
    """The report's figures; `grassroots_union_id` (a union of `superior_union_id`) narrows every
    read to that union: then only its row (``units``) is the report's, the unit's own figures
    being that union's loans against the superior union's plan."""
    if quarter not in (1, 2, 3, 4):
        raise FundError("Quý phải từ 1 đến 4.", field="quarter")
    fund = Fund.objects.filter(pk=fund_id).first()
    if fund is None:
        raise FundError("Không tìm thấy quỹ.", field="fund")
    su = None
    if superior_union_id is not None:
        su = SuperiorUnion.objects.filter(pk=superior_union_id, fund=fund).first()
        if su is None:
            raise FundError("Không tìm thấy công đoàn cấp trên của quỹ.", field="superior_union")
    start, end = quarter_bounds(year, quarter)
    prev_start, prev_end = quarter_bounds(year - 1, quarter)
    periods = {
        "q": (start, end),
        "ytd": (date(year, 1, 1), end),
        "pq": (prev_start, prev_end),
        "pytd": (date(year - 1, 1, 1), prev_end),
    }
    for q in range(1, quarter + 1):
        periods[f"q{q}"] = quarter_bounds(year, q)
    where = {} if su is None else {"superior_union_id": su.pk}
    if grassroots_union_id is not None:
        where["grassroots_union_id"] = grassroots_union_id
    plans = _Plans(fund, year)
    su_id = su.pk if su else None

    # The unit itself.
    # One row per superior union (fund report) or grassroots union (superior union's report).
    # The unit's own ledger, loan book and visit figures are the sums of those rows (every
    # group, None included), so each source is read once.
    if su is None:
        group, unit_kind = "superior_union_id", "superior_union"
    else:
        group, unit_kind = "grassroots_union_id", "grassroots_union"
    vis_unit = _visits(fund_id, where, periods, group.removesuffix("_id"))
    ledger = _ledger_by(
        (LOANS_RECEIVABLE, LOAN_LOSS_PROVISION), fund_id=fund_id, end=end, where=where, group=group
    )
    out_unit, prov_unit = ledger[LOANS_RECEIVABLE], ledger[LOAN_LOSS_PROVISION]
    book_unit, by_group = _book(fund_id, where, end, group)

    by_unit, tot = _loan_figures(fund_id, where, periods, group)
    empty = {f"{m}_{p}": 0 for m in _METRICS for p in periods}
    vis = {p: sum((r[p] for r in vis_unit.values()), 0) for p in periods}
    indicators = []
    metric_of = {
        "disbursed_amount": "amount",
        "loans": "loans",
        "borrowers": "borrowers",
        "grassroots_unions": "gus",
        "jobs_created": "jobs",
    }
    for name in REPORT_INDICATORS:
        pfield = PLAN_FIELD[name]
        if name == "jobs_confirmed":
            got = {p: Decimal(vis[p]) for p in ("q", "ytd", "pq", "pytd")}
        else:
            m = metric_of[name]
            got = {p: Decimal(tot[f"{m}_{p}"]) for p in ("q", "ytd", "pq", "pytd")}
        plan_year = plans.figure(pfield, None, su_id=su_id)
        plan_q = plans.quarter_figure(pfield, quarter, su_id=su_id)
        indicators.append(
            IndicatorLine(
                indicator=name,
                label=INDICATOR_LABELS[name],
                plan_year=plan_year,
                plan_quarter=plan_q,
                quarter=got["q"],
                ytd=got["ytd"],
                previous_quarter=got["pq"],
                previous_ytd=got["pytd"],
                percent_quarter=None if plan_q is None else percent_of(got["q"], plan_q),
                percent_of_year=percent_of(got["q"], plan_year),
                percent_ytd=percent_of(got["ytd"], plan_year),
                growth=growth_of(got["q"], got["pq"]),
                growth_ytd=growth_of(got["ytd"], got["pytd"]),
            )
        )
    quarters = [
        QuarterPoint(
            quarter=q,
            label=quarter_label(q, year),
            planned=plans.quarter_figure("disbursed_amount", q, su_id=su_id) or ZERO,
            achieved=Decimal(tot[f"amount_q{q}"]),
        )
        for q in range(1, quarter + 1)
    ]

    # Ledger and loan book.
    outstanding = sum(out_unit.values(), ZERO)
    provisions = -sum(prov_unit.values(), ZERO)
    book = {
        k: sum((_z(r[k]) for r in book_unit.values()), ZERO)
        for k in ("outstanding", "overdue", "overdue_principal", "provision")
    }
    book_out = _z(book["outstanding"])
    debt_groups = []
    # Every group is shown, a group without loans as a row of zeros.
    for g in sorted(set(DEBT_GROUP_LABELS) | {k for (k,) in by_group}):
        r = by_group.get((g,)) or {"loans": 0}
        debt_groups.append(
            DebtGroupRow(
                group=g,
                label=DEBT_GROUP_LABELS.get(g) or _("Nhóm %(group)s") % {"group": g},
                loans=r["loans"],
                outstanding=_z(r.get("outstanding")),
                overdue_principal=_z(r.get("overdue_principal")),
                provision_held=_z(r.get("provision")),
                share=percent_of(_z(r.get("outstanding")), book_out),
            )
        )
    classified_on = max(
        (r["classified_on"] for r in book_unit.values() if r["classified_on"] is not None),
        default=None,
    )
    capital = []
    if su is None:
        capital = [
            CapitalRow(code=s.code, name=s.name, account=s.account_code, amount=amount)
            for s, amount in capital_by_source(fund=fund, as_of=end).items()
        ]

    # The rows.
    if su is None:
        units = {
            pk: Unit(code, name)
            for pk, code, name in SuperiorUnion.objects.filter(fund=fund).values_list(
                "id", "code", "name"
            )
        }
    else:
        gus = GrassrootsUnion.objects.values_list("id", "code", "name")
        if grassroots_union_id is not None:
            units = {pk: Unit(code, name) for pk, code, name in gus.filter(pk=grassroots_union_id)}
        else:
            # Its grassroots unions now, and any that lent, held a balance or had a plan in it
            # before moving away (read only when there are such).
            units = {pk: Unit(code, name) for pk, code, name in gus.filter(superior_union=su)}
            moved = set(by_unit) | {k for (k,) in book_unit} | {k for k, v in out_unit.items() if v}
            moved |= plans.gu_of_su.get(su.pk, set())
            moved -= {*units, None}
            if moved:
                units.update((pk, Unit(code, name)) for pk, code, name in gus.filter(pk__in=moved))
    rows = []
    for uid, u in sorted(units.items(), key=lambda kv: kv[1].code):
        f = by_unit.get(uid, empty)
        b = book_unit.get((uid,), {})
        unit_plan = {"su_id": uid} if su is None else {"gu_id": uid}
        plan_year = plans.figure("disbursed_amount", None, **unit_plan)
        plan_q = plans.quarter_figure("disbursed_amount", quarter, **unit_plan)
        amount, ytd, prev = (
            Decimal(f["amount_q"]),
            Decimal(f["amount_ytd"]),
            Decimal(f["amount_pq"]),
        )
        book_unit_out = _z(b.get("outstanding"))
        rows.append(
            UnitRow(
                unit_id=uid,
                code=u.code,
                name=u.name,
                plan_year=plan_year,
                plan_quarter=plan_q,
                disbursed=amount,
                loans=f["loans_q"],
                borrowers=f["borrowers_q"],
                grassroots_unions=f["gus_q"],
                jobs_created=f["jobs_q"],
                jobs_confirmed=vis_unit.get(uid, {}).get("q", 0),
                ytd_disbursed=ytd,
                previous_disbursed=prev,
                percent_of_year=percent_of(amount, plan_year),
                percent_quarter=None if plan_q is None else percent_of(amount, plan_q),
                percent_ytd=percent_of(ytd, plan_year),
                growth=growth_of(amount, prev),
                outstanding=out_unit.get(uid, ZERO),
                provisions=-prov_unit.get(uid, ZERO),
                overdue=_z(b.get("overdue")),
                overdue_rate=percent_of(_z(b.get("overdue")), book_unit_out),
            )
        )

    amount = indicators[0]
    figures = QuarterlyFigures(
        fund_id=fund.pk,
        fund_name=fund.name,
        federation_name=fund.federation_name,
        superior_union_id=su_id,
        unit_code=su.code if su else fund.code,
        unit_name=su.name if su else fund.name,
        year=year,
        quarter=quarter,
        label=quarter_label(quarter, year),
        start=start,
        end=end,
        indicators=indicators,
        quarters=quarters,
        outstanding=outstanding,
        provisions=provisions,
        provisions_held=_z(book["provision"]),
        loan_book_outstanding=book_out,
        overdue=_z(book["overdue"]),
        overdue_principal=_z(book["overdue_principal"]),
        overdue_rate=percent_of(_z(book["overdue"]), book_out),
        classified_on=classified_on,
        debt_groups=debt_groups,
        capital=capital,
        capital_total=sum((c.amount for c in capital), ZERO),
        unit_kind=unit_kind,
        units=rows,
    )
    figures.headline = headline_sentence(
        label=quarter_name(quarter, year),
        borrowers=int(figures.indicator("borrowers").quarter),
        grassroots_unions=int(figures.indicator("grassroots_unions").quarter),
        amount=amount.quarter,
        jobs=int(figures.indicator("jobs_created").quarter),
        percent_of_plan=amount.percent_of_year,
        growth=amount.growth,
        previous_amount=amount.previous_quarter,
        unit_name=su.name if su else "",
    )
    return figures
