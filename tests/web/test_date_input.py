"""One date format everywhere: inputs type and show dd/mm/yyyy (never the browser's own date
picker, which shows mm/dd/yyyy in an English Chromium) and pages print 07/12/2026."""

from datetime import date, datetime

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from fund.web.forms import DayFirstDateField
from tests.web.helpers import in_english


@pytest.mark.parametrize(
    "typed", ["07/12/2026", "7/12/2026", " 07-12-2026 ", "07.12.2026", "2026-12-07"]
)
def test_day_first_field_reads_the_ways_a_date_is_typed(typed):
    assert DayFirstDateField().clean(typed) == date(2026, 12, 7)


def test_day_first_field_refuses_month_first_and_says_the_format():
    field = DayFirstDateField()
    with translation.override("en"):
        with pytest.raises(Exception) as refused:
            field.clean("12/31/2026")  # month 31 does not exist: no silent swap
        assert "day/month/year" in " ".join(refused.value.messages)


def test_the_widget_shows_day_first_in_both_languages():
    field = DayFirstDateField()
    for lang, placeholder in (("vi", "nn/tt/nnnn"), ("en", "dd/mm/yyyy")):
        with translation.override(lang):
            html = field.widget.render("paid_on", date(2026, 12, 7))
        assert 'type="text"' in html and 'value="07/12/2026"' in html
        assert f'placeholder="{placeholder}"' in html and 'inputmode="numeric"' in html


def test_a_form_page_in_english_has_no_native_date_input(as_user, officers):
    c = in_english(as_user(officers.grassroots))
    body = c.get(reverse("loans:propose")).content.decode()
    assert 'name="date_of_birth"' in body
    assert 'type="date"' not in body and 'placeholder="dd/mm/yyyy"' in body


def test_dates_and_times_print_the_same_in_both_languages():
    at = datetime(2026, 12, 7, 8, 20)
    for lang in ("vi", "en"):
        with translation.override(lang):
            text = Template("{{ d }}|{{ at }}|{{ d|date }}").render(
                Context({"d": date(2026, 12, 7), "at": at})
            )
        assert text == "07/12/2026|07/12/2026 08:20|07/12/2026", (lang, text)
