"""The REST API's common parts (``/api/v1/``): access, errors, money, idempotency, paging.

Every API view derives from ``ApiView`` and sets ``access_roles`` (``fund.access``): the
permission class below refuses a view without one, so no endpoint ships open by accident. What
rows a permitted user then sees is ``fund.scoping``'s business: ids of other units answer 404.

Errors are JSON and always carry ``code``, ``field`` and ``message`` (``errors`` lists every
field when a request has several problems): ``ApplicationError`` → 400, ``PermissionRefused`` →
403, ``IdempotencyConflict`` → 409, a row out of scope → 404. Bad input is refused by the input
serializers before a service runs, so that it never ends in a 500.

Money travels as ``{"amount": "15220000000", "currency": "VND"}``: whole đồng as a string of
digits (no float can hold an amount exactly), VND only. Every POST that moves money needs an
``Idempotency-Key`` header; the key is handed to the service, so a retry returns the first
result and the same key with another request is refused (409).
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from functools import wraps

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from djmoney.money import Money
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounting.errors import ApplicationError, IdempotencyConflict
from accounting.money import CURRENCY, MAX_AMOUNT, to_dong
from apicommon.permissions import ApiPagination
from fund.access import PUBLIC
from fund.errors import PermissionRefused
from fund.scoping import Scope, scoped_get_or_404

# Ids above a 64-bit integer cannot exist; refusing them here keeps the database from raising.
MAX_ID = 2**63 - 1
IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY_MAX = 100


# --------------------------------------------------------------------------------------------
# Views


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


def _date_in_range(value):
    if not (1900 <= value.year <= 2200):
        raise serializers.ValidationError(
            _("Ngày phải trong khoảng năm 1900 đến 2200."), code="date_out_of_range"
        )


# --------------------------------------------------------------------------------------------
# Idempotency


def idempotency_key(request, *, required: bool = True) -> str | None:
    """The caller's ``Idempotency-Key`` header, namespaced by user (one user's key never
    collides with another's), or 400 naming the header when it is required and missing."""
    raw = request.headers.get(IDEMPOTENCY_HEADER)
    key = (raw or "").strip()
    if not key:
        if not required:
            return None
        raise ApplicationError(
            _("Thiếu tiêu đề Idempotency-Key (khóa chống trùng) cho thao tác chuyển tiền."),
            field=IDEMPOTENCY_HEADER,
            code="idempotency_key_required",
        )
    if len(key) > IDEMPOTENCY_KEY_MAX or not key.isprintable():
        raise ApplicationError(
            _("Idempotency-Key phải là chuỗi in được, tối đa 100 ký tự."),
            field=IDEMPOTENCY_HEADER,
            code="idempotency_key_invalid",
        )
    return f"api:{request.user.pk}:{key}"


IDEMPOTENCY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description=(
        "Khóa chống trùng (1–100 ký tự in được). Gửi lại cùng khóa và cùng nội dung trả về kết "
        "quả lần đầu; cùng khóa với nội dung khác bị từ chối (409)."
    ),
)
OPTIONAL_IDEMPOTENCY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Khóa chống trùng (tùy chọn): gửi lại cùng khóa trả về kết quả lần đầu.",
)


def idempotent_post(*, required: bool = True, **schema):
    """Decorate an API view's ``post``: the ``Idempotency-Key`` header is documented in the
    schema, read and checked before the method runs, and handed to it, namespaced, as ``key``.

    Required (the default) on every POST that moves money: without one the request is refused
    (400 naming the header) before anything else is looked at. Optional on the other moves of
    a chain: without one the method gets a fresh key, and a retry is refused by the service's
    state check (the move was already made). `schema`: the rest of ``extend_schema``.
    """
    parameter = IDEMPOTENCY_PARAMETER if required else OPTIONAL_IDEMPOTENCY_PARAMETER
    schema["parameters"] = [parameter, *schema.get("parameters", [])]

    def decorate(post):
        @wraps(post)
        def keyed_post(self, request, *args, **kwargs):
            key = idempotency_key(request, required=required) or f"api:{uuid.uuid4()}"
            return post(self, request, *args, key=key, **kwargs)

        return extend_schema(**schema)(keyed_post)

    return decorate


# --------------------------------------------------------------------------------------------
# Money


MONEY_SCHEMA = {
    "type": "object",
    "properties": {
        "amount": {
            "type": "string",
            "pattern": r"^-?[0-9]{1,20}$",
            "description": "Số đồng (nguyên, không phần lẻ), dạng chuỗi chữ số.",
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

    Refuses floats, fractions of a đồng, other currencies, more than 20 digits, and (unless
    allowed) zero or negative amounts — each refusal names the field.
    """

    default_error_messages = {
        "not_object": _('Số tiền phải có dạng {{"amount": "…", "currency": "VND"}}.'),
        "missing_amount": _("Thiếu số tiền (amount)."),
        "float": _("Số tiền phải là chuỗi chữ số nguyên đồng, không dùng số thực."),
        "currency": _("Tiền tệ {currency} không hợp lệ, chỉ nhận VND."),
        "not_positive": _("Số tiền phải lớn hơn 0."),
        "negative": _("Số tiền không được âm."),
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
        amount = data["amount"]
        if isinstance(amount, float | bool):
            self.fail("float")
        if isinstance(amount, int) and abs(amount) > MAX_AMOUNT:
            amount = str(amount)
        try:
            value = to_dong(amount if isinstance(amount, int | str) else repr(amount))
        except ApplicationError as e:
            raise serializers.ValidationError(e.message, code=e.code) from None
        if value < 0 and not self.allow_negative:
            self.fail("negative")
        if value == 0 and not (self.allow_zero or self.allow_negative):
            self.fail("not_positive")
        return value

    def to_representation(self, value) -> dict:
        if isinstance(value, Money):
            value = value.amount
        return {"amount": str(int(Decimal(value))), "currency": CURRENCY}


# --------------------------------------------------------------------------------------------
# Errors


ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "code": {"type": "string"},
        "field": {"type": "string", "nullable": True},
        "message": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "code": {"type": "string"},
                    "field": {"type": "string", "nullable": True},
                    "message": {"type": "string"},
                },
                "required": ["code", "field", "message"],
            },
        },
    },
    "required": ["code", "field", "message"],
}


def _flatten(detail, prefix: str = "") -> list[dict]:
    """DRF's nested error details as a flat list of {code, field, message}."""
    out: list[dict] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            if key == "non_field_errors":
                name = prefix
            elif isinstance(key, int):  # a line of a list (DRF keys list errors by index)
                name = f"{prefix}[{key}]"
            else:
                name = f"{prefix}.{key}" if prefix else key
            out += _flatten(value, name)
    elif isinstance(detail, list):
        if all(isinstance(x, exceptions.ErrorDetail | str) for x in detail):
            for x in detail:
                out.append(
                    {
                        "code": getattr(x, "code", "invalid"),
                        "field": prefix or None,
                        "message": str(x),
                    }
                )
        else:
            for n, x in enumerate(detail):
                out += _flatten(x, f"{prefix}[{n}]")
    else:
        out.append(
            {
                "code": getattr(detail, "code", "invalid"),
                "field": prefix or None,
                "message": str(detail),
            }
        )
    return out


def _body(code: str, message, field=None, **extra) -> dict:
    return {"code": code, "field": field, "message": str(message), **extra}


def refusal_status(exc: ApplicationError) -> int:
    """The HTTP status of a service's refusal (the JSON API of ``fund.web.views`` answers the
    same)."""
    if isinstance(exc, PermissionRefused):
        return status.HTTP_403_FORBIDDEN
    if isinstance(exc, IdempotencyConflict):
        return status.HTTP_409_CONFLICT
    return status.HTTP_400_BAD_REQUEST


def api_exception_handler(exc, context):
    """Every refusal as JSON with a code, the field to blame and a Vietnamese message."""
    if isinstance(exc, ApplicationError):
        return Response(exc.as_dict(), status=refusal_status(exc))
    if isinstance(exc, Http404 | exceptions.NotFound):
        return Response(_body("not_found", _("Không tìm thấy.")), status=404)
    if isinstance(exc, DjangoPermissionDenied):
        return Response(_body("forbidden", str(exc) or _("Không được phép.")), status=403)
    if isinstance(exc, DjangoValidationError):
        items = [
            _body("invalid", m, None if f == "__all__" else f)
            for f, ms in getattr(exc, "message_dict", {"__all__": exc.messages}).items()
            for m in ms
        ]
        return Response({**items[0], "errors": items}, status=400)
    if isinstance(exc, exceptions.ValidationError):
        items = _flatten(exc.detail) or [_body("invalid", _("Dữ liệu không hợp lệ."))]
        return Response({**items[0], "errors": items}, status=400)
    if isinstance(exc, exceptions.APIException):
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
        detail = exc.detail
        message = detail if isinstance(detail, str) else str(detail)
        return Response(
            _body(getattr(detail, "code", exc.default_code), message),
            status=exc.status_code,
            headers=headers,
        )
    return None  # a bug: let it be a 500 and reach the logs


# --------------------------------------------------------------------------------------------
# OpenAPI


ERROR_STATUSES = {
    "400": "Yêu cầu không hợp lệ (trường bị lỗi trong `field`).",
    "401": "Chưa xác thực.",
    "403": "Vai trò không được phép.",
    "404": "Không tìm thấy (hoặc ngoài phạm vi của người dùng).",
    "405": "Phương thức không được hỗ trợ.",
    "406": "Định dạng trả về không được hỗ trợ.",
    "409": "Khóa chống trùng đã dùng cho một yêu cầu khác.",
    "415": "Kiểu nội dung không được hỗ trợ.",
    "429": "Gửi quá nhiều yêu cầu.",
}


def add_error_responses(result, generator, request, public):
    """drf-spectacular post-processing hook: the error body on every operation."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            for code, description in ERROR_STATUSES.items():
                responses.setdefault(
                    code,
                    {"description": description, "content": {"application/json": {"schema": ref}}},
                )
    return result


class NotFoundApi(ApiView):
    """Any other path under /api/v1/: a JSON 404 rather than an HTML page."""

    access_roles = PUBLIC
    authentication_classes: list = []
    schema = None  # not an operation of the API

    def _404(self, request, *args, **kwargs):
        raise Http404()

    get = post = put = patch = delete = _404
