"""Loan products: the terms a fund offers (amounts, rate, method, term, penalties, savings)."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounting.formatting import format_vnd
from accounting.money import amount_of, to_dong
from fund.audit import audit_changes, audit_record, audit_snapshot
from fund.models import Fund
from fund.scoping import actor_require_fund_officer, actor_user
from loans.errors import (
    LoanError,
)
from loans.models import (
    DocumentKind,
    LoanProduct,
    SavingsKind,
)
from loans.validation import (
    clean_choice,
    clean_text,
    full_clean,
    refuse_unknown_fields,
)

# --------------------------------------------------------------------------------------------
# Products

PRODUCT_FIELDS = (
    "name",
    "active",
    "min_amount",
    "max_amount",
    "min_term",
    "max_term",
    *LoanProduct.TERM_FIELDS,
    "min_age",
    "max_age",
    "certificate_validity_months",
    "just_out_of_poverty_months",
    "creates_jobs",
    "required_document_kinds",
    "description",
)

_PRODUCT_AMOUNTS = {"min_amount", "max_amount", "savings_amount"}

_PRODUCT_RATES = {"rate", "penalty_rate", "savings_percent"}


def _rate(value, *, field: str) -> Decimal:
    if isinstance(value, bool) or isinstance(value, float):
        raise LoanError(_("Lãi suất, tỷ lệ phải là số thập phân, không dùng số thực."), field=field)
    try:
        rate = Decimal(str(value).strip().replace(",", "."))
    except Exception:
        raise LoanError(
            _("Tỷ lệ không hợp lệ: %(value)s."), field=field, params={"value": repr(value)}
        ) from None
    if not rate.is_finite() or rate < 0 or rate > 100:
        raise LoanError(
            _("Tỷ lệ phải từ 0 đến 100%%, nhận được %(value)s."),
            field=field,
            params={"value": value},
        )
    if rate != rate.quantize(Decimal("0.0001")):
        raise LoanError(_("Tỷ lệ có tối đa 4 chữ số thập phân."), field=field)
    return rate


def _apply_product(product: LoanProduct, fields: dict) -> None:
    refuse_unknown_fields(fields, PRODUCT_FIELDS)
    for f, v in fields.items():
        if f in _PRODUCT_AMOUNTS:
            v = to_dong(v, field=f)
            if v < 0:
                raise LoanError(_("Số tiền không được âm."), field=f)
        elif f in _PRODUCT_RATES:
            v = _rate(v, field=f)
        elif f == "required_document_kinds":
            v = _document_kinds(v)
        setattr(product, f, v)


def _document_kinds(value) -> list[str]:
    """The kinds of document an application needs before review: known kinds, each once."""
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise LoanError(
            _("Tài liệu bắt buộc phải là một danh sách loại tài liệu."),
            field="required_document_kinds",
        )
    kinds: list[str] = []
    for kind in value:
        kinds.append(
            clean_choice(
                kind,
                DocumentKind.choices,
                field="required_document_kinds",
                label=_("Loại tài liệu"),
            )
        )
    return list(dict.fromkeys(kinds))


def _check_product(product: LoanProduct) -> None:
    """Rules across fields, named by the field to change."""
    low, high = amount_of(product.min_amount), amount_of(product.max_amount)
    if low <= 0:
        raise LoanError(_("Số tiền vay tối thiểu phải lớn hơn 0."), field="min_amount")
    if high < low:
        raise LoanError(_("Số tiền vay tối đa phải từ mức tối thiểu trở lên."), field="max_amount")
    if high > amount_of(product.fund.borrower_outstanding_limit):
        raise LoanError(
            _("Số tiền vay tối đa vượt mức dư nợ tối đa mỗi thành viên của quỹ (%(limit)s)."),
            field="max_amount",
            params={"limit": format_vnd(product.fund.borrower_outstanding_limit)},
        )
    if not 1 <= product.min_term <= product.max_term:
        raise LoanError(_("Thời hạn tối thiểu phải từ 1 kỳ và không quá tối đa."), field="min_term")
    for f in ("principal_grace", "interest_grace"):
        if getattr(product, f) >= product.min_term:
            raise LoanError(_("Số kỳ ân hạn phải ít hơn thời hạn tối thiểu của sản phẩm."), field=f)
    if product.min_age >= product.max_age:
        raise LoanError(_("Tuổi tối thiểu phải nhỏ hơn tuổi tối đa."), field="min_age")
    kind = product.savings_kind
    if kind == SavingsKind.PERCENT_OF_LOAN and not 0 < product.savings_percent < 100:
        raise LoanError(
            _("Tỷ lệ tiết kiệm bắt buộc phải lớn hơn 0 và nhỏ hơn 100%."), field="savings_percent"
        )
    if kind == SavingsKind.FIXED_PER_INSTALLMENT and amount_of(product.savings_amount) <= 0:
        raise LoanError(_("Số tiền tiết kiệm mỗi kỳ phải lớn hơn 0."), field="savings_amount")
    if kind == SavingsKind.NONE:
        product.savings_percent, product.savings_amount = Decimal(0), Decimal(0)
    elif kind == SavingsKind.PERCENT_OF_LOAN:
        product.savings_amount = Decimal(0)
    else:
        product.savings_percent = Decimal(0)


def loan_product_create(*, fund: Fund, code: str, name: str, actor=None, **fields) -> LoanProduct:
    """Create a loan product (fund officers only). Loans copy its terms when granted."""
    actor_require_fund_officer(actor, fund_id=fund.pk, field="actor")
    code = clean_text(code, field="code", label=_("Mã sản phẩm"), required=True, max_length=32)
    product = LoanProduct(fund=fund, code=code, name=name)
    _apply_product(product, fields)
    with transaction.atomic():
        if LoanProduct.objects.filter(fund=fund, code=code).exists():
            raise LoanError(_("Đã có sản phẩm mã %(code)s."), field="code", params={"code": code})
        full_clean(product, validate_constraints=False)
        _check_product(product)
        product.save()
        audit_record(
            actor=actor_user(actor),
            action="create",
            obj=product,
            changes={
                k: [None, v] for k, v in audit_snapshot(product, ("code", *PRODUCT_FIELDS)).items()
            },
        )
    return product


def loan_product_update(*, product: LoanProduct, actor=None, **fields) -> LoanProduct:
    """Change a product. Existing loans and approved applications keep the terms they got."""
    actor_require_fund_officer(actor, fund_id=product.fund_id, field="actor")
    with transaction.atomic():
        p = LoanProduct.objects.select_for_update().get(pk=product.pk)
        before = audit_snapshot(p, PRODUCT_FIELDS)
        _apply_product(p, fields)
        full_clean(p, validate_constraints=False)
        _check_product(p)
        changes = audit_changes(before, p)
        if changes:
            p.save()
            audit_record(actor=actor_user(actor), action="update", obj=p, changes=changes)
    return p


def product_terms(product: LoanProduct) -> dict:
    """The product's terms as a loan keeps them (JSON: decimals as strings)."""
    out = {}
    for f in LoanProduct.TERM_FIELDS:
        v = getattr(product, f)
        v = amount_of(v) if f == "savings_amount" else v
        out[f] = str(v) if isinstance(v, Decimal) else v
    return out
