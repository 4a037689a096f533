"""Role scope: the one place that decides which rows a user may see and change.

Every view, API endpoint, export and report starts from ``scope_for(request.user)`` and passes
its querysets through ``scope_filter`` (lists) or ``scoped_get_or_404`` (one row by id). A row
outside the scope is answered with 404, never 403, so that ids of other unions leak nothing.

| role               | sees                                  | writes          | approves |
|--------------------|---------------------------------------|-----------------|----------|
| fund officer       | everything of their fund              | yes             | yes      |
| superior officer   | their superior union's grassroots     | yes             | no       |
|                    | unions (current affiliation)          |                 |          |
| grassroots officer | their own grassroots union            | yes             | no       |
| auditor            | everything of their fund, ledger too  | no (read-only)  | no       |

Officer accounts follow the same table with one narrowing (``officer_scope_filter``): a
superior-union officer sees and manages only the grassroots-union officers of their own
grassroots unions, and a grassroots-union officer manages nobody.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from fund.errors import PermissionRefused
from fund.models import GrassrootsUnion, OfficerProfile, Role


@dataclass(frozen=True)
class Scope:
    user: object
    role: str  # a fund.models.Role value
    fund_id: int
    superior_union_id: int | None = None  # set for superior-union officers only
    grassroots_union_id: int | None = None  # set for grassroots-union officers only

    @property
    def is_read_only(self) -> bool:
        return self.role == Role.AUDITOR

    @property
    def can_approve(self) -> bool:
        return self.role == Role.FUND_OFFICER

    @property
    def can_write(self) -> bool:
        return not self.is_read_only

    @property
    def is_fund_wide(self) -> bool:
        """Fund officers and auditors see every unit of the fund."""
        return self.role in (Role.FUND_OFFICER, Role.AUDITOR)

    def allows_grassroots_union(self, grassroots_union: GrassrootsUnion) -> bool:
        """Whether a grassroots union (an instance, current affiliation) is inside the scope."""
        if grassroots_union.fund_id != self.fund_id:
            return False
        if self.role == Role.SUPERIOR_OFFICER:
            return grassroots_union.superior_union_id == self.superior_union_id
        if self.role == Role.GRASSROOTS_OFFICER:
            return grassroots_union.pk == self.grassroots_union_id
        return True

    def allows_superior_union(self, superior_union) -> bool:
        if superior_union.fund_id != self.fund_id:
            return False
        if self.role == Role.SUPERIOR_OFFICER:
            return superior_union.pk == self.superior_union_id
        if self.role == Role.GRASSROOTS_OFFICER:
            return False
        return True


def scope_for(user) -> Scope:
    """The scope of a signed-in user's officer profile; PermissionDenied without one."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        raise PermissionDenied(_("Bạn chưa đăng nhập hoặc tài khoản đã bị khóa."))
    try:
        officer: OfficerProfile = user.officer
    except ObjectDoesNotExist:
        raise PermissionDenied(_("Tài khoản chưa được phân công vai trò trong quỹ.")) from None
    role = officer.role
    return Scope(
        user=user,
        role=role,
        fund_id=officer.fund_id,
        superior_union_id=officer.superior_union_id if role == Role.SUPERIOR_OFFICER else None,
        grassroots_union_id=(
            officer.grassroots_union_id if role == Role.GRASSROOTS_OFFICER else None
        ),
    )


def scope_filter(qs: QuerySet, scope: Scope, *, grassroots_field: str = "grassroots_union"):
    """The rows of `qs` the scope may see.

    `grassroots_field` names the path from the model to its grassroots union; pass "" when `qs`
    is a GrassrootsUnion queryset itself.
    """
    prefix = f"{grassroots_field}__" if grassroots_field else ""
    if scope.role in (Role.FUND_OFFICER, Role.AUDITOR):
        return qs.filter(**{f"{prefix}fund_id": scope.fund_id})
    if scope.role == Role.SUPERIOR_OFFICER:
        return qs.filter(
            **{
                f"{prefix}superior_union_id": scope.superior_union_id,
                f"{prefix}fund_id": scope.fund_id,
            }
        )
    if scope.role == Role.GRASSROOTS_OFFICER:
        field = f"{grassroots_field}_id" if grassroots_field else "pk"
        return qs.filter(**{field: scope.grassroots_union_id})
    return qs.none()  # an unknown role sees nothing


def superior_union_scope_filter(qs: QuerySet, scope: Scope, *, superior_field: str = ""):
    """The same rule for SuperiorUnion rows (or rows that hang off a superior union)."""
    prefix = f"{superior_field}__" if superior_field else ""
    if scope.role in (Role.FUND_OFFICER, Role.AUDITOR):
        return qs.filter(**{f"{prefix}fund_id": scope.fund_id})
    if scope.role == Role.SUPERIOR_OFFICER:
        field = f"{superior_field}_id" if superior_field else "pk"
        return qs.filter(**{field: scope.superior_union_id})
    return qs.none()


def scoped_get_or_404(
    qs: QuerySet, scope: Scope, *, pk, grassroots_field: str = "grassroots_union"
):
    """One row by id, or Http404 when it does not exist or lies outside the scope."""
    try:
        return scope_filter(qs, scope, grassroots_field=grassroots_field).get(pk=pk)
    except (qs.model.DoesNotExist, ValueError, TypeError):
        raise Http404(_("Không tìm thấy.")) from None


def scope_narrowed(scope: Scope, *, superior_union=None, grassroots_union=None) -> Scope:
    """The reader's scope narrowed to one unit they may see, for READS of that unit's rows
    through the selectors that take a scope (a union's page: its loans, arrears, PAR).

    The unit must lie inside `scope` (another unit: Http404). The narrowed scope reads as that
    unit's officer would; it is never used to write."""
    if grassroots_union is not None:
        if not scope.allows_grassroots_union(grassroots_union):
            raise Http404(_("Không tìm thấy."))
        return replace(
            scope,
            role=Role.GRASSROOTS_OFFICER,
            superior_union_id=None,
            grassroots_union_id=grassroots_union.pk,
        )
    if superior_union is not None:
        if not scope.allows_superior_union(superior_union):
            raise Http404(_("Không tìm thấy."))
        return replace(
            scope,
            role=Role.SUPERIOR_OFFICER,
            superior_union_id=superior_union.pk,
            grassroots_union_id=None,
        )
    return scope


def scope_require_write(scope: Scope, *, field: str | None = None) -> None:
    """Auditors read, never write; `field` names what the refusal is about (the loan services
    name the actor)."""
    if not scope.can_write:
        raise PermissionRefused(
            _("Kiểm toán viên chỉ được xem, không được thay đổi dữ liệu."),
            field=field,
            code="read_only",
        )


def scope_require_approver(scope: Scope, *, field: str | None = None) -> None:
    if not scope.can_approve:
        raise PermissionRefused(
            _("Chỉ cán bộ quỹ được phê duyệt."), field=field, code="approver_only"
        )


def scope_require_fund_officer(scope: Scope) -> None:
    """Changes to the organisation, capital and plans are the fund officers' job."""
    scope_require_write(scope)
    if scope.role != Role.FUND_OFFICER:
        raise PermissionRefused(_("Chỉ cán bộ quỹ được thực hiện thao tác này."), code="fund_only")


# --------------------------------------------------------------------------------------------
# The acting user of a service
#
# A service's ``actor`` is the user acting; ``None`` is the system itself (imports, the demo,
# scheduled jobs), and a site administrator without an officer profile acts as the system.


def actor_scope(actor) -> Scope | None:
    """The actor's scope; None for the system and for site administrators (superusers without an
    officer profile, who work through the Django admin). A user without a role is refused."""
    if actor is None:
        return None
    if getattr(actor, "is_superuser", False) and not hasattr(actor, "officer"):
        return None
    try:
        return scope_for(actor)
    except PermissionDenied as e:
        raise PermissionRefused(e.args[0], field="actor", code="no_role") from None


def actor_user(actor):
    """The actor as the user a row records (``created_by``, the audit log); None for the
    system."""
    return actor if getattr(actor, "pk", None) else None


def actor_user_id(actor) -> int | None:
    """The id of ``actor_user(actor)``, as idempotency payloads record it."""
    return getattr(actor_user(actor), "pk", None)


def actor_require_fund_officer(
    actor, *, fund_id: int | None = None, field: str | None = None
) -> Scope | None:
    """The actor is a fund officer (of `fund_id`'s fund, when given), or the system; `field`
    names what the auditor's and the other fund's refusals are about."""
    scope = actor_scope(actor)
    if scope is None:
        return None
    scope_require_write(scope, field=field)
    if scope.role != Role.FUND_OFFICER:
        raise PermissionRefused(_("Chỉ cán bộ quỹ được thực hiện thao tác này."), code="fund_only")
    if fund_id is not None and scope.fund_id != fund_id:
        raise PermissionRefused(_("Bạn không thuộc quỹ này."), field=field, code="other_fund")
    return scope


# --------------------------------------------------------------------------------------------
# Officer accounts: whose accounts a scope sees and manages, and which roles it may grant


def officer_scope_filter(qs: QuerySet, scope: Scope) -> QuerySet:
    """The officer profiles a scope may see: every officer of the fund for fund officers and
    auditors, the grassroots-union officers of their own grassroots unions for a superior-union
    officer, nobody for a grassroots-union officer."""
    if scope.role in (Role.FUND_OFFICER, Role.AUDITOR):
        return qs.filter(fund_id=scope.fund_id)
    if scope.role == Role.SUPERIOR_OFFICER:
        return qs.filter(
            fund_id=scope.fund_id,
            role=Role.GRASSROOTS_OFFICER,
            grassroots_union__superior_union_id=scope.superior_union_id,
        )
    return qs.none()


def officer_roles_grantable(scope: Scope) -> tuple[str, ...]:
    """The roles a scope may give: a fund officer every role (none is above theirs), a
    superior-union officer the grassroots-union officer's only, anyone else none."""
    if scope.role == Role.FUND_OFFICER:
        return (Role.FUND_OFFICER, Role.SUPERIOR_OFFICER, Role.GRASSROOTS_OFFICER, Role.AUDITOR)
    if scope.role == Role.SUPERIOR_OFFICER:
        return (Role.GRASSROOTS_OFFICER,)
    return ()


def officer_require_manager(scope: Scope) -> None:
    """Only fund and superior-union officers manage officer accounts (auditors read the list)."""
    scope_require_write(scope, field="actor")
    if not officer_roles_grantable(scope):
        raise PermissionRefused(
            _("Bạn không được quản lý tài khoản cán bộ."),
            field="actor",
            code="officers_not_managed",
        )


def officer_require_managed(scope: Scope, profile: OfficerProfile) -> None:
    """The officer's account is one the scope manages (in its fund and, for a superior-union
    officer, a grassroots-union officer of one of its grassroots unions)."""
    officer_require_manager(scope)
    inside = profile.fund_id == scope.fund_id
    if inside and scope.role == Role.SUPERIOR_OFFICER:
        inside = profile.role == Role.GRASSROOTS_OFFICER and (
            profile.grassroots_union is not None
            and scope.allows_grassroots_union(profile.grassroots_union)
        )
    if not inside:
        raise PermissionRefused(
            _("Tài khoản cán bộ này không thuộc phạm vi của bạn."),
            field="officer",
            code="officer_out_of_scope",
        )


def officer_require_grant(scope: Scope, *, role: str, superior_union=None, grassroots_union=None):
    """The scope may give `role` with that unit: never a role above the actor's own, and a unit
    inside the actor's scope."""
    officer_require_manager(scope)
    if role not in officer_roles_grantable(scope):
        raise PermissionRefused(
            _("Bạn không được giao vai trò cao hơn hoặc ngoài quyền của mình."),
            field="role",
            code="role_above_own",
        )
    if grassroots_union is not None and not scope.allows_grassroots_union(grassroots_union):
        raise PermissionRefused(
            _("Công đoàn cơ sở không thuộc phạm vi của bạn."),
            field="grassroots_union",
            code="unit_out_of_scope",
        )
    if superior_union is not None and not scope.allows_superior_union(superior_union):
        raise PermissionRefused(
            _("Công đoàn cấp trên không thuộc phạm vi của bạn."),
            field="superior_union",
            code="unit_out_of_scope",
        )


def officer_require_not_self(scope: Scope, profile: OfficerProfile, *, field: str) -> None:
    """Nobody changes their own role or unit, nor deactivates themselves."""
    if profile.user_id == getattr(scope.user, "pk", None):
        raise PermissionRefused(
            _("Bạn không được tự đổi vai trò, đơn vị hay khóa tài khoản của chính mình."),
            field=field,
            code="own_account",
        )
