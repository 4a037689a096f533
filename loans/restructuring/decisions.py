"""Loan servicing events: rescheduling, interest waiver, early recall, write-off, recovery after
write-off and closure with the borrower's compulsory savings.

The daily arrears pass (overdue marking, days past due, debt groups, penalty accrual,
provisions) is ``loans.servicing.arrears``; the events here are the decisions of officers on one
loan. Each service takes keyword-only arguments, checks the whole request before it writes, runs in
one transaction under an idempotency key (``accounting.idempotency.command_once``), locks the loan
row, and records what it did in the audit log.

Decisions (write them down, the pass and the reports build on them):

* **Interest is cash-basis.** ``repayment_post`` credits 5151 (interest) and 5152 (penalty) when
  money is collected; nothing is ever receivable on 13881/13882. So rescheduling, waiving and
  writing off interest or penalty change the schedule (and the off-balance records) but post no
  ledger entry. Only principal (1283), provision (2293), expense (8111), recoveries (7111) and
  savings (33881) move money.
* **Schedule versions.** A rescheduling or a recall adds ``Loan.schedule_version + 1``; the old
  installments are kept unchanged for the record and are no longer in force. What the old
  schedule left unpaid of the interest and penalty *that had fallen due* (due on or before the
  effective date) is carried onto the first new installment; the interest of old installments not
  yet due is dropped — the new schedule charges interest on the outstanding principal from its
  own start. Unpaid compulsory savings of the old schedule are not carried (they are the
  borrower's money, not a debt to the fund).
* **Rescheduling** (``loan_reschedule``): the outstanding principal over a new number of
  installments, with the loan's rate and frequency and the method asked for (default the
  loan's); due dates counted from the first due date asked for (default one period after the
  effective date); interest per period as the schedule engine computes it. Counts toward the debt
  group (``Loan.reschedulings``; the daily pass applies the floors). Approved by a fund officer
  who is not the officer who requested it (four eyes, as for applications).
* **Recall** after misuse (``loan_recall``): a new version with ONE installment due on the recall
  date: all the outstanding principal, the unpaid interest of the installments due up to and
  including the current period (the first one due on or after the recall date), all unpaid
  penalty. Not a rescheduling (the counter is unchanged); the pass marks it overdue the day after
  if it is not paid. Triggered from a follow-up visit that found the purpose not verified.
* **Waiver** (``loan_interest_waive``): the unpaid interest and/or penalty of the installments
  in force that have fallen due (due on or before the waiver date) is forgiven: each
  installment's due amount is lowered to what was paid; the waiver keeps the amounts per
  installment. ``Loan.interest_waived_on`` is set (the first time interest is waived) — the
  debt group never falls below 3 afterwards. Interest not yet due is not waivable (that is a new
  rate: reschedule).
* **Write-off** (``loan_write_off``): Dr 2293 ``loan:<id>`` for the provision held (up to the
  outstanding principal), Dr 8111 ``loan:<id>`` for the rest, Cr 1283 ``loan:<id>`` for the whole
  outstanding principal; a provision held beyond the principal is released (Dr 2293 / Cr 6422).
  ``provision_held`` becomes 0, the status ``written_off``. The unpaid interest and penalty are
  kept on the ``LoanWriteOff`` off the balance sheet. Death, disability and natural disasters are
  handled as write-offs with that cause. Four eyes as for rescheduling.
* **Recovery** (``write_off_recovery_post``): Dr 1121 / Cr 7111 on ``loan:<id>``; the recoveries
  of a loan never exceed the principal written off.
* **Closure** (``loan_close``): an active loan is paid off from the borrower's compulsory savings
  (a repayment of the full payoff quote funded by Dr 33881 ``borrower:<id>`` instead of the bank),
  refused when the savings do not cover it; then (or for a loan already repaid in full) what is
  left of the borrower's savings is returned, Dr 33881 / Cr 1121 — unless the borrower has
  another active loan, which the savings still secure (then it is returned when that one
  closes). A loan is closed this way once; its repayments can no longer be reversed.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounting.errors import ApplicationError, lazy_lower
from accounting.formatting import format_vnd
from accounting.idempotency import command_once
from accounting.money import amount_of, to_dong
from accounting.selectors import account_balance
from accounting.services import credit, debit, journal_entry_post
from fund.accounts import (
    BANK,
    BORROWER_SAVINGS,
    LOAN_LOSS_PROVISION,
    LOANS_RECEIVABLE,
    PROVISION_EXPENSE,
    RECOVERY_INCOME,
    WRITE_OFF_EXPENSE,
)
from fund.audit import audit_record
from fund.calendar import days_off_between
from fund.scoping import actor_user, actor_user_id
from fund.validation import backdate_reason_clean
from loans.errors import LoanError, MakerChecker
from loans.models import (
    FollowUpVisit,
    Installment,
    InstallmentStatus,
    InterestWaiver,
    Loan,
    LoanClosure,
    LoanStatus,
    LoanTransaction,
    LoanWriteOff,
    SavingsKind,
    ScheduleRevision,
    WriteOffCause,
    WriteOffRecovery,
)
from loans.policy import (
    loan_require_action,
    loan_require_fund_officer,
    loan_require_servicer,
    write_off_recoverable,
)
from loans.schedules import (
    DayOffRule,
    Method,
    ScheduleError,
    ScheduleTerms,
    due_dates,
    due_dates_span_end,
    move_off_days_off,
    schedule_generate,
)
from loans.servicing import repayments, visits
from loans.validation import clean_loan_day, clean_reason

ZERO = Decimal(0)
MAX_TERM = 600

__all__ = [
    "loan_close",
    "loan_interest_waive",
    "loan_recall",
    "loan_reschedule",
    "loan_write_off",
    "write_off_recovery_post",
    "borrower_savings_balance",
]


# --------------------------------------------------------------------------------------------
# Helpers


def _positive(value, *, field: str, label: str) -> Decimal:
    try:
        amount = to_dong(value, field=field)
    except ApplicationError as e:
        raise LoanError(e.message, field=field) from None
    if amount <= 0:
        raise LoanError(_("%(label)s phải lớn hơn 0."), field=field, params={"label": label})
    return amount


def _require_active(loan: Loan, what: str) -> None:
    if loan.status != LoanStatus.ACTIVE:
        raise LoanError(
            _("Khoản vay #%(loan)s đang ở trạng thái “%(status)s”, không %(action)s được."),
            field="loan",
            params={"loan": loan.pk, "status": LoanStatus(loan.status).label, "action": what},
        )


def _four_eyes(*, loan: Loan, requested_by, actor, what: str) -> None:
    """A decision on a loan's terms: approved by a fund officer (a person) who is not the
    officer who asked for it; the requester must be allowed to service the loan."""
    if actor_user(actor) is None:
        raise MakerChecker(_("%(what)s phải do một cán bộ quỹ phê duyệt."), params={"what": what})
    loan_require_fund_officer(actor, loan=loan)
    if actor_user(requested_by) is None:
        raise LoanError(_("Phải ghi người đề nghị."), field="requested_by")
    loan_require_servicer(requested_by, loan=loan, field="requested_by")
    if requested_by.pk == actor.pk:
        raise MakerChecker(
            _("Người đề nghị không được tự phê duyệt %(what)s; cần một cán bộ quỹ khác."),
            params={"what": lazy_lower(what)},
        )


def _locked(loan: Loan) -> Loan:
    return (
        Loan.objects.select_for_update(of=("self",))
        .select_related("borrower", "grassroots_union")
        .get(pk=loan.pk)
    )


def _in_force(loan: Loan) -> list[Installment]:
    return list(
        Installment.objects.select_for_update()
        .filter(loan=loan, schedule_version=loan.schedule_version)
        .order_by("number")
    )


def _unpaid(inst: Installment, component: str) -> Decimal:
    return amount_of(getattr(inst, f"{component}_due")) - amount_of(
        getattr(inst, f"{component}_paid")
    )


def _once(*, name: str, key: str, payload: dict, run, load):
    with transaction.atomic():
        return command_once(scope=f"loans.{name}", key=key, payload=payload, run=run, load=load)


def _new_version(
    *,
    loan: Loan,
    rows,
    interest_carried: Decimal,
    penalty_carried: Decimal,
    savings_per_installment: Decimal,
) -> list[Installment]:
    """Store `rows` (schedule installments) as the loan's next schedule version, the carried
    interest and penalty on the first one."""
    version = loan.schedule_version + 1
    created = []
    for r in rows:
        created.append(
            Installment(
                loan=loan,
                number=r.number,
                schedule_version=version,
                due_date=r.due_date,
                principal_due=r.principal,
                interest_due=r.interest + (interest_carried if r.number == 1 else ZERO),
                penalty_due=penalty_carried if r.number == 1 else ZERO,
                savings_due=savings_per_installment,
                balance_after=r.balance_after,
            )
        )
    Installment.objects.bulk_create(created)
    loan.schedule_version = version
    loan.maturity_date = rows[-1].due_date
    return created


# --------------------------------------------------------------------------------------------
# Rescheduling


def _follow_calendar(loan: Loan, dates: list, effective_date, *, chosen_first) -> list:
    """The new due dates moved off the fund's days off by the loan's rule; a first due date the
    officer chose is kept as chosen."""
    rule = DayOffRule(loan.day_off_rule)
    if rule is DayOffRule.KEEP:
        return dates
    end = due_dates_span_end(start=dates[0], count=len(dates), frequency=loan.frequency)
    off = days_off_between(loan.fund_id, effective_date, end)
    if chosen_first is None:
        return move_off_days_off(dates, start=effective_date, days_off=off, rule=rule)
    return [dates[0], *move_off_days_off(dates[1:], start=dates[0], days_off=off, rule=rule)]


def reschedule_terms_check(
    *,
    loan: Loan,
    effective_date,
    term,
    reason,
    method=None,
    first_due_date=None,
    backdate_reason="",
) -> dict:
    """The terms of a rescheduling checked (each refusal names its field) and normalised: the
    method defaults to the loan's, the reason is trimmed. Used when it is asked for
    (``loans.restructuring.change_requests``) and again when it is decided. An effective date
    before the fund's open window needs `backdate_reason`, kept in the terms (only when set)."""
    effective_date = clean_loan_day(
        effective_date, loan=loan, field="effective_date", label=_("Ngày hiệu lực")
    )
    backdated = backdate_reason_clean(
        loan.fund,
        effective_date,
        backdate_reason,
        field="effective_date",
        label=_("Ngày hiệu lực"),
        error=LoanError,
    )
    if isinstance(term, bool) or not isinstance(term, int) or not 1 <= term <= MAX_TERM:
        raise LoanError(
            _("Số kỳ mới phải từ 1 đến %(max)s, nhận được %(term)s."),
            field="term",
            params={"max": MAX_TERM, "term": repr(term)},
        )
    method = method or loan.method
    if method not in {m.value for m in Method}:
        raise LoanError(
            _("Phương thức tính lãi không hợp lệ: %(method)s."),
            field="method",
            params={"method": repr(method)},
        )
    if first_due_date is not None:
        if isinstance(first_due_date, datetime) or not isinstance(first_due_date, date):
            raise LoanError(_("Ngày đến hạn kỳ đầu phải là một ngày."), field="first_due_date")
        if first_due_date <= effective_date:
            raise LoanError(
                _("Ngày đến hạn kỳ đầu phải sau ngày hiệu lực cơ cấu."), field="first_due_date"
            )
    return {
        "effective_date": effective_date,
        "term": term,
        "method": method,
        "first_due_date": first_due_date,
        "reason": clean_reason(reason),
        **({"backdate_reason": backdated} if backdated else {}),
    }


def loan_reschedule(
    *,
    loan: Loan,
    effective_date: date,
    term: int,
    reason: str,
    idempotency_key: str,
    requested_by,
    actor,
    method: str | None = None,
    first_due_date: date | None = None,
    backdate_reason: str = "",
) -> ScheduleRevision:
    """Give the outstanding principal of an active loan a new schedule (cơ cấu lại thời hạn).

    Invariants: the new version's principal column sums exactly to the outstanding principal;
    its first installment also carries the interest and penalty that had fallen due unpaid; the
    old installments are kept and no longer in force; ``reschedulings`` grows by one; nothing is
    posted to the ledger (interest is income when collected). Refused with nothing written for a
    loan that is not active or owes no principal, a term outside 1–600, an unknown method, a
    first due date not after the effective date, or an approver who is the requester or not a
    fund officer. An effective date before the fund's open window needs `backdate_reason`, kept
    in the audit record (nothing is posted).
    """
    _four_eyes(loan=loan, requested_by=requested_by, actor=actor, what=_("Cơ cấu lại nợ"))
    terms = reschedule_terms_check(
        loan=loan,
        effective_date=effective_date,
        term=term,
        method=method,
        first_due_date=first_due_date,
        reason=reason,
        backdate_reason=backdate_reason,
    )
    effective_date, method, reason = terms["effective_date"], terms["method"], terms["reason"]
    backdated = terms.get("backdate_reason", "")

    def run():
        locked = _locked(loan)
        _require_active(locked, pgettext_lazy("không … được", "cơ cấu lại"))
        outstanding = amount_of(locked.outstanding_principal)
        if outstanding <= 0:
            raise LoanError(
                _("Khoản vay #%(loan)s không còn dư nợ gốc để cơ cấu lại."),
                field="loan",
                params={"loan": locked.pk},
            )
        old = _in_force(locked)
        fallen_due = [i for i in old if i.due_date <= effective_date]
        interest = sum((_unpaid(i, "interest") for i in fallen_due), ZERO)
        penalty = sum((_unpaid(i, "penalty") for i in old), ZERO)
        first = (
            first_due_date
            or due_dates(start=effective_date, count=1, frequency=locked.frequency)[0]
        )
        try:
            rows = schedule_generate(
                ScheduleTerms(
                    principal=outstanding,
                    installments=term,
                    method=method,
                    rate=Decimal(locked.rate),
                    rate_period=locked.rate_period,
                    frequency=locked.frequency,
                    disbursed_on=effective_date,
                )
            )
        except ScheduleError as e:
            field = "term" if e.field == "installments" else e.field
            raise LoanError(e.message, field=field) from None
        dates = [first, *due_dates(start=first, count=term - 1, frequency=locked.frequency)]
        dates = _follow_calendar(locked, dates, effective_date, chosen_first=first_due_date)
        rows = [replace(r, due_date=d) for r, d in zip(rows, dates, strict=True)]
        savings = (
            amount_of(locked.savings_amount)
            if locked.savings_kind == SavingsKind.FIXED_PER_INSTALLMENT
            else ZERO
        )
        before = {
            "schedule_version": locked.schedule_version,
            "reschedulings": locked.reschedulings,
            "method": locked.method,
            "maturity_date": locked.maturity_date.isoformat(),
        }
        from_version = locked.schedule_version
        _new_version(
            loan=locked,
            rows=rows,
            interest_carried=interest,
            penalty_carried=penalty,
            savings_per_installment=savings,
        )
        locked.reschedulings += 1
        locked.method = method
        locked.save(update_fields=["schedule_version", "reschedulings", "method", "maturity_date"])
        revision = ScheduleRevision(
            loan=locked,
            kind=ScheduleRevision.Kind.RESCHEDULE,
            effective_date=effective_date,
            from_version=from_version,
            to_version=locked.schedule_version,
            principal=outstanding,
            term=term,
            method=method,
            first_due_date=first,
            interest_carried=interest,
            penalty_carried=penalty,
            reason=reason,
            requested_by=actor_user(requested_by),
            approved_by=actor_user(actor),
        )
        revision.full_clean()
        revision.save()
        audit_record(
            actor=actor_user(actor),
            action="reschedule",
            obj=locked,
            changes={
                "schedule_version": [before["schedule_version"], locked.schedule_version],
                "reschedulings": [before["reschedulings"], locked.reschedulings],
                "method": [before["method"], method],
                "maturity_date": [before["maturity_date"], locked.maturity_date.isoformat()],
                "interest_carried": [None, str(interest)],
                "penalty_carried": [None, str(penalty)],
                "reason": [None, reason],
                **({"backdated_reason": [None, backdated]} if backdated else {}),
            },
        )
        loan.refresh_from_db()
        return revision

    return _once(
        name="loan_reschedule",
        key=idempotency_key,
        payload={
            "loan": loan.pk,
            "effective_date": effective_date.isoformat(),
            "term": term,
            "method": method,
            "first_due_date": first_due_date.isoformat() if first_due_date else None,
            "reason": reason,
            "requested_by": actor_user_id(requested_by),
            "actor": actor_user_id(actor),
            **({"backdate_reason": backdated} if backdated else {}),
        },
        run=run,
        load=lambda pk: ScheduleRevision.objects.get(pk=pk),
    )


# --------------------------------------------------------------------------------------------
# Early recall after misuse


def loan_recall(
    *,
    loan: Loan,
    recalled_on: date,
    reason: str,
    idempotency_key: str,
    actor=None,
    visit: FollowUpVisit | None = None,
    backdate_reason: str = "",
) -> ScheduleRevision:
    """Recall a loan whose money was not used for its purpose: everything outstanding falls due
    on `recalled_on` (one installment, a new schedule version; see the module's notes).

    Requires a follow-up visit of the loan that found the purpose not verified (`visit`, or the
    latest such visit). Fund officers only. Invariants: the one installment's principal equals
    the outstanding principal; the old installments are kept; ``recalled_on`` is set once;
    nothing is posted to the ledger. A `recalled_on` before the fund's open window needs
    `backdate_reason`, kept in the audit record.
    """
    loan_require_fund_officer(actor, loan=loan)
    recalled_on = clean_loan_day(
        recalled_on, loan=loan, field="recalled_on", label=_("Ngày thu hồi")
    )
    backdated = backdate_reason_clean(
        loan.fund,
        recalled_on,
        backdate_reason,
        field="recalled_on",
        label=_("Ngày thu hồi"),
        error=LoanError,
    )
    reason = clean_reason(reason)
    if visit is not None and (visit.loan_id != loan.pk or visit.purpose_verified):
        raise LoanError(
            _("Lần kiểm tra phải là của khoản vay này và ghi nhận sử dụng vốn sai mục đích."),
            field="visit",
        )

    def run():
        locked = _locked(loan)
        _require_active(locked, pgettext_lazy("không … được", "thu hồi trước hạn"))
        if locked.recalled_on is not None:
            raise LoanError(
                _("Khoản vay #%(loan)s đã bị thu hồi trước hạn từ ngày %(since)s."),
                field="loan",
                params={"loan": locked.pk, "since": f"{locked.recalled_on:%d/%m/%Y}"},
            )
        found = visit or (
            FollowUpVisit.objects.filter(loan=locked, purpose_verified=False)
            .order_by("-visited_on", "-id")
            .first()
        )
        if found is None:
            raise LoanError(
                _(
                    "Chưa có lần kiểm tra nào ghi nhận sử dụng vốn sai mục đích; không thu hồi "
                    "trước hạn được."
                ),
                field="visit",
            )
        old = _in_force(locked)
        upcoming = [i for i in old if i.due_date >= recalled_on]
        through = [i for i in old if i.due_date < recalled_on] + upcoming[:1]
        interest = sum((_unpaid(i, "interest") for i in through), ZERO)
        penalty = sum((_unpaid(i, "penalty") for i in old), ZERO)
        outstanding = amount_of(locked.outstanding_principal)
        if not outstanding and not interest and not penalty:
            raise LoanError(
                _("Khoản vay #%(loan)s không còn gì để thu hồi."),
                field="loan",
                params={"loan": locked.pk},
            )
        from_version = locked.schedule_version
        inst = Installment(
            loan=locked,
            number=1,
            schedule_version=from_version + 1,
            due_date=recalled_on,
            principal_due=outstanding,
            interest_due=interest,
            penalty_due=penalty,
            balance_after=ZERO,
        )
        inst.save()
        before_maturity = locked.maturity_date.isoformat()
        locked.schedule_version = from_version + 1
        locked.maturity_date = recalled_on
        locked.recalled_on = recalled_on
        locked.save(update_fields=["schedule_version", "maturity_date", "recalled_on"])
        revision = ScheduleRevision(
            loan=locked,
            kind=ScheduleRevision.Kind.RECALL,
            effective_date=recalled_on,
            from_version=from_version,
            to_version=locked.schedule_version,
            principal=outstanding,
            term=1,
            method=locked.method,
            first_due_date=recalled_on,
            interest_carried=interest,
            penalty_carried=penalty,
            reason=reason,
            visit=found,
            approved_by=actor_user(actor),
        )
        revision.full_clean()
        revision.save()
        audit_record(
            actor=actor_user(actor),
            action="recall",
            obj=locked,
            changes={
                "recalled_on": [None, recalled_on.isoformat()],
                "schedule_version": [from_version, locked.schedule_version],
                "maturity_date": [before_maturity, recalled_on.isoformat()],
                "visit": [None, found.pk],
                "reason": [None, reason],
                **({"backdated_reason": [None, backdated]} if backdated else {}),
            },
        )
        loan.refresh_from_db()
        return revision

    return _once(
        name="loan_recall",
        key=idempotency_key,
        payload={
            "loan": loan.pk,
            "recalled_on": recalled_on.isoformat(),
            "reason": reason,
            "visit": getattr(visit, "pk", None),
            "actor": actor_user_id(actor),
            **({"backdate_reason": backdated} if backdated else {}),
        },
        run=run,
        load=lambda pk: ScheduleRevision.objects.get(pk=pk),
    )


def loan_recall_on_visit(
    *,
    loan: Loan,
    visited_on: date,
    purpose_verified: bool,
    jobs_confirmed: int,
    note: str = "",
    actor=None,
    recall_idempotency_key: str,
    idempotency_key: str | None = None,
    backdate_reason: str = "",
) -> FollowUpVisit:
    """Record a follow-up visit (``loans.servicing.visits``) and, when it finds the purpose not
    verified, recall the loan at once (``loan_recall`` on the visit's date) in the same
    transaction: a fund officer's decision, refused for other roles, and then the visit is not
    recorded either.

    With `idempotency_key` (the web form's), the same request under the same key records the
    visit (and the recall) once and returns the visit again; another request under that key is
    refused. The recall runs under `recall_idempotency_key`; a visit's date before the fund's
    open window needs `backdate_reason` for the recall (its refusal names ``recalled_on``).
    """
    values = visits.followup_visit_check(
        loan=loan,
        visited_on=visited_on,
        purpose_verified=purpose_verified,
        jobs_confirmed=jobs_confirmed,
        note=note,
        actor=actor,
    )

    def run() -> FollowUpVisit:
        with transaction.atomic():
            visit = visits.followup_visit_save(**values)
            if not purpose_verified:
                loan_recall(
                    loan=loan,
                    recalled_on=values["visited_on"],
                    reason=(
                        "Sử dụng vốn sai mục đích"
                        + (f": {values['note']}" if values["note"] else "")
                    )[:500],
                    idempotency_key=recall_idempotency_key,
                    actor=actor,
                    visit=visit,
                    backdate_reason=backdate_reason,
                )
        return visit

    if idempotency_key is None:
        return run()
    return visits.followup_visit_once(
        values,
        idempotency_key=idempotency_key,
        run=run,
        recall_idempotency_key=recall_idempotency_key,
    )


# --------------------------------------------------------------------------------------------
# Interest waiver


def _close_if_settled(loan: Loan, on: date) -> bool:
    """Close an active loan that owes nothing more (no principal, nothing due to date)."""
    if amount_of(loan.outstanding_principal):
        return False
    rest = repayments.repayment_allocate(loan=loan, amount=Decimal(10) ** 19, paid_on=on)
    if rest.lines:
        return False
    loan.status, loan.closed_on = LoanStatus.CLOSED, on
    loan.save(update_fields=["status", "closed_on"])
    return True


def loan_interest_waive(
    *,
    loan: Loan,
    waived_on: date,
    reason: str,
    idempotency_key: str,
    actor=None,
    interest: bool = True,
    penalty: bool = True,
    backdate_reason: str = "",
) -> InterestWaiver:
    """Forgive the unpaid interest and/or penalty that has fallen due on the installments in
    force (due on or before `waived_on`), with a reason. Fund officers only.

    Invariants: each installment's interest (penalty) due is lowered to what was paid, no
    further, and the waiver keeps the amounts per installment; the principal and the ledger are
    untouched (interest and penalty are income only when collected, so nothing receivable is
    on the books); ``interest_waived_on`` is set the first time interest is waived. Refused when
    there is nothing to waive. A `waived_on` before the fund's open window needs
    `backdate_reason`, kept in the audit record.
    """
    loan_require_fund_officer(actor, loan=loan)
    waived_on = clean_loan_day(waived_on, loan=loan, field="waived_on", label=_("Ngày miễn giảm"))
    backdated = backdate_reason_clean(
        loan.fund,
        waived_on,
        backdate_reason,
        field="waived_on",
        label=_("Ngày miễn giảm"),
        error=LoanError,
    )
    reason = clean_reason(reason)
    if not isinstance(interest, bool) or not isinstance(penalty, bool) or not (interest or penalty):
        raise LoanError(_("Phải chọn miễn lãi, lãi phạt hoặc cả hai."), field="interest")

    def run():
        locked = _locked(loan)
        _require_active(locked, pgettext_lazy("không … được", "miễn giảm lãi"))
        lines = []
        total_interest = total_penalty = ZERO
        for inst in _in_force(locked):
            if inst.due_date > waived_on:
                continue
            i = _unpaid(inst, "interest") if interest else ZERO
            p = _unpaid(inst, "penalty") if penalty else ZERO
            if not i and not p:
                continue
            inst.interest_due = amount_of(inst.interest_due) - i
            inst.penalty_due = amount_of(inst.penalty_due) - p
            inst.status = repayments.installment_status(inst)
            if inst.status == InstallmentStatus.PAID and inst.paid_on is None:
                inst.paid_on = waived_on
            inst.save(update_fields=["interest_due", "penalty_due", "status", "paid_on"])
            lines.append({"installment": inst.pk, "interest": str(i), "penalty": str(p)})
            total_interest += i
            total_penalty += p
        if not lines:
            raise LoanError(
                _("Khoản vay #%(loan)s không có lãi hoặc lãi phạt đến hạn chưa trả để miễn giảm."),
                field="interest" if interest else "penalty",
                params={"loan": locked.pk},
            )
        before_waived = locked.interest_waived_on
        if total_interest and locked.interest_waived_on is None:
            locked.interest_waived_on = waived_on
            locked.save(update_fields=["interest_waived_on"])
        closed = _close_if_settled(locked, waived_on)
        waiver = InterestWaiver(
            loan=locked,
            waived_on=waived_on,
            interest=total_interest,
            penalty=total_penalty,
            reason=reason,
            lines=lines,
            created_by=actor_user(actor),
        )
        waiver.full_clean()
        waiver.save()
        changes = {
            "interest_waived": [None, str(total_interest)],
            "penalty_waived": [None, str(total_penalty)],
            "reason": [None, reason],
        }
        if locked.interest_waived_on != before_waived:
            changes["interest_waived_on"] = [None, waived_on.isoformat()]
        if closed:
            changes["status"] = [LoanStatus.ACTIVE, LoanStatus.CLOSED]
        if backdated:
            changes["backdated_reason"] = [None, backdated]
        audit_record(actor=actor_user(actor), action="waive", obj=locked, changes=changes)
        loan.refresh_from_db()
        return waiver

    return _once(
        name="loan_interest_waive",
        key=idempotency_key,
        payload={
            "loan": loan.pk,
            "waived_on": waived_on.isoformat(),
            "reason": reason,
            "interest": interest,
            "penalty": penalty,
            "actor": actor_user_id(actor),
            **({"backdate_reason": backdated} if backdated else {}),
        },
        run=run,
        load=lambda pk: InterestWaiver.objects.get(pk=pk),
    )


# --------------------------------------------------------------------------------------------
# Write-off and recovery


def write_off_terms_check(
    *, loan: Loan, written_off_on, cause, note="", backdate_reason=""
) -> dict:
    """The terms of a write-off checked (each refusal names its field) and normalised; a note is
    required when the cause is "other". Used when it is asked for and when it is decided. A date
    before the fund's open window needs `backdate_reason`, kept in the terms (only when set)."""
    written_off_on = clean_loan_day(
        written_off_on, loan=loan, field="written_off_on", label=_("Ngày xử lý rủi ro")
    )
    backdated = backdate_reason_clean(
        loan.fund,
        written_off_on,
        backdate_reason,
        field="written_off_on",
        label=_("Ngày xử lý rủi ro"),
        error=LoanError,
    )
    if not isinstance(cause, str) or cause not in WriteOffCause.values:
        raise LoanError(
            _("Nguyên nhân xử lý rủi ro không hợp lệ: %(cause)s."),
            field="cause",
            params={"cause": repr(cause)},
        )
    note = clean_reason(note, field="note", required=cause == WriteOffCause.OTHER)
    return {
        "written_off_on": written_off_on,
        "cause": cause,
        "note": note,
        **({"backdate_reason": backdated} if backdated else {}),
    }


def loan_write_off(
    *,
    loan: Loan,
    written_off_on: date,
    cause: str,
    idempotency_key: str,
    requested_by,
    actor,
    note: str = "",
    backdate_reason: str = "",
) -> LoanWriteOff:
    """Write off the outstanding principal of an active loan (xử lý rủi ro) against the
    provision held for it; death, disability and natural disasters are causes of a write-off.

    The entry: Dr 2293 ``loan:<id>`` min(provision held, outstanding), Dr 8111 ``loan:<id>`` the
    rest, Cr 1283 ``loan:<id>`` the outstanding principal; a provision held beyond it is
    released (Dr 2293 / Cr 6422). Invariants: ``outstanding_principal`` and ``provision_held``
    become 0, the status ``written_off`` with the date and reason; a ``LoanTransaction`` of the
    principal written off; the unpaid interest and penalty kept off the balance sheet on the
    ``LoanWriteOff``. Four eyes: a fund officer approves what another officer requested. A date
    before the fund's open window needs `backdate_reason`, kept on the entry.
    """
    _four_eyes(loan=loan, requested_by=requested_by, actor=actor, what=_("Xử lý rủi ro"))
    terms = write_off_terms_check(
        loan=loan,
        written_off_on=written_off_on,
        cause=cause,
        note=note,
        backdate_reason=backdate_reason,
    )
    written_off_on, note = terms["written_off_on"], terms["note"]
    backdated = terms.get("backdate_reason", "")

    def run():
        locked = _locked(loan)
        _require_active(locked, pgettext_lazy("không … được", "xử lý rủi ro"))
        outstanding = amount_of(locked.outstanding_principal)
        if outstanding <= 0:
            raise LoanError(
                _("Khoản vay #%(loan)s không còn dư nợ gốc để xử lý rủi ro."),
                field="loan",
                params={"loan": locked.pk},
            )
        held = amount_of(locked.provision_held)
        used = min(held, outstanding)
        expense = outstanding - used
        released = held - used
        dims, sub = locked.ledger_dimensions, locked.subledger
        legs = []
        if used:
            legs.append(debit(LOAN_LOSS_PROVISION, used, subledger=sub, **dims))
        if expense:
            legs.append(debit(WRITE_OFF_EXPENSE, expense, subledger=sub, **dims))
        legs.append(credit(LOANS_RECEIVABLE, outstanding, subledger=sub, **dims))
        if released:
            legs.append(debit(LOAN_LOSS_PROVISION, released, subledger=sub, **dims))
            legs.append(credit(PROVISION_EXPENSE, released, subledger=sub, **dims))
        label = WriteOffCause(cause).label
        entry = journal_entry_post(
            effective_date=written_off_on,
            legs=legs,
            memo=(
                f"Xử lý rủi ro khoản vay #{locked.pk} của {locked.borrower.full_name}: {label}"
                + (f" — {note}" if note else "")
            )[:500],
            idempotency_key=f"loans.write_off:{locked.pk}",
            posted_by=actor_user(actor),
            document_type="loan_write_off",
            document_id=str(locked.pk),
            backdated_reason=backdated,
        )
        old = _in_force(locked)
        interest_unpaid = sum(
            (_unpaid(i, "interest") for i in old if i.due_date <= written_off_on), ZERO
        )
        penalty_unpaid = sum((_unpaid(i, "penalty") for i in old), ZERO)
        write_off = LoanWriteOff(
            loan=locked,
            written_off_on=written_off_on,
            cause=cause,
            note=note,
            principal=outstanding,
            provision_used=used,
            expense=expense,
            provision_released=released,
            interest_unpaid=interest_unpaid,
            penalty_unpaid=penalty_unpaid,
            journal_entry=entry,
            requested_by=actor_user(requested_by),
            approved_by=actor_user(actor),
        )
        write_off.full_clean(validate_constraints=False)
        write_off.save()
        locked.outstanding_principal = ZERO
        locked.provision_held = ZERO
        locked.status = LoanStatus.WRITTEN_OFF
        locked.written_off_on = written_off_on
        locked.write_off_reason = (f"{label}: {note}" if note else str(label))[:500]
        locked.save(
            update_fields=[
                "outstanding_principal",
                "provision_held",
                "status",
                "written_off_on",
                "write_off_reason",
            ]
        )
        LoanTransaction.objects.create(
            loan=locked,
            kind=LoanTransaction.Kind.WRITE_OFF,
            effective_date=written_off_on,
            principal_change=-outstanding,
            journal_entry=entry,
            created_by=actor_user(actor),
        )
        audit_record(
            actor=actor_user(actor),
            action="write_off",
            obj=locked,
            changes={
                "status": [LoanStatus.ACTIVE, LoanStatus.WRITTEN_OFF],
                "outstanding_principal": [str(outstanding), "0"],
                "provision_held": [str(held), "0"],
                "cause": [None, cause],
                "note": [None, note],
                "journal_entry": [None, entry.pk],
                **({"backdated_reason": [None, backdated]} if backdated else {}),
            },
        )
        loan.refresh_from_db()
        return write_off

    return _once(
        name="loan_write_off",
        key=idempotency_key,
        payload={
            "loan": loan.pk,
            "written_off_on": written_off_on.isoformat(),
            "cause": cause,
            "note": note,
            "requested_by": actor_user_id(requested_by),
            "actor": actor_user_id(actor),
            **({"backdate_reason": backdated} if backdated else {}),
        },
        run=run,
        load=lambda pk: LoanWriteOff.objects.get(pk=pk),
    )


def write_off_recovery_post(
    *,
    loan: Loan,
    amount,
    received_on: date,
    idempotency_key: str,
    actor=None,
    backdate_reason: str = "",
) -> WriteOffRecovery:
    """Money recovered on a written-off loan: Dr 1121 / Cr 7111 on ``loan:<id>`` (other income;
    the principal stays written off in the loan book).

    Invariant: the recoveries of a loan never exceed the principal written off; refused with
    nothing written for a loan not written off, a date before the write-off, an amount that is
    not a positive whole number of đồng or more than can still be recovered. Who may: the
    roles of the action "recovery" of ``loans.policy.LOAN_ACTIONS`` (the fund officers).
    A `received_on` before the fund's open window needs `backdate_reason`, kept on the entry.
    """
    loan_require_action(actor, loan=loan, name="recovery")
    amount = _positive(amount, field="amount", label=_("Số tiền thu hồi"))
    received_on = clean_loan_day(
        received_on, loan=loan, field="received_on", label=_("Ngày thu hồi")
    )
    backdated = backdate_reason_clean(
        loan.fund,
        received_on,
        backdate_reason,
        field="received_on",
        label=_("Ngày thu hồi"),
        error=LoanError,
    )

    def run():
        locked = _locked(loan)
        if locked.status != LoanStatus.WRITTEN_OFF:
            raise LoanError(
                _("Khoản vay #%(loan)s chưa được xử lý rủi ro; hãy ghi trả nợ thông thường."),
                field="loan",
                params={"loan": locked.pk},
            )
        write_off = LoanWriteOff.objects.get(loan=locked)
        if received_on < write_off.written_off_on:
            raise LoanError(
                _("Ngày thu hồi không được trước ngày xử lý rủi ro %(written_off)s."),
                field="received_on",
                params={"written_off": f"{write_off.written_off_on:%d/%m/%Y}"},
            )
        left = write_off_recoverable(write_off=write_off)
        if amount > left:
            raise LoanError(
                _("Số tiền %(amount)s vượt quá số nợ đã xử lý còn có thể thu hồi (%(left)s)."),
                field="amount",
                params={"amount": format_vnd(amount), "left": format_vnd(left)},
            )
        dims, sub = locked.ledger_dimensions, locked.subledger
        n = write_off.recoveries.count() + 1
        entry = journal_entry_post(
            effective_date=received_on,
            legs=[
                debit(BANK, amount, subledger=sub, **dims),
                credit(RECOVERY_INCOME, amount, subledger=sub, **dims),
            ],
            memo=f"Thu hồi nợ đã xử lý rủi ro khoản vay #{locked.pk} (lần {n})"[:500],
            idempotency_key=f"loans.write_off_recovery:{idempotency_key}",
            posted_by=actor_user(actor),
            document_type="loan_write_off_recovery",
            document_id=str(locked.pk),
            backdated_reason=backdated,
        )
        recovery = WriteOffRecovery(
            write_off=write_off,
            loan=locked,
            received_on=received_on,
            amount=amount,
            journal_entry=entry,
            created_by=actor_user(actor),
        )
        recovery.full_clean(validate_constraints=False)
        recovery.save()
        audit_record(
            actor=actor_user(actor),
            action="write_off_recovery",
            obj=locked,
            changes={
                "amount": [None, str(amount)],
                "recoverable": [str(left), str(left - amount)],
                "journal_entry": [None, entry.pk],
                **({"backdated_reason": [None, backdated]} if backdated else {}),
            },
        )
        return recovery

    return _once(
        name="write_off_recovery_post",
        key=idempotency_key,
        payload={
            "loan": loan.pk,
            "amount": str(amount),
            "received_on": received_on.isoformat(),
            "actor": actor_user_id(actor),
            **({"backdate_reason": backdated} if backdated else {}),
        },
        run=run,
        load=lambda pk: WriteOffRecovery.objects.get(pk=pk),
    )


# --------------------------------------------------------------------------------------------
# Closure with savings


def borrower_savings_balance(*, loan: Loan) -> Decimal:
    """The compulsory savings the fund holds for the loan's borrower (33881 ``borrower:<id>``,
    a liability: credit balance shown positive), all dates."""
    signed = account_balance(
        account=BORROWER_SAVINGS,
        as_of=date.max,
        fund_id=loan.fund_id,
        subledger=f"borrower:{loan.borrower_id}",
    )
    return -signed


def loan_close(
    *,
    loan: Loan,
    closed_on: date,
    idempotency_key: str,
    actor=None,
    apply_savings: bool = False,
    backdate_reason: str = "",
) -> LoanClosure:
    """Settle a loan with the borrower's compulsory savings (tất toán).

    An active loan is paid off from the savings (`apply_savings=True`): a repayment of the full
    payoff quote on `closed_on` funded by Dr 33881 ``borrower:<id>``, which closes the loan;
    refused when the savings do not cover it. Then — and for a loan already repaid in full — what
    is left of the savings is returned to the borrower, Dr 33881 / Cr 1121, unless another active
    loan of the borrower still holds them as security. Fund officers only.

    Invariants: the savings sub-ledger never goes into debit; a loan is closed this way once; the
    loan book and ledger reconcile afterwards. A `closed_on` before the fund's open window needs
    `backdate_reason`, kept on both entries.
    """
    loan_require_fund_officer(actor, loan=loan)
    closed_on = clean_loan_day(closed_on, loan=loan, field="closed_on", label=_("Ngày tất toán"))
    backdated = backdate_reason_clean(
        loan.fund,
        closed_on,
        backdate_reason,
        field="closed_on",
        label=_("Ngày tất toán"),
        error=LoanError,
    )
    if not isinstance(apply_savings, bool):
        raise LoanError(_("Trừ tiết kiệm vào nợ phải là có hoặc không."), field="apply_savings")

    def run():
        locked = _locked(loan)
        if hasattr(locked, "closure"):
            raise LoanError(
                _("Khoản vay #%(loan)s đã tất toán."), field="loan", params={"loan": locked.pk}
            )
        if locked.status == LoanStatus.WRITTEN_OFF:
            raise LoanError(
                _("Khoản vay #%(loan)s đã xử lý rủi ro, không tất toán được."),
                field="loan",
                params={"loan": locked.pk},
            )
        repayment = None
        applied = ZERO
        balance = borrower_savings_balance(loan=locked)
        if locked.status == LoanStatus.ACTIVE:
            if not apply_savings:
                raise LoanError(
                    _(
                        "Khoản vay #%(loan)s chưa trả hết nợ; hãy thu nợ trước hoặc trừ tiết kiệm "
                        "bắt buộc vào nợ."
                    ),
                    field="apply_savings",
                    params={"loan": locked.pk},
                )
            quote = repayments.full_payoff_quote(loan=locked, on=closed_on)
            applied = quote.total - quote.savings
            if applied > balance:
                raise LoanError(
                    _(
                        "Tiết kiệm bắt buộc %(savings)s không đủ trả nợ %(owed)s; còn thiếu "
                        "%(short)s."
                    ),
                    field="apply_savings",
                    params={
                        "savings": format_vnd(balance),
                        "owed": format_vnd(applied),
                        "short": format_vnd(applied - balance),
                    },
                )
            if applied:
                repayment = repayments.repayment_post_locked(
                    loan=locked,
                    amount=quote.total,
                    paid_on=closed_on,
                    overpayment="refuse",
                    collected_by=None,
                    actor=actor,
                    entry_key=f"loans.close_apply_savings:{locked.pk}",
                    from_savings=True,
                    backdated_reason=backdated,
                )
            else:
                # Nothing is owed to the fund, only the borrower's own savings contributions:
                # those are moot once the loan is settled.
                locked.status, locked.closed_on = LoanStatus.CLOSED, closed_on
                locked.save(update_fields=["status", "closed_on"])
            if locked.status != LoanStatus.CLOSED:  # pragma: no cover - the quote closes it
                raise LoanError(_("Trừ tiết kiệm không tất toán được khoản vay."), field="loan")
            balance -= applied
        others = (
            Loan.objects.filter(borrower_id=locked.borrower_id, status=LoanStatus.ACTIVE)
            .exclude(pk=locked.pk)
            .exists()
        )
        refund_entry = None
        returned = ZERO
        if balance > 0 and not others:
            returned = balance
            dims = locked.ledger_dimensions
            refund_entry = journal_entry_post(
                effective_date=closed_on,
                legs=[
                    debit(
                        BORROWER_SAVINGS,
                        returned,
                        subledger=f"borrower:{locked.borrower_id}",
                        **dims,
                    ),
                    credit(BANK, returned, subledger=locked.subledger, **dims),
                ],
                memo=(
                    f"Hoàn trả tiết kiệm bắt buộc cho {locked.borrower.full_name} khi tất toán "
                    f"khoản vay #{locked.pk}"
                )[:500],
                idempotency_key=f"loans.close_refund:{locked.pk}",
                posted_by=actor_user(actor),
                document_type="loan_savings_refund",
                document_id=str(locked.pk),
                backdated_reason=backdated,
            )
        closure = LoanClosure(
            loan=locked,
            closed_on=closed_on,
            savings_applied=applied,
            savings_returned=returned,
            repayment=repayment,
            refund_entry=refund_entry,
            created_by=actor_user(actor),
        )
        closure.full_clean(validate_unique=False)
        closure.save()
        audit_record(
            actor=actor_user(actor),
            action="close",
            obj=locked,
            changes={
                "status": [None, locked.status],
                "savings_applied": [None, str(applied)],
                "savings_returned": [None, str(returned)],
                "savings_kept_for_other_loans": [None, str(balance - returned)],
                **({"backdated_reason": [None, backdated]} if backdated else {}),
            },
        )
        loan.refresh_from_db()
        return closure

    return _once(
        name="loan_close",
        key=idempotency_key,
        payload={
            "loan": loan.pk,
            "closed_on": closed_on.isoformat(),
            "apply_savings": apply_savings,
            "actor": actor_user_id(actor),
            **({"backdate_reason": backdated} if backdated else {}),
        },
        run=run,
        load=lambda pk: LoanClosure.objects.get(pk=pk),
    )
