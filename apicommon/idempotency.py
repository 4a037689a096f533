"""The ``Idempotency-Key`` header of the API's POSTs: read, checked, documented."""

from __future__ import annotations

import uuid
from functools import wraps

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema

from accounting.errors import ApplicationError
from accounting.idempotency import idempotency_key_for

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY_MAX = 100


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
    return idempotency_key_for(user=request.user, key=key, channel="api")


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
