"""The base of every API view, and rows looked up by id within the user's scope."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework.views import APIView

from apicommon.fields import MAX_ID
from apicommon.paging import ApiPagination
from fund.access import PUBLIC
from fund.scoping import Scope, scoped_get_or_404


# Base of every API view: one operation, thin, calling services and selectors. (A comment, not
# a docstring: the schema would show it as the description of every operation.)
class ApiView(APIView):
    access_roles: tuple[str, ...] | str | None = None

    @property
    def scope(self) -> Scope:
        return self.request.scope

    def input(self, serializer_class, data=None, **kwargs) -> dict:
        """The request body (or `data`) validated by an input serializer (400 when wrong)."""
        s = serializer_class(data=self.request.data if data is None else data, **kwargs)
        s.is_valid(raise_exception=True)
        return s.validated_data

    def query(self, serializer_class) -> dict:
        """The query string validated by a filter serializer (400 when wrong)."""
        return self.input(serializer_class, data=self.request.query_params)

    def page(self, qs, serializer_class):
        paginator = ApiPagination()
        rows = paginator.paginate_queryset(qs, self.request, view=self)
        return paginator.get_paginated_response(serializer_class(rows, many=True).data)


def check_id(pk) -> int:
    """An id from a URL or a body, or 404 when it cannot be one."""
    try:
        value = int(pk)
    except (TypeError, ValueError):
        raise Http404(_("Không tìm thấy.")) from None
    if not 0 < value <= MAX_ID:
        raise Http404(_("Không tìm thấy."))
    return value


def get_in_scope(qs, scope: Scope, pk, *, grassroots_field: str = "grassroots_union"):
    """One row by id inside the user's scope, else 404 (never 403: ids of others leak nothing)."""
    return scoped_get_or_404(qs, scope, pk=check_id(pk), grassroots_field=grassroots_field)


class NotFoundApi(ApiView):
    """Any other path under /api/v1/: a JSON 404 rather than an HTML page."""

    access_roles = PUBLIC
    authentication_classes: list = []
    schema = None  # not an operation of the API

    def _404(self, request, *args, **kwargs):
        raise Http404()

    get = post = put = patch = delete = _404
