"""What every form of the web pages shares: the idempotency key and service errors by field.

A form is rendered with a fresh random key in a hidden field; the view passes it to the
service's ``idempotency_key``, so a second submission of the same page (a double click, a
reload after a slow answer) returns the first result instead of posting again.
"""

from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from accounting.errors import ApplicationError


def new_idempotency_key() -> str:
    return uuid.uuid4().hex


class IdempotentForm(forms.Form):
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", new_idempotency_key())


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def date_field(label, **kwargs) -> forms.DateField:
    return forms.DateField(
        label=label, widget=DateInput(), input_formats=["%Y-%m-%d", "%d/%m/%Y"], **kwargs
    )


def amount_field(label, **kwargs) -> forms.DecimalField:
    """Whole đồng; a positive amount. Dots between thousands are accepted (15.000.000)."""
    kwargs.setdefault("min_value", 1)
    return VndField(label=label, **kwargs)


class VndField(forms.DecimalField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 20)
        kwargs.setdefault("decimal_places", 0)
        kwargs.setdefault(
            "error_messages",
            {
                "invalid": _("Nhập số tiền bằng chữ số, đơn vị đồng (ví dụ 2.000.000)."),
                "max_decimal_places": _("Số tiền tính bằng đồng, không có phần lẻ."),
                "min_value": _("Số tiền phải lớn hơn 0."),
            },
        )
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("inputmode", "numeric")

    def to_python(self, value):
        if isinstance(value, str):
            value = value.replace(".", "").replace(" ", "").replace("₫", "").strip()
        return super().to_python(value)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.pop("step", None)
        return attrs


def form_error_apply(form: forms.Form, error: ApplicationError, *, field_map=None) -> None:
    """Show a service's refusal on the form: next to the field it names, else above the form.

    `field_map` maps service field names onto form field names where they differ. Every reason
    of an ineligible borrower is shown next to its own field.
    """
    field_map = field_map or {}
    reasons = getattr(error, "reasons", None)
    items = [(r.field, r.message) for r in reasons] if reasons else [(error.field, error.message)]
    for name, message in items:
        name = field_map.get(name, name)
        if (
            name
            and name in form.fields
            and not isinstance(form.fields[name].widget, forms.HiddenInput)
        ):
            form.add_error(name, message)
        else:
            form.add_error(None, message)
