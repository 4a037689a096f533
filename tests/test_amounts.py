"""The one amount rule (accounting/money.py): people's text, the API's JSON, imported cells.

The property tests drive the real form field, the real serializer field and the real table
reader of the importers with the same text and check that no two of them disagree.
"""

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from accounting.errors import InvalidAmount
from accounting.money import parse_amount_api, parse_amount_cell, parse_amount_text

PEOPLE_OK = [
    ("1.000.000", 1_000_000),
    ("1000000", 1_000_000),
    ("1.000", 1000),
    ("0", 0),
    ("15.220.000.000 ₫", 15_220_000_000),
    ("  2.000.000đ ", 2_000_000),
    ("₫ 500", 500),
    ("2.000.000\u00a0₫", 2_000_000),
    ("2000 VND", 2000),
    ("99999999999999999999", 10**20 - 1),
]
PEOPLE_REFUSED = [
    "",
    "   ",
    "₫",
    "0.5",
    "1.5",
    "1.00",
    "1.0000",
    "1.000.00",
    ".000",
    "1.",
    "01.000",
    "1,000",
    "1,5",
    "1e6",
    "1E6",
    "+1000",
    "-1000",
    "1_000",
    "1 000 000",
    "１０００",  # full-width
    "١٠٠٠",  # Arabic-Indic
    "NaN",
    "Infinity",
    "0x10",
    "100000000000000000000",
    "1.000.000.000.000.000.000.000",
]


@pytest.mark.parametrize(("text", "amount"), PEOPLE_OK)
def test_people_text_accepted(text, amount):
    assert parse_amount_text(text) == Decimal(amount)


@pytest.mark.parametrize("text", PEOPLE_REFUSED)
def test_people_text_refused_with_the_field_named(text):
    with pytest.raises(InvalidAmount) as e:
        parse_amount_text(text, field="amount")
    assert e.value.field == "amount"


def test_zero_refused_where_the_caller_says():
    with pytest.raises(InvalidAmount):
        parse_amount_text("0", allow_zero=False)
    with pytest.raises(InvalidAmount):
        parse_amount_api(0, allow_zero=False)


@pytest.mark.parametrize(
    ("value", "amount"),
    [(1000, 1000), ("1000", 1000), (0, 0), ("007", 7), (10**20 - 1, 10**20 - 1)],
)
def test_api_accepted(value, amount):
    assert parse_amount_api(value) == Decimal(amount)


@pytest.mark.parametrize(
    "value",
    [
        True,
        False,
        None,
        1.0,
        1e6,
        -1,
        "-1",
        "+1000",
        "1.000",
        "1e6",
        "1_000",
        " 1000",
        "1000 ",
        "",
        "１０００",
        "١٠٠٠",
        10**20,
        "1" * 21,
        [1],
        {"a": 1},
        Decimal("1000"),
    ],
)
def test_api_refused_with_the_field_named(value):
    with pytest.raises(InvalidAmount) as e:
        parse_amount_api(value, field="amount")
    assert e.value.field == "amount"


@pytest.mark.parametrize(("value", "amount"), [(1000, 1000), (1000.0, 1000), ("1.000", 1000)])
def test_cell_accepted(value, amount):
    assert parse_amount_cell(value) == Decimal(amount)


@pytest.mark.parametrize("value", [None, "", 1000.5, -5, -5.0, True, float("nan"), 2.0**60])
def test_cell_refused(value):
    with pytest.raises(InvalidAmount):
        parse_amount_cell(value, field="so_tien")


# --------------------------------------------------------------------------------------------
# One text, three doors: a form, the API, an import.


def _form(text):
    from django import forms

    from accounting.forms import VndField

    class AmountForm(forms.Form):
        amount = VndField(label="Số tiền", min_value=0)

    form = AmountForm({"amount": text})
    if form.is_valid():
        return form.cleaned_data["amount"]
    return "refused"


def _api(text):
    from rest_framework import serializers

    from apicommon.fields import MoneyField

    class AmountSerializer(serializers.Serializer):
        amount = MoneyField(allow_zero=True)

    s = AmountSerializer(data={"amount": {"amount": text, "currency": "VND"}})
    if s.is_valid():
        return s.validated_data["amount"]
    assert "amount" in s.errors
    return "refused"


def _import(text):
    """The text as a CSV cell, read by the importers' table reader and amount parser."""
    import csv
    import io

    from fund.union_io import read_table

    buffer = io.StringIO()
    csv.writer(buffer).writerows([["so_tien"], [text]])
    table = read_table(buffer.getvalue().encode(), "csv")
    cell = table[1][0] if len(table) > 1 and table[1] else ""
    try:
        return parse_amount_cell(cell, field="so_tien")
    except InvalidAmount:
        return "refused"


def _statement(text):
    """The text as the amount of a bank statement's line, read by the statement import's own
    parser (loans.servicing.remittances.statement_parse): an amount, "refused", or "none" (a
    line that is not a receipt: money going out, or zero)."""
    import csv
    import io
    from datetime import date

    from accounting.errors import ApplicationError
    from loans.servicing.remittances import statement_parse

    buffer = io.StringIO()
    csv.writer(buffer).writerows(
        [
            ["Ngày giao dịch", "Số tiền", "Số tham chiếu", "Nội dung"],
            ["01/12/2026", text, "R1", "x"],
        ]
    )
    try:
        read = statement_parse(buffer.getvalue().encode(), "csv", today=date(2026, 12, 7))
    except ApplicationError:
        return "refused"
    return read.lines[0].amount if read.lines else "none"


def _texts():
    digits = st.text(alphabet="0123456789", min_size=1, max_size=22)
    grouped = st.builds(
        lambda head, groups: ".".join([head, *groups]),
        st.text(alphabet="0123456789", min_size=1, max_size=3),
        st.lists(st.text(alphabet="0123456789", min_size=1, max_size=4), max_size=7),
    )
    noisy = st.text(alphabet="0123456789.,+-_eE ₫đ١٠１０\u00a0", max_size=12)
    return st.one_of(digits, grouped, noisy, st.text(max_size=8))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_texts())
@example(text="1.000")
@example(text="0.5")
@example(text="1.5")
@example(text="1e6")
@example(text="１０００")
def test_one_text_never_two_amounts(text):
    """A form and an import give the same amount or both refuse; the API (strict: digits only)
    either refuses or gives that same amount — never a different one; a bank statement's line
    reads every receipt the form reads, and refuses what the form refuses."""
    by_form, by_import, by_api = _form(text), _import(text), _api(text)
    if text.strip("\r\n") != text:
        # CSV keeps a line break in a cell only quoted; the form and the API see it as is.
        return
    assert by_form == by_import, (text, by_form, by_import)
    if by_api != "refused":
        assert by_api == by_form, (text, by_api, by_form)
    if text.isascii() and text.isdigit():
        assert by_api == by_form
    by_statement = _statement(text)
    if by_form not in ("refused", 0):
        assert by_statement == by_form, (text, by_statement, by_form)
    elif by_form == "refused" and not text.strip().startswith("-"):
        assert by_statement == "refused", (text, by_statement)


@settings(max_examples=100, deadline=None)
@given(amount=st.integers(min_value=0, max_value=10**20 - 1))
def test_every_amount_reads_back_through_every_door(amount):
    from accounting.formatting import format_vnd

    assert _form(format_vnd(amount)) == _form(str(amount)) == Decimal(amount)
    assert _import(format_vnd(amount, symbol=False)) == Decimal(amount)
    assert _api(str(amount)) == _api(amount) == Decimal(amount)
