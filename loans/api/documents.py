"""Members' documents in the API: the list of an owner's documents, the upload, the download and
the withdrawal. The same rules as the pages (``loans.documents``): the owner is looked up in the
caller's scope (another unit's is a 404), the content decides the type, every upload, withdrawal
and download is audited."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from apicommon.parsers import UploadParser
from apicommon.views import ApiView, check_id
from fund.access import ALL_ROLES, WRITERS
from fund.api.views import FileNegotiation
from loans.documents.selectors import document_get, document_owner_get, documents_of
from loans.documents.services import document_attach, document_send, document_withdraw
from loans.models import Document, DocumentKind, DocumentType

OWNERS = Document.OWNERS


class DocumentUploadParser(UploadParser):
    limit_setting = "DOCUMENT_MAX_BYTES"


class DocumentOwnerFilter(serializers.Serializer):
    owner = serializers.ChoiceField(
        choices=OWNERS, help_text="Tài liệu của ai: borrower, application, loan hoặc visit"
    )
    owner_id = serializers.IntegerField(min_value=1, help_text="Id của thành viên, hồ sơ…")


class DocumentUploadInput(DocumentOwnerFilter):
    kind = serializers.ChoiceField(choices=DocumentKind.choices)
    file = serializers.FileField(
        help_text="PDF, JPEG hoặc PNG; loại tệp được xác định theo nội dung",
        error_messages={"required": _("Chưa chọn tệp."), "empty": _("Chưa chọn tệp.")},
    )


class DocumentWithdrawInput(serializers.Serializer):
    reason = serializers.CharField(max_length=500, allow_blank=True)


class DocumentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    owner = serializers.CharField(source="owner_kind")
    owner_id = serializers.SerializerMethodField()
    kind = serializers.ChoiceField(choices=DocumentKind.choices)
    content_type = serializers.ChoiceField(choices=DocumentType.choices)
    original_name = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    uploaded_by = serializers.CharField(source="uploaded_by.username", allow_null=True)
    uploaded_at = serializers.DateTimeField()
    withdrawn_at = serializers.DateTimeField(allow_null=True)
    withdrawal_reason = serializers.CharField(allow_blank=True)

    def get_owner_id(self, document) -> int:
        return getattr(document, f"{document.owner_kind}_id")


def _owner(scope, data):
    return document_owner_get(scope, data["owner"], check_id(data["owner_id"]))


class DocumentListApi(ApiView):
    access_roles = ALL_ROLES

    @extend_schema(
        parameters=[DocumentOwnerFilter],
        responses=DocumentOutput(many=True),
        summary="Tài liệu của một thành viên, hồ sơ vay, khoản vay hoặc lần kiểm tra",
    )
    def get(self, request):
        owner = _owner(self.scope, self.query(DocumentOwnerFilter))
        return Response(DocumentOutput(documents_of(owner), many=True).data)


class DocumentUploadApi(ApiView):
    """Attach a file (multipart). The content decides its type: a file that is not a whole PDF,
    PNG or JPEG, or whose name says another type, is refused (400, field ``file``); one over
    ``DOCUMENT_MAX_BYTES`` is a 413 before its body is read. The same content of the same kind
    sent again for the same owner returns the document already there."""

    access_roles = WRITERS
    parser_classes = [DocumentUploadParser]

    @extend_schema(
        request={"multipart/form-data": DocumentUploadInput},
        responses={201: DocumentOutput},
        summary="Tải lên một tài liệu (PDF, JPEG, PNG)",
    )
    def post(self, request):
        data = self.input(DocumentUploadInput)
        owner = _owner(self.scope, data)
        upload = data["file"]
        document = document_attach(
            owner=owner, kind=data["kind"], name=upload.name, data=upload.read(), actor=request.user
        )
        return Response(DocumentOutput(document).data, status=status.HTTP_201_CREATED)


class DocumentDownloadApi(ApiView):
    """The file as an attachment (``nosniff``, not cached); the download is audited."""

    access_roles = ALL_ROLES
    content_negotiation_class = FileNegotiation

    @extend_schema(
        responses={(200, t.value): OpenApiTypes.BINARY for t in DocumentType},
        summary="Tải xuống một tài liệu",
    )
    def get(self, request, pk: int):
        return document_send(document=document_get(self.scope, pk), actor=request.user)


class DocumentWithdrawApi(ApiView):
    """Withdraw a document with a reason: it no longer counts, its row and file stay."""

    access_roles = WRITERS

    @extend_schema(
        request=DocumentWithdrawInput,
        responses={200: DocumentOutput},
        summary="Rút một tài liệu (giữ lại bản ghi và tệp)",
    )
    def post(self, request, pk: int):
        document = document_get(self.scope, pk)
        data = self.input(DocumentWithdrawInput)
        document = document_withdraw(document=document, reason=data["reason"], actor=request.user)
        return Response(DocumentOutput(document).data)
