"""Project-wide settings that users notice."""

import datetime

from django import forms
from django.utils import translation


class _DateForm(forms.Form):
    d = forms.DateField()


def test_dates_are_read_day_first_in_vietnamese_and_english():
    for lang in ("vi", "en"):
        with translation.override(lang):
            form = _DateForm({"d": "01/06/2024"})
            assert form.is_valid(), form.errors
            assert form.cleaned_data["d"] == datetime.date(2024, 6, 1)


def test_iso_dates_are_accepted():
    form = _DateForm({"d": "2024-06-01"})
    assert form.is_valid() and form.cleaned_data["d"] == datetime.date(2024, 6, 1)
