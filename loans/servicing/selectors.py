"""Reads of the loan book in force: lists of loans through the scope, a loan's ledger lines,
the arrears of the book as the last close of business left them.

**One source of arrears.** Every page and API answer that shows arrears (the overdue list, the
dashboard, the superior union's unions, the loan list's overdue filter, ``/api/v1/loans/?overdue``)
reads them as the fund's last close of business classified the book: a loan is in arrears when
it is active and its stored ``days_past_due`` is above 0, and its late amount is its stored
overdue principal, overdue interest and unpaid penalty. That date is the fund's *business date*
(``business_date``), and the pages say "figures as of" it. Counting late installments against
today's date instead, as the overdue list once did, disagreed with the API by hundreds of loans
whenever the close of business was behind (docs/loans.md, "The business date")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.postgres.aggregates import ArrayAgg
from django.db import connection
from django.db.models import Count, DecimalField, F, Q, QuerySet, Sum

from accounting.dates import business_today
from accounting.models import Posting
from accounting.money import amount_of
from fund.scoping import Scope
from loans.models import (
    BankStatementLine,
    Loan,
    LoanStatus,
    LoanTransaction,
)
from loans.origination.selectors import own_fund_first

ZERO = Decimal(0)


def loan_list(*, scope: Scope, status: str | None = None) -> QuerySet:
    """Loans the scope may see, by the grassroots union recorded at disbursement."""
    qs = own_fund_first(Loan.objects.all(), scope).select_related("borrower", "grassroots_union")
    return qs.filter(status=status) if status else qs


def loan_search(
    *,
    scope: Scope,
    q: str = "",
    status: str = "",
    grassroots_union=None,
    debt_group: int | None = None,
    overdue: bool = False,
) -> QuerySet:
    """The loan book's list as its page filters it, newest first: `q` a part of the member's
    name, the start of a citizen-id number or a loan's number; `overdue`, the loans in arrears
    as of the business date (``in_arrears``); the page and its export read the same rows."""
    qs = loan_list(scope=scope, status=status or None).order_by("-id")
    q = (q or "").strip()
    if q:
        cond = Q(borrower__full_name__icontains=q) | Q(borrower__national_id__startswith=q)
        if q.isdigit():
            cond |= Q(pk=int(q))
        qs = qs.filter(cond)
    if grassroots_union is not None:
        qs = qs.filter(grassroots_union=grassroots_union)
    if debt_group:
        qs = qs.filter(debt_group=debt_group)
    if overdue:
        qs = in_arrears(qs)
    return qs


def loan_postings(*, loan: Loan) -> QuerySet:
    """Every ledger posting tagged with the loan's sub-ledger (all accounts), oldest first."""
    return (
        Posting.objects.filter(subledger=loan.subledger)
        .select_related("account", "entry")
        .order_by("effective_date", "entry_id", "id")
    )


@dataclass(frozen=True)
class LedgerLine:
    """One posting of the loan's journal as the loan page lists it."""

    effective_date: date
    entry_id: int
    kind: str  # LoanTransaction.Kind value
    memo: str | None  # on the first posting of each entry only
    account_code: str
    account_name: str
    amount: Decimal  # signed: debit > 0
    account_name_en: str = ""  # the chart's English name, for pages in English


def loan_ledger_lines(*, loan_id: int) -> list[LedgerLine]:
    """The postings of the entries behind the loan's transactions (its journal), in the order of
    the transactions, then of the postings: one query of plain values, no model instances.

    Only this loan's lines: an entry several loans share (a union's batch remittance credits
    every member's loan and debits the money in transit once for the batch) shows the postings
    on this loan's sub-ledger and its member's; the other members' lines and the batch's
    shared debit are another loan's or the batch's, not this loan's."""
    rows = (
        LoanTransaction.objects.filter(loan_id=loan_id)
        .order_by("effective_date", "id", "journal_entry__postings__id")
        .values_list(
            "id",
            "effective_date",
            "journal_entry_id",
            "kind",
            "journal_entry__memo",
            "journal_entry__postings__account__code",
            "journal_entry__postings__account__name",
            "journal_entry__postings__amount",
            "journal_entry__postings__account__name_en",
            "journal_entry__postings__subledger",
            "loan__borrower_id",
        )
    )
    by_txn: dict[int, list] = {}
    for row in rows:
        if row[5] is None:  # an entry without postings cannot be posted; nothing to list
            continue
        by_txn.setdefault(row[0], []).append(row)
    lines = []
    own = {f"loan:{loan_id}"}
    for postings in by_txn.values():
        own.add(f"borrower:{postings[0][10]}")
        shared = any(_of_another(p[9], own) for p in postings)
        first = True
        for _txn, on, entry, kind, memo, code, name, amount, name_en, subledger, _b in postings:
            if shared and (subledger or "") not in own:
                continue
            lines.append(
                LedgerLine(
                    on, entry, kind, memo if first else None, code, name, amount, name_en or ""
                )
            )
            first = False
    return lines


def _of_another(subledger: str, own: set) -> bool:
    """Whether a posting is on another loan's or another member's sub-ledger."""
    return (subledger or "").startswith(("loan:", "borrower:")) and subledger not in own


@dataclass(frozen=True)
class LoanBookArrears:
    """Arrears of a fund's active loans as the last close of business left them."""

    as_of: date | None  # that close of business's business date (None: never run)
    loans: int  # loans with days past due
    principal: Decimal  # overdue principal
    amount: Decimal  # overdue principal + overdue interest + unpaid penalty


def loan_book_arrears(*, fund_id: int) -> LoanBookArrears:
    """The fund's arrears as of its last close of business, read from the figures that run
    stored when it classified the book (``CloseOfBusinessRun.summary``: late loans, overdue
    principal and interest, unpaid penalty over the active loans). One indexed row whatever the
    size of the book, and nothing on the loans themselves: an index over the columns the daily
    pass rewrites would cost every late loan a new entry in every index of the table each night
    (no HOT update). No run yet: nothing is classified, every figure is zero."""
    from loans.servicing.close_of_business import last_closed_run

    run = last_closed_run(fund_id=fund_id)
    summary = (run.summary or {}) if run is not None else {}

    def dec(key: str) -> Decimal:
        return Decimal(summary.get(key) or 0)

    return LoanBookArrears(
        as_of=run.business_date if run is not None else None,
        loans=int(summary.get("loans_overdue") or 0),
        principal=dec("overdue_principal"),
        amount=dec("overdue_principal") + dec("overdue_interest") + dec("penalty_outstanding"),
    )


def business_date(*, fund_id: int) -> date | None:
    """The fund's business date: the latest date its close of business has done (None: never
    run). The arrears figures of every page and of the API are those of this date."""
    from loans.servicing.close_of_business import last_closed_date

    return last_closed_date(fund_id=fund_id)


# The amount in arrears: overdue principal + overdue interest + unpaid penalty.
ARREARS_PARTS = ("overdue_principal", "overdue_interest", "penalty_outstanding")
ARREARS_AMOUNT = F(ARREARS_PARTS[0]) + F(ARREARS_PARTS[1]) + F(ARREARS_PARTS[2])


# In arrears as of the business date: active, with days past due.
IN_ARREARS = Q(status=LoanStatus.ACTIVE, days_past_due__gt=0)


def in_arrears(loans: QuerySet) -> QuerySet:
    """The loans of `loans` in arrears as of the business date (``IN_ARREARS``)."""
    return loans.filter(IN_ARREARS)


def loans_in_arrears(*, scope: Scope) -> QuerySet:
    """The scope's loans in arrears as of the business date, the longest overdue first."""
    return in_arrears(loan_list(scope=scope)).order_by(*LONGEST_OVERDUE_FIRST)


# What an overdue list's line (``ArrearsLine``) and its table show of a loan.
ARREARS_LINE_COLUMNS = (
    "borrower__full_name",
    "grassroots_union__code",
    "grassroots_union__name",
    "days_past_due",
    *(f"{name}{suffix}" for name in ARREARS_PARTS for suffix in ("", "_currency")),
)


# The order of an overdue list: the longest overdue first.
LONGEST_OVERDUE_FIRST = ("-days_past_due", "id")


def longest_in_arrears(*, scope: Scope, limit: int, ids: list[int] | None = None) -> list[Loan]:
    """The first `limit` of ``loans_in_arrears`` (or those of `ids`, already found, in their
    order): their ids first, then those loans with their member and union (PostgreSQL would
    otherwise join every loan in arrears of the scope to its member before keeping `limit`)."""
    if ids is None:
        ids = list(loans_in_arrears(scope=scope).values_list("pk", flat=True)[:limit])
    ids = ids[:limit]
    by_id = loan_list(scope=scope).only(*ARREARS_LINE_COLUMNS).in_bulk(ids)
    return [by_id[pk] for pk in ids]


@dataclass(frozen=True)
class ArrearsLine:
    loan: Loan
    oldest_due: date | None  # the business date less the days past due
    days_past_due: int
    overdue_amount: Decimal  # overdue principal + overdue interest + unpaid penalty


def arrears_lines(loans, *, as_of: date | None) -> list[ArrearsLine]:
    """The overdue list's lines of a page of ``loans_in_arrears``."""
    return [
        ArrearsLine(
            loan=loan,
            oldest_due=as_of - timedelta(days=loan.days_past_due) if as_of else None,
            days_past_due=loan.days_past_due,
            overdue_amount=sum((amount_of(getattr(loan, part)) for part in ARREARS_PARTS), ZERO),
        )
        for loan in loans
    ]


@dataclass(frozen=True)
class ArrearsTotals:
    loans: int
    amount: Decimal  # overdue principal + overdue interest + unpaid penalty
    principal: Decimal


def _arrears_aggregates(within: Q) -> dict:
    """The aggregates of ``ArrearsTotals`` over the rows of `within` in arrears."""
    late = within & IN_ARREARS
    return {
        "late_n": Count("id", filter=late),
        "late_amount": Sum(ARREARS_AMOUNT, output_field=DecimalField(), filter=late),
        "late_principal": Sum("overdue_principal", filter=late),
    }


def _arrears_totals_of(agg: dict) -> ArrearsTotals:
    return ArrearsTotals(
        agg["late_n"],
        amount_of(agg["late_amount"] or ZERO),
        amount_of(agg["late_principal"] or ZERO),
    )


def arrears_totals(*, scope: Scope) -> ArrearsTotals:
    """The scope's arrears as of the business date, in one query."""
    agg = in_arrears(loan_list(scope=scope)).order_by().aggregate(**_arrears_aggregates(Q()))
    return _arrears_totals_of(agg)


@dataclass(frozen=True)
class ActiveBookTotals:
    loans: int  # active loans
    outstanding: Decimal  # their outstanding principal
    arrears: ArrearsTotals  # those in arrears as of the business date
    # Those in arrears, the longest overdue first (``loans_in_arrears``' order), when the
    # database could list them with the totals (PostgreSQL); else None.
    longest_ids: list[int] | None = None


def active_book_totals(*, scope: Scope) -> ActiveBookTotals:
    """The scope's active loans, their outstanding principal and their arrears (as
    ``arrears_totals``), in one read of the loans (a union's page); on PostgreSQL, with the ids
    of those in arrears in the overdue list's order."""
    active = Q(status=LoanStatus.ACTIVE)
    listed = {}
    if connection.vendor == "postgresql":
        listed["longest"] = ArrayAgg(
            "id", filter=active & IN_ARREARS, order_by=LONGEST_OVERDUE_FIRST, default=[]
        )
    agg = (
        loan_list(scope=scope)
        .filter(active)
        .order_by()
        .aggregate(
            n=Count("id"),
            outstanding=Sum("outstanding_principal"),
            **_arrears_aggregates(active),
            **listed,
        )
    )
    return ActiveBookTotals(
        agg["n"],
        amount_of(agg["outstanding"] or ZERO),
        _arrears_totals_of(agg),
        agg.get("longest"),
    )


def arrears_by_union(*, scope: Scope) -> dict[int, dict]:
    """{grassroots union id: {"loans": n, "amount": late amount}} as of the business date."""
    rows = (
        in_arrears(loan_list(scope=scope))
        .order_by()
        .values("grassroots_union_id")
        .annotate(loans=Count("id"), amount=Sum(ARREARS_AMOUNT, output_field=DecimalField()))
    )
    return {
        r["grassroots_union_id"]: {"loans": r["loans"], "amount": amount_of(r["amount"] or ZERO)}
        for r in rows
    }


@dataclass(frozen=True)
class CloseOfBusinessLag:
    """A fund's last done close of business: its date, how many days behind yesterday it is
    (0 when yesterday is closed; None when the fund was never closed) and how long it took."""

    fund_id: int
    last_date: date | None
    lag_days: int | None
    duration_seconds: float | None


def close_of_business_lags() -> list[CloseOfBusinessLag]:
    """Every fund's close-of-business lag (/readyz, the metrics): one query per fund."""
    from fund.models import Fund
    from loans.servicing.close_of_business import last_closed_run

    yesterday = business_today() - timedelta(days=1)
    out = []
    for fund_id in Fund.objects.order_by("pk").values_list("pk", flat=True):
        run = last_closed_run(fund_id=fund_id)
        if run is None:
            out.append(CloseOfBusinessLag(fund_id, None, None, None))
            continue
        took = (run.finished_at - run.started_at).total_seconds() if run.finished_at else None
        lag = max(0, (yesterday - run.business_date).days)
        out.append(CloseOfBusinessLag(fund_id, run.business_date, lag, took))
    return out


@dataclass(frozen=True)
class RemittanceReceipt:
    """A union's remittance as its receipt shows it: the lines, the total and the one journal
    entry that posted them."""

    batch: object  # RepaymentBatch
    lines: list  # Repayment rows, with their loan and member, in the order they were entered
    entry: object | None  # the JournalEntry (None for a remittance without lines)
    postings: list  # the entry's Posting rows, with their accounts
    bank_line: object | None  # the bank statement's line that confirmed the money, if any

    @property
    def total(self) -> Decimal:
        return sum((x.amount.amount for x in self.lines), Decimal(0))


def remittance_receipt(*, batch) -> RemittanceReceipt:
    """The receipt of `batch` (read through the scope by the caller): four queries."""
    lines = list(batch.repayments.select_related("loan__borrower", "reversal_entry").order_by("id"))
    entry = lines[0].journal_entry if lines else None
    postings = (
        list(entry.postings.select_related("account").order_by("id")) if entry is not None else []
    )
    return RemittanceReceipt(
        batch=batch,
        lines=lines,
        entry=entry,
        postings=postings,
        bank_line=BankStatementLine.objects.filter(batch=batch).first(),
    )


@dataclass(frozen=True)
class MemberDebt:
    """A member's loans of the fund (active first, then the newest) with their arrears as of
    the business date, and the totals of the active ones: what a reviewer weighs."""

    loans: list[ArrearsLine]
    outstanding: Decimal  # outstanding principal of the active loans
    overdue: Decimal  # overdue principal + interest + unpaid penalty
    overdue_loans: int
    as_of: date | None  # the business date of the arrears


def member_debt(*, fund_id: int, national_id: str, limit: int = 20) -> MemberDebt:
    """The debt of the member with that citizen-id number in the fund (a borrower, or a
    guarantor who is also a member; none: empty)."""
    as_of = business_date(fund_id=fund_id)
    loans = Loan.objects.filter(fund_id=fund_id, borrower__national_id=national_id)
    active = loans.filter(status=LoanStatus.ACTIVE)
    totals = active.order_by().aggregate(
        outstanding=Sum("outstanding_principal"),
        overdue=Sum(ARREARS_AMOUNT, output_field=DecimalField(), filter=Q(days_past_due__gt=0)),
        overdue_loans=Count("id", filter=Q(days_past_due__gt=0)),
    )
    ordered = loans.select_related("grassroots_union").order_by("-disbursed_on", "-id")[:limit]
    lines = arrears_lines(ordered, as_of=as_of)
    lines.sort(key=lambda line: line.loan.status != LoanStatus.ACTIVE)  # active first, stable
    return MemberDebt(
        loans=lines,
        outstanding=amount_of(totals["outstanding"] or ZERO),
        overdue=amount_of(totals["overdue"] or ZERO),
        overdue_loans=totals["overdue_loans"] or 0,
        as_of=as_of,
    )


def guaranteed_loans(*, fund_id: int, national_id: str) -> QuerySet:
    """The active loans whose application names this citizen-id number as guarantor."""
    return Loan.objects.filter(
        fund_id=fund_id,
        status=LoanStatus.ACTIVE,
        application__guarantor_national_id=national_id,
    )
