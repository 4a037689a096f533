"""Reads of the loan book in force: lists of loans through the scope, a loan's ledger lines,
the arrears of the book as the last close of business left them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounting.models import Posting
from fund.scoping import Scope
from loans.models import (
    Loan,
    LoanTransaction,
)
from loans.origination.selectors import own_fund_first


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
) -> QuerySet:
    """The loan book's list as its page filters it, newest first: `q` a part of the member's
    name, the start of a citizen-id number or a loan's number; the page and its export read
    the same rows."""
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

    yesterday = timezone.localdate() - timedelta(days=1)
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
