"""What every form of the web pages shares: the idempotency key and service errors by field.

A form is rendered with a fresh random key in a hidden field; the view passes it to the
service's ``idempotency_key``, so a second submission of the same page (a double click, a
reload after a slow answer) returns the first result instead of posting again.
"""

from __future__ import annotations

import uuid
from datetime import date

from django import forms
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from accounting.dates import BACKDATE_REASON_MAX
from accounting.errors import ApplicationError
from accounting.forms import VndField
from accounting.idempotency import idempotency_key_for


def new_idempotency_key() -> str:
    return uuid.uuid4().hex


class IdempotentForm(forms.Form):
    """A form whose submission is posted once. Bound to a request, it is given the signed-in
    `user`: the key it hands the service is namespaced by that user exactly as the API's are
    (`accounting.idempotency.idempotency_key_for`), so no user can take a key that another
    user's page or API call will use."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", new_idempotency_key())

    def clean_idempotency_key(self) -> str:
        if self.user is None or not self.user.is_authenticated:
            raise ImproperlyConfigured(f"{type(self).__name__} was bound without its user.")
        key = self.cleaned_data["idempotency_key"]
        return idempotency_key_for(user=self.user, key=key, channel="web")


# The one way a date is typed and shown in a form, in both languages: dd/mm/yyyy in a text input.
# (The browser's own date input shows mm/dd/yyyy in an English Chromium and its picker follows the
# browser's locale, not the page's.) Day first, with "/", "-" or "." between the parts; the ISO
# form is read too, for programs and pasted values.
DATE_INPUT_FORMATS = ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d")
DATE_DISPLAY_FORMAT = "%d/%m/%Y"
DATE_PATTERN = r"\s*(\d{1,2}[/.\-]\d{1,2}[/.\-]\d{4}|\d{4}-\d{1,2}-\d{1,2})\s*"


class DateInput(forms.TextInput):
    """A text input that shows dd/mm/yyyy and lets the phone offer its number pad."""

    def __init__(self, attrs=None):
        base = {
            "inputmode": "numeric",
            "autocomplete": "off",
            "pattern": DATE_PATTERN,
            "maxlength": "10",
            "class": "date-input",
        }
        super().__init__({**base, **(attrs or {})})

    def format_value(self, value):
        if isinstance(value, date):
            return value.strftime(DATE_DISPLAY_FORMAT)
        return super().format_value(value)

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        # Translated at render time: the page's language, not the one at import.
        context["widget"]["attrs"].setdefault("placeholder", str(_("nn/tt/nnnn")))
        context["widget"]["attrs"].setdefault("title", str(_("Ngày/tháng/năm, ví dụ 07/12/2026")))
        return context


class DayFirstDateField(forms.DateField):
    """Every date typed into a page: dd/mm/yyyy (see DATE_INPUT_FORMATS), a clear error naming
    the format otherwise."""

    widget = DateInput
    input_formats = DATE_INPUT_FORMATS
    default_error_messages = {
        "invalid": _("Nhập ngày theo dạng ngày/tháng/năm, ví dụ 07/12/2026."),
    }

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip()
        return super().to_python(value)


def date_field(label, **kwargs) -> forms.DateField:
    return DayFirstDateField(label=label, **kwargs)


def backdate_reason_field() -> forms.CharField:
    """The reason a date before the fund's open window needs (docs/ledger.md, "Value dates"),
    shown with the date it explains; the service refuses such a date without it, by the date."""
    return forms.CharField(
        label=_("Lý do ghi sổ lùi ngày"),
        max_length=BACKDATE_REASON_MAX,
        required=False,
        help_text=_("Chỉ cần khi ngày trước đầu kỳ đang mở của quỹ."),
    )


def amount_field(label, **kwargs) -> VndField:
    """Whole đồng; a positive amount. Dots between thousands are accepted (15.000.000)."""
    kwargs.setdefault("min_value", 1)
    return VndField(label=label, **kwargs)


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
