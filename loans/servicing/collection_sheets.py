"""What a grassroots union collects: the month's collection sheet and its collection history.

Reads only (selectors). An installment's amount still owed is what it asks for (principal,
interest, penalty accrued so far, compulsory savings) less what has been paid on it. Only the
loan's current schedule version counts (a rescheduled loan keeps its old versions for history).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import DecimalField, F, Sum

from accounting.money import amount_of
from fund.scoping import Scope, scope_filter
from loans.models import Installment, InstallmentStatus, Loan, LoanStatus, Repayment

ZERO = Decimal(0)


def installment_owed(inst: Installment) -> Decimal:
    """What is still owed on one installment, in whole đồng."""
    owed = ZERO
    for part in ("principal", "interest", "penalty", "savings"):
        owed += amount_of(getattr(inst, f"{part}_due")) - amount_of(getattr(inst, f"{part}_paid"))
    return max(owed, ZERO)


def month_bounds(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


@dataclass
class CollectionLine:
    """One loan on the collection sheet: what is overdue as of the business date (``overdue``)
    and what else falls due by the month's end, not overdue as of that date
    (``due_by_month_end``: the month's installments still to come, and any earlier one falling
    due on or after the business date)."""

    loan: Loan
    due_by_month_end: Decimal = ZERO
    overdue: Decimal = ZERO
    installments: list = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return self.due_by_month_end + self.overdue

    @property
    def borrower(self):
        return self.loan.borrower


def _unpaid(loans_qs, *, due_by: date):
    return (
        Installment.objects.filter(
            loan__in=loans_qs,
            due_date__lte=due_by,
            schedule_version=F("loan__schedule_version"),
        )
        .exclude(status=InstallmentStatus.PAID)
        .order_by("loan_id", "due_date", "number")
    )


def collection_sheet(
    *, scope: Scope, grassroots_union, year: int, month: int, as_of: date | None
) -> list:
    """The active loans of `grassroots_union` (as recorded at disbursement) with something owed
    by the end of the month, by borrower name. An unpaid installment is overdue when it fell due
    before `as_of`, the fund's business date (``selectors.business_date``: the arrears of every
    page are those of that date; none before the first close of business); the others are due
    by the month's end."""
    end = month_bounds(year, month)[1]
    loans = scope_filter(
        Loan.objects.filter(grassroots_union=grassroots_union, status=LoanStatus.ACTIVE), scope
    )
    lines: dict[int, CollectionLine] = {}
    by_id = {loan.pk: loan for loan in loans.select_related("borrower")}
    for inst in _unpaid(loans, due_by=end):
        line = lines.setdefault(inst.loan_id, CollectionLine(loan=by_id[inst.loan_id]))
        owed = installment_owed(inst)
        if as_of is not None and inst.due_date < as_of:
            line.overdue += owed
        else:
            line.due_by_month_end += owed
        line.installments.append(inst)
    return sorted(
        (x for x in lines.values() if x.total > 0),
        key=lambda x: (x.loan.borrower.full_name, x.loan.pk),
    )


@dataclass(frozen=True)
class MonthCollection:
    """A union's month: what fell due on its loans, what it remitted, and how much of that the
    bank's statement confirmed (``loans.servicing.remittances``)."""

    year: int
    month: int
    due: Decimal
    remitted: Decimal
    confirmed: Decimal

    @property
    def in_transit(self) -> Decimal:
        return self.remitted - self.confirmed


def month_span(first: tuple[int, int], last: tuple[int, int]) -> list[tuple[int, int]]:
    """The months from `first` to `last` (year, month), both included, oldest first."""
    months = []
    y, m = first
    while (y, m) <= last:
        months.append((y, m))
        y, m = (y, m + 1) if m < 12 else (y + 1, 1)
    return months


@dataclass(frozen=True)
class MemberMonth:
    """One member's loan in one month of a union's collection history: what fell due in the
    month, what the union remitted for it in the month, and the part of that the bank's
    statement confirmed."""

    year: int
    month: int
    loan_id: int
    borrower: str
    due: Decimal
    remitted: Decimal
    confirmed: Decimal


def _union_repayments(scope: Scope, grassroots_union, start: date, end: date):
    """The union's repayments paid from `start` to `end` and not reversed, within the scope."""
    return scope_filter(
        Repayment.objects.filter(
            batch__grassroots_union=grassroots_union,
            batch__paid_on__range=(start, end),
            reversal_entry__isnull=True,
        ),
        scope,
        grassroots_field="batch__grassroots_union",
    ).order_by()


def union_member_months(
    *, scope: Scope, grassroots_union, first: tuple[int, int], last: tuple[int, int]
) -> list[MemberMonth]:
    """The collection history of `grassroots_union` from month `first` to `last`, per month and
    member (loan), oldest month first, then by name: the installments due in the month on the
    loan's current schedule, the remittances of the union paid in the month (less the lines
    reversed) and their part confirmed by a bank receipt. A loan with nothing due nor remitted
    in a month has no row for it. Three grouped queries and one for the names, whatever the
    number of months."""
    start, end = month_bounds(*first)[0], month_bounds(*last)[1]
    loans = scope_filter(Loan.objects.filter(grassroots_union=grassroots_union), scope)
    due_rows = (
        Installment.objects.filter(
            loan__in=loans,
            schedule_version=F("loan__schedule_version"),
            due_date__range=(start, end),
        )
        .order_by()
        .values("loan_id", "due_date__year", "due_date__month")
        .annotate(
            s=Sum(
                F("principal_due") + F("interest_due") + F("penalty_due") + F("savings_due"),
                output_field=DecimalField(),
            )
        )
    )
    paid = _union_repayments(scope, grassroots_union, start, end).values(
        "loan_id", "batch__paid_on__year", "batch__paid_on__month"
    )
    cells: dict[tuple, list] = {}
    for r in due_rows:
        key = (r["due_date__year"], r["due_date__month"], r["loan_id"])
        cells.setdefault(key, [ZERO, ZERO, ZERO])[0] += r["s"] or ZERO
    for col, rows in (
        (1, paid.annotate(s=Sum("amount"))),
        (2, paid.filter(batch__bank_line__isnull=False).annotate(s=Sum("amount"))),
    ):
        for r in rows:
            key = (r["batch__paid_on__year"], r["batch__paid_on__month"], r["loan_id"])
            cells.setdefault(key, [ZERO, ZERO, ZERO])[col] += r["s"] or ZERO
    names = dict(
        Loan.objects.filter(pk__in={k[2] for k in cells}).values_list("pk", "borrower__full_name")
    )
    rows = [
        MemberMonth(y, m, loan_id, names.get(loan_id, ""), *(amount_of(v) for v in values))
        for (y, m, loan_id), values in cells.items()
    ]
    return sorted(rows, key=lambda r: (r.year, r.month, r.borrower, r.loan_id))


def union_months(*, scope: Scope, grassroots_union, year: int, month: int, count: int = 6):
    """The `count` months up to `year`/`month` of `grassroots_union`, oldest first: the
    installments due on its loans (principal, interest, penalty, savings as scheduled), the
    remittances it paid in the month (less the lines reversed) and the part confirmed by a bank
    receipt. Three grouped queries whatever the number of months."""
    months = []
    y, m = year, month
    for _ in range(count):
        months.append((y, m))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    months.reverse()
    start, end = month_bounds(*months[0])[0], month_bounds(*months[-1])[1]
    loans = scope_filter(Loan.objects.filter(grassroots_union=grassroots_union), scope)
    due_rows = (
        Installment.objects.filter(
            loan__in=loans,
            schedule_version=F("loan__schedule_version"),
            due_date__range=(start, end),
        )
        .order_by()
        .values("due_date__year", "due_date__month")
        .annotate(
            s=Sum(
                F("principal_due") + F("interest_due") + F("penalty_due") + F("savings_due"),
                output_field=DecimalField(),
            )
        )
    )
    due = {(r["due_date__year"], r["due_date__month"]): r["s"] or ZERO for r in due_rows}
    paid = _union_repayments(scope, grassroots_union, start, end).values(
        "batch__paid_on__year", "batch__paid_on__month"
    )
    remitted = {
        (r["batch__paid_on__year"], r["batch__paid_on__month"]): r["s"] or ZERO
        for r in paid.annotate(s=Sum("amount"))
    }
    confirmed = {
        (r["batch__paid_on__year"], r["batch__paid_on__month"]): r["s"] or ZERO
        for r in paid.filter(batch__bank_line__isnull=False).annotate(s=Sum("amount"))
    }
    return [
        MonthCollection(
            y,
            m,
            amount_of(due.get((y, m), ZERO)),
            amount_of(remitted.get((y, m), ZERO)),
            amount_of(confirmed.get((y, m), ZERO)),
        )
        for y, m in months
    ]
