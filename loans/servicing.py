"""The daily arrears pass over the whole loan book, in SQL over all loans at once.

``loan_book_classify`` and ``loan_provisions_post`` are what the close of business
(``loans.cob``) runs for a business date. Each is a handful of set-based statements (UPDATE …
FROM an aggregate, one UPDATE per distinct debt-group table), never a Python loop per loan, so a
run over a million active loans is a few statements. The SQL is plain enough for both PostgreSQL
and SQLite; the three spots where the dialects differ (days between two dates, exact integer
division, a JSON column as text) go through ``_Dialect``.

Conventions (decisions of this module; DESIGN.md §1 leaves them open):

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

from .errors import LoanError

logger = logging.getLogger(__name__)

PROVISION_ACCOUNT = "2293"
PROVISION_EXPENSE = "6422"
DAYS_IN_PERIOD = {"month": 30, "year": 365}
ZERO = Decimal(0)

__all__ = [
    "ClassifySummary",
    "ProvisionSummary",
    "loan_book_classify",
    "loan_provisions_post",
]


class _Dialect:
    """The few SQL spellings PostgreSQL and SQLite do not share."""

    def __init__(self):
        self.pg = connection.vendor == "postgresql"

    def date(self) -> str:
        """A date parameter."""
        return "CAST(%s AS date)" if self.pg else "%s"

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

    def json_equals(self, column: str) -> str:
        """`column` equal to a JSON parameter (jsonb compares by value on PostgreSQL; SQLite
        compares the stored text, which Django writes the same way for the same table)."""
        return f"{column} = CAST(%s AS jsonb)" if self.pg else f"{column} = %s"

    def for_update(self) -> str:
        return " FOR UPDATE" if self.pg else ""


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
    overdue_installments: int = 0
    loans_overdue: int = 0
    overdue_principal: Decimal = ZERO
    overdue_interest: Decimal = ZERO
    penalty_accrued: Decimal = ZERO
    penalty_outstanding: Decimal = ZERO
    # {group: [loans, outstanding principal]}
    groups: dict[int, list] = field(default_factory=dict)
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


def _effective_due(d: _Dialect) -> str:
    """SQL of an installment's effective due date (alias i, loan l); one date parameter."""
    return (
        "(CASE WHEN l.recalled_on IS NOT NULL AND l.recalled_on <= "
        + d.date()
        + " AND l.recalled_on < i.due_date THEN l.recalled_on ELSE i.due_date END)"
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


def _accrue_penalties(d: _Dialect, *, fund_id: int, bd: date) -> Decimal:
    eff = _effective_due(d)  # one date parameter
    start = f"COALESCE(i.penalty_accrued_through, {eff})"
    where = (
        "l.fund_id = %s AND l.status = 'active' AND l.penalty_rate > 0"
        " AND i.schedule_version = l.schedule_version AND i.status <> 'paid'"
        " AND i.principal_due > i.principal_paid"
        f" AND {eff} < {d.date()} AND {start} < {d.date()}"
    )
    where_params = [fund_id, bd, bd, bd, bd]
    pen, pen_params = _penalty_sql(d, eff), [bd, bd]
    total = _fetch(
        f"SELECT COALESCE(SUM({pen}), 0) FROM loans_installment i"
        f" JOIN loans_loan l ON l.id = i.loan_id WHERE {where}",
        pen_params + where_params,
    )[0][0]
    # The accrual date moves even where the day's amount rounds to 0 đồng: rounding is per
    # installment and run, and a day is never counted twice.
    _execute(
        f"UPDATE loans_installment AS i SET penalty_due = i.penalty_due + {pen},"
        f" penalty_accrued_through = {d.date()}"
        f" FROM loans_loan l WHERE l.id = i.loan_id AND {where}",
        pen_params + [bd] + where_params,
    )
    return _dec(total)


def _mark_overdue(d: _Dialect, *, fund_id: int, bd: date) -> int:
    in_force = (
        "SELECT 1 FROM loans_loan l WHERE l.id = loans_installment.loan_id AND l.fund_id = %s"
        " AND l.status = 'active' AND l.schedule_version = loans_installment.schedule_version"
    )
    n = _execute(
        "UPDATE loans_installment SET overdue = TRUE WHERE overdue = FALSE AND status <> 'paid'"
        f" AND due_date < {d.date()} AND EXISTS ({in_force})",
        [bd, fund_id],
    )
    n += _execute(
        "UPDATE loans_installment SET overdue = TRUE WHERE overdue = FALSE AND status <> 'paid'"
        f" AND EXISTS ({in_force} AND l.recalled_on IS NOT NULL AND l.recalled_on < {d.date()})",
        [fund_id, bd],
    )
    return n


def _update_arrears(d: _Dialect, *, fund_id: int, bd: date) -> None:
    """Rewrite the arrears figures of the loans whose figures change (only those: a loan row
    written every day for nothing is what makes a daily pass over millions of loans slow).

    Every installment aggregated is late: unpaid with a due date before the business date, or
    of a loan recalled before it. An unpaid penalty sits on such an installment only.
    """
    eff = _effective_due(d)  # one date parameter
    unpaid = (
        "SELECT i.loan_id, i.principal_due - i.principal_paid AS p,"
        " i.interest_due - i.interest_paid AS r, i.penalty_due - i.penalty_paid AS pen,"
        f" CASE WHEN i.principal_due > i.principal_paid OR i.interest_due > i.interest_paid"
        f" THEN {eff} END AS due"
        " FROM loans_installment i JOIN loans_loan l ON l.id = i.loan_id"
        " WHERE l.fund_id = %s AND l.status = 'active' AND i.schedule_version = l.schedule_version"
        " AND i.status <> 'paid'"
    )
    agg = (
        "SELECT loan_id, SUM(p) AS op, SUM(r) AS oi, SUM(pen) AS pen, MIN(due) AS oldest FROM ("
        f"{unpaid} AND i.due_date < {d.date()}"
        f" UNION ALL {unpaid} AND i.due_date >= {d.date()}"
        f" AND l.recalled_on IS NOT NULL AND l.recalled_on < {d.date()}"
        ") u GROUP BY loan_id"
    )
    agg_params = [bd, fund_id, bd, bd, fund_id, bd, bd]
    dpd = f"COALESCE({d.days(d.date(), 'a.oldest')}, 0)"
    _execute(
        "UPDATE loans_loan SET overdue_principal = a.op, overdue_interest = a.oi,"
        f" penalty_outstanding = a.pen, days_past_due = {dpd}, classified_on = {d.date()}"
        f" FROM ({agg}) a WHERE loans_loan.id = a.loan_id"
        " AND (loans_loan.overdue_principal <> a.op OR loans_loan.overdue_interest <> a.oi"
        f" OR loans_loan.penalty_outstanding <> a.pen OR loans_loan.days_past_due <> {dpd})",
        [bd, bd] + agg_params + [bd],
    )
    # Loans that had arrears and have none left.
    _execute(
        "UPDATE loans_loan SET overdue_principal = 0, overdue_interest = 0,"
        f" penalty_outstanding = 0, days_past_due = 0, classified_on = {d.date()}"
        " WHERE fund_id = %s AND status = 'active' AND (overdue_principal <> 0"
        " OR overdue_interest <> 0 OR penalty_outstanding <> 0 OR days_past_due <> 0)"
        " AND NOT EXISTS (SELECT 1 FROM loans_installment i WHERE i.loan_id = loans_loan.id"
        " AND i.schedule_version = loans_loan.schedule_version AND i.status <> 'paid'"
        f" AND (i.due_date < {d.date()} OR (loans_loan.recalled_on IS NOT NULL"
        f" AND loans_loan.recalled_on < {d.date()})))",
        [bd, fund_id, bd, bd],
    )


def _tables(d: _Dialect, *, fund_id: int, statuses=("active",)) -> list[tuple[str, list]]:
    """The distinct debt-group tables of the fund's loans: (stored text, parsed table)."""
    marks = ", ".join(["%s"] * len(statuses))
    rows = _fetch(
        f"SELECT DISTINCT debt_groups FROM loans_loan WHERE fund_id = %s AND status IN ({marks})",
        [fund_id, *statuses],
    )
    out = []
    for (raw,) in rows:
        table = json.loads(raw) if isinstance(raw, str) else raw
        out.append((raw if isinstance(raw, str) else json.dumps(raw), table))
    return out


def _group_case(table: list[dict], d: _Dialect, bd: date) -> tuple[str, list]:
    """CASE giving the group of a loan (columns of loans_loan) under `table`, with floors."""
    whens, params = [], []
    for row in sorted(table, key=lambda r: r["group"], reverse=True):
        if row["group"] == 1:
            continue
        conds = ["days_past_due >= %s"]
        params.append(int(row["min_days"]))
        if row.get("reschedulings"):
            conds.append("reschedulings >= %s")
            params.append(int(row["reschedulings"]))
        if row.get("interest_waived"):
            conds.append(f"(interest_waived_on IS NOT NULL AND interest_waived_on <= {d.date()})")
            params.append(bd)
        whens.append(f"WHEN {' OR '.join(conds)} THEN {int(row['group'])}")
    return "(CASE " + " ".join(whens) + " ELSE 1 END)", params


def _table_filter(d: _Dialect, tables: list, text: str) -> tuple[str, list]:
    """The condition picking the loans of one table; none when the fund has a single table
    (the usual case: reading every loan's JSON as text is the slow part of the pass)."""
    if len(tables) == 1:
        return "", []
    return f" AND {d.json_equals('debt_groups')}", [text]


def _update_groups(d: _Dialect, *, fund_id: int, bd: date) -> None:
    tables = _tables(d, fund_id=fund_id)
    for text, table in tables:
        case, params = _group_case(table, d, bd)
        which, which_params = _table_filter(d, tables, text)
        _execute(
            f"UPDATE loans_loan SET debt_group = {case} WHERE fund_id = %s AND status = 'active'"
            f"{which} AND debt_group <> {case}",
            params + [fund_id] + which_params + params,
        )


def _summarise(d: _Dialect, summary: ClassifySummary) -> None:
    fund_id = summary.fund_id
    row = _fetch(
        "SELECT COUNT(*), COALESCE(SUM(overdue_principal), 0), COALESCE(SUM(overdue_interest), 0),"
        " COALESCE(SUM(penalty_outstanding), 0),"
        " COALESCE(SUM(CASE WHEN days_past_due > 0 THEN 1 ELSE 0 END), 0)"
        " FROM loans_loan WHERE fund_id = %s AND status = 'active'",
        [fund_id],
    )[0]
    summary.loans_processed = int(row[0])
    summary.overdue_principal = _dec(row[1])
    summary.overdue_interest = _dec(row[2])
    summary.penalty_outstanding = _dec(row[3])
    summary.loans_overdue = int(row[4])
    for group, n, s in _fetch(
        "SELECT debt_group, COUNT(*), COALESCE(SUM(outstanding_principal), 0) FROM loans_loan"
        " WHERE fund_id = %s AND status = 'active' GROUP BY debt_group ORDER BY debt_group",
        [fund_id],
    ):
        summary.groups[int(group)] = [int(n), _dec(s)]
    summary.overdue_installments = int(
        _fetch(
            "SELECT COUNT(*) FROM loans_installment i JOIN loans_loan l ON l.id = i.loan_id"
            " WHERE l.fund_id = %s AND l.status = 'active'"
            " AND i.schedule_version = l.schedule_version AND i.overdue = TRUE"
            " AND i.status <> 'paid'",
            [fund_id],
        )[0][0]
    )


def loan_book_classify(*, business_date: date, fund_id: int) -> ClassifySummary:
    """Arrears of every active loan of the fund as of the end of `business_date`.

    In one transaction: installments in force that fell due before the date with something
    unpaid are marked overdue; penalties accrue on their unpaid principal up to the date; each
    loan's overdue principal and interest, unpaid penalty, days past due and debt group are
    rewritten. Idempotent: re-running the same date leaves the book as it is.
    """
    bd = _check_date(business_date)
    d = _Dialect()
    summary = ClassifySummary(fund_id=fund_id, business_date=bd)
    clock = [time.perf_counter()]

    def lap(step: str) -> None:
        now = time.perf_counter()
        summary.timings[step] = round(now - clock[0], 3)
        clock[0] = now

    with transaction.atomic():
        summary.newly_overdue_installments = _mark_overdue(d, fund_id=fund_id, bd=bd)
        lap("overdue")
        summary.penalty_accrued = _accrue_penalties(d, fund_id=fund_id, bd=bd)
        lap("penalty")
        _update_arrears(d, fund_id=fund_id, bd=bd)
        lap("arrears")
        _update_groups(d, fund_id=fund_id, bd=bd)
        lap("groups")
        _summarise(d, summary)
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
    """CASE giving a loan's required provision under `table`: rate × outstanding, half up."""
    whens = []
    for row in table:
        r4 = int((Decimal(str(row["provision_rate"])) * 10000).to_integral_value())
        if r4 == 0:
            continue
        expr = d.idiv(f"(outstanding_principal * {2 * r4} + 1000000)", "2000000")
        whens.append(f"WHEN {int(row['group'])} THEN {expr}")
    if not whens:
        return "0"
    return "(CASE debt_group " + " ".join(whens) + " ELSE 0 END)"


def _provision_changes(d: _Dialect, *, fund_id: int) -> list[tuple[str, list[tuple]]]:
    """(required-provision SQL, rows) per debt-group table; the rows are locked on PG.

    A row: (loan id, superior union id, grassroots union id, held, required).
    """
    batches = []
    tables = _tables(d, fund_id=fund_id)
    for text, table in tables:
        req = _required_case(table, d)
        which, which_params = _table_filter(d, tables, text)
        rows = _fetch(
            "SELECT id, superior_union_id, grassroots_union_id, provision_held, "
            f"{req} FROM loans_loan WHERE fund_id = %s AND status = 'active'{which}"
            f" AND provision_held <> {req}" + d.for_update(),
            [fund_id] + which_params,
        )
        batches.append((req, rows))
    rows = _fetch(
        "SELECT id, superior_union_id, grassroots_union_id, provision_held, 0 FROM loans_loan"
        " WHERE fund_id = %s AND status = 'closed' AND provision_held <> 0" + d.for_update(),
        [fund_id],
    )
    batches.append(("0", rows))
    return batches


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
                legs.append(credit(PROVISION_ACCOUNT, delta, subledger=sub, **dims))
            elif delta < 0:
                legs.append(debit(PROVISION_ACCOUNT, -delta, subledger=sub, **dims))
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


def _set_held(d: _Dialect, batches) -> None:
    for req, rows in batches:
        ids = [r[0] for r in rows]
        for start in range(0, len(ids), 5000):
            chunk = ids[start : start + 5000]
            marks = ", ".join(["%s"] * len(chunk))
            _execute(f"UPDATE loans_loan SET provision_held = {req} WHERE id IN ({marks})", chunk)


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
        batches = _provision_changes(d, fund_id=fund_id)
        changes = [row for _, rows in batches for row in rows]
        specs = _entries(fund_id=fund_id, bd=bd, key=idempotency_key, changes=changes)
        summary.entries_posted = journal_entries_post_bulk(entries=specs, posted_by=posted_by)
        _set_held(d, batches)
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
