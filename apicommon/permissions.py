"""The API's access rule, loaded by Django REST framework's settings.

Kept apart from ``apicommon.views`` because DRF imports it while it is itself still loading
(``DEFAULT_PERMISSION_CLASSES``): it must not import the API's views.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.permissions import BasePermission

from fund.access import PUBLIC
from fund.scoping import scope_for


class AccessRolePermission(BasePermission):
    """Enforce ``view.access_roles``: ``PUBLIC`` or a tuple of ``fund.models.Role`` values.

    A view without the attribute is refused for everyone (a test also fails on it). For a role
    rule, the user's scope is put on ``request.scope`` for the view to filter with.
    """

    message = _("Vai trò của bạn không được dùng chức năng này.")

    def has_permission(self, request, view) -> bool:
        rule = getattr(view, "access_roles", None)
        if rule == PUBLIC:
            return True
        if not (isinstance(rule, tuple) and rule):
            return False
        user = request.user
        if user is None or not user.is_authenticated:
            raise exceptions.NotAuthenticated()
        try:
            scope = scope_for(user)
        except DjangoPermissionDenied as e:
            raise exceptions.PermissionDenied(str(e)) from None
        if scope.role not in rule:
            return False
        request.scope = scope
        return True
