"""The API's field types: money as whole đồng, ids, business dates."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from djmoney.money import Money
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounting.dates import BACKDATE_REASON_MAX
from accounting.errors import ApplicationError
from accounting.money import CURRENCY, parse_amount_api

# Ids above a 64-bit integer cannot exist; refusing them here keeps the database from raising.
MAX_ID = 2**63 - 1


class IdField(serializers.IntegerField):
    """The id of a row in a request body; the view resolves it within the scope (404)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


class BusinessDateField(serializers.DateField):
    """A business date (ISO ``YYYY-MM-DD``) within years the fund can mean, so that date
    arithmetic in the selectors (a day before, a year before) never leaves the calendar."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators.append(_date_in_range)


class BackdateReasonField(serializers.CharField):
    """``backdate_reason``: why a date before the fund's open window is used (the current month
    in Hà Nội by default, a fund setting). Such a date without it is refused by the service,
    naming the date's field (code ``backdate_reason``); the reason is kept on the journal entry
    and in the audit log (docs/ledger.md, "Value dates")."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", BACKDATE_REASON_MAX)
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("default", "")
        kwargs.setdefault(
            "help_text",
            "Lý do ghi sổ lùi ngày: bắt buộc khi ngày trước đầu kỳ đang mở của quỹ "
            "(mặc định: ngày 1 của tháng hiện tại, giờ Hà Nội); lưu trên bút toán và nhật ký.",
        )
        super().__init__(**kwargs)


def _date_in_range(value):
    if not (1900 <= value.year <= 2200):
        raise serializers.ValidationError(
            _("Ngày phải trong khoảng năm 1900 đến 2200."), code="date_out_of_range"
        )


MONEY_SCHEMA = {
    "type": "object",
    "properties": {
        "amount": {
            "type": "string",
            "pattern": r"^-?[0-9]{1,20}$",
            "description": (
                "Số đồng (nguyên, không phần lẻ), dạng chuỗi chữ số. Khi gửi lên: số nguyên "
                "JSON hoặc chuỗi chỉ gồm chữ số ASCII, không âm, không dấu chấm."
            ),
            "example": "15220000000",
        },
        "currency": {"type": "string", "enum": [CURRENCY]},
    },
    "required": ["amount", "currency"],
    "additionalProperties": False,
}


@extend_schema_field(MONEY_SCHEMA)
class MoneyField(serializers.Field):
    """``{"amount": "15220000000", "currency": "VND"}`` ⇄ a whole-đồng ``Decimal``.

    The amount sent is read by `accounting.money.parse_amount_api` (a JSON integer or a string of
    ASCII digits; floats, fractions, signs, dots, exponents refused); other currencies and (unless
    allowed) zero are refused too — each refusal names the field. Negative amounts are only ever
    sent out (balances), never taken in.
    """

    default_error_messages = {
        "not_object": _('Số tiền phải có dạng {{"amount": "…", "currency": "VND"}}.'),
        "missing_amount": _("Thiếu số tiền (amount)."),
        "currency": _("Tiền tệ {currency} không hợp lệ, chỉ nhận VND."),
        "not_positive": _("Số tiền phải lớn hơn 0."),
        "unknown_keys": _("Số tiền chỉ có hai trường amount và currency."),
    }

    def __init__(self, *, allow_zero: bool = False, allow_negative: bool = False, **kwargs):
        self.allow_zero = allow_zero
        self.allow_negative = allow_negative
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> Decimal:
        if not isinstance(data, dict):
            self.fail("not_object")
        if set(data) - {"amount", "currency"}:
            self.fail("unknown_keys")
        if "amount" not in data or data["amount"] in (None, ""):
            self.fail("missing_amount")
        currency = data.get("currency")
        if currency != CURRENCY:
            self.fail("currency", currency=currency)
        try:
            value = parse_amount_api(data["amount"], field=self.field_name or "amount")
        except ApplicationError as e:
            raise serializers.ValidationError(e.message, code=e.code) from None
        if value == 0 and not (self.allow_zero or self.allow_negative):
            self.fail("not_positive")
        return value

    def to_representation(self, value) -> dict:
        if isinstance(value, Money):
            value = value.amount
        return {"amount": str(int(Decimal(value))), "currency": CURRENCY}


class TableFileField(serializers.FileField):
    """An uploaded table of an import: CSV, or XLSX when its name ends in ``.xlsx``."""

    default_error_messages = {"required": _("Chưa chọn tệp."), "empty": _("Chưa chọn tệp.")}


def table_format(upload) -> str:
    """The format of an uploaded table (``TableFileField``): ``xlsx`` by its name, else ``csv``."""
    return "xlsx" if upload.name.lower().endswith(".xlsx") else "csv"
