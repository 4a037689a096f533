"""Members' documents: a scan of the CCCD, the poor-household certificate, the signed loan
contract, the photos of a follow-up visit.

Design overview
---------------
* ``Document`` — one stored file attached to exactly one owner: a borrower, a loan application,
  a loan or a follow-up visit (a check constraint keeps it to one). Its kind says what it is;
  its type (PDF, JPEG, PNG) is what its content is, checked by ``loans.documents.content``, not
  what its name or the browser claims. The content's SHA-256, its size, who uploaded it and when
  are recorded with it.
* The file lives in the ``documents`` storage (``settings.STORAGES``): a private directory by
  default, never under ``MEDIA_ROOT`` and served by no URL, or an S3-compatible bucket. It is
  stored under a random name; the member's file name is kept only as text.
* A document is never deleted by the application: it is *withdrawn* (when, by whom, why), and
  the file stays for the audit. Who sees it is who sees its owner (``fund.scoping``).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.files.storage import Storage, storages
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DocumentKind(models.TextChoices):
    CCCD = "cccd", _("Bản chụp CCCD")
    HOUSEHOLD_CERTIFICATE = "household_certificate", _("Giấy chứng nhận hộ nghèo, cận nghèo")
    LOAN_CONTRACT = "loan_contract", _("Hợp đồng vay đã ký")
    VISIT_PHOTO = "visit_photo", _("Ảnh kiểm tra sau cho vay")
    OTHER = "other", _("Tài liệu khác")


class DocumentType(models.TextChoices):
    """What the content is (by its bytes), with the extension it is stored under."""

    PDF = "application/pdf", "PDF"
    JPEG = "image/jpeg", "JPEG"
    PNG = "image/png", "PNG"


class DocumentsStorage(Storage):
    """``storages["documents"]`` looked up at each use: Django evaluates a field's storage
    callable once, when the model is loaded, and a STORAGES setting changed afterwards (a test,
    a management command's override) would otherwise go unseen."""

    def __getattribute__(self, name):
        if name.startswith("__"):
            return super().__getattribute__(name)
        return getattr(storages["documents"], name)


_DOCUMENTS_STORAGE = DocumentsStorage()


def documents_storage() -> Storage:
    """The storage of members' documents (the ``documents`` entry of ``settings.STORAGES``)."""
    return _DOCUMENTS_STORAGE


def document_file_name(instance, filename: str) -> str:
    """A random name under the month of upload: the member's file name never reaches the
    file system or the bucket."""
    ext = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}.get(
        instance.content_type, "bin"
    )
    return f"{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{ext}"


class Document(models.Model):
    OWNERS = ("borrower", "application", "loan", "visit")

    fund = models.ForeignKey(
        "fund.Fund", verbose_name=_("quỹ"), on_delete=models.PROTECT, related_name="+"
    )
    # The grassroots union of the owner when uploaded: the audit log's dimension. Who may see the
    # document is decided by its owner, not by this column (a borrower may move).
    grassroots_union = models.ForeignKey(
        "fund.GrassrootsUnion",
        verbose_name=_("công đoàn cơ sở"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    borrower = models.ForeignKey(
        "loans.Borrower",
        verbose_name=_("thành viên vay vốn"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="documents",
    )
    application = models.ForeignKey(
        "loans.LoanApplication",
        verbose_name=_("hồ sơ vay"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="documents",
    )
    loan = models.ForeignKey(
        "loans.Loan",
        verbose_name=_("khoản vay"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="documents",
    )
    visit = models.ForeignKey(
        "loans.FollowUpVisit",
        verbose_name=_("kiểm tra sau giải ngân"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="documents",
    )
    kind = models.CharField(_("loại tài liệu"), max_length=32, choices=DocumentKind.choices)
    file = models.FileField(
        _("tệp"), storage=documents_storage, upload_to=document_file_name, max_length=255
    )
    original_name = models.CharField(_("tên tệp gốc"), max_length=255)
    content_type = models.CharField(_("định dạng"), max_length=32, choices=DocumentType.choices)
    size = models.PositiveIntegerField(_("dung lượng (byte)"))
    sha256 = models.CharField(_("mã băm SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người tải lên"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("thời điểm tải lên"), default=timezone.now)
    withdrawn_at = models.DateTimeField(_("thời điểm rút"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người rút"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    withdrawal_reason = models.CharField(_("lý do rút"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("tài liệu")
        verbose_name_plural = _("tài liệu")
        ordering = ["uploaded_at", "id"]
        constraints = [
            models.CheckConstraint(
                name="document_one_owner",
                condition=(
                    models.Q(
                        borrower__isnull=False,
                        application__isnull=True,
                        loan__isnull=True,
                        visit__isnull=True,
                    )
                    | models.Q(
                        borrower__isnull=True,
                        application__isnull=False,
                        loan__isnull=True,
                        visit__isnull=True,
                    )
                    | models.Q(
                        borrower__isnull=True,
                        application__isnull=True,
                        loan__isnull=False,
                        visit__isnull=True,
                    )
                    | models.Q(
                        borrower__isnull=True,
                        application__isnull=True,
                        loan__isnull=True,
                        visit__isnull=False,
                    )
                ),
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def owner_kind(self) -> str:
        return next(name for name in self.OWNERS if getattr(self, f"{name}_id") is not None)

    @property
    def owner(self):
        return getattr(self, self.owner_kind)

    @property
    def withdrawn(self) -> bool:
        return self.withdrawn_at is not None
