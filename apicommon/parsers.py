"""The API's request parsers, bounded: a body past its limit is refused (413) before it is
read, JSON nested too deep is a 400 (not a crash), in the API's JSON error shape.

Limits (settings): ``DATA_UPLOAD_MAX_MEMORY_SIZE`` for a JSON body, ``IMPORT_FILE_MAX_BYTES``
for an import's file upload, ``DOCUMENT_MAX_BYTES`` for a member's document. The reverse proxy
refuses anything larger still (docs/security.md).
"""

from __future__ import annotations

import json

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, parsers

from accounting.errors import translatable
from accounting.formatting import megabytes

# Room for a multipart upload's boundaries and small fields around its one file.
MULTIPART_OVERHEAD = 64 * 1024


class RequestTooLarge(exceptions.APIException):
    status_code = 413
    default_code = "too_large"
    default_detail = _("Yêu cầu quá lớn.")


def too_large(limit: int) -> RequestTooLarge:
    return RequestTooLarge(
        str(translatable(_("Yêu cầu quá lớn: tối đa %(limit)s MB."), {"limit": megabytes(limit)}))
    )


def _declared_length(parser_context) -> int | None:
    request = (parser_context or {}).get("request")
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else None
    except (TypeError, ValueError):
        return None


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing a document nested too deep for the decoder (400, not a 500).
    (DRF reads a JSON body through Django's ``request.body``, which refuses one over
    ``DATA_UPLOAD_MAX_MEMORY_SIZE``: ``apicommon.errors`` answers that with a 413.)"""

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return json.loads(raw.decode(encoding), parse_constant=self._constant)
        except RecursionError:
            raise exceptions.ParseError(_("JSON lồng nhau quá sâu.")) from None
        except ValueError as exc:
            raise exceptions.ParseError(_("JSON không hợp lệ: %s") % exc) from None

    @staticmethod
    def _constant(name):
        raise ValueError(f"{name} is not valid JSON")


class UploadParser(parsers.MultiPartParser):
    """A file upload (an import), refused (413, naming the limit) before any of its body is
    read when it declares more than ``IMPORT_FILE_MAX_BYTES`` (or the setting a subclass's
    ``limit_setting`` names: ``DOCUMENT_MAX_BYTES`` for a member's document); DRF asks the
    view's access rule before it parses, so a role without the right never gets its body read."""

    limit_setting = "IMPORT_FILE_MAX_BYTES"

    def parse(self, stream, media_type=None, parser_context=None):
        limit = getattr(settings, self.limit_setting)
        length = _declared_length(parser_context)
        if length is None or length > limit + MULTIPART_OVERHEAD:
            raise too_large(limit)
        return super().parse(stream, media_type, parser_context)
