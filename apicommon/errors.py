"""The API's refusals as JSON (``code``, ``field``, ``message``), and their body in the
schema of every operation."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

from accounting.errors import ApplicationError, IdempotencyConflict
from apicommon.parsers import too_large
from fund.errors import PermissionRefused

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


class RowErrorOutput(serializers.Serializer):
    row = serializers.IntegerField(required=False, help_text="Số dòng (tiêu đề là dòng 1)")
    column = serializers.CharField(required=False, help_text="Tên cột như trong tệp")
    code = serializers.CharField(required=False)
    field = serializers.CharField(required=False, allow_null=True)
    message = serializers.CharField()


class ImportRejectedOutput(serializers.Serializer):
    """The refusal of a file import: the error body, its ``errors`` naming each wrong row and
    column of the file (or, for a wrong parameter, the field as in any other refusal)."""

    code = serializers.CharField()
    field = serializers.CharField(allow_null=True)
    message = serializers.CharField()
    errors = RowErrorOutput(many=True, required=False)


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
    """The HTTP status of a service's refusal."""
    if isinstance(exc, PermissionRefused):
        return status.HTTP_403_FORBIDDEN
    if isinstance(exc, IdempotencyConflict):
        return status.HTTP_409_CONFLICT
    return status.HTTP_400_BAD_REQUEST


def api_exception_handler(exc, context):
    """Every refusal as JSON with a code, the field to blame and a Vietnamese message."""
    if isinstance(exc, ApplicationError):
        return Response(exc.as_dict(), status=refusal_status(exc))
    if isinstance(exc, RequestDataTooBig):  # Django's refusal of a body over the limit
        exc = too_large(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
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


ERROR_STATUSES = {
    "400": "Yêu cầu không hợp lệ (trường bị lỗi trong `field`).",
    "401": "Chưa xác thực.",
    "403": "Vai trò không được phép.",
    "404": "Không tìm thấy (hoặc ngoài phạm vi của người dùng).",
    "405": "Phương thức không được hỗ trợ.",
    "406": "Định dạng trả về không được hỗ trợ.",
    "409": "Khóa chống trùng đã dùng cho một yêu cầu khác.",
    "413": "Yêu cầu quá lớn (giới hạn trong `message`).",
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


def api_error_page(request, status: int, exception=None):
    """The API's JSON error for a failure Django answers outside DRF (Django's handler400 and
    handler500, ``config.error_views``): None for a path outside ``/api/``, which gets the page.
    A body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` read outside the API's parsers is a 413."""
    from django.http import JsonResponse

    if not request.path_info.startswith("/api/"):
        return None
    if isinstance(exception, RequestDataTooBig):
        body = _body("too_large", too_large(settings.DATA_UPLOAD_MAX_MEMORY_SIZE).detail)
        status = 413
    elif status >= 500:
        body = _body("server_error", _("Có lỗi trong hệ thống; không có gì bị ghi dở."))
    else:
        body = _body("bad_request", _("Yêu cầu không hợp lệ."))
    return JsonResponse(body, status=status)
