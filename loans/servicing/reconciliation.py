"""The loan book against the ledger (account 1283 and the provisions), per loan and per fund."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Sum

from accounting.formatting import format_vnd
from accounting.models import Account, Posting
from accounting.money import ZERO, amount_of
from accounting.selectors import account_balance
from fund.accounts import LOAN_LOSS_PROVISION, LOANS_RECEIVABLE, RECOVERY_INCOME, WRITE_OFF_EXPENSE
from fund.models import Fund
from loans.models import (
    Loan,
    LoanStatus,
    LoanTransaction,
    LoanWriteOff,
    WriteOffRecovery,
)

# --------------------------------------------------------------------------------------------
# Loan book against the ledger


def loan_outstanding_as_of(*, loan: Loan, as_of: date) -> Decimal:
    """The loan book's outstanding principal at the end of `as_of` (its transactions to then)."""
    total = LoanTransaction.objects.filter(loan=loan, effective_date__lte=as_of).aggregate(
        s=Sum("principal_change")
    )["s"]
    return total or ZERO


@dataclass(frozen=True)
class LoanDifference:
    """One loan whose figures disagree: the book as of the date, the ledger, and the stored
    outstanding principal against the sum of all its book transactions."""

    loan_id: int
    book: Decimal
    ledger: Decimal
    stored: Decimal
    book_all: Decimal

    def describe(self) -> str:
        parts = []
        if self.book != self.ledger:
            parts.append(
                f"sổ cho vay {format_vnd(self.book)}, sổ cái TK 1283 (loan:{self.loan_id}) "
                f"{format_vnd(self.ledger)}, chênh lệch {format_vnd(self.ledger - self.book)}"
            )
        if self.stored != self.book_all:
            parts.append(
                f"dư nợ gốc lưu trên khoản vay {format_vnd(self.stored)} khác tổng nghiệp vụ "
                f"{format_vnd(self.book_all)}"
            )
        return f"Khoản vay #{self.loan_id}: " + "; ".join(parts) + "."


@dataclass
class ReconciliationReport:
    fund_id: int
    as_of: date
    loans_checked: int = 0
    book_total: Decimal = ZERO  # loan book, as of the date
    subledger_total: Decimal = ZERO  # sum of the ledger's loan sub-ledgers on 1283
    control_total: Decimal = ZERO  # the 1283 control account of the fund
    differences: list[LoanDifference] = field(default_factory=list)
    # 1283 balances of the fund on a sub-ledger that is no loan of the fund ("" = untagged).
    unknown_subledgers: dict[str, Decimal] = field(default_factory=dict)
    # Write-offs and recoveries against 8111 / 7111 (``_write_offs_check``), one sentence each.
    write_off_problems: list[str] = field(default_factory=list)
    # Provisions (see _reconcile_provisions): all of them, not only to `as_of`.
    provision_held_total: Decimal = ZERO  # sum of Loan.provision_held
    provision_ledger_total: Decimal = ZERO  # the fund's 2293 credit balance
    # {sub-ledger: (held on the loan, 2293 credit balance on the sub-ledger)}
    provision_differences: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return (
            not self.differences
            and not self.unknown_subledgers
            and not self.write_off_problems
            and self.book_total == self.control_total
            and self.subledger_total == self.control_total
            and self.provisions_ok
        )

    @property
    def provisions_ok(self) -> bool:
        return (
            not self.provision_differences
            and self.provision_held_total == self.provision_ledger_total
        )

    def lines(self) -> list[str]:
        """The differences, one sentence each (empty when the book and the ledger agree)."""
        out = [d.describe() for d in self.differences]
        out += self.write_off_problems
        for sub, bal in sorted(self.unknown_subledgers.items()):
            label = f"sổ chi tiết '{sub}'" if sub else "không gắn sổ chi tiết"
            out.append(f"TK 1283 có số dư {format_vnd(bal)} {label}, không thuộc khoản vay nào.")
        if self.book_total != self.control_total:
            out.append(
                f"Tổng dư nợ sổ cho vay {format_vnd(self.book_total)} khác số dư TK 1283 "
                f"{format_vnd(self.control_total)} (chênh lệch "
                f"{format_vnd(self.control_total - self.book_total)})."
            )
        if self.subledger_total != self.control_total:
            out.append(
                f"Tổng các sổ chi tiết TK 1283 {format_vnd(self.subledger_total)} khác số dư "
                f"tài khoản tổng hợp {format_vnd(self.control_total)}."
            )
        out += self._provision_lines()
        return out

    def _provision_lines(self) -> list[str]:
        out = []
        for sub, (held, ledger) in sorted(self.provision_differences.items()):
            out.append(
                f"Dự phòng sổ chi tiết '{sub}': trên khoản vay {format_vnd(held)}, "
                f"TK 2293 {format_vnd(ledger)}."
            )
        if self.provision_held_total != self.provision_ledger_total:
            out.append(
                f"Tổng dự phòng trên các khoản vay {format_vnd(self.provision_held_total)} khác "
                f"số dư TK 2293 {format_vnd(self.provision_ledger_total)}."
            )
        return out


def loan_book_reconcile(*, fund: Fund, as_of: date) -> ReconciliationReport:
    """Prove that the loan book and the ledger agree for `fund` at the end of `as_of`.

    For every loan: its outstanding principal in the book (its transactions up to the date) =
    the balance of its sub-ledger ``loan:<id>`` on 1283, and its stored outstanding principal =
    the sum of all its transactions. Over the fund: the sum over loans = the 1283 control
    account (read from the checkpoints, independently of the sub-ledger sums), and no 1283
    balance sits on a sub-ledger that is not one of the fund's loans.
    """
    report = ReconciliationReport(fund_id=fund.pk, as_of=as_of)
    accounts = Account.objects.get(code=LOANS_RECEIVABLE)
    subtree = list(
        Account.objects.filter(path__startswith=accounts.path).values_list("id", flat=True)
    )
    ledger: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for sub, s in (
        Posting.objects.filter(account_id__in=subtree, fund_id=fund.pk, effective_date__lte=as_of)
        .order_by()
        .values_list("subledger")
        .annotate(s=Sum("amount"))
    ):
        ledger[sub] += s
    book_as_of: dict[int, Decimal] = defaultdict(lambda: ZERO)
    book_all: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for loan_id, day, s in (
        LoanTransaction.objects.filter(loan__fund=fund)
        .order_by()
        .values_list("loan_id", "effective_date")
        .annotate(s=Sum("principal_change"))
    ):
        book_all[loan_id] += s
        if day <= as_of:
            book_as_of[loan_id] += s
    stored = dict(
        Loan.objects.filter(fund=fund).values_list("id", "outstanding_principal").order_by()
    )
    for loan_id in sorted(stored):
        b, led = book_as_of.get(loan_id, ZERO), ledger.pop(f"loan:{loan_id}", ZERO)
        everything = book_all.get(loan_id, ZERO)
        if b or led or loan_id in book_as_of:
            report.loans_checked += 1
        report.book_total += b
        report.subledger_total += led
        if b != led or amount_of(stored[loan_id]) != everything:
            report.differences.append(
                LoanDifference(loan_id, b, led, amount_of(stored[loan_id]), everything)
            )
    for sub, bal in ledger.items():
        report.subledger_total += bal
        if bal:
            report.unknown_subledgers[sub] = bal
    report.control_total = account_balance(account=accounts, as_of=as_of, fund_id=fund.pk)
    _write_offs_check(report, fund=fund, as_of=as_of)
    _reconcile_provisions(report, fund=fund)
    return report


def _reconcile_provisions(report: ReconciliationReport, *, fund: Fund) -> None:
    """Provision held on each loan = the 2293 credit balance of its sub-ledger, and in total.

    ``provision_held`` is the current figure, so the ledger is read in full (not to `as_of`).
    """
    account = Account.objects.get(code=LOAN_LOSS_PROVISION)
    ledger = {
        sub: -s
        for sub, s in Posting.objects.filter(account=account, fund_id=fund.pk)
        .order_by()
        .values_list("subledger")
        .annotate(s=Sum("amount"))
    }
    report.provision_ledger_total = sum(ledger.values(), ZERO)
    held_by_sub = {
        f"loan:{i}": amount_of(h)
        for i, h in Loan.objects.filter(fund=fund)
        .exclude(provision_held=0)
        .values_list("id", "provision_held")
        .order_by()
    }
    report.provision_held_total = sum(held_by_sub.values(), ZERO)
    for sub in sorted(set(held_by_sub) | {k for k, v in ledger.items() if v}):
        held, led = held_by_sub.get(sub, ZERO), ledger.get(sub, ZERO)
        if held != led:
            report.provision_differences[sub] = (held, led)


# --- Write-offs and recoveries (loans.restructuring.decisions)
# ------------------------------------------


def _subledger_sums(code: str, *, fund: Fund, as_of: date) -> dict[str, Decimal]:
    account = Account.objects.get(code=code)
    ids = Account.objects.filter(path__startswith=account.path).values_list("id", flat=True)
    return dict(
        Posting.objects.filter(account_id__in=ids, fund_id=fund.pk, effective_date__lte=as_of)
        .order_by()
        .values_list("subledger")
        .annotate(s=Sum("amount"))
    )


def _write_offs_check(report: ReconciliationReport, *, fund: Fund, as_of: date) -> None:
    """Every write-off of the fund to `as_of` against the ledger: its parts add up to the
    principal written off, the loan owes no principal and is marked written off, its expense
    beyond the provision is what 8111 holds on ``loan:<id>``, its recoveries never exceed the
    principal and are what 7111 holds on ``loan:<id>``; no 8111 / 7111 amount on a loan
    sub-ledger without a write-off."""
    expense = _subledger_sums(WRITE_OFF_EXPENSE, fund=fund, as_of=as_of)
    income = _subledger_sums(RECOVERY_INCOME, fund=fund, as_of=as_of)
    recovered: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for loan_id, s in (
        WriteOffRecovery.objects.filter(loan__fund=fund, received_on__lte=as_of)
        .order_by()
        .values_list("loan_id")
        .annotate(s=Sum("amount"))
    ):
        recovered[loan_id] = s
    problems = report.write_off_problems
    write_offs = LoanWriteOff.objects.filter(
        loan__fund=fund, written_off_on__lte=as_of
    ).select_related("loan")
    for w in write_offs.order_by("loan_id"):
        sub, loan = f"loan:{w.loan_id}", w.loan
        principal = amount_of(w.principal)
        used, cost = amount_of(w.provision_used), amount_of(w.expense)
        if used + cost != principal:
            problems.append(
                f"Khoản vay #{w.loan_id}: dự phòng {format_vnd(used)} + chi phí "
                f"{format_vnd(cost)} khác gốc xử lý {format_vnd(principal)}."
            )
        left = amount_of(loan.outstanding_principal)
        if loan.status != LoanStatus.WRITTEN_OFF or left:
            problems.append(
                f"Khoản vay #{w.loan_id} đã xử lý rủi ro nhưng đang ở trạng thái "
                f"“{loan.get_status_display()}”, dư nợ {format_vnd(left)}."
            )
        booked = expense.pop(sub, ZERO)
        if booked != cost:
            problems.append(
                f"Khoản vay #{w.loan_id}: chi phí xử lý rủi ro {format_vnd(cost)}, sổ cái TK "
                f"{WRITE_OFF_EXPENSE} ({sub}) {format_vnd(booked)}."
            )
        got = recovered.pop(w.loan_id, ZERO)
        if got > principal:
            problems.append(
                f"Khoản vay #{w.loan_id}: đã thu hồi {format_vnd(got)}, vượt gốc đã xử lý "
                f"{format_vnd(principal)}."
            )
        credited = -income.pop(sub, ZERO)
        if credited != got:
            problems.append(
                f"Khoản vay #{w.loan_id}: thu hồi nợ đã xử lý {format_vnd(got)}, sổ cái TK "
                f"{RECOVERY_INCOME} ({sub}) {format_vnd(credited)}."
            )
    for loan_id, got in recovered.items():
        problems.append(
            f"Khoản vay #{loan_id}: có khoản thu hồi {format_vnd(got)} nhưng chưa xử lý rủi ro."
        )
    for code, rest in ((WRITE_OFF_EXPENSE, expense), (RECOVERY_INCOME, income)):
        for sub, bal in sorted(rest.items()):
            if bal and sub.startswith("loan:"):
                problems.append(
                    f"TK {code} có số dư {format_vnd(bal)} trên sổ chi tiết '{sub}' không có "
                    "xử lý rủi ro."
                )
