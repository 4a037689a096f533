"""The form field of an amount: people's text read by the one amount rule (`accounting.money`).

Every page and admin form that takes an amount uses `VndField`; the API's ``MoneyField``
(``apicommon.fields``) and the importers read amounts through the same module.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _
from djmoney.money import Money

from accounting.errors import ApplicationError
from accounting.formatting import format_vnd
from accounting.money import parse_amount_text


class VndField(forms.Field):
    """Whole đồng typed by a person, read by `accounting.money.parse_amount_text` (the one
    amount rule: digits, "." between thousands, optional "₫"); cleans to a ``Decimal``."""

    default_error_messages = {
        "min_value": _("Số tiền phải lớn hơn 0."),
        "max_value": _("Số tiền không được vượt quá %(limit_value)s."),
    }

    def __init__(self, *, min_value=None, max_value=None, **kwargs):
        kwargs.pop("max_digits", None)
        kwargs.pop("decimal_places", None)
        self.min_value, self.max_value = min_value, max_value
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("inputmode", "numeric")
        self.widget.attrs.setdefault("autocomplete", "off")

    def prepare_value(self, value):
        if isinstance(value, Money):
            value = value.amount
        if isinstance(value, Decimal | int) and not isinstance(value, bool):
            return format_vnd(value, symbol=False)
        return value

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return parse_amount_text(str(value), field=self.label or "amount")
        except ApplicationError as e:
            raise forms.ValidationError(e.message, code=e.code) from None

    def validate(self, value):
        super().validate(value)
        if value is None:
            return
        if self.min_value is not None and value < self.min_value:
            raise forms.ValidationError(
                self.error_messages["min_value"],
                code="min_value",
                params={"limit_value": self.min_value},
            )
        if self.max_value is not None and value > self.max_value:
            raise forms.ValidationError(
                self.error_messages["max_value"],
                code="max_value",
                params={"limit_value": format_vnd(self.max_value)},
            )
