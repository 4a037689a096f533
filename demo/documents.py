"""A few members' documents for the demo's pages: the demo grassroots union's first members get
a CCCD scan (PNG) and a household certificate (PDF), their latest application a signed contract
(PDF) and a follow-up visit a photo (JPEG), all generated here and attached through the real
service. The product then requires the CCCD and the certificate before review, so an application
still waiting shows what it lacks."""

from __future__ import annotations

import io

from django.contrib.auth import get_user_model
from PIL import Image, ImageDraw
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from accounting.formatting import format_date_vi
from loans.documents.services import document_attach
from loans.models import Borrower, DocumentKind, FollowUpVisit, LoanProduct
from loans.origination.products import loan_product_update
from reports.pdf import FONT, register_fonts

MEMBERS = 4


def _pdf(title: str, lines: list[str]) -> bytes:
    register_fonts()
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A4)
    page.setTitle(title)
    page.setFont(FONT, 14)
    page.drawString(72, 770, title)
    page.setFont(FONT, 10)
    for n, line in enumerate(lines):
        page.drawString(72, 740 - 16 * n, line)
    page.save()
    return out.getvalue()


def _image(fmt: str, lines: list[str], size=(480, 300), colour=(226, 236, 244)) -> bytes:
    image = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(image)
    draw.rectangle([8, 8, size[0] - 9, size[1] - 9], outline=(40, 70, 110), width=3)
    for n, line in enumerate(lines):
        # Pillow's built-in font has no Vietnamese letters: the picture's words stay plain.
        draw.text((24, 24 + 22 * n), line, fill=(20, 30, 50))
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def demo_documents_attach(*, fund) -> int:
    """Attach the demo's documents; returns how many were attached."""
    users = get_user_model().objects
    officer = users.get(username="cdcs")
    union = officer.officer.grassroots_union
    count = 0
    members = Borrower.objects.filter(grassroots_union=union).order_by("pk")[:MEMBERS]
    for member in members:
        born = format_date_vi(member.date_of_birth)
        document_attach(
            owner=member,
            kind=DocumentKind.CCCD,
            name=f"CCCD {member.national_id}.png",
            data=_image("PNG", ["CAN CUOC CONG DAN", f"So: {member.national_id}", born]),
            actor=officer,
        )
        document_attach(
            owner=member,
            kind=DocumentKind.HOUSEHOLD_CERTIFICATE,
            name=f"Giấy chứng nhận hộ {member.certificate_number or member.pk}.pdf",
            data=_pdf(
                "GIẤY CHỨNG NHẬN HỘ NGHÈO, HỘ CẬN NGHÈO",
                [
                    f"Chủ hộ: {member.full_name}, sinh ngày {born}",
                    f"Số: {member.certificate_number or '—'}",
                    f"Địa chỉ: {member.address or '—'}",
                ],
            ),
            actor=officer,
        )
        count += 2
        application = member.applications.order_by("-pk").first()
        if application is not None:
            document_attach(
                owner=application,
                kind=DocumentKind.LOAN_CONTRACT,
                name=f"Hợp đồng vay hồ sơ {application.pk}.pdf",
                data=_pdf(
                    "HỢP ĐỒNG VAY VỐN (bản đã ký)",
                    [
                        f"Bên vay: {member.full_name}, CCCD {member.national_id}",
                        f"Số tiền: {application.amount}, thời hạn {application.term} tháng",
                        f"Mục đích: {application.purpose}",
                    ],
                ),
                actor=officer,
            )
            count += 1
    visit = (
        FollowUpVisit.objects.filter(loan__grassroots_union=union).order_by("visited_on").first()
    )
    if visit is not None:
        document_attach(
            owner=visit,
            kind=DocumentKind.VISIT_PHOTO,
            name=f"Ảnh kiểm tra {format_date_vi(visit.visited_on).replace('/', '-')}.jpg",
            data=_image(
                "JPEG",
                ["KIEM TRA SAU CHO VAY", f"Khoan vay #{visit.loan_id}", str(visit.visited_on)],
                colour=(236, 226, 206),
            ),
            actor=officer,
        )
        count += 1
    for product in LoanProduct.objects.filter(fund=fund):
        loan_product_update(
            product=product,
            required_document_kinds=[DocumentKind.CCCD, DocumentKind.HOUSEHOLD_CERTIFICATE],
            actor=users.get(username="quy"),
        )
    return count
