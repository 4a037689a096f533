"""Loan services: the only code that changes the loan book.

Every service takes keyword-only arguments, validates the whole request before it writes, runs
in one transaction and records what it changed in the audit log. Moves of an application along
the approval chain (``application_submit`` … ``loan_disburse``) run once per idempotency key
(``accounting.idempotency.command_once``): a retry with the same request returns the first
result, the same key with another request is refused. Money moves through
``accounting.services.journal_entry_post`` with ``fund_id``, ``superior_union_id`` and
``grassroots_union_id`` on every leg.

``actor`` is the user acting. Their role (``fund.scoping``) decides what they may do; ``None`` is
the system itself (imports, the demo, scheduled jobs) and a site administrator without an
officer profile acts as the system — except that an approval always needs a person, who must not
be the one who entered the application (maker-checker).

The chain::

    draft ──submit──▶ submitted ──review: approve──▶ reviewed ──approve──▶ approved ──▶ disbursed
      ▲                  │  └──review: return──▶ returned ──submit──┘         │
      └──── update ──────┘          (reject from submitted or reviewed; cancel before disbursed)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connections, models, router, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from djmoney.money import Money

from accounting.errors import ApplicationError, lazy_join, lazy_lower, translatable
from accounting.formatting import format_vnd
from accounting.idempotency import command_once
from accounting.money import to_dong
from accounting.services import credit, debit, journal_entry_post
from fund import scoping
from fund.audit import audit_record, audit_record_many
from fund.errors import PermissionRefused
from fund.models import Fund, GrassrootsUnion, Role
from fund.scoping import Scope, scope_for
from fund.selectors import superior_union_on
from fund.services import (
    CapitalLedger,
    capital_check,
    capital_commitment_create,
    capital_commitment_release,
    dated_history_advance,
)
from fund.services import capital_lock as fund_capital_lock
from loans.errors import (
    BorrowerLimitExceeded,
    IllegalTransition,
    IneligibleBorrower,
    LoanError,
    MakerChecker,
)
from loans.models import (
    ApplicationEvent,
    ApplicationStatus,
    Borrower,
    BorrowerMembership,
    FollowUpVisit,
    HouseholdStatus,
    Installment,
    Loan,
    LoanApplication,
    LoanProduct,
    LoanStatus,
    LoanTransaction,
    PurposeKind,
    SavingsKind,
    SecurityKind,
    Sex,
)
from loans.origination.cccd import CCCDInvalid, cccd_validate
from loans.origination.selectors import amount_of, borrower_eligibility
from loans.schedules import ScheduleError, ScheduleTerms, schedule_generate, schedule_validate

S = ApplicationStatus
LOANS_ACCOUNT = "1283"
SAVINGS_ACCOUNT = "33881"
CASH_ACCOUNTS = ("1121", "1111")
MAX_PLANNED_JOBS = 1000

__all__ = [
    "application_approve",
    "application_cancel",
    "application_create",
    "application_reject",
    "application_review",
    "application_submit",
    "application_update",
    "borrower_create",
    "borrower_transfer",
    "borrower_update",
    "followup_visit_record",
    "loan_disburse",
    "loan_disburse_many",
    "loan_require_fund_officer",
    "loan_require_servicer",
    "loan_product_create",
    "loan_product_update",
]


# --------------------------------------------------------------------------------------------
# Helpers: roles, validation


def _actor_scope(actor) -> Scope | None:
    """The actor's scope; None for the system and for site administrators without a profile."""
    if actor is None:
        return None
    if getattr(actor, "is_superuser", False) and not hasattr(actor, "officer"):
        return None
    try:
        return scope_for(actor)
    except PermissionDenied as e:
        raise PermissionRefused(e.args[0], field="actor", code="no_role") from None


def _require_write(scope: Scope) -> None:
    """The fund's rule (auditors read, never write), with the refusal naming the actor."""
    try:
        scoping.scope_require_write(scope)
    except PermissionRefused as e:
        raise PermissionRefused(e.message, field="actor", code=e.code) from None


def _require_approver(scope: Scope) -> None:
    try:
        scoping.scope_require_approver(scope)
    except PermissionRefused as e:
        raise PermissionRefused(e.message, field="actor", code=e.code) from None


def _user(actor):
    return actor if actor is not None and actor.pk else None


def _require_unit(
    actor, *, fund_id: int, grassroots_union: GrassrootsUnion, field: str = "grassroots_union"
) -> Scope | None:
    """The actor may write rows of `grassroots_union` (their scope holds it); auditors never."""
    scope = _actor_scope(actor)
    if scope is None:
        return None
    _require_write(scope)
    if scope.fund_id != fund_id:
        raise PermissionRefused(_("Bạn không thuộc quỹ này."), field=field, code="other_fund")
    if not scope.allows_grassroots_union(grassroots_union):
        raise PermissionRefused(
            _("%(union)s không thuộc phạm vi quản lý của bạn."),
            field=field,
            code="other_unit",
            params={"union": grassroots_union.name},
        )
    return scope


def _require_fund_officer(actor, *, fund_id: int, field: str = "actor") -> Scope | None:
    scope = _actor_scope(actor)
    if scope is None:
        return None
    _require_write(scope)
    if scope.role != Role.FUND_OFFICER:
        raise PermissionRefused(_("Chỉ cán bộ quỹ được thực hiện thao tác này."), code="fund_only")
    if scope.fund_id != fund_id:
        raise PermissionRefused(_("Bạn không thuộc quỹ này."), field=field, code="other_fund")
    return scope


def loan_require_servicer(actor, *, loan: Loan, field: str = "loan") -> Scope | None:
    """The actor may collect for and service `loan`: a grassroots officer of the loan's union
    (as recorded at disbursement, or the borrower's union now, after a transfer), a superior
    officer above either, any fund officer of the fund; never an auditor. ``None`` (the system)
    and site administrators without a profile pass."""
    scope = _actor_scope(actor)
    if scope is None:
        return None
    _require_write(scope)
    if scope.fund_id != loan.fund_id:
        raise PermissionRefused(_("Bạn không thuộc quỹ này."), field=field, code="other_fund")
    unions = [loan.grassroots_union, loan.borrower.grassroots_union]
    if not any(scope.allows_grassroots_union(gu) for gu in unions):
        raise PermissionRefused(
            _("Khoản vay #%(loan)s của %(union)s không thuộc phạm vi quản lý của bạn."),
            field=field,
            code="other_unit",
            params={"loan": loan.pk, "union": loan.grassroots_union.name},
        )
    return scope


def loan_require_fund_officer(actor, *, loan: Loan) -> Scope | None:
    """Decisions on a loan's terms (rescheduling, waiver, write-off, recall) are the fund
    officers' (or the system's); the refusal names the actor."""
    scope = _actor_scope(actor)
    if scope is None:
        return None
    _require_write(scope)
    if scope.role != Role.FUND_OFFICER:
        raise PermissionRefused(
            _("Chỉ cán bộ quỹ được thực hiện thao tác này."), field="actor", code="fund_only"
        )
    if scope.fund_id != loan.fund_id:
        raise PermissionRefused(_("Bạn không thuộc quỹ này."), field="actor", code="other_fund")
    return scope


def _plain(value):
    """A value as the audit log stores it: amounts as whole-đồng strings, dates ISO, rows by id."""
    if isinstance(value, Money):
        value = value.amount
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")  # 6.6000 and 6.6 are the same rate
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "pk"):
        return value.pk
    return value


def _snapshot(obj, fields) -> dict:
    return {f: _plain(getattr(obj, f)) for f in fields}


def _changes(before: dict, obj) -> dict:
    """``{"field": [old, new]}`` for the fields of `before` that differ on `obj` now."""
    after = _snapshot(obj, before)
    return {f: [old, after[f]] for f, old in before.items() if after[f] != old}


def _full_clean(obj, *, rows_held: bool = False, **kwargs) -> None:
    """full_clean() with the first problem as a LoanError naming its field.

    `rows_held`: the related rows are instances the service has just read (or locked) in this
    transaction, so their existence is not checked again (a query per foreign key; the
    database's foreign keys guard it anyway)."""
    if rows_held:
        kwargs["exclude"] = [
            *kwargs.get("exclude", ()),
            *(f.name for f in obj._meta.concrete_fields if f.is_relation),
        ]
    try:
        obj.full_clean(**kwargs)
    except ValidationError as e:
        # The messages as Django keeps them (lazy, with their params), put together when shown.
        field, errors = next(iter(e.error_dict.items()))
        raise LoanError(
            lazy_join(" ", [translatable(err.message, err.params) for err in errors]),
            field=None if field == "__all__" else field,
        ) from None


def _text(value, *, field: str, label: str, required: bool = False, max_length: int = 255):
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise LoanError(_("%(label)s phải là chuỗi ký tự."), field=field, params={"label": label})
    value = " ".join(value.split())
    if required and not value:
        raise LoanError(_("%(label)s không được để trống."), field=field, params={"label": label})
    if len(value) > max_length:
        raise LoanError(
            _("%(label)s dài quá %(max)s ký tự."),
            field=field,
            params={"label": label, "max": max_length},
        )
    return value


def _date(value, *, field: str, label: str, required: bool = True) -> date | None:
    if value is None and not required:
        return None
    if isinstance(value, datetime) or not isinstance(value, date):
        raise LoanError(
            _("%(label)s phải là một ngày, nhận được %(value)s."),
            field=field,
            params={"label": label, "value": repr(value)},
        )
    return value


def _count(value, *, field: str, label: str, minimum: int = 0, maximum: int = 32767) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise LoanError(
            _("%(label)s phải là số nguyên, nhận được %(value)s."),
            field=field,
            params={"label": label, "value": repr(value)},
        )
    if not minimum <= value <= maximum:
        raise LoanError(
            _("%(label)s phải từ %(min)s đến %(max)s."),
            field=field,
            params={"label": label, "min": minimum, "max": maximum},
        )
    return value


def _positive_dong(value, *, field: str, label: str) -> Decimal:
    amount = to_dong(value, field=field)
    if amount <= 0:
        raise LoanError(
            _("%(label)s phải lớn hơn 0, nhận được %(value)s."),
            field=field,
            params={"label": label, "value": value},
        )
    return amount


def _choice(value, choices, *, field: str, label: str) -> str:
    values = {c.value if hasattr(c, "value") else c[0] for c in choices}
    if not isinstance(value, str) or value not in values:
        raise LoanError(
            _("%(label)s không hợp lệ: %(value)s."),
            field=field,
            params={"label": label, "value": repr(value)},
        )
    return value


def _refuse_unknown(values: dict, known) -> None:
    """A service's ``**fields`` hold only fields it can change."""
    if unknown := set(values) - set(known):
        raise LoanError(
            _("Trường không sửa được: %(fields)s."),
            field="fields",
            params={"fields": ", ".join(sorted(unknown))},
        )


# --------------------------------------------------------------------------------------------
# Borrowers

BORROWER_FIELDS = (
    "full_name",
    "date_of_birth",
    "sex",
    "national_id",
    "phone",
    "address",
    "household_status",
    "certificate_number",
    "certificate_date",
    "certificate_valid_to",
    "notes",
)


def _clean_borrower_fields(values: dict, *, today: date) -> dict:
    """Validate and normalise borrower fields (only those given)."""
    out = dict(values)
    _refuse_unknown(out, BORROWER_FIELDS)
    if "full_name" in out:
        out["full_name"] = _text(
            out["full_name"], field="full_name", label=_("Họ và tên"), required=True
        )
    if "date_of_birth" in out:
        dob = _date(out["date_of_birth"], field="date_of_birth", label=_("Ngày sinh"))
        if dob > today:
            raise LoanError(_("Ngày sinh không được sau ngày hôm nay."), field="date_of_birth")
    if "sex" in out:
        _choice(out["sex"], Sex, field="sex", label=_("Giới tính"))
    if "household_status" in out:
        _choice(
            out["household_status"],
            HouseholdStatus,
            field="household_status",
            label=_("Hoàn cảnh hộ"),
        )
    for f, label, length in (
        ("phone", _("Điện thoại"), 32),
        ("address", _("Địa chỉ"), 255),
        ("certificate_number", _("Số giấy chứng nhận hộ"), 64),
    ):
        if f in out:
            out[f] = _text(out[f], field=f, label=label, max_length=length)
    if "notes" in out:
        out["notes"] = _text(out["notes"], field="notes", label=_("Ghi chú"), max_length=5000)
    for f, label in (
        ("certificate_date", _("Ngày cấp giấy chứng nhận")),
        ("certificate_valid_to", _("Ngày hết hiệu lực giấy chứng nhận")),
    ):
        if f in out:
            out[f] = _date(out[f], field=f, label=label, required=False)
    if out.get("certificate_date") and out["certificate_date"] > today:
        raise LoanError(
            _("Ngày cấp giấy chứng nhận không được sau ngày hôm nay."), field="certificate_date"
        )
    return out


def _check_borrower_consistency(b: Borrower) -> None:
    """The CCCD against the date of birth and sex; certificate dates in order."""
    try:
        b.national_id = cccd_validate(b.national_id, date_of_birth=b.date_of_birth, sex=b.sex)
    except CCCDInvalid as e:
        raise LoanError(e.args[0], field="national_id") from None
    if (
        b.certificate_valid_to
        and b.certificate_date
        and b.certificate_valid_to < b.certificate_date
    ):
        raise LoanError(
            _("Ngày hết hiệu lực giấy chứng nhận phải sau ngày cấp."), field="certificate_valid_to"
        )


def _check_cccd_free(b: Borrower) -> None:
    taken = Borrower.objects.filter(fund_id=b.fund_id, national_id=b.national_id)
    if b.pk:
        taken = taken.exclude(pk=b.pk)
    if taken.exists():
        raise LoanError(
            _("Số CCCD %(number)s đã được đăng ký cho một thành viên khác của quỹ."),
            field="national_id",
            code="duplicate_national_id",
            params={"number": b.national_id},
        )


def borrower_create(
    *,
    fund: Fund,
    grassroots_union: GrassrootsUnion,
    full_name: str,
    date_of_birth: date,
    sex: str,
    national_id: str,
    household_status: str,
    phone: str = "",
    address: str = "",
    certificate_number: str = "",
    certificate_date: date | None = None,
    certificate_valid_to: date | None = None,
    notes: str = "",
    member_since: date | None = None,
    actor=None,
) -> Borrower:
    """Register a member of a grassroots union as a borrower.

    Invariant: the CCCD is well formed, consistent with the date of birth and sex, and unique in
    the fund; the membership history starts on `member_since` (default today).
    """
    if grassroots_union.fund_id != fund.pk:
        raise LoanError(_("Công đoàn cơ sở không thuộc quỹ này."), field="grassroots_union")
    _require_unit(actor, fund_id=fund.pk, grassroots_union=grassroots_union)
    today = timezone.localdate()
    values = _clean_borrower_fields(
        {
            "full_name": full_name,
            "date_of_birth": date_of_birth,
            "sex": sex,
            "national_id": national_id,
            "phone": phone,
            "address": address,
            "household_status": household_status,
            "certificate_number": certificate_number,
            "certificate_date": certificate_date,
            "certificate_valid_to": certificate_valid_to,
            "notes": notes,
        },
        today=today,
    )
    since = _date(member_since or today, field="member_since", label=_("Ngày bắt đầu sinh hoạt"))
    borrower = Borrower(fund=fund, grassroots_union=grassroots_union, **values)
    _check_borrower_consistency(borrower)
    with transaction.atomic():
        _check_cccd_free(borrower)
        _full_clean(borrower, validate_unique=False, validate_constraints=False)
        try:
            with transaction.atomic():
                borrower.save()
        except IntegrityError:
            _check_cccd_free(borrower)  # a concurrent registration of the same CCCD
            raise
        BorrowerMembership.objects.create(
            borrower=borrower, grassroots_union=grassroots_union, valid_from=since
        )
        audit_record(
            actor=_user(actor),
            action="create",
            obj=borrower,
            changes={k: [None, v] for k, v in _snapshot(borrower, BORROWER_FIELDS).items()},
        )
    return borrower


def borrower_update(*, borrower: Borrower, actor=None, **fields) -> Borrower:
    """Change a borrower's details (not their union: see `borrower_transfer`)."""
    _require_unit(actor, fund_id=borrower.fund_id, grassroots_union=borrower.grassroots_union)
    values = _clean_borrower_fields(fields, today=timezone.localdate())
    with transaction.atomic():
        b = Borrower.objects.select_for_update().get(pk=borrower.pk)
        before = _snapshot(b, BORROWER_FIELDS)
        for f, v in values.items():
            setattr(b, f, v)
        _check_borrower_consistency(b)
        _check_cccd_free(b)
        _full_clean(b, validate_unique=False, validate_constraints=False)
        changes = _changes(before, b)
        if changes:
            b.save()
            audit_record(actor=_user(actor), action="update", obj=b, changes=changes)
    return b


def borrower_transfer(
    *,
    borrower: Borrower,
    grassroots_union: GrassrootsUnion,
    effective_date: date,
    actor=None,
) -> Borrower:
    """Move a member to another grassroots union from `effective_date` on, keeping the history.

    The current membership ends on that date and a new one starts. Loans already disbursed keep
    the unions recorded at disbursement. Refused while an application of the member is in
    progress (it belongs to the old union), into the future, or on or before the current
    membership's start.
    """
    effective_date = _date(effective_date, field="effective_date", label=_("Ngày chuyển"))
    if grassroots_union.fund_id != borrower.fund_id:
        raise LoanError(_("Công đoàn cơ sở mới thuộc quỹ khác."), field="grassroots_union")
    _require_unit(actor, fund_id=borrower.fund_id, grassroots_union=borrower.grassroots_union)
    _require_unit(actor, fund_id=borrower.fund_id, grassroots_union=grassroots_union)
    if effective_date > timezone.localdate():
        raise LoanError(_("Ngày chuyển không được sau ngày hôm nay."), field="effective_date")
    with transaction.atomic():
        b = Borrower.objects.select_for_update().get(pk=borrower.pk)
        if b.grassroots_union_id == grassroots_union.pk:
            raise LoanError(
                _("Thành viên đã sinh hoạt tại %(union)s."),
                field="grassroots_union",
                params={"union": grassroots_union.name},
            )
        pending = (
            LoanApplication.objects.filter(borrower=b, status__in=LoanApplication.OPEN_STATUSES)
            .order_by("pk")
            .first()
        )
        if pending is not None:
            raise LoanError(
                _(
                    "Thành viên đang có hồ sơ vay #%(id)s chưa xử lý xong; hãy hoàn tất hoặc "
                    "hủy hồ sơ trước khi chuyển công đoàn."
                ),
                field="borrower",
                params={"id": pending.pk},
            )
        dated_history_advance(
            history=BorrowerMembership.objects.select_for_update().filter(borrower=b),
            effective_date=effective_date,
            what=_("sinh hoạt"),
            error_class=LoanError,
            open_next=lambda: BorrowerMembership.objects.create(
                borrower=b, grassroots_union=grassroots_union, valid_from=effective_date
            ),
        )
        old = b.grassroots_union_id
        b.grassroots_union = grassroots_union
        b.save(update_fields=["grassroots_union", "updated_at"])
        audit_record(
            actor=_user(actor),
            action="transfer",
            obj=b,
            changes={
                "grassroots_union_id": [old, grassroots_union.pk],
                "effective_date": [None, effective_date.isoformat()],
            },
        )
    return b


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
    _refuse_unknown(fields, PRODUCT_FIELDS)
    for f, v in fields.items():
        if f in _PRODUCT_AMOUNTS:
            v = to_dong(v, field=f)
            if v < 0:
                raise LoanError(_("Số tiền không được âm."), field=f)
        elif f in _PRODUCT_RATES:
            v = _rate(v, field=f)
        setattr(product, f, v)


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
    _require_fund_officer(actor, fund_id=fund.pk)
    code = _text(code, field="code", label=_("Mã sản phẩm"), required=True, max_length=32)
    product = LoanProduct(fund=fund, code=code, name=name)
    _apply_product(product, fields)
    with transaction.atomic():
        if LoanProduct.objects.filter(fund=fund, code=code).exists():
            raise LoanError(_("Đã có sản phẩm mã %(code)s."), field="code", params={"code": code})
        _full_clean(product, validate_constraints=False)
        _check_product(product)
        product.save()
        audit_record(
            actor=_user(actor),
            action="create",
            obj=product,
            changes={
                k: [None, v] for k, v in _snapshot(product, ("code", *PRODUCT_FIELDS)).items()
            },
        )
    return product


def loan_product_update(*, product: LoanProduct, actor=None, **fields) -> LoanProduct:
    """Change a product. Existing loans and approved applications keep the terms they got."""
    _require_fund_officer(actor, fund_id=product.fund_id)
    with transaction.atomic():
        p = LoanProduct.objects.select_for_update().get(pk=product.pk)
        before = _snapshot(p, PRODUCT_FIELDS)
        _apply_product(p, fields)
        _full_clean(p, validate_constraints=False)
        _check_product(p)
        changes = _changes(before, p)
        if changes:
            p.save()
            audit_record(actor=_user(actor), action="update", obj=p, changes=changes)
    return p


def product_terms(product: LoanProduct) -> dict:
    """The product's terms as a loan keeps them (JSON: decimals as strings)."""
    out = {}
    for f in LoanProduct.TERM_FIELDS:
        v = getattr(product, f)
        v = amount_of(v) if f == "savings_amount" else v
        out[f] = str(v) if isinstance(v, Decimal) else v
    return out


# --------------------------------------------------------------------------------------------
# Applications: entry

APPLICATION_FIELDS = (
    "product",
    "amount",
    "term",
    "purpose_kind",
    "purpose",
    "planned_jobs",
    "security_kind",
    "guarantor_name",
    "guarantor_national_id",
    "guarantor_phone",
    "guarantor_relationship",
    "group_name",
)


def _clean_application(app: LoanApplication, fields: dict) -> None:
    _refuse_unknown(fields, APPLICATION_FIELDS)
    for f, v in fields.items():
        if f == "product":
            # The product as stored now, whatever copy the caller holds.
            v = LoanProduct.objects.get(pk=v.pk)
        elif f == "amount":
            v = _positive_dong(v, field="amount", label=_("Số tiền vay"))
        elif f == "term":
            v = _count(v, field="term", label=_("Thời hạn vay (số kỳ)"), minimum=1, maximum=600)
        elif f == "planned_jobs":
            v = _count(
                v,
                field="planned_jobs",
                label=_("Số việc làm mới dự kiến"),
                maximum=MAX_PLANNED_JOBS,
            )
        elif f == "purpose_kind":
            _choice(v, PurposeKind, field=f, label=_("Lĩnh vực sử dụng vốn"))
        elif f == "security_kind":
            _choice(v, SecurityKind, field=f, label=_("Hình thức bảo đảm"))
        elif f == "purpose":
            v = _text(v, field=f, label=_("Mục đích sử dụng vốn"), required=True, max_length=500)
        elif f != "product":
            v = _text(v, field=f, label=LoanApplication._meta.get_field(f).verbose_name)
        setattr(app, f, v)
    if app.product.fund_id != app.fund_id:
        raise LoanError(_("Sản phẩm vay thuộc quỹ khác."), field="product")
    if app.security_kind == SecurityKind.GUARANTOR:
        if not app.guarantor_name:
            raise LoanError(_("Thiếu họ tên người bảo lãnh."), field="guarantor_name")
        try:
            app.guarantor_national_id = cccd_validate(app.guarantor_national_id)
        except CCCDInvalid as e:
            raise LoanError(
                _("Người bảo lãnh: %(reason)s"),
                field="guarantor_national_id",
                params={"reason": e.args[0]},
            ) from None
        if app.guarantor_national_id == app.borrower.national_id:
            raise LoanError(
                _("Người vay không tự bảo lãnh cho mình."), field="guarantor_national_id"
            )
        app.group_name = ""
    else:
        if not app.group_name:
            raise LoanError(_("Thiếu tên tổ, nhóm vay vốn bảo lãnh."), field="group_name")
        app.guarantor_name = app.guarantor_national_id = ""
        app.guarantor_phone = app.guarantor_relationship = ""


def _schedule_terms(terms: dict, *, amount: Decimal, term: int, on: date) -> ScheduleTerms:
    return ScheduleTerms(
        principal=amount,
        installments=term,
        method=terms["method"],
        rate=Decimal(str(terms["rate"])),
        rate_period=terms["rate_period"],
        frequency=terms["frequency"],
        disbursed_on=on,
        principal_grace=terms["principal_grace"],
        interest_grace=terms["interest_grace"],
    )


_SCHEDULE_FIELDS = {"principal": "amount", "installments": "term"}


def _check_schedule_possible(app: LoanApplication, terms: dict | None = None) -> None:
    """The product's terms give a schedule for this amount and term (grace shorter than term)."""
    try:
        schedule_validate(
            _schedule_terms(
                terms or product_terms(app.product),
                amount=amount_of(app.amount),
                term=app.term,
                on=timezone.localdate(),
            )
        )
    except ScheduleError as e:
        raise LoanError(e.message, field=_SCHEDULE_FIELDS.get(e.field, e.field)) from None


def _require_eligible(app: LoanApplication, *, on: date | None = None) -> None:
    result = borrower_eligibility(
        borrower=app.borrower,
        product=app.product,
        amount=amount_of(app.amount),
        term=app.term,
        on=on,
        application=app,
    )
    if not result.eligible:
        raise IneligibleBorrower(result.reasons)


def _event(
    app: LoanApplication, *, action: str, before: str, actor, note: str = "", also=()
) -> None:
    """The application's event and its audit entry; `also`: more audit entries ``(action, obj,
    changes)`` of the same move, written with it in one statement."""
    ApplicationEvent.objects.create(
        application=app,
        action=action,
        from_status=before,
        to_status=app.status,
        actor=_user(actor),
        note=note,
    )
    changes = {"status": [before or None, app.status]}
    if note:
        changes["note"] = [None, note]
    if also:
        audit_record_many(actor=_user(actor), records=[(action, app, changes), *also])
    else:
        audit_record(actor=_user(actor), action=action, obj=app, changes=changes)


def application_create(
    *,
    borrower: Borrower,
    product: LoanProduct,
    amount,
    term: int,
    purpose_kind: str,
    purpose: str,
    security_kind: str,
    planned_jobs: int = 0,
    guarantor_name: str = "",
    guarantor_national_id: str = "",
    guarantor_phone: str = "",
    guarantor_relationship: str = "",
    group_name: str = "",
    actor=None,
) -> LoanApplication:
    """Enter a draft application for a member, by their grassroots union (or above it).

    Refused with every reason when the member is not eligible for this product, amount and term
    (``IneligibleBorrower``); nothing is written then.
    """
    gu = borrower.grassroots_union
    _require_unit(actor, fund_id=borrower.fund_id, grassroots_union=gu, field="borrower")
    app = LoanApplication(
        fund_id=borrower.fund_id,
        borrower=borrower,
        grassroots_union=gu,
        superior_union_id=gu.superior_union_id,
        created_by=_user(actor),
    )
    _clean_application(
        app,
        {
            "product": product,
            "amount": amount,
            "term": term,
            "purpose_kind": purpose_kind,
            "purpose": purpose,
            "planned_jobs": planned_jobs,
            "security_kind": security_kind,
            "guarantor_name": guarantor_name,
            "guarantor_national_id": guarantor_national_id,
            "guarantor_phone": guarantor_phone,
            "guarantor_relationship": guarantor_relationship,
            "group_name": group_name,
        },
    )
    with transaction.atomic():
        Borrower.objects.select_for_update().get(pk=borrower.pk)  # one application at a time
        _require_eligible(app)
        _check_schedule_possible(app)
        _full_clean(app, rows_held=True, validate_constraints=False)
        app.save()
        _event(app, action="create", before="", actor=actor)
    return app


def application_update(*, application: LoanApplication, actor=None, **fields) -> LoanApplication:
    """Change a draft or returned application (the grassroots union's side of the chain)."""
    _require_unit(actor, fund_id=application.fund_id, grassroots_union=application.grassroots_union)
    with transaction.atomic():
        app = _locked(application)
        _require_status(app, (S.DRAFT, S.RETURNED), "sửa")
        before = _snapshot(app, [f + "_id" if f == "product" else f for f in fields])
        _clean_application(app, fields)
        _require_eligible(app)
        _check_schedule_possible(app)
        _full_clean(app, validate_constraints=False)
        changes = _changes(before, app)
        if changes:
            app.save()
            audit_record(actor=_user(actor), action="update", obj=app, changes=changes)
    return app


# --------------------------------------------------------------------------------------------
# Applications: the chain

_ACTION_LABELS = {
    "submit": _("gửi đề nghị"),
    "review": _("thẩm định"),
    "approve": _("phê duyệt"),
    "reject": _("từ chối"),
    "cancel": _("hủy"),
    "disburse": _("giải ngân"),
    "sửa": _("sửa"),
}


_WITH_BORROWER = (
    "borrower__fund",
    "borrower__grassroots_union__superior_union",
    "product",
    "grassroots_union",
)


def _locked(application: LoanApplication, *, related=_WITH_BORROWER) -> LoanApplication:
    # of=("self",): lock the application only, not the product and unions joined to it.
    # Everything the eligibility check reads comes with it, in the same query (`related`: less
    # for a caller that reads the borrower under a lock of its own).
    return (
        LoanApplication.objects.select_for_update(of=("self",))
        .select_related(*related)
        .get(pk=application.pk)
    )


# What a move of the chain writes (the row was read under lock; only these columns change).
_MOVE_FIELDS = ("status", "updated_at")
_DECISION_FIELDS = ("decided_by", "decided_at", "decision_reason")
_REVIEW_FIELDS = ("reviewed_by", "reviewed_at", "review_note")


def _require_status(app: LoanApplication, allowed, action: str) -> None:
    if app.status in allowed:
        return
    extra = ""
    if app.status == S.DISBURSED:
        loan_id = Loan.objects.filter(application=app).values_list("pk", flat=True).first()
        extra = translatable(_(" (khoản vay #%(loan)s)"), {"loan": loan_id})
    raise IllegalTransition(
        _(
            "Không thể %(action)s hồ sơ #%(id)s: hồ sơ đang ở trạng thái '%(status)s'%(loan)s; "
            "chỉ %(action)s được khi hồ sơ %(allowed)s."
        ),
        code="illegal_transition",
        params={
            "action": _ACTION_LABELS.get(action, action),
            "id": app.pk,
            "status": S(app.status).label,
            "loan": extra,
            "allowed": lazy_join(", ", [lazy_lower(S(s).label) for s in allowed]),
        },
    )


def _transition(
    *, name: str, application: LoanApplication, key: str, payload: dict, actor, run: Callable
):
    """Run a move of the chain once per idempotency key, in one transaction."""
    payload = {"application": application.pk, "actor": getattr(_user(actor), "pk", None), **payload}
    # command_once runs the move and records the key in one transaction (a savepoint inside the
    # caller's): no transaction of its own is needed around it.
    return command_once(
        scope=f"loans.{name}",
        key=key,
        payload=payload,
        run=run,
        load=lambda pk: LoanApplication.objects.get(pk=pk),
        result_id=application.pk,  # a move returns the application it moved
    )


def _reason(value, *, field: str = "reason") -> str:
    return _text(value, field=field, label=_("Lý do"), required=True, max_length=500)


def application_submit(
    *, application: LoanApplication, idempotency_key: str, actor=None
) -> LoanApplication:
    """Send a draft (or returned) application to the superior union for review.

    The member must be eligible on the day it is sent.
    """
    _require_unit(actor, fund_id=application.fund_id, grassroots_union=application.grassroots_union)

    def run():
        app = _locked(application)
        _require_status(app, (S.DRAFT, S.RETURNED), "submit")
        if app.borrower.grassroots_union_id != app.grassroots_union_id:
            raise LoanError(
                _("Thành viên đã chuyển sang công đoàn cơ sở khác; hãy hủy hồ sơ này."),
                field="borrower",
            )
        _require_eligible(app)
        before = app.status
        app.status = S.SUBMITTED
        app.superior_union_id = app.grassroots_union.superior_union_id
        app.submitted_by, app.submitted_at = _user(actor), timezone.now()
        app.save(update_fields=[*_MOVE_FIELDS, "superior_union", "submitted_by", "submitted_at"])
        _event(app, action="submit", before=before, actor=actor)
        return app

    return _transition(
        name="application_submit",
        application=application,
        key=idempotency_key,
        payload={},
        actor=actor,
        run=run,
    )


REVIEW_DECISIONS = ("approve", "return", "reject")


def _require_reviewer(actor, app: LoanApplication) -> None:
    scope = _actor_scope(actor)
    if scope is None:
        return
    _require_write(scope)
    if scope.fund_id != app.fund_id:
        raise PermissionRefused(_("Bạn không thuộc quỹ này."), field="actor", code="other_fund")
    if scope.role == Role.FUND_OFFICER:
        return
    if scope.role == Role.SUPERIOR_OFFICER and scope.superior_union_id == app.superior_union_id:
        return
    raise PermissionRefused(
        _("Chỉ công đoàn cấp trên trực tiếp của công đoàn cơ sở (hoặc cán bộ quỹ) được thẩm định."),
        field="actor",
        code="reviewer_only",
    )


def application_review(
    *,
    application: LoanApplication,
    decision: str,
    idempotency_key: str,
    note: str = "",
    actor=None,
) -> LoanApplication:
    """The superior union's review of a submitted application: approve (send it on to the fund),
    return (back to the grassroots union to complete) or reject (a reason is required)."""
    if decision not in REVIEW_DECISIONS:
        raise LoanError(
            _("Ý kiến thẩm định phải là một trong %(choices)s."),
            field="decision",
            params={"choices": ", ".join(REVIEW_DECISIONS)},
        )
    if decision in ("return", "reject"):
        note = _reason(note, field="note")
    else:
        note = _text(note, field="note", label=_("Ý kiến thẩm định"), max_length=500)
    _require_reviewer(actor, application)

    def run():
        app = _locked(application)
        _require_status(app, (S.SUBMITTED,), "review")
        before = app.status
        now = timezone.now()
        if decision == "approve":
            _require_eligible(app)
            app.status = S.REVIEWED
        elif decision == "return":
            app.status = S.RETURNED
        else:
            app.status = S.REJECTED
            app.decided_by, app.decided_at, app.decision_reason = _user(actor), now, note
        app.reviewed_by, app.reviewed_at, app.review_note = _user(actor), now, note
        app.save(update_fields=[*_MOVE_FIELDS, *_DECISION_FIELDS, *_REVIEW_FIELDS])
        _event(app, action=f"review_{decision}", before=before, actor=actor, note=note)
        return app

    return _transition(
        name="application_review",
        application=application,
        key=idempotency_key,
        payload={"decision": decision, "note": note},
        actor=actor,
        run=run,
    )


def application_approve(
    *, application: LoanApplication, idempotency_key: str, actor
) -> LoanApplication:
    """The fund's approval of a reviewed application, by a fund officer who did not enter,
    submit or review it (maker-checker).

    The product's terms are copied onto the application now (the loan keeps them whatever later
    happens to the product) and the amount is held as a capital commitment
    (``application:<id>``) until disbursement, rejection or cancellation.
    """
    if _user(actor) is None:
        raise MakerChecker(_("Phê duyệt phải do một cán bộ quỹ thực hiện."))
    scope = _actor_scope(actor)
    if scope is not None:
        _require_approver(scope)
        if scope.fund_id != application.fund_id:
            raise PermissionRefused(_("Bạn không thuộc quỹ này."), field="actor", code="other_fund")

    def run():
        app = _locked(application)
        _require_status(app, (S.REVIEWED,), "approve")
        for who, refusal in (
            (
                app.created_by_id,
                _("Người lập hồ sơ không được tự phê duyệt; cần một cán bộ quỹ khác."),
            ),
            (
                app.submitted_by_id,
                _("Người gửi đề nghị hồ sơ không được tự phê duyệt; cần một cán bộ quỹ khác."),
            ),
            (
                app.reviewed_by_id,
                _("Người thẩm định hồ sơ không được tự phê duyệt; cần một cán bộ quỹ khác."),
            ),
        ):
            if who == actor.pk:
                raise MakerChecker(refusal)
        _require_eligible(app)
        terms = product_terms(app.product)
        _check_schedule_possible(app, terms)
        before = app.status
        app.status = S.APPROVED
        app.terms = terms
        app.approved_by, app.approved_at = actor, timezone.now()
        app.save(update_fields=[*_MOVE_FIELDS, "terms", "approved_by", "approved_at"])
        # The fund and superior union usually came with the lock (through the borrower's union).
        fund = app.borrower.fund if app.borrower.fund_id == app.fund_id else app.fund
        su = app.borrower.grassroots_union.superior_union
        if su is None or su.pk != app.superior_union_id:
            su = app.superior_union
        capital_commitment_create(
            fund=fund,
            reference=app.commitment_reference,
            amount=amount_of(app.amount),
            superior_union=su,
            actor=_user(actor),
        )
        _event(app, action="approve", before=before, actor=actor)
        return app

    return _transition(
        name="application_approve",
        application=application,
        key=idempotency_key,
        payload={},
        actor=actor,
        run=run,
    )


def application_reject(
    *, application: LoanApplication, reason: str, idempotency_key: str, actor=None
) -> LoanApplication:
    """Refuse an application for good, keeping the reason and who decided.

    From ``submitted`` by the reviewing superior union (or the fund); from ``reviewed`` or
    ``approved`` by a fund officer (an approved application's capital commitment is released).
    """
    reason = _reason(reason)
    scope = _actor_scope(actor)

    def run():
        app = _locked(application)
        _require_status(app, (S.SUBMITTED, S.REVIEWED, S.APPROVED), "reject")
        if app.status == S.SUBMITTED:
            _require_reviewer(actor, app)
        elif scope is not None:
            _require_fund_officer(actor, fund_id=app.fund_id)
        before = app.status
        app.status = S.REJECTED
        app.decided_by, app.decided_at, app.decision_reason = _user(actor), timezone.now(), reason
        app.save(update_fields=[*_MOVE_FIELDS, *_DECISION_FIELDS])
        capital_commitment_release(reference=app.commitment_reference, actor=_user(actor))
        _event(app, action="reject", before=before, actor=actor, note=reason)
        return app

    if scope is not None:
        _require_write(scope)
    return _transition(
        name="application_reject",
        application=application,
        key=idempotency_key,
        payload={"reason": reason},
        actor=actor,
        run=run,
    )


def application_cancel(
    *, application: LoanApplication, reason: str, idempotency_key: str, actor=None
) -> LoanApplication:
    """Withdraw an application before disbursement (the member no longer needs the loan…),
    keeping the reason and who decided. Before approval the proposing union may cancel; once
    approved only a fund officer, and the capital commitment is released."""
    reason = _reason(reason)
    _require_unit(actor, fund_id=application.fund_id, grassroots_union=application.grassroots_union)

    def run():
        app = _locked(application)
        _require_status(app, LoanApplication.OPEN_STATUSES, "cancel")
        if app.status == S.APPROVED:
            _require_fund_officer(actor, fund_id=app.fund_id)
        before = app.status
        app.status = S.CANCELLED
        app.decided_by, app.decided_at, app.decision_reason = _user(actor), timezone.now(), reason
        app.save(update_fields=[*_MOVE_FIELDS, *_DECISION_FIELDS])
        capital_commitment_release(reference=app.commitment_reference, actor=_user(actor))
        _event(app, action="cancel", before=before, actor=actor, note=reason)
        return app

    return _transition(
        name="application_cancel",
        application=application,
        key=idempotency_key,
        payload={"reason": reason},
        actor=actor,
        run=run,
    )


# --------------------------------------------------------------------------------------------
# Disbursement


def savings_withheld(*, amount: Decimal, terms: dict) -> Decimal:
    """Compulsory savings kept back at disbursement: ``amount × %`` to the đồng (half up) when
    the terms say so, else 0."""
    if terms["savings_kind"] != SavingsKind.PERCENT_OF_LOAN:
        return Decimal(0)
    pct = Decimal(str(terms["savings_percent"]))
    return (amount * pct / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)


def loan_disburse(
    *,
    application: LoanApplication,
    disbursed_on: date,
    idempotency_key: str,
    actor=None,
    cash_account: str = "1121",
) -> Loan:
    """Turn an approved application into a loan: the schedule, the ledger entry, the loan book.

    In one transaction, under the fund's capital lock (so that concurrent disbursements are
    checked one after the other): the capital available (the application's own commitment
    counting as available) and the member's limit on outstanding principal must cover the
    amount; the loan is created with the approved terms and the unions as of the disbursement
    date; its schedule is stored; the entry Dr 1283 (``loan:<id>``) / Cr 1121 (and Cr 33881,
    ``borrower:<id>``, for savings withheld) is posted with the fund and unions on every leg;
    the commitment is released. An application is disbursed at most once, whatever the retries
    or concurrent requests: the same key returns the same loan, another key is refused.
    """
    return loan_disburse_many(
        applications=[application],
        disbursed_on=disbursed_on,
        idempotency_keys=[idempotency_key],
        actor=actor,
        cash_account=cash_account,
    )[0]


def loan_disburse_many(
    *,
    applications: list[LoanApplication],
    disbursed_on: date,
    idempotency_keys: list[str],
    actor=None,
    cash_account: str = "1121",
) -> list[Loan]:
    """``loan_disburse`` for several applications paid out on the same date (a union's loans of
    the day), in one transaction: all of them or, at the first refusal, none.

    Each application is disbursed exactly as ``loan_disburse`` does it, once per its own key;
    the fund is locked once and the ledger's capital figures are read once, then advanced by
    each loan as it is posted (``fund.services.CapitalLedger``), so that every check sees what
    a fresh read would.
    """
    disbursed_on = _date(disbursed_on, field="disbursed_on", label=_("Ngày giải ngân"))
    # An earlier date is accepted: the date is the business date of the payment voucher, and a
    # loan book taken over from paper is entered after the fact (the ledger still refuses a
    # closed period).
    if disbursed_on > timezone.localdate():
        raise LoanError(_("Ngày giải ngân không được sau ngày hôm nay."), field="disbursed_on")
    if cash_account not in CASH_ACCOUNTS:
        raise LoanError(
            _("Tài khoản chi giải ngân phải là tiền gửi hoặc tiền mặt."), field="cash_account"
        )
    if len(applications) != len(idempotency_keys):
        raise LoanError(_("Mỗi hồ sơ cần một khóa chống trùng."), field="idempotency_keys")
    scope = _actor_scope(actor)
    if scope is not None:
        _require_write(scope)
        for application in applications:
            _require_fund_officer(actor, fund_id=application.fund_id)
    ledgers: dict[int, CapitalLedger] = {}  # fund id -> figures, under the fund's lock

    def disburse_all():
        loans = []
        for application, key in zip(applications, idempotency_keys, strict=True):
            try:
                loans.append(
                    _disburse_once(
                        application=application,
                        disbursed_on=disbursed_on,
                        idempotency_key=key,
                        actor=actor,
                        cash_account=cash_account,
                        ledgers=ledgers,
                    )
                )
            except ApplicationError as e:
                e.application_id = application.pk  # which one of the batch was refused
                raise
        return loans

    if len(applications) == 1:
        return disburse_all()  # command_once's own transaction is the whole of it
    with transaction.atomic():
        return disburse_all()


def _disburse_once(
    *, application, disbursed_on, idempotency_key, actor, cash_account, ledgers
) -> Loan:
    def run():
        ledger = ledgers.get(application.fund_id)
        if ledger is None:
            fund = fund_capital_lock(fund_id=application.fund_id)
            ledger = ledgers[fund.pk] = CapitalLedger(fund=fund)
        fund = ledger.fund
        app = _locked(application, related=("product", "grassroots_union"))
        _require_status(app, (S.APPROVED,), "disburse")
        borrower = (
            Borrower.objects.select_for_update(of=("self",))
            .select_related("fund", "grassroots_union__superior_union")
            .get(pk=app.borrower_id)
        )
        app.borrower = borrower  # the copy read under the lock (the audit entry names them)
        amount = amount_of(app.amount)
        eligibility = borrower_eligibility(
            borrower=borrower,
            product=app.product,
            amount=amount,
            term=app.term,
            on=disbursed_on,
            application=app,
            at_disbursement=True,
        )
        if not eligibility.eligible:
            raise IneligibleBorrower(eligibility.reasons)
        gu = app.grassroots_union
        su = superior_union_on(grassroots_union=gu, on=disbursed_on) or gu.superior_union
        capital_check(
            fund=fund,
            amount=amount,
            superior_union=su,
            releasing_reference=app.commitment_reference,
            ledger=ledger,
        )
        # The eligibility check read the borrower's outstanding principal under the same locks.
        _check_borrower_limit(
            borrower=borrower, fund=fund, amount=amount, outstanding=eligibility.outstanding
        )
        loan = _loan_create(app=app, borrower=borrower, su=su, on=disbursed_on, actor=actor)
        _loan_post(loan=loan, borrower=borrower, cash_account=cash_account, actor=actor)
        ledger.lent(amount=amount, superior_union_id=loan.superior_union_id)
        capital_commitment_release(reference=app.commitment_reference, actor=_user(actor))
        before = app.status
        app.status = S.DISBURSED
        app.save(update_fields=["status", "updated_at"])
        loan_changes = {
            "principal": [None, str(amount)],
            "disbursed_on": [None, disbursed_on.isoformat()],
            "journal_entry": [None, loan.disbursement_entry_id],
        }
        _event(
            app,
            action="disburse",
            before=before,
            actor=actor,
            note=f"Khoản vay #{loan.pk}",
            also=[("disburse", loan, loan_changes)],
        )
        return loan

    payload = {
        "application": application.pk,
        "disbursed_on": disbursed_on.isoformat(),
        "cash_account": cash_account,
        "actor": getattr(_user(actor), "pk", None),
    }
    return command_once(
        scope="loans.loan_disburse",
        key=idempotency_key,
        payload=payload,
        run=run,
        load=lambda pk: Loan.objects.get(pk=pk),
    )


def _check_borrower_limit(
    *, borrower: Borrower, fund: Fund, amount: Decimal, outstanding: Decimal | None = None
) -> None:
    if outstanding is None:
        outstanding = Loan.objects.filter(borrower=borrower, status=LoanStatus.ACTIVE).aggregate(
            s=Sum("outstanding_principal")
        )["s"] or Decimal(0)
    limit = amount_of(fund.borrower_outstanding_limit)
    if outstanding + amount > limit:
        raise BorrowerLimitExceeded(
            _(
                "Dư nợ của %(borrower)s đang là %(outstanding)s; thêm %(amount)s sẽ vượt mức "
                "tối đa %(limit)s mỗi thành viên."
            ),
            params={
                "borrower": borrower.full_name,
                "outstanding": format_vnd(outstanding),
                "amount": format_vnd(amount),
                "limit": format_vnd(limit),
            },
        )


def _loan_create(*, app: LoanApplication, borrower: Borrower, su, on: date, actor) -> Loan:
    terms = app.terms
    amount = amount_of(app.amount)
    rows = schedule_generate(_schedule_terms(terms, amount=amount, term=app.term, on=on))
    loan = Loan(
        fund_id=app.fund_id,
        application=app,
        borrower=borrower,
        product_id=app.product_id,
        grassroots_union_id=app.grassroots_union_id,
        superior_union=su,
        principal=amount,
        disbursed_on=on,
        maturity_date=rows[-1].due_date,
        term=app.term,
        rate=Decimal(terms["rate"]),
        rate_period=terms["rate_period"],
        method=terms["method"],
        frequency=terms["frequency"],
        principal_grace=terms["principal_grace"],
        interest_grace=terms["interest_grace"],
        penalty_rate=Decimal(terms["penalty_rate"]),
        penalty_rate_period=terms["penalty_rate_period"],
        savings_kind=terms["savings_kind"],
        savings_percent=Decimal(terms["savings_percent"]),
        savings_amount=Decimal(terms["savings_amount"]),
        allocation_order=terms["allocation_order"],
        debt_groups=terms["debt_groups"],
        purpose_kind=app.purpose_kind,
        planned_jobs=app.planned_jobs,
        savings_withheld=savings_withheld(amount=amount, terms=terms),
        outstanding_principal=amount,
        disbursed_by=_user(actor),
    )
    loan.save()
    per_installment = (
        Decimal(terms["savings_amount"])
        if terms["savings_kind"] == SavingsKind.FIXED_PER_INSTALLMENT
        else Decimal(0)
    )
    _rows_insert(
        Installment,
        [
            {
                "loan_id": loan.pk,
                "number": r.number,
                "due_date": r.due_date,
                "principal_due": r.principal,
                "interest_due": r.interest,
                "savings_due": per_installment,
                "balance_after": r.balance_after,
            }
            for r in rows
        ],
    )
    return loan


def _rows_insert(model, rows: list) -> None:
    """``INSERT`` the rows as one prepared statement run for all rows, without reading their ids
    back. A row is ``{attname: value}`` (a field not named takes its default): no model
    instance to build (a money field's value is a new ``Money`` at each read); instances are
    taken too, their values through each field's ``pre_save`` (``auto_now_add``). Not
    ``bulk_create``, which compiles every value of every row through the query compiler (for a
    schedule's money columns more than the insert itself costs). Values go through each field's
    own preparation, as ``save()`` would; database constraints apply as usual."""
    if not rows:
        return
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    names = [f.attname for f in fields]
    defaults = {f.attname: f.get_default() for f in fields}
    conn = connections[router.db_for_write(model)]
    qn = conn.ops.quote_name
    sql = (
        f"INSERT INTO {qn(meta.db_table)} ("
        + ", ".join(qn(f.column) for f in fields)
        + ") VALUES ("
        + ", ".join(["%s"] * len(fields))
        + ")"
    )

    def values(row) -> list:
        if isinstance(row, models.Model):  # pre_save: auto_now_add and the like, as save()
            return [f.pre_save(row, True) for f in fields]
        unknown = row.keys() - defaults.keys()
        if unknown:
            raise ValueError(f"{meta.label} has no field {', '.join(sorted(unknown))}")
        return [row[name] if name in row else defaults[name] for name in names]

    params = [
        [_db_value(f, v, conn) for f, v in zip(fields, values(row), strict=True)] for row in rows
    ]
    with conn.cursor() as cursor:
        cursor.executemany(sql, params)


def _db_value(field, value, conn):
    """`value` as ``save()`` would send it for `field`. Plain ints, strings and None go as they
    are (every field's preparation returns them unchanged); a money amount as its decimal
    (what the money field's preparation does first); a choices member (a str subclass) as its
    plain value, as Django's compiler does."""
    kind = type(value)
    if kind is int or kind is str or value is None:
        return value
    if isinstance(value, Money):
        value = value.amount
    if type(value) is Decimal and isinstance(field, models.DecimalField):
        value = models.DecimalField.get_db_prep_save(field, value, conn)
    else:
        value = field.get_db_prep_save(value, conn)
    return str(value) if isinstance(value, str) and type(value) is not str else value


def _loan_post(*, loan: Loan, borrower: Borrower, cash_account: str, actor) -> None:
    amount = amount_of(loan.principal)
    savings = amount_of(loan.savings_withheld)
    dims = {
        "fund_id": loan.fund_id,
        "superior_union_id": loan.superior_union_id,
        "grassroots_union_id": loan.grassroots_union_id,
    }
    legs = [
        debit(LOANS_ACCOUNT, amount, subledger=loan.subledger, **dims),
        credit(cash_account, amount - savings, subledger=loan.subledger, **dims),
    ]
    if savings:
        legs.append(credit(SAVINGS_ACCOUNT, savings, subledger=f"borrower:{borrower.pk}", **dims))
    entry = journal_entry_post(
        effective_date=loan.disbursed_on,
        legs=legs,
        memo=(
            f"Giải ngân khoản vay #{loan.pk} (hồ sơ #{loan.application_id}) cho "
            f"{borrower.full_name}, CCCD {borrower.national_id}"
        )[:500],
        # One entry per application, whatever key the caller used: a second disbursement of the
        # same application could not post even if every other guard failed.
        idempotency_key=f"loans.disbursement:application:{loan.application_id}",
        posted_by=_user(actor),
        document_type="loan_disbursement",
        document_id=str(loan.pk),
    )
    loan.disbursement_entry = entry
    loan.save(update_fields=["disbursement_entry"])
    LoanTransaction.objects.create(
        loan=loan,
        kind=LoanTransaction.Kind.DISBURSEMENT,
        effective_date=loan.disbursed_on,
        principal_change=amount,
        savings=savings,
        journal_entry=entry,
        created_by=_user(actor),
    )


# --------------------------------------------------------------------------------------------
# Follow-up visits


def followup_visit_record(
    *,
    loan: Loan,
    visited_on: date,
    purpose_verified: bool,
    jobs_confirmed: int,
    note: str = "",
    actor=None,
    recall_idempotency_key: str | None = None,
    idempotency_key: str | None = None,
) -> FollowUpVisit:
    """Record a visit after disbursement: whether the money went to the stated purpose and how
    many new jobs it confirms (in addition to earlier visits).

    A visit that finds the purpose not verified can recall the loan at once
    (`recall_idempotency_key` given): ``loans.restructuring.decisions.loan_recall`` on the visit's
    date, in
    the same transaction (a fund officer's decision: refused for other roles, and then the visit
    is not recorded either).

    With `idempotency_key` (the web form's), the same request under the same key records the
    visit once and returns it again; another request under that key is refused.
    """
    _require_unit(actor, fund_id=loan.fund_id, grassroots_union=loan.grassroots_union)
    visited_on = _date(visited_on, field="visited_on", label=_("Ngày kiểm tra"))
    if visited_on < loan.disbursed_on or visited_on > timezone.localdate():
        raise LoanError(_("Ngày kiểm tra phải từ ngày giải ngân đến hôm nay."), field="visited_on")
    if not isinstance(purpose_verified, bool):
        raise LoanError(
            _("Kết quả kiểm tra mục đích phải là có hoặc không."), field="purpose_verified"
        )
    jobs = _count(
        jobs_confirmed,
        field="jobs_confirmed",
        label=_("Số việc làm xác nhận"),
        maximum=MAX_PLANNED_JOBS,
    )
    note = _text(note, field="note", label=_("Ghi chú"), max_length=500)
    values = {
        "loan": loan,
        "visited_on": visited_on,
        "purpose_verified": purpose_verified,
        "jobs": jobs,
        "note": note,
        "actor": actor,
        "recall_idempotency_key": recall_idempotency_key,
    }
    if idempotency_key is None:
        return _visit_record(**values)
    with transaction.atomic():
        return command_once(
            scope="loans.followup_visit_record",
            key=idempotency_key,
            payload={
                "loan": loan.pk,
                "visited_on": visited_on.isoformat(),
                "purpose_verified": purpose_verified,
                "jobs_confirmed": jobs,
                "note": note,
                "recall": recall_idempotency_key,
                "actor": getattr(_user(actor), "pk", None),
            },
            run=lambda: _visit_record(**values),
            load=lambda pk: FollowUpVisit.objects.get(pk=pk),
        )


def _visit_record(
    *, loan, visited_on, purpose_verified, jobs, note, actor, recall_idempotency_key
) -> FollowUpVisit:
    with transaction.atomic():
        visit = FollowUpVisit(
            loan=loan,
            visited_on=visited_on,
            purpose_verified=purpose_verified,
            jobs_confirmed=jobs,
            note=note,
            visited_by=_user(actor),
        )
        _full_clean(visit, rows_held=True)
        visit.save()
        audit_record(
            actor=_user(actor),
            action="followup",
            obj=loan,
            changes={
                "visited_on": [None, visited_on.isoformat()],
                "purpose_verified": [None, purpose_verified],
                "jobs_confirmed": [None, jobs],
            },
        )
        if recall_idempotency_key is not None and not purpose_verified:
            from loans.restructuring.decisions import (
                loan_recall,  # restructuring builds on this module
            )

            loan_recall(
                loan=loan,
                recalled_on=visited_on,
                reason=("Sử dụng vốn sai mục đích" + (f": {note}" if note else ""))[:500],
                idempotency_key=recall_idempotency_key,
                actor=actor,
                visit=visit,
            )
    return visit
