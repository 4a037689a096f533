"""What an uploaded file is, decided by its bytes, never by its name or the browser's claim.

Accepted: PDF (``%PDF-`` at the start, ``%%EOF`` near the end), PNG and JPEG (their signatures,
then opened and verified by Pillow, within a pixel limit). Anything else — an HTML page named
``.pdf``, a truncated PDF, an image whose structure Pillow refuses, a file whose name says
another type than its content — is refused with a message naming the file field.
"""

from __future__ import annotations

import io
import os
import warnings

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from accounting.formatting import megabytes
from loans.errors import LoanError
from loans.models import DocumentType

FIELD = "file"
PDF_HEADER = b"%PDF-"
PDF_EOF = b"%%EOF"
# Writers may add a line end or padding after %%EOF; the PDF specification lets readers look
# for it in the last 1024 bytes.
PDF_TAIL = 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SIGNATURE = b"\xff\xd8\xff"
# Above a phone's or a scanner's page (a 600 dpi A4 scan is 35 MP), below Pillow's own
# decompression-bomb limit (89 MP), so a bomb is refused before anything is decoded.
MAX_PIXELS = 80_000_000

EXTENSIONS = {
    DocumentType.PDF: ("pdf",),
    DocumentType.JPEG: ("jpg", "jpeg"),
    DocumentType.PNG: ("png",),
}


class DocumentRefused(LoanError):
    code = "document_refused"
    default_field = FIELD


def document_size_check(size: int) -> None:
    """Refuse an empty file and one larger than ``DOCUMENT_MAX_BYTES``."""
    limit = settings.DOCUMENT_MAX_BYTES
    if size <= 0:
        raise DocumentRefused(_("Tệp rỗng."), code="document_empty")
    if size > limit:
        raise DocumentRefused(
            _("Tệp quá lớn: tối đa %(limit)s MB."),
            code="document_too_large",
            params={"limit": megabytes(limit)},
        )


def _sniff(data: bytes) -> str | None:
    if data.startswith(PDF_HEADER):
        return DocumentType.PDF
    if data.startswith(PNG_SIGNATURE):
        return DocumentType.PNG
    if data.startswith(JPEG_SIGNATURE):
        return DocumentType.JPEG
    return None


def _image_check(data: bytes, expected: str) -> None:
    try:
        from PIL import Image
    except ImportError:  # Pillow absent: the signature check stands alone
        return
    formats = {DocumentType.PNG: "PNG", DocumentType.JPEG: "JPEG"}
    too_large = DocumentRefused(
        _("Ảnh quá lớn: tối đa %(pixels)s triệu điểm ảnh."),
        code="document_image_too_large",
        params={"pixels": MAX_PIXELS // 1_000_000},
    )
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its two limits: refuse there too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[formats[expected]])
        with image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise too_large
            image.verify()  # PNG: every chunk's checksum; JPEG: its markers
        if expected == DocumentType.JPEG:
            # A JPEG's verify reads no image data: decode it at 1/8 scale (cheap) so that a
            # truncated or corrupt scan is refused too.
            with Image.open(io.BytesIO(data), formats=["JPEG"]) as image:
                image.draft("RGB", (max(1, width // 8), max(1, height // 8)))
                image.load()
    except DocumentRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_large from None
    except Exception:
        raise DocumentRefused(
            _("Ảnh bị hỏng hoặc không đúng định dạng."), code="document_damaged"
        ) from None


def document_type_check(data: bytes, *, name: str) -> str:
    """The ``DocumentType`` of `data`, refused unless it is a whole PDF, PNG or JPEG whose
    file name (`name`) has the extension of that type."""
    document_size_check(len(data))
    kind = _sniff(data)
    if kind is None:
        raise DocumentRefused(
            _("Chỉ nhận tệp PDF, JPEG hoặc PNG: nội dung tệp không phải các định dạng này."),
            code="document_type",
        )
    if kind == DocumentType.PDF:
        if PDF_EOF not in data[-PDF_TAIL:]:
            raise DocumentRefused(
                _("Tệp PDF không trọn vẹn (thiếu phần kết thúc)."), code="document_damaged"
            )
    else:
        _image_check(data, kind)
    ext = os.path.splitext(name or "")[1].lower().lstrip(".")
    if ext not in EXTENSIONS[kind]:
        raise DocumentRefused(
            _("Tên tệp có đuôi .%(ext)s nhưng nội dung là %(type)s."),
            code="document_type",
            params={"ext": ext or "?", "type": DocumentType(kind).label},
        )
    return kind
