"""Loan reads: eligibility, outstanding balances, the reconciliation with the ledger, and the
figures plan attainment reads (registered with ``fund.attainment`` in ``apps.ready``)."""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import connections, router
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounting.errors import lazy_lower, translatable
from accounting.formatting import format_vnd
from accounting.models import Account, Posting
from accounting.money import amount_of
from accounting.selectors import account_balance
from fund.models import Fund, GrassrootsUnion, SuperiorUnion
from fund.scoping import Scope, scope_filter
from loans.errors import Reason
from loans.models import (
    Borrower,
    FollowUpVisit,
    HouseholdStatus,
    Installment,
    InstallmentStatus,
    Loan,
    LoanApplication,
    LoanChangeRequest,
    LoanProduct,
    LoanStatus,
    LoanTransaction,
    LoanWriteOff,
    ReminderDelivery,
    WriteOffRecovery,
)

ZERO = Decimal(0)
LOANS_ACCOUNT = "1283"
PROVISION_ACCOUNT = "2293"


def add_months(start: date, months: int) -> date:
    """`start` moved by whole months, clamped to the month's end (31/01 + 1 → 28 or 29/02)."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def age_on(date_of_birth: date, on: date) -> int:
    """Age in whole years on date `on` (a birthday on 29/02 comes on 01/03 in common years)."""
    years = on.year - date_of_birth.year
    if (on.month, on.day) < (date_of_birth.month, date_of_birth.day):
        years -= 1
    return years


# --------------------------------------------------------------------------------------------
# Borrowers and eligibility


def borrower_outstanding(*, borrower: Borrower) -> Decimal:
    """Principal the borrower owes now on their active loans (the stored loan-book figure)."""
    total = Loan.objects.filter(borrower=borrower, status=LoanStatus.ACTIVE).aggregate(
        s=Sum("outstanding_principal")
    )["s"]
    return total or ZERO


def borrower_has_overdue(*, borrower: Borrower, on: date) -> bool:
    """Whether an active loan of the borrower is late: classified past due, or an installment
    fell due before `on` and is not fully paid."""
    # One query: every active loan has installments, so "an active loan past due" is "an
    # installment of an active loan whose loan is past due, or which is itself late".
    return Installment.objects.filter(
        Q(loan__days_past_due__gt=0) | (Q(due_date__lt=on) & ~Q(status=InstallmentStatus.PAID)),
        loan__borrower=borrower,
        loan__status=LoanStatus.ACTIVE,
    ).exists()


@dataclass(frozen=True)
class Standing:
    """What the eligibility rules read of a member's loans and applications."""

    outstanding: Decimal  # principal owed on the active loans
    late: bool  # an active loan classified past due, or with an installment late
    other_open: int | None  # the oldest application in progress (not the one checked), if any


def borrower_standing(
    *, borrower: Borrower, on: date, open_except: int | None = None, with_open: bool = True
) -> Standing:
    """``borrower_outstanding``, ``borrower_has_overdue`` and the oldest application of the
    member in progress other than `open_except` (not read when not `with_open`), in one query.

    The eligibility check runs it at every step of the approval chain (five times a loan), so it
    is written once as SQL: the ORM spent more building these queries than the database running
    them. Tested equal to the ORM selectors."""
    loan, inst, app = Loan._meta, Installment._meta, LoanApplication._meta
    conn = connections[router.db_for_read(Loan)]
    qn = conn.ops.quote_name

    def col(meta, name):
        return qn(meta.get_field(name).column)

    params: list = [conn.ops.adapt_datefield_value(on), str(InstallmentStatus.PAID)]
    open_sql = ", NULL"
    if with_open:
        statuses = [str(st) for st in LoanApplication.OPEN_STATUSES]
        open_sql = (
            f", (SELECT MIN(a.{col(app, 'id')}) FROM {qn(app.db_table)} a "
            f"WHERE a.{col(app, 'borrower')} = %s AND a.{col(app, 'status')} IN "
            f"({', '.join(['%s'] * len(statuses))})"
            + (f" AND a.{col(app, 'id')} <> %s" if open_except is not None else "")
            + ")"
        )
        params += [borrower.pk, *statuses] + ([open_except] if open_except is not None else [])
    sql = (
        f"SELECT SUM(l.{col(loan, 'outstanding_principal')}), COUNT(CASE WHEN "
        f"l.{col(loan, 'days_past_due')} > 0 OR EXISTS (SELECT 1 FROM {qn(inst.db_table)} i "
        f"WHERE i.{col(inst, 'loan')} = l.{col(loan, 'id')} AND i.{col(inst, 'due_date')} < %s "
        f"AND i.{col(inst, 'status')} <> %s) THEN 1 END){open_sql} "
        f"FROM {qn(loan.db_table)} l WHERE l.{col(loan, 'borrower')} = %s "
        f"AND l.{col(loan, 'status')} = %s"
    )
    params += [borrower.pk, str(LoanStatus.ACTIVE)]
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        total, late, other = cursor.fetchone()
    if total is None:
        total = ZERO
    elif not isinstance(total, Decimal):
        total = Decimal(str(total))
    return Standing(total, bool(late), other)


def certificate_expiry(*, borrower: Borrower, product: LoanProduct) -> date | None:
    """The last day the household certificate counts (None without a certificate date).

    An explicit ``certificate_valid_to`` wins; otherwise the product's validity runs from the
    date of issue (``just_out_of_poverty_months`` for a household just out of poverty).
    """
    if borrower.certificate_valid_to is not None:
        return borrower.certificate_valid_to
    if borrower.certificate_date is None:
        return None
    months = (
        product.just_out_of_poverty_months
        if borrower.household_status == HouseholdStatus.JUST_OUT_OF_POVERTY
        else product.certificate_validity_months
    )
    return add_months(borrower.certificate_date, months) - timedelta(days=1)


def _union_active(unit, on: date) -> bool:
    return (unit.active_from is None or unit.active_from <= on) and (
        unit.active_to is None or unit.active_to > on
    )


@dataclass(frozen=True)
class Eligibility:
    """The outcome of the eligibility rules: every rule not met, with its reason."""

    reasons: tuple[Reason, ...]
    outstanding: Decimal
    limit: Decimal
    on: date

    @property
    def eligible(self) -> bool:
        return not self.reasons

    @property
    def codes(self) -> list[str]:
        return [r.code for r in self.reasons]


def borrower_eligibility(
    *,
    borrower: Borrower,
    product: LoanProduct,
    amount: Decimal,
    term: int,
    on: date | None = None,
    application: LoanApplication | None = None,
    at_disbursement: bool = False,
) -> Eligibility:
    """Check every rule and return all those not met (an empty list: eligible).

    Rules: a household certificate (poor, near-poor, just out of poverty, low income) that is
    issued and still valid on the date; the age range of the product; an active grassroots union
    and superior union; an active product of the borrower's fund whose amount and term ranges
    hold the request; the fund's per-borrower limit on outstanding principal; no late loan; no
    other application in progress. At disbursement the product's ranges, the limit (checked
    then under the fund lock, with its own error) and the open-application rule are not
    re-checked: the terms were approved.
    """
    on = on or timezone.localdate()
    reasons: list[Reason] = []
    fund: Fund = borrower.fund
    expiry = certificate_expiry(borrower=borrower, product=product)
    status_label = HouseholdStatus(borrower.household_status).label
    if not borrower.certificate_number or borrower.certificate_date is None:
        reasons.append(
            Reason(
                "certificate_missing",
                "certificate_number",
                translatable(
                    _("Chưa có số và ngày cấp giấy chứng nhận %(household)s."),
                    {"household": lazy_lower(status_label)},
                ),
            )
        )
    elif borrower.certificate_date > on:
        reasons.append(
            Reason(
                "certificate_not_yet_issued",
                "certificate_date",
                translatable(
                    _("Giấy chứng nhận hộ cấp ngày %(issued)s, sau ngày %(on)s."),
                    {"issued": f"{borrower.certificate_date:%d/%m/%Y}", "on": f"{on:%d/%m/%Y}"},
                ),
            )
        )
    elif expiry is not None and expiry < on:
        reasons.append(
            Reason(
                "certificate_expired",
                "certificate_date",
                translatable(
                    _(
                        "Giấy chứng nhận %(household)s số %(number)s hết hiệu lực từ ngày "
                        "%(since)s."
                    ),
                    {
                        "household": lazy_lower(status_label),
                        "number": borrower.certificate_number,
                        "since": f"{expiry + timedelta(days=1):%d/%m/%Y}",
                    },
                ),
            )
        )
    age = age_on(borrower.date_of_birth, on)
    if age < product.min_age:
        reasons.append(
            Reason(
                "too_young",
                "date_of_birth",
                translatable(
                    _("Thành viên %(age)s tuổi, chưa đủ %(min)s tuổi theo sản phẩm %(product)s."),
                    {"age": age, "min": product.min_age, "product": product.code},
                ),
            )
        )
    elif age > product.max_age:
        reasons.append(
            Reason(
                "too_old",
                "date_of_birth",
                translatable(
                    _("Thành viên %(age)s tuổi, quá %(max)s tuổi theo sản phẩm %(product)s."),
                    {"age": age, "max": product.max_age, "product": product.code},
                ),
            )
        )
    gu: GrassrootsUnion = borrower.grassroots_union
    if not _union_active(gu, on):
        reasons.append(
            Reason(
                "union_inactive",
                "grassroots_union",
                translatable(
                    _("%(union)s không hoạt động vào ngày %(on)s."),
                    {"union": gu.name, "on": f"{on:%d/%m/%Y}"},
                ),
            )
        )
    elif not _union_active(gu.superior_union, on):
        reasons.append(
            Reason(
                "union_inactive",
                "grassroots_union",
                translatable(
                    _("%(superior)s (cấp trên của %(union)s) không hoạt động vào ngày %(on)s."),
                    {"superior": gu.superior_union.name, "union": gu.name, "on": f"{on:%d/%m/%Y}"},
                ),
            )
        )
    if not at_disbursement:
        reasons += _product_reasons(borrower=borrower, product=product, amount=amount, term=term)
    standing = borrower_standing(
        borrower=borrower,
        on=on,
        open_except=application.pk if application is not None and application.pk else None,
        with_open=not at_disbursement,
    )
    outstanding = standing.outstanding
    limit = amount_of(fund.borrower_outstanding_limit)
    if not at_disbursement and outstanding + amount > limit:
        reasons.append(
            Reason(
                "borrower_limit",
                "amount",
                translatable(
                    _(
                        "Dư nợ hiện tại %(outstanding)s cộng khoản đề nghị %(amount)s vượt mức "
                        "tối đa %(limit)s mỗi thành viên."
                    ),
                    {
                        "outstanding": format_vnd(outstanding),
                        "amount": format_vnd(amount),
                        "limit": format_vnd(limit),
                    },
                ),
            )
        )
    if standing.late:
        reasons.append(
            Reason("overdue_loan", "borrower", _("Thành viên đang có khoản vay quá hạn chưa trả."))
        )
    if standing.other_open is not None:
        other = LoanApplication.objects.get(pk=standing.other_open)  # for its status, rarely
        reasons.append(
            Reason(
                "open_application",
                "borrower",
                translatable(
                    _("Thành viên đang có hồ sơ vay #%(id)s chưa xử lý xong (%(status)s)."),
                    {"id": other.pk, "status": lazy_lower(other.get_status_display())},
                ),
            )
        )
    return Eligibility(tuple(reasons), outstanding, limit, on)


def _product_reasons(
    *, borrower: Borrower, product: LoanProduct, amount: Decimal, term: int
) -> list[Reason]:
    reasons = []
    if product.fund_id != borrower.fund_id:
        return [Reason("product_other_fund", "product", _("Sản phẩm vay thuộc quỹ khác."))]
    if not product.active:
        reasons.append(
            Reason(
                "product_inactive",
                "product",
                translatable(
                    _("Sản phẩm %(product)s đã ngừng áp dụng."), {"product": product.code}
                ),
            )
        )
    low, high = amount_of(product.min_amount), amount_of(product.max_amount)
    if not low <= amount <= high:
        reasons.append(
            Reason(
                "amount_out_of_range",
                "amount",
                translatable(
                    _(
                        "Số tiền %(amount)s ngoài khoảng %(low)s – %(high)s của sản phẩm "
                        "%(product)s."
                    ),
                    {
                        "amount": format_vnd(amount),
                        "low": format_vnd(low),
                        "high": format_vnd(high),
                        "product": product.code,
                    },
                ),
            )
        )
    if not product.min_term <= term <= product.max_term:
        unit = _("tuần") if product.frequency == "weekly" else _("tháng")
        reasons.append(
            Reason(
                "term_out_of_range",
                "term",
                translatable(
                    _(
                        "Thời hạn %(term)s %(unit)s ngoài khoảng %(min)s – %(max)s %(unit)s của "
                        "sản phẩm %(product)s."
                    ),
                    {
                        "term": term,
                        "unit": unit,
                        "min": product.min_term,
                        "max": product.max_term,
                        "product": product.code,
                    },
                ),
            )
        )
    return reasons


# --------------------------------------------------------------------------------------------
# Lists through the scope


def _own_fund_first(qs: QuerySet, scope: Scope) -> QuerySet:
    """The scope's rows; fund-wide scopes filter on the row's own ``fund`` (indexed with the
    status, the date, the id) instead of joining every grassroots union to read its fund —
    the same rows, since a loan or application belongs to the fund of its union."""
    if scope.is_fund_wide:
        return qs.filter(fund_id=scope.fund_id)
    return scope_filter(qs, scope)


def application_list(*, scope: Scope, status: str | None = None) -> QuerySet:
    qs = _own_fund_first(LoanApplication.objects.all(), scope).select_related(
        "borrower", "product", "grassroots_union"
    )
    return qs.filter(status=status) if status else qs


def loan_list(*, scope: Scope, status: str | None = None) -> QuerySet:
    """Loans the scope may see, by the grassroots union recorded at disbursement."""
    qs = _own_fund_first(Loan.objects.all(), scope).select_related("borrower", "grassroots_union")
    return qs.filter(status=status) if status else qs


def change_request_list(*, scope: Scope, status: str | None = None) -> QuerySet:
    """Requests to change the terms of the loans the scope may see (``loan_list``)."""
    if scope.is_fund_wide:
        qs = LoanChangeRequest.objects.filter(loan__fund_id=scope.fund_id)
    else:
        qs = scope_filter(
            LoanChangeRequest.objects.all(), scope, grassroots_field="loan__grassroots_union"
        )
    return qs.filter(status=status) if status else qs


def borrower_list(*, scope: Scope) -> QuerySet:
    return scope_filter(Borrower.objects.all(), scope).select_related("grassroots_union")


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


def loan_ledger_lines(*, loan_id: int) -> list[LedgerLine]:
    """The postings of the entries behind the loan's transactions (its journal), in the order of
    the transactions, then of the postings: one query of plain values, no model instances."""
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
        )
    )
    lines, previous = [], None
    for txn, on, entry, kind, memo, code, name, amount in rows:
        if code is None:  # an entry without postings cannot be posted; nothing to list
            continue
        lines.append(
            LedgerLine(on, entry, kind, memo if txn != previous else None, code, name, amount)
        )
        previous = txn
    return lines


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
    accounts = Account.objects.get(code=LOANS_ACCOUNT)
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
    account = Account.objects.get(code=PROVISION_ACCOUNT)
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

WRITE_OFF_EXPENSE = "8111"
RECOVERY_INCOME = "7111"


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


INDICATOR_SOURCES = {
    "disbursed_amount": disbursed_amount_between,
    "borrowers": borrowers_between,
    "loans": loans_between,
    "grassroots_unions": grassroots_unions_between,
    "jobs_created": jobs_created_between,
    "jobs_confirmed": jobs_confirmed_between,
}


__all__ = [
    "Eligibility",
    "LoanDifference",
    "ReconciliationReport",
    "age_on",
    "application_list",
    "borrower_eligibility",
    "borrower_has_overdue",
    "borrower_list",
    "borrower_outstanding",
    "certificate_expiry",
    "loan_book_reconcile",
    "loan_list",
    "loan_outstanding_as_of",
    "loan_postings",
    "reminder_deliveries_failed",
]


def reminder_deliveries_failed(*, scope: Scope) -> QuerySet:
    """Reminders an officer must see: failing and being retried, given up, or uncertain (a
    worker died while sending), newest first, within the officer's scope."""
    S = ReminderDelivery.Status
    return scope_filter(
        ReminderDelivery.objects.filter(status__in=[S.RETRY, S.FAILED, S.UNCERTAIN]), scope
    ).select_related("grassroots_union", "installment__loan__borrower", "officer")
