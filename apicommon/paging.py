"""The API's paging: limit and offset, and the schema of a paged answer.

Loaded by Django REST framework's settings (``DEFAULT_PAGINATION_CLASS``) while it is itself
still loading: it must not import the API's views.
"""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination


class ApiPagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 500

    def get_offset(self, request):
        # The database refuses an OFFSET beyond 64 bits; no list is anywhere near this long.
        return min(super().get_offset(request), 10**12)

    def window(self, request) -> tuple[int, int]:
        """The (limit, offset) asked for, for a list that its own selector pages rather than a
        queryset sliced here; `links` then gives the answer's count and links."""
        self.request = request
        self.limit = self.get_limit(request)
        self.offset = self.get_offset(request)
        return self.limit, self.offset

    def links(self, count: int) -> dict:
        """count, next and previous of the `window` asked for, out of `count` rows."""
        self.count = count
        return {"count": count, "next": self.get_next_link(), "previous": self.get_previous_link()}


_PAGED: dict = {}


def paged(serializer_class):
    """The response serializer of a paged list of `serializer_class` (count, next, previous,
    results), so that the schema says what ``ApiView.page`` returns."""
    if serializer_class not in _PAGED:
        name = "Paged" + serializer_class.__name__.removesuffix("Output")
        _PAGED[serializer_class] = type(
            name,
            (serializers.Serializer,),
            {
                "count": serializers.IntegerField(),
                "next": serializers.URLField(allow_null=True),
                "previous": serializers.URLField(allow_null=True),
                "results": serializer_class(many=True),
                "__module__": serializer_class.__module__,
            },
        )
    return _PAGED[serializer_class]
