"""Who may open a view: one explicit rule on every view of the site and the API.

Every view reachable from the URL conf carries an ``access_rule`` (a function view through the
``access`` decorator, a class-based or DRF view through its ``access_roles`` attribute). A test
walks the URL conf and fails on any view without one, so a new page cannot ship open by accident.
What rows a permitted user then sees is ``fund.scoping``'s business (other units' ids → 404).

Rules:
- ``PUBLIC``: anyone (log-in page, health check).
- a tuple of ``fund.models.Role`` values: a signed-in officer of one of those roles; anyone else
  signed in gets 403, an anonymous visitor is sent to the log-in page (pages) or 401/403 (API).
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from fund.models import Role
from fund.scoping import scope_for

PUBLIC = "public"
ALL_ROLES: tuple[str, ...] = tuple(Role.values)
WRITERS: tuple[str, ...] = (Role.FUND_OFFICER, Role.SUPERIOR_OFFICER, Role.GRASSROOTS_OFFICER)
FUND_OFFICERS: tuple[str, ...] = (Role.FUND_OFFICER,)
READERS_FUND_WIDE: tuple[str, ...] = (Role.FUND_OFFICER, Role.AUDITOR)
# Officer accounts (pages and API): auditors read the list; fund and superior-union officers
# manage (``fund.officers``, ``fund.scoping``: whom each may manage).
OFFICER_READERS: tuple[str, ...] = (Role.FUND_OFFICER, Role.SUPERIOR_OFFICER, Role.AUDITOR)
OFFICER_MANAGERS: tuple[str, ...] = (Role.FUND_OFFICER, Role.SUPERIOR_OFFICER)


def access(rule):
    """Decorate a function view with its access rule (``PUBLIC`` or a tuple of roles).

    For a role rule the view runs with ``request.scope`` set (a ``fund.scoping.Scope``).
    """
    if rule != PUBLIC and not (isinstance(rule, tuple) and rule):
        raise ValueError("access rule must be PUBLIC or a non-empty tuple of roles")

    def decorate(view):
        if rule == PUBLIC:

            @wraps(view)
            def public_view(request, *args, **kwargs):
                return view(request, *args, **kwargs)

            public_view.access_rule = PUBLIC
            return public_view

        @wraps(view)
        def guarded(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            scope = scope_for(request.user)  # PermissionDenied (403) without a profile
            if scope.role not in rule:
                raise PermissionDenied(_("Vai trò của bạn không được mở trang này."))
            request.scope = scope
            return view(request, *args, **kwargs)

        guarded.access_rule = rule
        return guarded

    return decorate


def view_access_rule(callback):
    """The access rule of a resolved URL callback, or None when it has none."""
    rule = getattr(callback, "access_rule", None)
    if rule is not None:
        return rule
    for attr in ("view_class", "cls"):  # Django class-based views, DRF views
        klass = getattr(callback, attr, None)
        if klass is not None:
            rule = getattr(klass, "access_roles", None)
            if rule is not None:
                return rule
    return None
