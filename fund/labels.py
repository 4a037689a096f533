"""Codes into words: the one place that turns a stored code into what a person reads.

Histories, the audit log, the reminder log and their exports store codes ("review_approve",
"written_off", "capitalmovement", "before_3", a field's name) and values as the audit log keeps
them (amounts as plain numbers, dates ISO, rows by id). Pages and exports show them through here:
actions, model names, field names and reminder stages in the page's language, values as money
("2.000.000.000 ₫"), dates ("07/12/2026"), choices by their label and people by their name.

A code this module does not know is shown as it is, never hidden; `tests` walk the codes the
services write and fail on one without words.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.translation import get_language, gettext, pgettext, pgettext_lazy
from djmoney.models.fields import MoneyField

from accounting.formatting import format_date_vi, format_vnd, quarter_label
from fund.people import person_name

# What was done: the `action` of the audit log and of an application's history.
ACTIONS = {
    "create": pgettext_lazy("action done", "Tạo mới"),
    "update": pgettext_lazy("action done", "Sửa"),
    "delete": pgettext_lazy("action done", "Xóa"),
    "move": pgettext_lazy("action done", "Chuyển"),
    "transfer": pgettext_lazy("action done", "Chuyển công đoàn cơ sở"),
    "import_create": pgettext_lazy("action done", "Nhập từ tệp: thêm mới"),
    "import_update": pgettext_lazy("action done", "Nhập từ tệp: cập nhật"),
    "submit": pgettext_lazy("action done", "Gửi đề nghị"),
    "review_approve": pgettext_lazy("action done", "Cấp trên thẩm định: đồng ý"),
    "review_return": pgettext_lazy("action done", "Cấp trên trả lại để bổ sung"),
    "review_reject": pgettext_lazy("action done", "Cấp trên thẩm định: từ chối"),
    "approve": pgettext_lazy("action done", "Phê duyệt"),
    "reject": pgettext_lazy("action done", "Từ chối"),
    "cancel": pgettext_lazy("action done", "Hủy"),
    "disburse": pgettext_lazy("action done", "Giải ngân"),
    "request": pgettext_lazy("action done", "Đề nghị"),
    "commit": pgettext_lazy("action done", "Cam kết vốn"),
    "release": pgettext_lazy("action done", "Giải phóng cam kết vốn"),
    "contribution": pgettext_lazy("action done", "Góp vốn"),
    "followup": pgettext_lazy("action done", "Kiểm tra sử dụng vốn"),
    "reschedule": pgettext_lazy("action done", "Điều chỉnh kỳ hạn nợ"),
    "recall": pgettext_lazy("action done", "Thu hồi trước hạn"),
    "waive": pgettext_lazy("action done", "Miễn giảm lãi"),
    "write_off": pgettext_lazy("action done", "Xử lý rủi ro"),
    "write_off_recovery": pgettext_lazy("action done", "Thu hồi nợ đã xử lý rủi ro"),
    "close": pgettext_lazy("action done", "Tất toán"),
    "repayment_reverse": pgettext_lazy("action done", "Đảo bút toán trả nợ"),
    "remittance_receipt_confirm": pgettext_lazy("action done", "Xác nhận đã nhận tiền nộp"),
    "bank_statement_import": pgettext_lazy("action done", "Nhập sao kê ngân hàng"),
    "withdrawal": pgettext_lazy("action done", "Rút, hoàn trả vốn"),
    "capital_request": pgettext_lazy("action done", "Lập nghiệp vụ vốn chờ xác nhận"),
    "capital_confirm": pgettext_lazy("action done", "Xác nhận nghiệp vụ vốn"),
    "capital_reject": pgettext_lazy("action done", "Từ chối nghiệp vụ vốn"),
    "duties_set": pgettext_lazy("action done", "Đổi quy định tách bạch nhiệm vụ"),
    "year_close": pgettext_lazy("action done", "Khóa sổ cuối năm"),
    "document_upload": pgettext_lazy("action done", "Tải lên tài liệu"),
    "document_withdraw": pgettext_lazy("action done", "Rút tài liệu"),
    "document_download": pgettext_lazy("action done", "Tải xuống tài liệu"),
    "deactivate": pgettext_lazy("action done", "Khóa tài khoản"),
    "reactivate": pgettext_lazy("action done", "Mở lại tài khoản"),
    "password_reset": pgettext_lazy("action done", "Gửi liên kết đặt lại mật khẩu"),
}

# Fields an entry records that are not the model's own: an officer's entries carry their user
# account's fields (fund.officers).
OTHER_FIELDS = {
    "username": pgettext_lazy("field", "Tên đăng nhập"),
    "full_name": pgettext_lazy("field", "Họ và tên"),
    "email": pgettext_lazy("field", "E-mail"),
    "is_active": pgettext_lazy("field", "Tài khoản hoạt động"),
    "unit": pgettext_lazy("field", "Đơn vị"),
}

_STAGE = re.compile(r"^(before|after)_(\d+)$")


def action_label(code: str) -> str:
    """'review_approve' -> 'Cấp trên thẩm định: đồng ý' (the page's language)."""
    label = ACTIONS.get(code)
    return str(label) if label is not None else code


def stage_label(code: str) -> str:
    """A reminder stage's code in words: 'before_3' -> '3 ngày trước hạn'."""
    if code == "due":
        return gettext("Đúng ngày đến hạn")
    if code == "digest":
        return gettext("Danh sách quá hạn gửi cán bộ")
    found = _STAGE.match(code or "")
    if found is None:
        return code
    n = int(found.group(2))
    if found.group(1) == "before":
        return gettext("%(n)s ngày trước hạn") % {"n": n}
    return gettext("Quá hạn %(n)s ngày") % {"n": n}


def account_name(name: str, name_en: str = "") -> str:
    """A chart account's name in the page's language: its English name on English pages."""
    return name_en if name_en and get_language() == "en" else name


def quarter_name(quarter: int, year: int) -> str:
    """A quarter in the reader's language, on pages and in the documents that follow it (the
    quarterly report's PDF and XLSX): 'Quý IV/2026', 'Quarter IV/2026'. Always-Vietnamese text
    (stored labels, file names) uses accounting.formatting.quarter_label, which also checks the
    quarter."""
    quarter_label(quarter, year)  # refuses a quarter outside 1–4
    roman = quarter_label(quarter, year).split(" ")[1].split("/")[0]
    return gettext("Quý %(quarter)s/%(year)s") % {"quarter": roman, "year": year}


def model_of(content_type) -> type[models.Model] | None:
    """The model class of a ContentType (None when the model is gone)."""
    try:
        return apps.get_model(content_type.app_label, content_type.model)
    except LookupError:
        return None


def model_label(model_or_content_type) -> str:
    """The model's name in words: 'capitalmovement' -> 'Biến động vốn' (its verbose name)."""
    model = model_or_content_type
    if not (isinstance(model, type) and issubclass(model, models.Model)):
        model = model_of(model_or_content_type)
        if model is None:
            return str(getattr(model_or_content_type, "model", model_or_content_type))
    name = str(model._meta.verbose_name)
    return name[:1].upper() + name[1:]


def _field(model, name: str):
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        if name.endswith("_id"):
            return _field(model, name[:-3])
        return None


def field_label(model, name: str) -> str:
    """A field's name in words: 'amount' -> 'Số tiền' (its verbose name), else the name."""
    field = _field(model, name)
    label = getattr(field, "verbose_name", None) or OTHER_FIELDS.get(name)
    if label is None:
        return name
    label = str(label)
    return label[:1].upper() + label[1:]


def _as_date(value):
    if isinstance(value, date):
        return value
    if isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}", value):
        try:
            return datetime.fromisoformat(value) if len(value) > 10 else date.fromisoformat(value)
        except ValueError:
            return None
    return None


def value_text(model, name: str, value) -> str:
    """A stored value in words: a choice by its label, an amount as money, a date dd/mm/yyyy,
    a user by name, nothing as '—'."""
    if value is None or value == "":
        return "—"
    field = _field(model, name)
    if isinstance(value, bool) or isinstance(field, models.BooleanField):
        return pgettext("yes or no", "Có") if value else pgettext("yes or no", "Không")
    if field is not None and getattr(field, "choices", None):
        for code, label in field.flatchoices:
            if str(code) == str(value):
                return str(label)
        return str(value)
    if isinstance(field, MoneyField):
        try:
            return format_vnd(value)
        except (TypeError, ValueError, ArithmeticError):
            return str(value)
    if isinstance(field, models.ForeignKey) and field.related_model is get_user_model():
        user = get_user_model().objects.filter(pk=value).first()
        return person_name(user) if user is not None else f"#{value}"
    if isinstance(field, models.DateTimeField | models.DateField) or field is None:
        day = _as_date(value)
        if day is not None:
            if isinstance(day, datetime):
                return f"{format_date_vi(day)} {day:%H:%M}"
            return format_date_vi(day)
    return str(value)


def changes_text(model, changes: dict | None) -> str:
    """An audit entry's changes in words: 'Số tiền: — → 2.000.000.000 ₫; Trạng thái: …'."""
    parts = []
    for name, change in (changes or {}).items():
        label = field_label(model, name)
        if isinstance(change, list | tuple) and len(change) == 2:
            before, after = (value_text(model, name, v) for v in change)
            parts.append(f"{label}: {before} → {after}")
        else:
            parts.append(f"{label}: {value_text(model, name, change)}")
    return "; ".join(parts)
