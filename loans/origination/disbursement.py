"""Disbursement: an approved application becomes a loan with its schedule, and the money moves
through ``accounting.services.journal_entry_post`` with ``fund_id``, ``superior_union_id`` and
``grassroots_union_id`` on every leg; a day's disbursements can go in one transaction."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounting.dates import HANOI, business_today, value_date_check
from accounting.errors import ApplicationError
from accounting.formatting import format_vnd
from accounting.idempotency import command_once
from accounting.money import amount_of
from accounting.services import credit, debit, journal_entry_post
from fund.accounts import BANK, BORROWER_SAVINGS, CASH_ACCOUNTS, LOANS_RECEIVABLE
from fund.duties import APPROVER_DISBURSES, duty_require_other
from fund.models import Fund
from fund.scoping import (
    actor_require_fund_officer,
    actor_scope,
    actor_user,
    actor_user_id,
    scope_require_write,
)
from fund.selectors import superior_union_on
from fund.services import (
    CapitalLedger,
    capital_check,
    capital_commitment_release,
)
from fund.services import capital_lock as fund_capital_lock
from fund.validation import backdate_reason_clean
from loans.db import rows_insert
from loans.errors import (
    BorrowerLimitExceeded,
    IneligibleBorrower,
    LoanError,
)
from loans.models import (
    Borrower,
    Installment,
    Loan,
    LoanApplication,
    LoanStatus,
    LoanTransaction,
    SavingsKind,
)
from loans.origination.applications import (
    S,
    application_event,
    application_lock,
    application_require_status,
    application_schedule_terms,
)
from loans.origination.eligibility import borrower_eligibility
from loans.schedules import DayOffRule, schedule_generate
from loans.validation import clean_date

# --------------------------------------------------------------------------------------------
# Disbursement


def savings_withheld(*, amount: Decimal, terms: dict) -> Decimal:
    """Compulsory savings kept back at disbursement: ``amount × %`` to the đồng (half up) when
    the terms say so, else 0."""
    if terms["savings_kind"] != SavingsKind.PERCENT_OF_LOAN:
        return Decimal(0)
    pct = Decimal(str(terms["savings_percent"]))
    return (amount * pct / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)


def loan_disburse(
    *,
    application: LoanApplication,
    disbursed_on: date,
    idempotency_key: str,
    actor=None,
    cash_account: str = BANK,
    backdate_reason: str = "",
) -> Loan:
    """Turn an approved application into a loan: the schedule, the ledger entry, the loan book.

    In one transaction, under the fund's capital lock (so that concurrent disbursements are
    checked one after the other): the capital available (the application's own commitment
    counting as available) and the member's limit on outstanding principal must cover the
    amount; the loan is created with the approved terms and the unions as of the disbursement
    date; its schedule is stored; the entry Dr 1283 (``loan:<id>``) / Cr 1121 (and Cr 33881,
    ``borrower:<id>``, for savings withheld) is posted with the fund and unions on every leg;
    the commitment is released. An application is disbursed at most once, whatever the retries
    or concurrent requests: the same key returns the same loan, another key is refused.
    """
    return loan_disburse_many(
        applications=[application],
        disbursed_on=disbursed_on,
        idempotency_keys=[idempotency_key],
        actor=actor,
        cash_account=cash_account,
        backdate_reason=backdate_reason,
    )[0]


def loan_disburse_many(
    *,
    applications: list[LoanApplication],
    disbursed_on: date,
    idempotency_keys: list[str],
    actor=None,
    cash_account: str = BANK,
    backdate_reason: str = "",
) -> list[Loan]:
    """``loan_disburse`` for several applications paid out on the same date (a union's loans of
    the day), in one transaction: all of them or, at the first refusal, none.

    Each application is disbursed exactly as ``loan_disburse`` does it, once per its own key;
    the fund is locked once and the ledger's capital figures are read once, then advanced by
    each loan as it is posted (``fund.services.CapitalLedger``), so that every check sees what
    a fresh read would. `backdate_reason`: why a date before the fund's open window is used
    (``fund.validation.backdate_reason_clean``), kept on each loan's entry and audit record.
    """
    disbursed_on = clean_date(disbursed_on, field="disbursed_on", label=_("Ngày giải ngân"))
    # An earlier date is accepted: the date is the business date of the payment voucher, and a
    # loan book taken over from paper is entered after the fact (the ledger still refuses a
    # closed period).
    if disbursed_on > business_today():
        raise LoanError(_("Ngày giải ngân không được sau ngày hôm nay."), field="disbursed_on")
    if cash_account not in CASH_ACCOUNTS:
        raise LoanError(
            _("Tài khoản chi giải ngân phải là tiền gửi hoặc tiền mặt."), field="cash_account"
        )
    if len(applications) != len(idempotency_keys):
        raise LoanError(_("Mỗi hồ sơ cần một khóa chống trùng."), field="idempotency_keys")
    scope = actor_scope(actor)
    if scope is not None:
        scope_require_write(scope, field="actor")
        for application in applications:
            actor_require_fund_officer(actor, fund_id=application.fund_id, field="actor")
    ledgers: dict[int, CapitalLedger] = {}  # fund id -> figures, under the fund's lock

    def disburse_all():
        loans = []
        for application, key in zip(applications, idempotency_keys, strict=True):
            try:
                loans.append(
                    _disburse_once(
                        application=application,
                        disbursed_on=disbursed_on,
                        idempotency_key=key,
                        actor=actor,
                        cash_account=cash_account,
                        ledgers=ledgers,
                        backdate_reason=backdate_reason,
                    )
                )
            except ApplicationError as e:
                e.application_id = application.pk  # which one of the batch was refused
                raise
        return loans

    if len(applications) == 1:
        return disburse_all()  # command_once's own transaction is the whole of it
    with transaction.atomic():
        return disburse_all()


def _require_after_approval(app: LoanApplication, disbursed_on: date) -> None:
    """A loan is not disbursed before the day its application was approved."""
    approved_on = app.approved_on
    if approved_on is None and app.approved_at is not None:
        approved_on = timezone.localtime(app.approved_at, HANOI).date()
    value_date_check(
        disbursed_on,
        field="disbursed_on",
        label=_("Ngày giải ngân"),
        not_before=approved_on,
        not_before_what=_("phê duyệt hồ sơ"),
        error=LoanError,
    )


def _disburse_once(
    *, application, disbursed_on, idempotency_key, actor, cash_account, ledgers, backdate_reason
) -> Loan:
    def run():
        ledger = ledgers.get(application.fund_id)
        if ledger is None:
            fund = fund_capital_lock(fund_id=application.fund_id)
            ledger = ledgers[fund.pk] = CapitalLedger(fund=fund)
        fund = ledger.fund
        app = application_lock(application, related=("product", "grassroots_union"))
        application_require_status(app, (S.APPROVED,), "disburse")
        duty_require_other(
            fund=fund,
            rule=APPROVER_DISBURSES,
            actor=actor,
            first_user_id=app.approved_by_id,
            field="application",
        )
        _require_after_approval(app, disbursed_on)
        reason = backdate_reason_clean(
            fund,
            disbursed_on,
            backdate_reason,
            field="disbursed_on",
            label=_("Ngày giải ngân"),
            error=LoanError,
        )
        borrower = (
            Borrower.objects.select_for_update(of=("self",))
            .select_related("fund", "grassroots_union__superior_union")
            .get(pk=app.borrower_id)
        )
        app.borrower = borrower  # the copy read under the lock (the audit entry names them)
        amount = amount_of(app.amount)
        eligibility = borrower_eligibility(
            borrower=borrower,
            product=app.product,
            amount=amount,
            term=app.term,
            on=disbursed_on,
            application=app,
            at_disbursement=True,
        )
        if not eligibility.eligible:
            raise IneligibleBorrower(eligibility.reasons)
        gu = app.grassroots_union
        su = superior_union_on(grassroots_union=gu, on=disbursed_on) or gu.superior_union
        capital_check(
            fund=fund,
            amount=amount,
            superior_union=su,
            releasing_reference=app.commitment_reference,
            ledger=ledger,
        )
        # The eligibility check read the borrower's outstanding principal under the same locks.
        _check_borrower_limit(
            borrower=borrower, fund=fund, amount=amount, outstanding=eligibility.outstanding
        )
        loan = _loan_create(app=app, borrower=borrower, su=su, on=disbursed_on, actor=actor)
        _loan_post(
            loan=loan, borrower=borrower, cash_account=cash_account, actor=actor, reason=reason
        )
        ledger.lent(amount=amount, superior_union_id=loan.superior_union_id)
        capital_commitment_release(reference=app.commitment_reference, actor=actor_user(actor))
        before = app.status
        app.status = S.DISBURSED
        app.save(update_fields=["status", "updated_at"])
        loan_changes = {
            "principal": [None, str(amount)],
            "disbursed_on": [None, disbursed_on.isoformat()],
            "journal_entry": [None, loan.disbursement_entry_id],
            **({"backdated_reason": [None, reason]} if reason else {}),
        }
        application_event(
            app,
            action="disburse",
            before=before,
            actor=actor,
            note=f"Khoản vay #{loan.pk}",
            also=[("disburse", loan, loan_changes)],
        )
        return loan

    payload = {
        "application": application.pk,
        "disbursed_on": disbursed_on.isoformat(),
        "cash_account": cash_account,
        "actor": actor_user_id(actor),
    }
    if backdate_reason:
        payload["backdate_reason"] = " ".join(str(backdate_reason).split())
    return command_once(
        scope="loans.loan_disburse",
        key=idempotency_key,
        payload=payload,
        run=run,
        load=lambda pk: Loan.objects.get(pk=pk),
    )


def _check_borrower_limit(
    *, borrower: Borrower, fund: Fund, amount: Decimal, outstanding: Decimal | None = None
) -> None:
    if outstanding is None:
        outstanding = Loan.objects.filter(borrower=borrower, status=LoanStatus.ACTIVE).aggregate(
            s=Sum("outstanding_principal")
        )["s"] or Decimal(0)
    limit = amount_of(fund.borrower_outstanding_limit)
    if outstanding + amount > limit:
        raise BorrowerLimitExceeded(
            _(
                "Dư nợ của %(borrower)s đang là %(outstanding)s; thêm %(amount)s sẽ vượt mức "
                "tối đa %(limit)s mỗi thành viên."
            ),
            params={
                "borrower": borrower.full_name,
                "outstanding": format_vnd(outstanding),
                "amount": format_vnd(amount),
                "limit": format_vnd(limit),
            },
        )


def _loan_create(*, app: LoanApplication, borrower: Borrower, su, on: date, actor) -> Loan:
    terms = app.terms
    amount = amount_of(app.amount)
    rows = schedule_generate(
        application_schedule_terms(terms, amount=amount, term=app.term, on=on, fund_id=app.fund_id)
    )
    loan = Loan(
        fund_id=app.fund_id,
        application=app,
        borrower=borrower,
        product_id=app.product_id,
        grassroots_union_id=app.grassroots_union_id,
        superior_union=su,
        principal=amount,
        disbursed_on=on,
        maturity_date=rows[-1].due_date,
        term=app.term,
        rate=Decimal(terms["rate"]),
        rate_period=terms["rate_period"],
        method=terms["method"],
        frequency=terms["frequency"],
        day_off_rule=terms.get("day_off_rule", DayOffRule.KEEP),
        principal_grace=terms["principal_grace"],
        interest_grace=terms["interest_grace"],
        penalty_rate=Decimal(terms["penalty_rate"]),
        penalty_rate_period=terms["penalty_rate_period"],
        savings_kind=terms["savings_kind"],
        savings_percent=Decimal(terms["savings_percent"]),
        savings_amount=Decimal(terms["savings_amount"]),
        allocation_order=terms["allocation_order"],
        debt_groups=terms["debt_groups"],
        purpose_kind=app.purpose_kind,
        planned_jobs=app.planned_jobs,
        savings_withheld=savings_withheld(amount=amount, terms=terms),
        outstanding_principal=amount,
        disbursed_by=actor_user(actor),
    )
    loan.save()
    per_installment = (
        Decimal(terms["savings_amount"])
        if terms["savings_kind"] == SavingsKind.FIXED_PER_INSTALLMENT
        else Decimal(0)
    )
    rows_insert(
        Installment,
        [
            {
                "loan_id": loan.pk,
                "number": r.number,
                "due_date": r.due_date,
                "principal_due": r.principal,
                "interest_due": r.interest,
                "savings_due": per_installment,
                "balance_after": r.balance_after,
            }
            for r in rows
        ],
    )
    return loan


def _loan_post(
    *, loan: Loan, borrower: Borrower, cash_account: str, actor, reason: str = ""
) -> None:
    amount = amount_of(loan.principal)
    savings = amount_of(loan.savings_withheld)
    dims = loan.ledger_dimensions
    legs = [
        debit(LOANS_RECEIVABLE, amount, subledger=loan.subledger, **dims),
        credit(cash_account, amount - savings, subledger=loan.subledger, **dims),
    ]
    if savings:
        legs.append(credit(BORROWER_SAVINGS, savings, subledger=f"borrower:{borrower.pk}", **dims))
    entry = journal_entry_post(
        effective_date=loan.disbursed_on,
        legs=legs,
        memo=(
            f"Giải ngân khoản vay #{loan.pk} (hồ sơ #{loan.application_id}) cho "
            f"{borrower.full_name}, CCCD {borrower.national_id}"
        )[:500],
        # One entry per application, whatever key the caller used: a second disbursement of the
        # same application could not post even if every other guard failed.
        idempotency_key=f"loans.disbursement:application:{loan.application_id}",
        posted_by=actor_user(actor),
        document_type="loan_disbursement",
        document_id=str(loan.pk),
        backdated_reason=reason,
    )
    loan.disbursement_entry = entry
    loan.save(update_fields=["disbursement_entry"])
    LoanTransaction.objects.create(
        loan=loan,
        kind=LoanTransaction.Kind.DISBURSEMENT,
        effective_date=loan.disbursed_on,
        principal_change=amount,
        savings=savings,
        journal_entry=entry,
        created_by=actor_user(actor),
    )
