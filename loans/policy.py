"""Who may act on the loan book: the actor's scope and the role checks every loan service asks,
and which actions a loan offers after disbursement, in which state, to which role.

``actor`` is the user acting. Their role (``fund.scoping``) decides what they may do; ``None`` is
the system itself (imports, the demo, scheduled jobs) and a site administrator without an
officer profile acts as the system.

One table (``LOAN_ACTIONS``) holds the rule; the loan page (which actions it offers, who may
open each action's page) and the API (who may call each action's endpoint) ask it rather than
each writing the rule again. An action is offered when the officer's role is one of the
action's roles, the loan's status is one of its statuses and each of its conditions holds on
the loan. The roles come from two sets: ``LOAN_SERVICERS`` (the officers in charge of a loan)
and ``LOAN_DECIDERS`` (the fund officers, who decide on its terms and its money); the services'
check of a decision on a loan (``loan_require_fund_officer``) refuses any role outside
``LOAN_DECIDERS``.

The conditions read the loan's rows; when the loan page has already read them (its
repayments, visits and pending requests, kept on the loan as ``page_*``), they read nothing
again. Only the models (and the fund's scope) are imported here, no view or form: every layer
of the loans app may ask the table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from accounting.money import amount_of
from fund.duties import RECORDER_REVERSES, duty_applies, duty_require_other
from fund.errors import PermissionRefused
from fund.models import GrassrootsUnion, Role
from fund.scoping import Scope, actor_scope, scope_require_write
from loans.models import Loan, LoanChangeRequest, LoanStatus, LoanWriteOff

# Servicing a loan (visits, repayments, requests to change its terms) is for any officer in
# charge of it; deciding on its terms and its money afterwards is for the fund's officers.
# Auditors only read.
LOAN_SERVICERS: tuple[str, ...] = (
    Role.FUND_OFFICER,
    Role.SUPERIOR_OFFICER,
    Role.GRASSROOTS_OFFICER,
)
LOAN_DECIDERS: tuple[str, ...] = (Role.FUND_OFFICER,)
# Who follows the remittances not yet seen on the bank's statement (pages and API alike).
REMITTANCE_WATCHERS: tuple[str, ...] = (Role.FUND_OFFICER, Role.SUPERIOR_OFFICER, Role.AUDITOR)

# --------------------------------------------------------------------------------------------
# Helpers: roles (the generic actor checks are fund.scoping's)


def require_unit(
    actor, *, fund_id: int, grassroots_union: GrassrootsUnion, field: str = "grassroots_union"
) -> Scope | None:
    """The actor may write rows of `grassroots_union` (their scope holds it); auditors never."""
    scope = actor_scope(actor)
    if scope is None:
        return None
    scope_require_write(scope, field="actor")
    if scope.fund_id != fund_id:
        raise PermissionRefused(_("Bạn không thuộc quỹ này."), field=field, code="other_fund")
    if not scope.allows_grassroots_union(grassroots_union):
        raise PermissionRefused(
            _("%(union)s không thuộc phạm vi quản lý của bạn."),
            field=field,
            code="other_unit",
            params={"union": grassroots_union.name},
        )
    return scope


def loan_require_servicer(actor, *, loan: Loan, field: str = "loan") -> Scope | None:
    """The actor may collect for and service `loan`: a grassroots officer of the loan's union
    (as recorded at disbursement, or the borrower's union now, after a transfer), a superior
    officer above either, any fund officer of the fund; never an auditor. ``None`` (the system)
    and site administrators without a profile pass."""
    scope = actor_scope(actor)
    if scope is None:
        return None
    scope_require_write(scope, field="actor")
    if scope.fund_id != loan.fund_id:
        raise PermissionRefused(_("Bạn không thuộc quỹ này."), field=field, code="other_fund")
    unions = [loan.grassroots_union, loan.borrower.grassroots_union]
    if not any(scope.allows_grassroots_union(gu) for gu in unions):
        raise PermissionRefused(
            _("Khoản vay #%(loan)s của %(union)s không thuộc phạm vi quản lý của bạn."),
            field=field,
            code="other_unit",
            params={"loan": loan.pk, "union": loan.grassroots_union.name},
        )
    return scope


def loan_require_fund_officer(actor, *, loan: Loan) -> Scope | None:
    """Decisions on a loan's terms (rescheduling, waiver, write-off, recall) are the fund
    officers' (or the system's); the refusal names the actor."""
    scope = actor_scope(actor)
    if scope is None:
        return None
    scope_require_write(scope, field="actor")
    if scope.role not in LOAN_DECIDERS:
        raise PermissionRefused(
            _("Chỉ cán bộ quỹ được thực hiện thao tác này."), field="actor", code="fund_only"
        )
    if scope.fund_id != loan.fund_id:
        raise PermissionRefused(_("Bạn không thuộc quỹ này."), field="actor", code="other_fund")
    return scope


def loan_require_action(actor, *, loan: Loan, name: str, field: str = "loan") -> Scope | None:
    """The actor may take the action `name` of ``LOAN_ACTIONS`` on `loan`: in charge of it
    (``loan_require_servicer``) and of one of the action's roles, so that the services refuse
    exactly what the pages and the API do not offer."""
    scope = loan_require_servicer(actor, loan=loan, field=field)
    if scope is not None and scope.role not in LOAN_ACTIONS[name].roles:
        raise PermissionRefused(
            _("Chỉ cán bộ quỹ được thực hiện thao tác này."), field="actor", code="fund_only"
        )
    return scope


def repayment_recorded_by(repayment) -> int | None:
    """Who recorded a repayment (for a line of a remittance, who recorded the remittance)."""
    recorded = getattr(repayment, "created_by_id", None)
    if recorded is not None or getattr(repayment, "batch_id", None) is None:
        return recorded
    return repayment.batch.created_by_id


def loan_require_reverser(actor, *, loan: Loan, repayment) -> None:
    """Separation of duties (``fund.duties``): the officer who recorded `repayment` (or its
    remittance) may not reverse it when the fund's policy says so."""
    duty_require_other(
        fund=loan.fund,
        rule=RECORDER_REVERSES,
        actor=actor,
        first_user_id=repayment_recorded_by(repayment),
        field="repayment",
    )


def _reversible_by_another(loan: Loan, scope: Scope) -> bool:
    """Some repayment the officer may reverse: one recorded by someone else (or by the
    system), or any when the fund lets the recorder reverse (read only when it matters)."""
    user_id = getattr(scope.user, "pk", None)
    if user_id is None:
        return True
    read = page_repayments(loan)
    if read is None:
        read = loan.repayments.filter(reversal_entry__isnull=True).select_related("batch")
    reversible = [
        rep
        for rep in read
        if rep.reversal_entry_id is None and (loan.status != CLOSED or rep.closed_loan)
    ]
    if any(repayment_recorded_by(rep) != user_id for rep in reversible):
        return True
    return not duty_applies(loan.fund, RECORDER_REVERSES)


ACTIVE, CLOSED, WRITTEN_OFF = LoanStatus.ACTIVE, LoanStatus.CLOSED, LoanStatus.WRITTEN_OFF


# --------------------------------------------------------------------------------------------
# Facts of a loan's state that the table reads


def pending_requests(loan: Loan) -> list[LoanChangeRequest]:
    """The loan's requests waiting for a decision, oldest first (read once per page: kept on
    the loan as ``page_requests``)."""
    read = getattr(loan, "page_requests", None)
    if read is None:
        read = loan.page_requests = list(
            loan.change_requests.filter(status=LoanChangeRequest.Status.PENDING)
            .select_related("requested_by")
            .order_by("requested_at")
        )
    return read


def pending_request_kinds(loan: Loan) -> set[str]:
    return {r.kind for r in pending_requests(loan)}


def page_repayments(loan: Loan):
    """The loan's repayments when the loan page has already read them all (with their reversal
    entries), so that the table and the page's record need not read them again; else None."""
    return getattr(loan, "page_repayments", None)


def loan_has_closure(loan: Loan) -> bool:
    """Whether the loan was settled by a closure (``loan_close``), not only paid off."""
    # ``loan_close`` sets ``closed_on`` with the closure row: no query for a loan never closed.
    return loan.closed_on is not None and hasattr(loan, "closure")


def loan_has_unverified_visit(loan: Loan) -> bool:
    read = getattr(loan, "page_visits", None)  # the loan page's list of follow-up visits
    if read is not None:
        return any(not v.purpose_verified for v in read)
    return loan.visits.filter(purpose_verified=False).exists()


def loan_has_reversible_repayment(loan: Loan) -> bool:
    """A repayment not yet reversed; once a loan is closed, only the one that closed it."""
    read = page_repayments(loan)
    if read is not None:
        return any(
            rep.reversal_entry_id is None and (loan.status != CLOSED or rep.closed_loan)
            for rep in read
        )
    reps = loan.repayments.filter(reversal_entry__isnull=True)
    if loan.status == CLOSED:
        reps = reps.filter(closed_loan=True)
    return reps.exists()


def write_off_recoverable(*, write_off: LoanWriteOff) -> Decimal:
    """What can still be recovered on a write-off: the principal written off less recoveries."""
    recovered = sum((amount_of(r.amount) for r in write_off.recoveries.all()), Decimal(0))
    return amount_of(write_off.principal) - recovered


def loan_recoverable(loan: Loan) -> Decimal:
    """What can still be recovered on the loan's write-off; 0 for a loan never written off."""
    try:
        write_off = loan.write_off
    except LoanWriteOff.DoesNotExist:
        return Decimal(0)
    return write_off_recoverable(write_off=write_off)


def _owes_principal(loan: Loan) -> bool:
    return amount_of(loan.outstanding_principal) > 0


def _not_settled(loan: Loan) -> bool:
    return not loan_has_closure(loan)


def _not_recalled(loan: Loan) -> bool:
    return loan.recalled_on is None


def _recoverable(loan: Loan) -> bool:
    return loan_recoverable(loan) > 0


def _no_pending(kind: str) -> Callable[[Loan], bool]:
    """One pending request of each kind at a time."""

    def no_pending(loan: Loan) -> bool:
        return kind not in pending_request_kinds(loan)

    no_pending.__name__ = f"no_pending_{kind}"
    return no_pending


# --------------------------------------------------------------------------------------------
# The table


@dataclass(frozen=True)
class LoanActionRule:
    roles: tuple[str, ...]
    statuses: tuple[str, ...]
    # Checked in order, after the role and the status, so the cheap checks spare the queries.
    conditions: tuple[Callable[[Loan], bool], ...] = ()
    # The fund's separation of duties for this officer (``fund.duties``), checked last.
    duty: Callable[[Loan, Scope], bool] | None = None


RESCHEDULE, WRITE_OFF = LoanChangeRequest.Kind.RESCHEDULE, LoanChangeRequest.Kind.WRITE_OFF

# In the order the loan page lists them. Rescheduling and write-off are requests (four eyes):
# any officer in charge may ask, another fund officer decides (``loans.restructuring``).
LOAN_ACTIONS: dict[str, LoanActionRule] = {
    "visit": LoanActionRule(LOAN_SERVICERS, (ACTIVE, CLOSED)),
    "reverse": LoanActionRule(
        LOAN_DECIDERS,
        (ACTIVE, CLOSED),
        (_not_settled, loan_has_reversible_repayment),
        _reversible_by_another,
    ),
    "reschedule": LoanActionRule(
        LOAN_SERVICERS, (ACTIVE,), (_owes_principal, _no_pending(RESCHEDULE))
    ),
    "waive": LoanActionRule(LOAN_DECIDERS, (ACTIVE,)),
    "write_off": LoanActionRule(
        LOAN_SERVICERS, (ACTIVE,), (_owes_principal, _no_pending(WRITE_OFF))
    ),
    "recovery": LoanActionRule(LOAN_DECIDERS, (WRITTEN_OFF,), (_recoverable,)),
    "close": LoanActionRule(LOAN_DECIDERS, (ACTIVE, CLOSED), (_not_settled,)),
    "recall": LoanActionRule(LOAN_DECIDERS, (ACTIVE,), (_not_recalled, loan_has_unverified_visit)),
}


def loan_action_roles(name: str) -> tuple[str, ...]:
    """The roles that may take the action `name` (a key of ``LOAN_ACTIONS``)."""
    return LOAN_ACTIONS[name].roles


def loan_action_allowed(name: str, loan: Loan, scope: Scope) -> bool:
    """Whether the action `name` applies to the loan's state now, for the scope's role."""
    rule = LOAN_ACTIONS[name]
    return (
        scope.role in rule.roles
        and loan.status in rule.statuses
        and all(holds(loan) for holds in rule.conditions)
        and (rule.duty is None or rule.duty(loan, scope))
    )


def loan_actions_offered(loan: Loan, scope: Scope) -> list[str]:
    """The names of the actions that apply to the loan for the scope's role, in table order."""
    return [name for name in LOAN_ACTIONS if loan_action_allowed(name, loan, scope)]
