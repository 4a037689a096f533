"""The daily arrears pass over the whole loan book, in SQL over all loans at once.

``loan_book_classify`` and ``loan_provisions_post`` are what the close of business
(``loans.servicing.close_of_business``) runs for a business date. Each is a handful of set-based
statements, never a Python loop per loan. What keeps them fast over a million loans (measured with
``bench/servicing.py``): the book is read once per pass, into a temporary table of the loans at
risk, and the other statements join that; each changed row is written once per statement and
unchanged rows not at all (a late installment: overdue mark and penalty together; a loan: its
arrears figures and group together, by table with a CASE); no column the pass changes is in an
index, so PostgreSQL updates rows in place (HOT, with the room the fillfactor of migration 0009
leaves). The SQL is plain enough for both PostgreSQL and SQLite; the spots where the dialects
differ (days between two dates, exact integer division, JSON) go through ``_Dialect``.

Conventions (decided here, since the specification leaves them open; docs/loans.md sums them up):

* **Income recognition: cash basis.** Interest and penalty are income when they are collected —
  ``repayment_post`` credits 5151/5152 with what a payment settles. The accrued penalty and the
  overdue interest live in the loan book only (``Installment.penalty_due``,
  ``Loan.overdue_interest``, ``Loan.penalty_outstanding``); no accrual entry is posted, so the
  ledger carries no interest or penalty receivable to reconcile.
* **Installments in force** are those of the loan's ``schedule_version``. One is *overdue* on a
  business date when its due date is before that date and something of it is unpaid. A recalled
  loan (``recalled_on`` on or before the business date) owes everything outstanding from
  ``recalled_on``: each unpaid installment counts as due on the earlier of its due date and
  ``recalled_on``.
* **Days past due** = business date − the oldest effective due date of an installment in force
  whose principal or interest is unpaid (0 when none). Unpaid compulsory savings or penalty alone
  do not keep a loan in arrears; they do keep the installment open.
* **Only what changes is written.** A loan's row is rewritten only when its figures change
  (``classified_on`` is then the business date of that pass); the date the whole book was last
  classified is the fund's last done ``CloseOfBusinessRun``. Rewriting a million unchanged rows
  every day is what would make the pass slow.
* **Debt group**: the highest group of the loan's own table (``Loan.debt_groups``, copied from the
  product) whose ``min_days`` the days past due reach, raised to the floors the same table sets:
  a row's ``reschedulings: n`` puts a loan rescheduled n times or more in that group at least, a
  row's ``interest_waived: true`` puts a loan whose interest was waived (``interest_waived_on`` on
  or before the business date) there at least. The group is recomputed every run from these
  facts, so it also comes down when arrears are paid (the floors stay).
* **Penalty**: where the loan's ``penalty_rate`` > 0, each overdue installment's unpaid principal
  bears ``penalty_rate`` % per ``penalty_rate_period``, a month counted as 30 days and a year as
  365 days, for each day after ``penalty_accrued_through`` (or after the effective due date the
  first time) up to and including the business date. The amount is rounded to the whole đồng,
  half up, per installment and per run; ``penalty_accrued_through`` then moves to the business
  date, so that re-running the same date adds nothing. The base is the principal unpaid when the
  run happens (the close of business runs after the day's repayments, so daily runs are exact to
  the day).
* **Provisions**: required = provision rate of the loan's group × outstanding principal, whole
  đồng, half up. The difference from ``provision_held`` is posted per grassroots union and date
  (Dr 6422 / Cr 2293 for an increase, the reverse for a release), the 2293 legs on the loan's
  sub-ledger ``loan:<id>``, all legs on the unions recorded on the loan at disbursement. Closed
  loans release what they still hold; written-off loans are left to the write-off, which uses
  their provision.
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal

from django.db import connection, transaction

from accounting.formatting import format_date_vi
from accounting.idempotency import command_once
from accounting.services import EntrySpec, credit, debit, journal_entries_post_bulk
from fund.accounts import LOAN_LOSS_PROVISION, PROVISION_EXPENSE
from loans.errors import LoanError

logger = logging.getLogger(__name__)

ZERO = Decimal(0)

__all__ = [
    "ClassifySummary",
    "ProvisionSummary",
    "loan_book_classify",
    "loan_provisions_post",
]


class _Dialect:
    """The few SQL spellings PostgreSQL and SQLite do not share. The business date is the
    named parameter %(bd)s."""

    def __init__(self):
        self.pg = connection.vendor == "postgresql"

    def date(self) -> str:
        """The business date."""
        return "CAST(%(bd)s AS date)" if self.pg else "%(bd)s"

    def days(self, later: str, earlier: str) -> str:
        if self.pg:
            return f"({later} - {earlier})"
        return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"

    def idiv(self, a: str, b: str) -> str:
        """Exact integer division of non-negative integers (floor)."""
        if self.pg:
            return f"div({a}, {b})"
        return f"(CAST({a} AS INTEGER) / CAST({b} AS INTEGER))"

    def round_int(self, expr: str) -> str:
        return f"ROUND({expr})" if self.pg else f"CAST(ROUND({expr}) AS INTEGER)"

    def json_equals(self, column: str, name: str) -> str:
        """`column` equal to the JSON parameter `name` (jsonb compares by value on PostgreSQL;
        SQLite compares the stored text, which Django writes the same way for the same table)."""
        if self.pg:
            return f"{column} = CAST(%({name})s AS jsonb)"
        return f"{column} = %({name})s"

    def group1_rate(self, column: str) -> str:
        """The provision rate of the first row (group 1) of a debt-group table."""
        if self.pg:
            return f"CAST({column} -> 0 ->> 'provision_rate' AS numeric)"
        return f"CAST(json_extract({column}, '$[0].provision_rate') AS REAL)"

    def installments_of_pass(self) -> str:
        """FROM the installments (alias i) of the pass's loans (alias l). SQLite's planner,
        without statistics on the temporary table, reads every installment and looks its loan
        up; CROSS JOIN makes it go the other way (SQLite keeps the written order of a CROSS
        JOIN): the few loans at risk, then their installments by the loan_id index."""
        if self.pg:
            return f"loans_installment i JOIN {PASS_LOANS} l ON l.id = i.loan_id"
        return f"{PASS_LOANS} l CROSS JOIN loans_installment i ON l.id = i.loan_id"

    def tune(self) -> None:
        """Settings for the pass's few large statements, for this transaction only: memory for
        their hash joins and aggregates (the server's default of a few MB spills to disk over a
        large book), and no JIT compilation (it took longer than the statements it compiled:
        several seconds each, measured on a million loans)."""
        if self.pg:
            _execute("SET LOCAL work_mem = '64MB'", [])
            _execute("SET LOCAL jit = off", [])


def _check_date(business_date) -> date:
    if not isinstance(business_date, date):
        raise LoanError(
            f"Ngày nghiệp vụ phải là một ngày, nhận được {business_date!r}.",
            field="business_date",
        )
    return business_date


def _execute(sql: str, params) -> int:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.rowcount


def _fetch(sql: str, params) -> list[tuple]:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def _dec(value) -> Decimal:
    return Decimal(value or 0).quantize(Decimal(1))


# --------------------------------------------------------------------------------------------
# Classification


@dataclass
class ClassifySummary:
    fund_id: int
    business_date: date
    loans_processed: int = 0
    newly_overdue_installments: int = 0
    # In force, something unpaid, effective due date before the business date (all of them
    # marked overdue by this pass or an earlier one).
    overdue_installments: int = 0
    loans_overdue: int = 0
    overdue_principal: Decimal = ZERO
    overdue_interest: Decimal = ZERO
    penalty_accrued: Decimal = ZERO
    penalty_outstanding: Decimal = ZERO
    # {group: [loans, outstanding principal]}
    groups: dict[int, list] = field(default_factory=dict)
    # Rows this pass rewrote (a second pass on the same date rewrites none).
    installments_written: int = 0
    loans_written: int = 0
    # Seconds per step, for the run's log and the benchmark.
    timings: dict[str, float] = field(default_factory=dict)

    def as_json(self) -> dict:
        data = asdict(self)
        data["business_date"] = self.business_date.isoformat()
        for k in ("overdue_principal", "overdue_interest", "penalty_accrued"):
            data[k] = int(data[k])
        data["penalty_outstanding"] = int(data["penalty_outstanding"])
        data["groups"] = {str(g): [n, int(s)] for g, (n, s) in sorted(self.groups.items())}
        return data


# The SQL below names its parameters: %(fund)s the fund's id, and the business date through
# ``_Dialect.date()`` (%(bd)s).

# "NOT (i.status = 'paid')" is the predicate of the partial index installment_unpaid_due as
# written: SQLite uses a partial index only for a condition that matches its own, and does not
# read "<>" as the same thing (PostgreSQL rewrites one into the other, so it sees no difference).
_UNPAID = "NOT (i.status = 'paid')"
_IN_FORCE = (
    "l.fund_id = %(fund)s AND l.status = 'active' AND i.schedule_version = l.schedule_version"
    f" AND {_UNPAID}"
)


# The loans one pass looks at, copied once from loans_loan into a temporary table (alias l in
# the pass's statements): the fund's active loans with a late installment (found through the
# index installment_unpaid_due, not by reading loans), recalled before the business date, or
# with arrears figures, a group above 1 or a floor. Any other active loan is in group 1 with
# nothing overdue under any valid table (``validate_debt_groups``: group 1 starts at day 0,
# later groups at a day > 0, rescheduling floors at 1 or more), so the pass neither reads nor
# writes it again; the statements then join a table of the loans at risk instead of reading
# the whole book each time.
PASS_LOANS = "trovon_pass_loan"
_PASS_COLUMNS = (
    "id, fund_id, status, schedule_version, recalled_on, penalty_rate, penalty_rate_period,"
    " debt_groups, reschedulings, interest_waived_on"
)
_CLASSIFY_RISK = (
    "(l.debt_group > 1 OR l.days_past_due > 0 OR l.overdue_principal > 0"
    " OR l.overdue_interest > 0 OR l.penalty_outstanding > 0 OR l.reschedulings > 0"
    " OR l.interest_waived_on IS NOT NULL)"
)


def _pass_loans_create(d: _Dialect, *, params: dict) -> tuple[int, int]:
    """Fill the pass's table of loans at risk; return (loans in it, those recalled before the
    business date). With none, the pass has nothing to read or write; with none recalled, the
    statements leave out the branch of installments due later on recalled loans."""
    _execute(f"DROP TABLE IF EXISTS {PASS_LOANS}", {})
    created = _execute(
        f"CREATE TEMPORARY TABLE {PASS_LOANS} AS SELECT {_PASS_COLUMNS} FROM loans_loan l"
        f" WHERE l.fund_id = %(fund)s AND l.status = 'active' AND ({_CLASSIFY_RISK}"
        f" OR (l.recalled_on IS NOT NULL AND l.recalled_on < {d.date()})"
        f" OR l.id IN (SELECT i.loan_id FROM loans_installment i WHERE {_UNPAID}"
        f" AND i.due_date < {d.date()}))",
        params,
    )
    if d.pg:
        if created == 0:  # PostgreSQL counts the rows it copied
            return 0, 0
        _execute(f"ALTER TABLE {PASS_LOANS} ADD PRIMARY KEY (id)", {})
        _execute(f"ANALYZE {PASS_LOANS}", {})
    loans, recalled = _fetch(
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN l.recalled_on IS NOT NULL"
        f" AND l.recalled_on < {d.date()} THEN 1 ELSE 0 END), 0) FROM {PASS_LOANS} l",
        params,
    )[0]
    return int(loans), int(recalled)


def _pass_loans_drop() -> None:
    _execute(f"DROP TABLE IF EXISTS {PASS_LOANS}", {})


def _late_branches(d: _Dialect, *, recalled: bool = True) -> tuple[str, ...]:
    """Conditions (aliases i, l) of an installment in force with something unpaid whose
    effective due date is before the business date, split so each branch has an index: due
    before the date (``installment_unpaid_due``), or due later on a loan recalled before it
    (``loan_recalled``; left out when the pass has no such loan). The branches are disjoint."""
    bd = d.date()
    due = f"{_IN_FORCE} AND i.due_date < {bd}"
    if not recalled:
        return (due,)
    return (
        due,
        f"{_IN_FORCE} AND i.due_date >= {bd}"
        f" AND l.recalled_on IS NOT NULL AND l.recalled_on < {bd}",
    )


def _effective_due(d: _Dialect) -> str:
    """SQL of an installment's effective due date (alias i, loan l)."""
    return (
        f"(CASE WHEN l.recalled_on IS NOT NULL AND l.recalled_on <= {d.date()}"
        " AND l.recalled_on < i.due_date THEN l.recalled_on ELSE i.due_date END)"
    )


def _penalty_sql(d: _Dialect, eff: str) -> str:
    """Penalty of one installment for the days (start, business date], whole đồng half up.

    x = unpaid principal × rate×10⁴ × days / (10⁶ × days in period); half up = ⌊(2x·den + den) /
    (2·den)⌋ computed in integers so both databases round the same way.
    """
    period_days = "(CASE WHEN l.penalty_rate_period = 'month' THEN 30 ELSE 365 END)"
    start = f"COALESCE(i.penalty_accrued_through, {eff})"
    days = d.days(d.date(), start)
    den = f"(1000000 * {period_days})"
    num = (
        f"(2 * (i.principal_due - i.principal_paid) * {d.round_int('l.penalty_rate * 10000')}"
        f" * {days}"
        f" + {den})"
    )
    return d.idiv(num, f"(2 * {den})")


def _penalty_applies(d: _Dialect, eff: str) -> str:
    """The late installment (i, l) accrues penalty for some days up to the business date."""
    return (
        "(l.penalty_rate > 0 AND i.principal_due > i.principal_paid"
        f" AND COALESCE(i.penalty_accrued_through, {eff}) < {d.date()})"
    )


def _mark_and_accrue(
    d: _Dialect, *, params: dict, recalled: bool = True
) -> tuple[int, int, int, Decimal]:
    """Mark the late installments overdue and accrue their penalty, in one write per row.

    Returns (installments late, newly overdue, written, penalty accrued). The accrual date
    moves even where the day's amount rounds to 0 đồng: rounding is per installment and run,
    and a day is never counted twice. No index has ``overdue`` in it, so that marking one is
    an update in place (HOT) like the daily penalty.
    """
    eff = _effective_due(d)
    applies, pen = _penalty_applies(d, eff), _penalty_sql(d, eff)
    late_n, newly, written, total = 0, 0, 0, ZERO
    for late in _late_branches(d, recalled=recalled):
        n_late, n_new, n_accruing, amount = _fetch(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN i.overdue THEN 0 ELSE 1 END), 0),"
            f" COALESCE(SUM(CASE WHEN {applies} THEN 1 ELSE 0 END), 0),"
            f" COALESCE(SUM(CASE WHEN {applies} THEN {pen} ELSE 0 END), 0)"
            f" FROM {d.installments_of_pass()} WHERE {late}",
            params,
        )[0]
        late_n, newly, total = late_n + int(n_late), newly + int(n_new), total + _dec(amount)
        if n_new or n_accruing:
            written += _execute(
                "UPDATE loans_installment AS i SET overdue = TRUE,"
                f" penalty_due = i.penalty_due + (CASE WHEN {applies} THEN {pen} ELSE 0 END),"
                f" penalty_accrued_through = (CASE WHEN {applies} THEN {d.date()}"
                " ELSE i.penalty_accrued_through END)"
                f" FROM {PASS_LOANS} l WHERE l.id = i.loan_id AND {late}"
                f" AND (i.overdue = FALSE OR {applies})",
                params,
            )
    return late_n, newly, written, total


def _late_by_loan(d: _Dialect, *, recalled: bool = True) -> str:
    """Per loan with a late installment: unpaid principal, interest and penalty on the late
    installments and the oldest effective due date with principal or interest unpaid."""
    eff = _effective_due(d)
    select = (
        "SELECT i.loan_id, i.principal_due - i.principal_paid AS p,"
        " i.interest_due - i.interest_paid AS r, i.penalty_due - i.penalty_paid AS pen,"
        " CASE WHEN i.principal_due > i.principal_paid OR i.interest_due > i.interest_paid"
        f" THEN {eff} END AS due"
        f" FROM {d.installments_of_pass()} WHERE "
    )
    branches = " UNION ALL ".join(select + late for late in _late_branches(d, recalled=recalled))
    return (
        "SELECT loan_id, SUM(p) AS op, SUM(r) AS oi, SUM(pen) AS pen, MIN(due) AS oldest"
        f" FROM ({branches}) u GROUP BY loan_id"
    )


def _tables(
    d: _Dialect, *, params: dict, source: str = "loans_loan", where: str = "l.status = 'active'"
) -> list:
    """The distinct debt-group tables of the fund's loans (alias l) in `source` matching
    `where`: (stored text, parsed table)."""
    rows = _fetch(
        f"SELECT DISTINCT l.debt_groups FROM {source} l WHERE l.fund_id = %(fund)s AND {where}",
        params,
    )
    out = []
    for (raw,) in rows:
        table = json.loads(raw) if isinstance(raw, str) else raw
        out.append((raw if isinstance(raw, str) else json.dumps(raw), table))
    return out


def _by_table(d: _Dialect, tables: list, expr, params: dict, tag: str) -> str:
    """CASE choosing ``expr(table, params)`` by the loan's table (alias l); the expression alone
    when there is one table (the usual case: comparing every loan's JSON is slow)."""
    if len(tables) == 1:
        return expr(tables[0][1])
    whens = []
    for n, (text, table) in enumerate(tables):
        params[f"{tag}{n}"] = text
        whens.append(f"WHEN {d.json_equals('l.debt_groups', f'{tag}{n}')} THEN {expr(table)}")
    return "(CASE " + " ".join(whens) + " END)"


def _group_case(table: list[dict], d: _Dialect, dpd: str) -> str:
    """CASE giving the group of a loan (alias l, days past due `dpd`) under `table`."""
    whens = []
    for row in sorted(table, key=lambda r: r["group"], reverse=True):
        if row["group"] == 1:
            continue
        conds = [f"{dpd} >= {int(row['min_days'])}"]
        if row.get("reschedulings"):
            conds.append(f"l.reschedulings >= {int(row['reschedulings'])}")
        if row.get("interest_waived"):
            conds.append(
                f"(l.interest_waived_on IS NOT NULL AND l.interest_waived_on <= {d.date()})"
            )
        whens.append(f"WHEN {' OR '.join(conds)} THEN {int(row['group'])}")
    return "(CASE " + " ".join(whens) + " ELSE 1 END)"


def _update_arrears_and_groups(
    d: _Dialect, *, fund_id: int, params: dict, recalled: bool = True
) -> int:
    """Rewrite the arrears figures and the debt group of the loans where they change, in one
    write per loan (only those: a loan row written every day for nothing is what makes a daily
    pass over millions of loans slow). ``classified_on`` moves when the arrears figures change.

    Every installment aggregated is late: unpaid with an effective due date before the
    business date. An unpaid penalty sits on such an installment only. Returns the loans
    written.
    """
    late = _late_by_loan(d, recalled=recalled)
    tables = _tables(d, params=params, source=PASS_LOANS, where="TRUE")
    if not tables:
        return 0
    dpd = f"COALESCE({d.days(d.date(), 'a.oldest')}, 0)"
    group = _by_table(d, tables, lambda t: _group_case(t, d, dpd), params, "table")
    new = (
        f"SELECT l.id, COALESCE(a.op, 0) AS op, COALESCE(a.oi, 0) AS oi,"
        f" COALESCE(a.pen, 0) AS pen, {dpd} AS dpd, {group} AS grp"
        f" FROM {PASS_LOANS} l LEFT JOIN ({late}) a ON a.loan_id = l.id"
    )
    arrears_changed = (
        "(loans_loan.overdue_principal <> n.op OR loans_loan.overdue_interest <> n.oi"
        " OR loans_loan.penalty_outstanding <> n.pen OR loans_loan.days_past_due <> n.dpd)"
    )
    return _execute(
        "UPDATE loans_loan SET overdue_principal = n.op, overdue_interest = n.oi,"
        " penalty_outstanding = n.pen, days_past_due = n.dpd, debt_group = n.grp,"
        f" classified_on = (CASE WHEN {arrears_changed} THEN {d.date()}"
        " ELSE loans_loan.classified_on END)"
        f" FROM ({new}) n WHERE loans_loan.id = n.id"
        f" AND ({arrears_changed} OR loans_loan.debt_group <> n.grp)",
        params,
    )


def _summarise(d: _Dialect, summary: ClassifySummary, params: dict) -> None:
    for group, n, s, op, oi, pen, late in _fetch(
        "SELECT debt_group, COUNT(*), COALESCE(SUM(outstanding_principal), 0),"
        " COALESCE(SUM(overdue_principal), 0), COALESCE(SUM(overdue_interest), 0),"
        " COALESCE(SUM(penalty_outstanding), 0),"
        " COALESCE(SUM(CASE WHEN days_past_due > 0 THEN 1 ELSE 0 END), 0)"
        " FROM loans_loan WHERE fund_id = %(fund)s AND status = 'active'"
        " GROUP BY debt_group ORDER BY debt_group",
        params,
    ):
        summary.groups[int(group)] = [int(n), _dec(s)]
        summary.loans_processed += int(n)
        summary.overdue_principal += _dec(op)
        summary.overdue_interest += _dec(oi)
        summary.penalty_outstanding += _dec(pen)
        summary.loans_overdue += int(late)


def loan_book_classify(*, business_date: date, fund_id: int) -> ClassifySummary:
    """Arrears of every active loan of the fund as of the end of `business_date`.

    In one transaction: installments in force that fell due before the date with something
    unpaid are marked overdue; penalties accrue on their unpaid principal up to the date; each
    loan's overdue principal and interest, unpaid penalty, days past due and debt group are
    rewritten where they change. Idempotent: re-running the same date leaves the book as it is.
    """
    bd = _check_date(business_date)
    d = _Dialect()
    summary = ClassifySummary(fund_id=fund_id, business_date=bd)
    params = {"fund": fund_id, "bd": bd}
    clock = [time.perf_counter()]

    def lap(step: str) -> None:
        now = time.perf_counter()
        summary.timings[step] = round(now - clock[0], 3)
        clock[0] = now

    with transaction.atomic():
        d.tune()
        at_risk, recalled = _pass_loans_create(d, params=params)
        lap("loans_at_risk")
        if at_risk:
            # (No loan at risk: every statement below joins the empty table, and would read
            # and write nothing.)
            late, newly, written, accrued = _mark_and_accrue(
                d, params=params, recalled=bool(recalled)
            )
            summary.overdue_installments = late
            summary.newly_overdue_installments, summary.penalty_accrued = newly, accrued
            summary.installments_written = written
        lap("overdue_and_penalty")
        if at_risk:
            summary.loans_written = _update_arrears_and_groups(
                d, fund_id=fund_id, params=params, recalled=bool(recalled)
            )
        _pass_loans_drop()
        lap("arrears_and_groups")
        _summarise(d, summary, params)
        lap("summary")
    logger.info(
        "classify fund=%s date=%s loans=%s newly_overdue=%s penalty=%s",
        fund_id,
        bd,
        summary.loans_processed,
        summary.newly_overdue_installments,
        summary.penalty_accrued,
    )
    return summary


# --------------------------------------------------------------------------------------------
# Provisions


@dataclass
class ProvisionSummary:
    fund_id: int
    business_date: date
    loans_changed: int = 0
    entries_posted: int = 0
    increase: Decimal = ZERO  # Dr 6422 / Cr 2293
    release: Decimal = ZERO  # Dr 2293 / Cr 6422
    replayed: bool = False
    # Seconds per step, for the benchmark.
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def net_change(self) -> Decimal:
        return self.increase - self.release

    @property
    def pk(self) -> str:
        """What ``command_once`` records (≤ 64 characters), read back by ``_load``."""
        return f"{self.loans_changed}:{self.entries_posted}:{self.increase}:{self.release}"

    def as_json(self) -> dict:
        return {
            "loans_changed": self.loans_changed,
            "entries_posted": self.entries_posted,
            "increase": int(self.increase),
            "release": int(self.release),
            "net_change": int(self.net_change),
        }


def _required_case(table: list[dict], d: _Dialect) -> str:
    """CASE giving a loan's (alias l) required provision under `table`: rate × outstanding,
    half up."""
    whens = []
    for row in table:
        r4 = _rate4(row)
        if r4 == 0:
            continue
        expr = d.idiv(f"(l.outstanding_principal * {2 * r4} + 1000000)", "2000000")
        whens.append(f"WHEN {int(row['group'])} THEN {expr}")
    if not whens:
        return "0"
    return "(CASE l.debt_group " + " ".join(whens) + " ELSE 0 END)"


def _rate4(row: dict) -> int:
    return int((Decimal(str(row["provision_rate"])) * 10000).to_integral_value())


PROVISION_LOANS = "trovon_provision_loan"


def _provision_changes(d: _Dialect, *, fund_id: int) -> list[tuple]:
    """Bring ``provision_held`` to the required provision where they differ; return the loans
    changed: (loan id, superior union id, grassroots union id, held before, required).

    The loans looked at: active loans where the provision can differ (a group above 1, a
    provision held, or a table that provisions group 1) and closed loans that still hold one
    (they release it). On PostgreSQL they are read in one scan into a temporary table, then
    each changed row is written once (UPDATE … RETURNING the value it replaces; a row changed
    meanwhile by another transaction is written only if its held amount is still the one
    read); SQLite reads them in place, then writes.
    """
    params: dict = {"fund": fund_id}
    looked_at = (
        "l.fund_id = %(fund)s AND ((l.status = 'active' AND (l.debt_group > 1"
        f" OR l.provision_held <> 0 OR {d.group1_rate('l.debt_groups')} <> 0))"
        " OR (l.status = 'closed' AND l.provision_held <> 0))"
    )

    def required(tables) -> str:
        case = _by_table(d, tables, lambda t: _required_case(t, d), params, "table")
        return f"(CASE WHEN l.status = 'active' THEN {case} ELSE 0 END)" if tables else "0"

    if not d.pg:
        # The embedded database, one writer and a small book: the loans are read where they
        # are (a temporary table would cost four more statements a day than it saves).
        req = required(_tables(d, params=params, where=f"l.status = 'active' AND {looked_at}"))
        which = f"{looked_at} AND l.provision_held <> {req}"
        rows = _fetch(
            "SELECT l.id, l.superior_union_id, l.grassroots_union_id, l.provision_held, "
            f"{req} FROM loans_loan l WHERE {which}",
            params,
        )
        if rows:
            _execute(f"UPDATE loans_loan AS l SET provision_held = {req} WHERE {which}", params)
        return rows
    _execute(f"DROP TABLE IF EXISTS {PROVISION_LOANS}", {})
    created = _execute(
        f"CREATE TEMPORARY TABLE {PROVISION_LOANS} AS SELECT l.id, l.fund_id, l.status,"
        f" l.provision_held AS held, l.debt_groups FROM loans_loan l WHERE {looked_at}",
        params,
    )
    if created == 0:  # no loan to look at: nothing to provision or release
        _execute(f"DROP TABLE IF EXISTS {PROVISION_LOANS}", {})
        return []
    _execute(f"ALTER TABLE {PROVISION_LOANS} ADD PRIMARY KEY (id)", {})
    _execute(f"ANALYZE {PROVISION_LOANS}", {})
    req = required(_tables(d, params=params, source=PROVISION_LOANS))
    rows = _fetch(
        f"UPDATE loans_loan AS l SET provision_held = {req} FROM {PROVISION_LOANS} o"
        f" WHERE l.id = o.id AND l.provision_held = o.held AND l.provision_held <> {req}"
        " RETURNING l.id, l.superior_union_id, l.grassroots_union_id, o.held,"
        " l.provision_held",
        params,
    )
    _execute(f"DROP TABLE IF EXISTS {PROVISION_LOANS}", {})
    return rows


def _entries(*, fund_id: int, bd: date, key: str, changes) -> list[EntrySpec]:
    by_union: dict[tuple[int, int], list[tuple[int, Decimal]]] = defaultdict(list)
    for loan_id, su, gu, held, required in changes:
        by_union[(su, gu)].append((loan_id, _dec(required) - _dec(held)))
    specs = []
    for (su, gu), deltas in sorted(by_union.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        dims = {"fund_id": fund_id, "superior_union_id": su, "grassroots_union_id": gu}
        legs = []
        for loan_id, delta in sorted(deltas):
            sub = f"loan:{loan_id}"
            if delta > 0:
                legs.append(credit(LOAN_LOSS_PROVISION, delta, subledger=sub, **dims))
            elif delta < 0:
                legs.append(debit(LOAN_LOSS_PROVISION, -delta, subledger=sub, **dims))
        net = sum((delta for _, delta in deltas), ZERO)
        if net > 0:
            legs.append(debit(PROVISION_EXPENSE, net, **dims))
        elif net < 0:
            legs.append(credit(PROVISION_EXPENSE, -net, **dims))
        specs.append(
            EntrySpec(
                effective_date=bd,
                legs=legs,
                memo=(
                    f"Trích lập, hoàn nhập dự phòng rủi ro cho vay ngày {format_date_vi(bd)}"
                    f" ({len(deltas)} khoản vay)"
                ),
                idempotency_key=f"{key}:gu:{gu}",
                document_type="loan_provision",
                document_id=f"{fund_id}:{bd.isoformat()}",
            )
        )
    return specs


def loan_provisions_post(
    *, business_date: date, fund_id: int, idempotency_key: str, posted_by=None
) -> ProvisionSummary:
    """Bring every loan's provision to rate(group) × outstanding principal and post the change.

    Keeps ``sum(Loan.provision_held)`` = the fund's 2293 balance (credit), loan by loan on the
    sub-ledgers ``loan:<id>``. One balanced entry per grassroots union whose loans changed,
    posted in one bulk insert with ``provision_held`` in the same transaction. Idempotent per
    key: a second call with the same key (and the same fund and date) returns the first result
    and posts nothing; run after ``loan_book_classify`` for the same date.
    """
    bd = _check_date(business_date)
    d = _Dialect()

    def run() -> ProvisionSummary:
        summary = ProvisionSummary(fund_id=fund_id, business_date=bd)
        clock = time.perf_counter()
        d.tune()
        changes = _provision_changes(d, fund_id=fund_id)
        summary.timings["loans"] = round(time.perf_counter() - clock, 3)
        specs = _entries(fund_id=fund_id, bd=bd, key=idempotency_key, changes=changes)
        summary.timings["entries"] = round(time.perf_counter() - clock, 3)
        if specs:
            summary.entries_posted = journal_entries_post_bulk(entries=specs, posted_by=posted_by)
        summary.timings["posted"] = round(time.perf_counter() - clock, 3)
        summary.loans_changed = len(changes)
        for _, _, _, held, required in changes:
            delta = _dec(required) - _dec(held)
            if delta > 0:
                summary.increase += delta
            else:
                summary.release -= delta
        logger.info(
            "provisions fund=%s date=%s loans=%s +%s -%s",
            fund_id,
            bd,
            summary.loans_changed,
            summary.increase,
            summary.release,
        )
        return summary

    def load(result_id: str) -> ProvisionSummary:
        n, e, inc, rel = result_id.split(":")
        return ProvisionSummary(
            fund_id=fund_id,
            business_date=bd,
            loans_changed=int(n),
            entries_posted=int(e),
            increase=Decimal(inc),
            release=Decimal(rel),
            replayed=True,
        )

    with transaction.atomic():
        return command_once(
            scope="loan_provisions",
            key=idempotency_key,
            payload={"fund_id": fund_id, "business_date": bd.isoformat()},
            run=run,
            load=load,
        )
