"""Who may act on the loan book: the actor's scope and the role checks every loan service asks.

``actor`` is the user acting. Their role (``fund.scoping``) decides what they may do; ``None`` is
the system itself (imports, the demo, scheduled jobs) and a site administrator without an
officer profile acts as the system.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from fund.errors import PermissionRefused
from fund.models import GrassrootsUnion, Role
from fund.scoping import Scope, actor_scope, scope_require_write
from loans.models import (
    Loan,
)

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
    if scope.role != Role.FUND_OFFICER:
        raise PermissionRefused(
            _("Chỉ cán bộ quỹ được thực hiện thao tác này."), field="actor", code="fund_only"
        )
    if scope.fund_id != loan.fund_id:
        raise PermissionRefused(_("Bạn không thuộc quỹ này."), field="actor", code="other_fund")
    return scope
