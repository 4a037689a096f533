"""What a file is, by its bytes (loans/documents/content.py)."""

import io

import pytest
from django.test import override_settings
from PIL import Image

from loans.documents.content import DocumentRefused, document_type_check
from loans.models import DocumentType
from loans.tests.helpers import image_bytes, pdf_bytes


def test_whole_pdf_png_and_jpeg_are_recognised_by_content():
    assert document_type_check(pdf_bytes(), name="hop-dong.PDF") == DocumentType.PDF
    assert document_type_check(image_bytes("PNG"), name="cccd.png") == DocumentType.PNG
    assert document_type_check(image_bytes("JPEG"), name="nha.jpeg") == DocumentType.JPEG
    assert document_type_check(image_bytes("JPEG"), name="nha.JPG") == DocumentType.JPEG


@pytest.mark.parametrize(
    "data, name, code",
    [
        (b"<html><script>alert(1)</script></html>", "cccd.pdf", "document_type"),
        (b"MZ\x90\x00 an executable", "anh.png", "document_type"),
        (b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n", "cut.pdf", "document_damaged"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "broken.png", "document_damaged"),
        (b"", "empty.pdf", "document_empty"),
    ],
)
def test_a_file_that_is_not_what_it_claims_is_refused(data, name, code):
    with pytest.raises(DocumentRefused) as refused:
        document_type_check(data, name=name)
    assert refused.value.code == code and refused.value.field == "file"


def test_a_name_saying_another_type_than_the_content_is_refused():
    with pytest.raises(DocumentRefused, match=r"đuôi \.pdf nhưng nội dung là PNG"):
        document_type_check(image_bytes("PNG"), name="giay-chung-nhan.pdf")


@override_settings(DOCUMENT_MAX_BYTES=1024)
def test_a_file_over_the_limit_is_refused_naming_the_limit():
    with pytest.raises(DocumentRefused, match="tối đa 0.0009765") as refused:
        document_type_check(pdf_bytes() + b" " * 2048, name="a.pdf")
    assert refused.value.code == "document_too_large"


def test_a_truncated_jpeg_and_a_decompression_bomb_are_refused():
    whole = image_bytes("JPEG", size=(400, 300))
    with pytest.raises(DocumentRefused) as refused:
        document_type_check(whole[: len(whole) // 2], name="cut.jpg")
    assert refused.value.code == "document_damaged"
    bomb = io.BytesIO()
    Image.new("L", (12_000, 12_000)).save(bomb, format="PNG")  # 144 MP of zeros, ~140 KB
    with pytest.raises(DocumentRefused, match="tối đa 80 triệu điểm ảnh"):
        document_type_check(bomb.getvalue(), name="bomb.png")
