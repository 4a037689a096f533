"""Repayments: a borrower's payment allocated over the schedule, posted as one ledger entry.

A payment is split in the loan's stored allocation order (``Loan.allocation_order``, default
penalty, overdue interest, overdue principal, current interest, current principal). An
installment is *overdue* when its due date is before the payment date; the *current* one is the
first installment due on or after it. After the ordered buckets come the compulsory savings of
the overdue and current installments (the fund's claims are settled before the borrower's own
savings), then — an early payment — the principal of the following installments, nearest
first. What is left is an overpayment: refused, or put to the borrower's savings when asked.

Every repayment stores its allocation lines (one per installment and component), so that
``repayment_reverse`` gives back to each installment exactly what the payment took. The loan
book moves with the ledger in the same transaction: a ``LoanTransaction`` with the principal
change and ``Loan.outstanding_principal``, which ``loan_book_reconcile`` checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db import connections, router, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounting.dates import business_today
from accounting.errors import ApplicationError
from accounting.formatting import format_vnd
from accounting.idempotency import command_once
from accounting.money import amount_of, to_dong
from accounting.services import credit, debit, journal_entry_post, journal_entry_reverse
from fund.accounts import (
    BANK,
    BORROWER_SAVINGS,
    IN_TRANSIT,
    INTEREST_INCOME,
    LOANS_RECEIVABLE,
    PENALTY_INCOME,
)
from fund.audit import audit_record, audit_record_many
from fund.errors import PermissionRefused
from fund.scoping import actor_scope, actor_user, actor_user_id, scope_require_write
from fund.validation import backdate_reason_clean
from loans.db import rows_insert, rows_update
from loans.errors import LoanError
from loans.models import (
    Installment,
    InstallmentStatus,
    Loan,
    LoanStatus,
    LoanTransaction,
    Repayment,
    RepaymentAllocation,
    RepaymentBatch,
)
from loans.models.remittances import BankStatementLine
from loans.policy import loan_require_action, loan_require_reverser, loan_require_servicer

OVERPAYMENT_CHOICES = ("refuse", "savings")
ZERO = Decimal(0)
C = RepaymentAllocation.Component

__all__ = [
    "full_payoff_quote",
    "repayment_allocate",
    "repayment_batch_post",
    "repayment_post",
    "repayment_reverse",
]

# Installment field pairs (due, paid) per component.
_FIELDS = {
    C.PENALTY: ("penalty_due", "penalty_paid"),
    C.INTEREST: ("interest_due", "interest_paid"),
    C.PRINCIPAL: ("principal_due", "principal_paid"),
    C.SAVINGS: ("savings_due", "savings_paid"),
}


def _left(inst: Installment, component: str) -> Decimal:
    due, paid = _FIELDS[component]
    return amount_of(getattr(inst, due)) - amount_of(getattr(inst, paid))


@dataclass
class Allocation:
    """The split of one payment: (installment, component, amount) lines and the overpayment."""

    lines: list[tuple[Installment, str, Decimal]] = field(default_factory=list)
    overpayment: Decimal = ZERO

    def total(self, component: str) -> Decimal:
        return sum((a for _, c, a in self.lines if c == component), ZERO)


def _claims(installments: list[Installment], paid_on: date, order: list[str]):
    """The (installment, component) claims in the order a payment settles them."""
    overdue = [i for i in installments if i.due_date < paid_on]
    upcoming = [i for i in installments if i.due_date >= paid_on]
    current, following = upcoming[:1], upcoming[1:]
    buckets = {
        "penalty": [(i, C.PENALTY) for i in installments],
        "overdue_interest": [(i, C.INTEREST) for i in overdue],
        "overdue_principal": [(i, C.PRINCIPAL) for i in overdue],
        "current_interest": [(i, C.INTEREST) for i in current],
        "current_principal": [(i, C.PRINCIPAL) for i in current],
    }
    claims = [claim for name in order for claim in buckets[name]]
    claims += [(i, C.SAVINGS) for i in overdue + current]
    claims += [(i, C.PRINCIPAL) for i in following]
    return claims


def _current_installments(loans, paid_on: date) -> dict[int, list[Installment]]:
    """What a payment on `paid_on` settles first, for each loan, in one query: the installments
    of the current schedule up to the current one (the first due on or after `paid_on`), less
    those fully paid before that date (a paid installment has nothing left to take).

    The installments after the current one only take the principal of an early payment, last
    of all (``_claims``); a split that has money left over is made again on the whole
    schedule (``_split_checked``)."""
    by_loan: dict[int, list[Installment]] = {loan.pk: [] for loan in loans}
    versions = {loan.pk: loan.schedule_version for loan in loans}
    if not by_loan:
        return by_loan
    # Written out once rather than compiled from a queryset with a subquery on every call (the
    # compilation cost more than the query). The current one: the lowest number due on or
    # after the date in the same schedule; none (all due before) keeps every open one.
    conn = connections[router.db_for_read(Installment)]
    qn = conn.ops.quote_name
    meta = Installment._meta
    table = qn(meta.db_table)
    day = conn.ops.adapt_datefield_value(paid_on)
    sql = (
        f"SELECT {', '.join(f'i.{qn(f.column)}' for f in meta.concrete_fields)}"
        f" FROM {table} i WHERE i.loan_id IN ({', '.join(['%s'] * len(by_loan))})"
        " AND (NOT (i.status = %s) OR i.due_date >= %s)"
        " AND i.number <= COALESCE((SELECT c.number FROM"
        f" {table} c WHERE c.loan_id = i.loan_id AND c.schedule_version = i.schedule_version"
        " AND c.due_date >= %s ORDER BY c.number LIMIT 1), i.number)"
        " ORDER BY i.loan_id, i.number"
    )
    params = [*by_loan, str(InstallmentStatus.PAID), day, day]
    for inst in Installment.objects.raw(sql, params):
        if inst.schedule_version == versions[inst.loan_id]:
            by_loan[inst.loan_id].append(inst)
    return by_loan


def repayment_allocate(
    *, loan: Loan, amount: Decimal, paid_on: date, installments: list[Installment] | None = None
) -> Allocation:
    """How `amount` paid on `paid_on` would be split over the loan's open installments (reads
    only; the installments are the ones in the database, locked by the caller when it writes).
    `installments`: the loan's current schedule already read by the caller (a remittance reads
    all its loans' at once)."""
    if installments is None:
        installments = list(
            loan.installments.filter(schedule_version=loan.schedule_version).order_by("number")
        )
    result = Allocation()
    left = amount
    for inst, component in _claims(installments, paid_on, list(loan.allocation_order)):
        if not left:
            break
        take = min(left, _left(inst, component))
        if take > 0:
            result.lines.append((inst, component, take))
            left -= take
    result.overpayment = left
    return result


def installment_status(inst: Installment) -> str:
    """The status the installment's paid amounts give it: paid, partly paid or pending."""
    if all(_left(inst, c) == 0 for c in _FIELDS):
        return InstallmentStatus.PAID
    if any(amount_of(getattr(inst, paid)) for _, paid in _FIELDS.values()):
        return InstallmentStatus.PARTIAL
    return InstallmentStatus.PENDING


def _amount(value) -> Decimal:
    try:
        amount = to_dong(value, field="amount")
    except ApplicationError as e:
        raise LoanError(e.message, field="amount") from None
    if amount <= 0:
        raise LoanError(_("Số tiền trả nợ phải lớn hơn 0."), field="amount")
    return amount


_PAID_ON = _("Ngày trả nợ")


def _paid_on(value, loan: Loan) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise LoanError(
            _("Ngày trả nợ phải là một ngày, nhận được %(value)s."),
            field="paid_on",
            params={"value": repr(value)},
        )
    if value > business_today():
        raise LoanError(_("Ngày trả nợ không được sau ngày hôm nay."), field="paid_on")
    if value < loan.disbursed_on:
        raise LoanError(
            _("Ngày trả nợ không được trước ngày giải ngân %(disbursed)s."),
            field="paid_on",
            params={"disbursed": f"{loan.disbursed_on:%d/%m/%Y}"},
        )
    return value


def _check_open(loan: Loan) -> None:
    if loan.status != LoanStatus.ACTIVE:
        raise LoanError(
            _("Khoản vay #%(loan)s đang ở trạng thái “%(status)s”, không nhận trả nợ."),
            field="loan",
            params={"loan": loan.pk, "status": LoanStatus(loan.status).label},
        )


def _split_checked(
    *, loan: Loan, amount: Decimal, paid_on: date, overpayment: str, installments=None
) -> Allocation:
    _check_open(loan)
    split = repayment_allocate(loan=loan, amount=amount, paid_on=paid_on, installments=installments)
    if split.overpayment and installments is not None:
        # Money left after the installments read up front: the following ones take it.
        split = repayment_allocate(loan=loan, amount=amount, paid_on=paid_on)
    if split.overpayment and overpayment == "refuse":
        raise LoanError(
            _("Số tiền %(amount)s vượt quá số có thể thu của khoản vay #%(loan)s (%(due)s)."),
            field="amount",
            params={
                "amount": format_vnd(amount),
                "loan": loan.pk,
                "due": format_vnd(amount - split.overpayment),
            },
        )
    return split


def _credit_legs(*, loan: Loan, split: Allocation, with_savings: bool = True) -> list:
    """Cr 1283 / 5151 / 5152 on the loan's sub-ledger, Cr 33881 on the borrower's."""
    dims = loan.ledger_dimensions
    legs = []
    for account, component in (
        (LOANS_RECEIVABLE, C.PRINCIPAL),
        (INTEREST_INCOME, C.INTEREST),
        (PENALTY_INCOME, C.PENALTY),
    ):
        if split.total(component):
            legs.append(credit(account, split.total(component), subledger=loan.subledger, **dims))
    savings = split.total(C.SAVINGS) + split.overpayment
    if savings and with_savings:
        legs.append(
            credit(BORROWER_SAVINGS, savings, subledger=f"borrower:{loan.borrower_id}", **dims)
        )
    return legs


def _repayment(*, loan, split, amount, paid_on, entry, collected_by, actor, batch=None):
    return Repayment(
        loan=loan,
        batch=batch,
        collected_by_grassroots_union=collected_by,
        paid_on=paid_on,
        amount=amount,
        principal=split.total(C.PRINCIPAL),
        interest=split.total(C.INTEREST),
        penalty=split.total(C.PENALTY),
        savings=split.total(C.SAVINGS),
        overpayment_savings=split.overpayment,
        journal_entry=entry,
        created_by=actor_user(actor),
    )


def repayment_post_locked(
    *,
    loan: Loan,
    amount: Decimal,
    paid_on: date,
    overpayment: str,
    collected_by,
    actor,
    entry_key: str,
    from_savings: bool = False,
    backdated_reason: str = "",
) -> Repayment:
    """Allocate, post and record one repayment of a loan the caller has locked.

    `from_savings`: the money comes from the borrower's compulsory savings (Dr 33881
    ``borrower:<id>`` instead of Dr 1121); the savings the split would credit back to 33881 are
    netted out of the debit, so the entry never debits and credits the same sub-ledger.
    `backdated_reason`: the reason the caller's back-dating rule kept ("" when in the window).
    """
    split = _split_checked(loan=loan, amount=amount, paid_on=paid_on, overpayment=overpayment)
    if from_savings:
        legs = _credit_legs(loan=loan, split=split, with_savings=False)
        netted = amount - split.total(C.SAVINGS) - split.overpayment
        legs.insert(
            0,
            debit(
                BORROWER_SAVINGS,
                netted,
                subledger=f"borrower:{loan.borrower_id}",
                **loan.ledger_dimensions,
            ),
        )
        memo = f"Trừ tiết kiệm bắt buộc vào nợ khoản vay #{loan.pk} của {loan.borrower.full_name}"
    else:
        legs = [debit(BANK, amount, subledger=loan.subledger, **loan.ledger_dimensions)]
        legs += _credit_legs(loan=loan, split=split)
        memo = f"Thu nợ khoản vay #{loan.pk} của {loan.borrower.full_name}"
    entry = journal_entry_post(
        effective_date=paid_on,
        legs=legs,
        memo=memo[:500],
        idempotency_key=entry_key,
        posted_by=actor_user(actor),
        document_type="loan_repayment",
        document_id=str(loan.pk),
        backdated_reason=backdated_reason,
    )
    repayment = _repayment(
        loan=loan,
        split=split,
        amount=amount,
        paid_on=paid_on,
        entry=entry,
        collected_by=collected_by,
        actor=actor,
    )
    _record(repayment=repayment, split=split, loan=loan, actor=actor)
    return repayment


_RELATIONS = ["loan", "batch", "collected_by_grassroots_union", "journal_entry", "created_by"]


def _record(*, repayment: Repayment, split: Allocation, loan: Loan, actor) -> None:
    """Write the repayment, its allocations, the installments and the loan book."""
    _record_many(items=[(repayment, split, loan)], actor=actor)


_INSTALLMENT_PAID_FIELDS = [
    "principal_paid",
    "interest_paid",
    "penalty_paid",
    "savings_paid",
    "status",
    "paid_on",
]


def _record_many(*, items: list[tuple[Repayment, Allocation, Loan]], actor) -> None:
    """Write repayments of distinct loans, their allocations, the installments and the loan
    book: the rows of a whole remittance go in a few statements, not a few per line."""
    touched: dict[int, Installment] = {}
    for repayment, split, _loan in items:
        # The related rows are the ones this transaction holds (and the database's foreign keys
        # guard them): checking each one again would cost a query per relation and line. The
        # same for the CHECK constraints: the database enforces them, and validating them here
        # costs one query each per repayment.
        repayment.full_clean(exclude=_RELATIONS, validate_constraints=False)
        for inst, component, take in split.lines:
            _, paid = _FIELDS[component]
            setattr(inst, paid, amount_of(getattr(inst, paid)) + take)
            touched[inst.pk] = inst
        paid_on = repayment.paid_on
        for inst in {i.pk: i for i, _, _ in split.lines}.values():
            inst.status = installment_status(inst)
            inst.paid_on = paid_on if inst.status == InstallmentStatus.PAID else None
    rows_update(Installment, list(touched.values()), _INSTALLMENT_PAID_FIELDS)
    for repayment, _split, loan in items:
        principal = amount_of(repayment.principal)
        loan.outstanding_principal = amount_of(loan.outstanding_principal) - principal
        # Fully repaid: no principal left and nothing due up to the current installment (the
        # interest of later installments is not owed once their principal is repaid early).
        if (
            not loan.outstanding_principal
            and not repayment_allocate(
                loan=loan, amount=Decimal(10) ** 19, paid_on=repayment.paid_on
            ).lines
        ):
            loan.status = LoanStatus.CLOSED
            loan.closed_on = repayment.paid_on
            repayment.closed_loan = True
    rows_update(
        Loan, [loan for _, _, loan in items], ["outstanding_principal", "status", "closed_on"]
    )
    Repayment.objects.bulk_create([repayment for repayment, _, _ in items])
    rows_insert(
        RepaymentAllocation,
        [
            RepaymentAllocation(repayment=repayment, installment=inst, component=c, amount=take)
            for repayment, split, _ in items
            for inst, c, take in split.lines
        ],
    )
    rows_insert(
        LoanTransaction,
        [
            LoanTransaction(
                loan=loan,
                kind=LoanTransaction.Kind.REPAYMENT,
                effective_date=repayment.paid_on,
                principal_change=-amount_of(repayment.principal),
                interest=amount_of(repayment.interest),
                penalty=amount_of(repayment.penalty),
                savings=amount_of(repayment.savings) + amount_of(repayment.overpayment_savings),
                journal_entry=repayment.journal_entry,
                created_by=actor_user(actor),
            )
            for repayment, _, loan in items
        ],
    )
    audit_record_many(
        actor=actor_user(actor),
        records=[
            (
                "repay",
                loan,
                {
                    "repayment": [None, repayment.pk],
                    "amount": [None, str(amount_of(repayment.amount))],
                    "principal": [None, str(amount_of(repayment.principal))],
                    "journal_entry": [None, repayment.journal_entry_id],
                    **_backdated(repayment.journal_entry),
                },
            )
            for repayment, _, loan in items
        ],
    )


def _backdated(entry) -> dict:
    """The audit record's mark of a back-dated posting (none when not back-dated)."""
    reason = entry.backdated_reason if entry is not None else ""
    return {"backdated_reason": [None, reason]} if reason else {}


def repayment_post(
    *,
    loan: Loan,
    amount,
    paid_on: date,
    idempotency_key: str,
    actor=None,
    collected_by_grassroots_union=None,
    overpayment: str = "refuse",
    backdate_reason: str = "",
) -> Repayment:
    """Post one repayment of `loan`: allocation, one balanced entry, the loan book.

    Invariants: the entry is Dr 1121 = Cr 1283 (principal, ``loan:<id>``) + Cr 5151 (interest)
    + Cr 5152 (penalty) + Cr 33881 (savings and any overpayment, ``borrower:<id>``), with the
    fund and unions on every leg; the principal credited equals the fall of
    ``Loan.outstanding_principal`` and the ``LoanTransaction``'s change; the allocation lines
    sum to the amount less the overpayment. A refusal writes nothing. The same key returns the
    same repayment, under retries and concurrent requests alike.

    Who may (``loans.policy.loan_require_servicer``): the officers of the loan's
    grassroots union, the superior union above it, the fund's officers; never an auditor
    (``actor=None`` is the system). A `paid_on` before the fund's open window needs
    `backdate_reason` (``fund.validation.backdate_reason_clean``)."""
    amount = _amount(amount)
    if overpayment not in OVERPAYMENT_CHOICES:
        raise LoanError(
            _("Xử lý tiền trả thừa phải là “refuse” (từ chối) hoặc “savings” (chuyển tiết kiệm)."),
            field="overpayment",
        )
    _check_open(loan)
    loan_require_servicer(actor, loan=loan)
    paid_on = _paid_on(paid_on, loan)
    reason = backdate_reason_clean(
        loan.fund, paid_on, backdate_reason, field="paid_on", label=_PAID_ON, error=LoanError
    )
    gu = collected_by_grassroots_union
    if gu is not None and gu.fund_id != loan.fund_id:
        raise LoanError(
            _("Công đoàn cơ sở thu hộ không thuộc quỹ của khoản vay."),
            field="collected_by_grassroots_union",
        )

    def run():
        locked = Loan.objects.select_for_update().select_related("borrower").get(pk=loan.pk)
        repayment = repayment_post_locked(
            loan=locked,
            amount=amount,
            paid_on=paid_on,
            overpayment=overpayment,
            collected_by=gu,
            actor=actor,
            entry_key=f"loans.repayment:{idempotency_key}",
            backdated_reason=reason,
        )
        loan.refresh_from_db()
        return repayment

    payload = {
        "loan": loan.pk,
        "amount": str(amount),
        "paid_on": paid_on.isoformat(),
        "overpayment": overpayment,
        "collected_by": getattr(gu, "pk", None),
        "actor": actor_user_id(actor),
        **({"backdate_reason": reason} if reason else {}),
    }
    with transaction.atomic():
        return command_once(
            scope="loans.repayment_post",
            key=idempotency_key,
            payload=payload,
            run=run,
            load=lambda pk: Repayment.objects.get(pk=pk),
        )


def remittance_subledger(batch_id: int) -> str:
    """The sub-ledger of a remittance's money in transit (1131): one per remittance, so that
    what is still in transit for it is its balance there."""
    return f"remittance:{batch_id}"


def remittance_cash_locked(batch_id: int) -> dict:
    """Where a remittance's money is held now, its row locked: in transit (1131, its sub-ledger)
    until a bank statement line confirmed it, then the bank (1121); the remittances posted
    before money in transit existed debited 1121 at once."""
    batch = RepaymentBatch.objects.select_for_update().get(pk=batch_id)
    if batch.in_transit and not BankStatementLine.objects.filter(batch_id=batch_id).exists():
        return {"account": IN_TRANSIT, "subledger": remittance_subledger(batch_id)}
    return {"account": BANK, "subledger": ""}


def _line_reversal_legs(rep: Repayment, loan: Loan) -> list:
    """The mirror of one line of a remittance: what the line credited is debited back and its
    share of the remittance's debit credited where that money is now (money in transit before
    the bank statement confirmed it, the bank after; the remittance's entry itself stays, it
    holds other borrowers' lines)."""
    dims = loan.ledger_dimensions
    legs = []
    for account, value in (
        (LOANS_RECEIVABLE, rep.principal),
        (INTEREST_INCOME, rep.interest),
        (PENALTY_INCOME, rep.penalty),
    ):
        if amount_of(value):
            legs.append(debit(account, amount_of(value), subledger=loan.subledger, **dims))
    savings = amount_of(rep.savings) + amount_of(rep.overpayment_savings)
    if savings:
        legs.append(
            debit(BORROWER_SAVINGS, savings, subledger=f"borrower:{loan.borrower_id}", **dims)
        )
    held = remittance_cash_locked(rep.batch_id)
    legs.append(credit(held["account"], amount_of(rep.amount), subledger=held["subledger"], **dims))
    return legs


def repayment_reverse(
    *,
    repayment: Repayment,
    reason: str,
    idempotency_key: str,
    actor=None,
    backdate_reason: str = "",
):
    """Cancel a repayment: its entry reversed, each installment given back exactly what the
    repayment paid (from its allocation lines), the outstanding principal restored and the loan
    re-opened if the repayment had closed it.

    A line of a remittance (``repayment.batch``) is reversed alone: a new entry mirrors that
    line only (Dr 1283 / 5151 / 5152 / 33881, Cr 1131 for the line's amount while the money is in
    transit, Cr 1121 once the bank statement confirmed it); the other lines and the remittance's
    entry stay as they are.

    Invariants: after the reversal the loan book and ledger reconcile as before the repayment; a
    repayment is reversed at most once, and only the loan's latest repayment still in force (a
    later one was allocated on top of it and would no longer follow the allocation order), and
    only while the installments it paid are the schedule in force (not after a rescheduling or
    recall) and the loan was not settled with its savings (``loan_close``). Who may: the roles
    of the action "reverse" of ``loans.policy.LOAN_ACTIONS`` (the fund officers), and not the
    officer who recorded the repayment or its remittance when the fund separates those duties
    (``fund.duties``).

    The reversal carries the repayment's date: when that is before the fund's open window, the
    reversal is back-dated and keeps `backdate_reason`, or else the reason of the reversal.
    """
    reason = (reason or "").strip()
    if not reason:
        raise LoanError(_("Phải ghi lý do hủy lần trả nợ."), field="reason")
    if len(reason) > 500:
        raise LoanError(_("Lý do hủy dài quá 500 ký tự."), field="reason")
    loan_require_action(actor, loan=repayment.loan, name="reverse", field="repayment")

    def run():
        loan = Loan.objects.select_for_update().get(pk=repayment.loan_id)
        rep = Repayment.objects.select_for_update().get(pk=repayment.pk)
        loan_require_reverser(actor, loan=loan, repayment=rep)
        if rep.reversal_entry_id is not None:
            raise LoanError(
                _("Lần trả nợ #%(repayment)s đã bị hủy."),
                field="repayment",
                params={"repayment": rep.pk},
            )
        later = (
            Repayment.objects.filter(loan=loan, reversal_entry__isnull=True)
            .exclude(pk=rep.pk)
            .filter(pk__gt=rep.pk)
            .order_by("pk")
            .first()
        )
        if later is not None:
            raise LoanError(
                _("Phải hủy lần trả nợ #%(later)s (ghi sau) trước lần trả nợ #%(repayment)s."),
                field="repayment",
                params={"later": later.pk, "repayment": rep.pk},
            )
        if loan.status not in (LoanStatus.ACTIVE, LoanStatus.CLOSED) or (
            loan.status == LoanStatus.CLOSED and not rep.closed_loan
        ):
            raise LoanError(
                _(
                    "Khoản vay #%(loan)s đang ở trạng thái “%(status)s”, "
                    "không hủy được lần trả nợ này."
                ),
                field="repayment",
                params={"loan": loan.pk, "status": LoanStatus(loan.status).label},
            )
        if hasattr(loan, "closure"):
            raise LoanError(
                _(
                    "Khoản vay #%(loan)s đã tất toán với tiết kiệm bắt buộc; không hủy được lần "
                    "trả nợ."
                ),
                field="repayment",
                params={"loan": loan.pk},
            )
        allocations = list(rep.allocations.select_related("installment"))
        if any(a.installment.schedule_version != loan.schedule_version for a in allocations):
            raise LoanError(
                _(
                    "Lần trả nợ #%(repayment)s đã phân bổ vào lịch trả nợ cũ (trước khi cơ cấu "
                    "lại hoặc thu hồi); không hủy được."
                ),
                field="repayment",
                params={"repayment": rep.pk},
            )
        memo = f"Hủy lần trả nợ #{rep.pk} khoản vay #{loan.pk}: {reason}"[:500]
        backdated = backdate_reason_clean(
            loan.fund,
            rep.paid_on,
            backdate_reason or reason,
            field="backdate_reason",
            label=_PAID_ON,
            error=LoanError,
        )
        if rep.batch_id is None:
            entry = journal_entry_reverse(
                entry=rep.journal_entry,
                idempotency_key=f"loans.repayment_reverse:{rep.pk}",
                memo=memo,
                posted_by=actor_user(actor),
                backdated_reason=backdated,
            )
        else:
            entry = journal_entry_post(
                effective_date=rep.paid_on,
                legs=_line_reversal_legs(rep, loan),
                memo=memo,
                idempotency_key=f"loans.repayment_reverse:{rep.pk}",
                posted_by=actor_user(actor),
                document_type="loan_repayment_line_reversal",
                document_id=str(rep.pk),
                backdated_reason=backdated,
            )
        touched = {}
        for a in allocations:
            inst = touched.setdefault(a.installment_id, a.installment)
            _due, paid = _FIELDS[a.component]
            setattr(inst, paid, amount_of(getattr(inst, paid)) - amount_of(a.amount))
        for inst in touched.values():
            inst.status = installment_status(inst)
            if inst.status != InstallmentStatus.PAID:
                inst.paid_on = None
            inst.save(
                update_fields=[
                    "principal_paid",
                    "interest_paid",
                    "penalty_paid",
                    "savings_paid",
                    "status",
                    "paid_on",
                ]
            )
        principal = amount_of(rep.principal)
        loan.outstanding_principal = amount_of(loan.outstanding_principal) + principal
        if rep.closed_loan:
            loan.status = LoanStatus.ACTIVE
            loan.closed_on = None
        loan.save(update_fields=["outstanding_principal", "status", "closed_on"])
        LoanTransaction.objects.create(
            loan=loan,
            kind=LoanTransaction.Kind.REVERSAL,
            effective_date=entry.effective_date,
            principal_change=principal,
            interest=-amount_of(rep.interest),
            penalty=-amount_of(rep.penalty),
            savings=-(amount_of(rep.savings) + amount_of(rep.overpayment_savings)),
            journal_entry=entry,
            created_by=actor_user(actor),
        )
        rep.reversal_entry = entry
        rep.reversed_at = timezone.now()
        rep.reversal_reason = reason
        rep.save(update_fields=["reversal_entry", "reversed_at", "reversal_reason"])
        audit_record(
            actor=actor_user(actor),
            action="repayment_reverse",
            obj=loan,
            changes={
                "repayment": [rep.pk, None],
                "batch": [rep.batch_id, None],
                "principal": [None, str(principal)],
                "journal_entry": [None, entry.pk],
                "reason": [None, reason],
                **_backdated(entry),
            },
        )
        repayment.refresh_from_db()
        return rep

    payload = {
        "repayment": repayment.pk,
        "reason": reason,
        "actor": actor_user_id(actor),
        **({"backdate_reason": backdate_reason} if backdate_reason else {}),
    }
    with transaction.atomic():
        return command_once(
            scope="loans.repayment_reverse",
            key=idempotency_key,
            payload=payload,
            run=run,
            load=lambda pk: Repayment.objects.get(pk=pk),
        )


@dataclass(frozen=True)
class PayoffQuote:
    """What a borrower must pay on a date to repay the loan in full (whole đồng)."""

    loan_id: int
    on: date
    principal: Decimal
    interest: Decimal
    penalty: Decimal
    savings: Decimal

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest + self.penalty + self.savings


def full_payoff_quote(*, loan: Loan, on: date, installments=None) -> PayoffQuote:
    """The amount that closes `loan` if paid on `on`: every principal still outstanding, the
    penalty accrued, the interest and savings of the overdue installments and of the current one
    (the interest of the current period as scheduled, whatever the method: the schedule already
    computed it on the balance the method uses), and no interest of the later installments.

    Paying exactly ``total`` with ``repayment_post`` on the same date closes the loan.
    `installments`: as for ``repayment_allocate``.
    """
    _check_open(loan)
    on = _paid_on(on, loan)
    split = repayment_allocate(
        loan=loan, amount=Decimal(10) ** 19, paid_on=on, installments=installments
    )
    return PayoffQuote(
        loan_id=loan.pk,
        on=on,
        principal=split.total(C.PRINCIPAL),
        interest=split.total(C.INTEREST),
        penalty=split.total(C.PENALTY),
        savings=split.total(C.SAVINGS),
    )


# A remittance line's refusal: the line number, then the refusal (in the language shown).
_LINE = _("Dòng %(row)s: %(message)s")


def _line(n: int, e) -> dict:
    return {"row": n + 1, "message": e.message}


def _require_batch_unit(actor, grassroots_union) -> None:
    """A remittance is entered by an officer whose scope holds the remitting union."""
    scope = actor_scope(actor)
    if scope is None:
        return
    scope_require_write(scope, field="actor")
    if not scope.allows_grassroots_union(grassroots_union):
        raise PermissionRefused(
            _("%(unit)s không thuộc phạm vi quản lý của bạn."),
            field="grassroots_union",
            code="other_unit",
            params={"unit": grassroots_union.name},
        )


def _require_union_loan(loan: Loan, grassroots_union) -> None:
    """A union remits only for its own members' loans (the loan's grassroots union)."""
    if loan.grassroots_union_id != grassroots_union.pk:
        raise LoanError(
            _("Khoản vay #%(loan)s không phải của công đoàn cơ sở nộp tiền (%(unit)s)."),
            field="loan",
            code="other_union_loan",
            params={"loan": loan.pk, "unit": grassroots_union.name},
        )


def repayment_batch_post(
    *,
    grassroots_union,
    receipt_number: str,
    paid_on: date,
    lines,
    idempotency_key: str,
    actor=None,
    overpayment: str = "refuse",
    backdate_reason: str = "",
) -> RepaymentBatch:
    """Post one remittance of a grassroots union: many borrowers' repayments, one bank receipt.

    All or nothing: every line is allocated as by ``repayment_post`` and the whole remittance is
    one balanced entry (Dr 1131 money in transit for the total, on the remittance's sub-ledger
    and split only by the unions recorded on the loans; the credits of each loan as for a single
    repayment). The money reaches the bank account 1121 when a fund officer confirms the bank
    statement's receipt of it (``loans.servicing.remittances``). A refusal of any line writes
    nothing and names the line. A receipt number is posted at most once per union. A `paid_on`
    before the fund's open window needs `backdate_reason`, kept on the remittance's entry.
    """
    receipt_number = (receipt_number or "").strip()
    if not receipt_number or len(receipt_number) > 64:
        raise LoanError(
            _("Số chứng từ ngân hàng phải có, tối đa 64 ký tự."), field="receipt_number"
        )
    if overpayment not in OVERPAYMENT_CHOICES:
        raise LoanError(
            _("Xử lý tiền trả thừa phải là “refuse” (từ chối) hoặc “savings” (chuyển tiết kiệm)."),
            field="overpayment",
        )
    lines = list(lines or [])
    if not lines:
        raise LoanError(_("Đợt nộp phải có ít nhất một dòng."), field="lines")
    _require_batch_unit(actor, grassroots_union)
    checked = []
    seen = set()
    for n, line in enumerate(lines):
        try:
            loan, amount = line
            if not isinstance(loan, Loan):
                raise LoanError(_("Dòng phải là (khoản vay, số tiền)."), field="loan")
            if loan.pk in seen:
                raise LoanError(
                    _("Khoản vay #%(loan)s có hai dòng trong đợt nộp."),
                    field="loan",
                    params={"loan": loan.pk},
                )
            if loan.fund_id != grassroots_union.fund_id:
                raise LoanError(_("Khoản vay không thuộc quỹ của công đoàn cơ sở."), field="loan")
            amount = _amount(amount)
            _check_open(loan)
            _paid_on(paid_on, loan)
            loan_require_servicer(actor, loan=loan)
            # After the scope check: another unit's loan stays unseen (a permission refusal).
            _require_union_loan(loan, grassroots_union)
        except PermissionRefused as e:
            raise PermissionRefused(
                _LINE, field=f"lines[{n}].loan", code=e.code, params=_line(n, e)
            ) from None
        except LoanError as e:
            raise LoanError(_LINE, field=f"lines[{n}].{e.field}", params=_line(n, e)) from None
        except (TypeError, ValueError):
            raise LoanError(
                _("Dòng %(row)s phải là (khoản vay, số tiền)."),
                field=f"lines[{n}]",
                params={"row": n + 1},
            ) from None
        seen.add(loan.pk)
        checked.append((loan, amount))
    total = sum((a for _, a in checked), ZERO)
    reason = backdate_reason_clean(
        grassroots_union.fund,
        paid_on,
        backdate_reason,
        field="paid_on",
        label=_PAID_ON,
        error=LoanError,
    )

    def run():
        # Locked in id order, so two remittances touching the same loans cannot deadlock.
        locked = {
            x.pk: x
            for x in Loan.objects.select_for_update()
            .select_related("borrower")
            .filter(pk__in=[loan.pk for loan, _ in checked])
            .order_by("pk")
        }
        prior = RepaymentBatch.objects.filter(
            grassroots_union=grassroots_union, receipt_number=receipt_number
        ).first()
        if prior is not None:
            raise LoanError(
                _("Chứng từ %(receipt)s của %(unit)s đã được ghi (đợt nộp #%(batch)s)."),
                field="receipt_number",
                params={
                    "receipt": receipt_number,
                    "unit": grassroots_union.name,
                    "batch": prior.pk,
                },
            )
        splits, credits = [], []
        cash: dict[tuple, Decimal] = {}
        schedules = _current_installments(locked.values(), paid_on)
        for n, (loan, amount) in enumerate(checked):
            current = locked[loan.pk]
            try:
                split = _split_checked(
                    loan=current,
                    amount=amount,
                    paid_on=paid_on,
                    overpayment=overpayment,
                    installments=schedules[current.pk],
                )
            except LoanError as e:
                raise LoanError(_LINE, field=f"lines[{n}].{e.field}", params=_line(n, e)) from None
            splits.append((current, amount, split))
            credits += _credit_legs(loan=current, split=split)
            key = tuple(sorted(current.ledger_dimensions.items()))
            cash[key] = cash.get(key, ZERO) + amount
        batch = RepaymentBatch(
            fund_id=grassroots_union.fund_id,
            grassroots_union=grassroots_union,
            receipt_number=receipt_number,
            paid_on=paid_on,
            amount=total,
            in_transit=True,
            created_by=actor_user(actor),
        )
        # The union, its fund and the actor are the rows this call was given; the receipt's
        # uniqueness was read just above (and the database's constraint holds it): checking
        # them again would cost four queries per remittance.
        batch.full_clean(
            exclude=["fund", "grassroots_union", "created_by"], validate_constraints=False
        )
        batch.save()
        transit = remittance_subledger(batch.pk)
        legs = [
            debit(IN_TRANSIT, amount, subledger=transit, **dict(key))
            for key, amount in cash.items()
        ]
        entry = journal_entry_post(
            effective_date=paid_on,
            legs=legs + credits,
            memo=(
                f"Thu nợ qua {grassroots_union.name}, chứng từ {receipt_number}: "
                f"{len(checked)} khoản vay"
            )[:500],
            idempotency_key=f"loans.repayment_batch:{grassroots_union.pk}:{receipt_number}",
            posted_by=actor_user(actor),
            document_type="loan_repayment_batch",
            document_id=receipt_number,
            backdated_reason=reason,
        )
        _record_many(
            items=[
                (
                    _repayment(
                        loan=current,
                        split=split,
                        amount=amount,
                        paid_on=paid_on,
                        entry=entry,
                        collected_by=grassroots_union,
                        actor=actor,
                        batch=batch,
                    ),
                    split,
                    current,
                )
                for current, amount, split in splits
            ],
            actor=actor,
        )
        return batch

    payload = {
        "grassroots_union": grassroots_union.pk,
        "receipt_number": receipt_number,
        "paid_on": paid_on.isoformat(),
        "lines": [[loan.pk, str(amount)] for loan, amount in checked],
        "overpayment": overpayment,
        "actor": actor_user_id(actor),
        **({"backdate_reason": reason} if reason else {}),
    }
    with transaction.atomic():
        return command_once(
            scope="loans.repayment_batch_post",
            key=idempotency_key,
            payload=payload,
            run=run,
            load=lambda pk: RepaymentBatch.objects.get(pk=pk),
        )
