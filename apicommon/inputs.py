"""The base of the API's update inputs: a field the operation does not take is refused."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers


class StrictInput(serializers.Serializer):
    """An input whose unknown fields are refused (400 naming the first) rather than ignored: a
    caller who sends `superior_union` to an update that does not move means the move, and must
    not believe it was made."""

    def validate(self, attrs):
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            message = _("Trường không hợp lệ: %(fields)s.") % {"fields": ", ".join(unknown)}
            raise serializers.ValidationError({unknown[0]: message}, code="unknown_field")
        return attrs
