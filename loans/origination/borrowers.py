"""Borrowers: registration, changes and transfers between grassroots unions (the CCCD checked
and unique)."""

from __future__ import annotations

from datetime import date

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from accounting.dates import business_today
from fund.audit import audit_changes, audit_record, audit_snapshot
from fund.models import Fund, GrassrootsUnion
from fund.scoping import actor_user
from fund.services import (
    dated_history_advance,
)
from loans.errors import (
    LoanError,
)
from loans.models import (
    Borrower,
    BorrowerMembership,
    HouseholdStatus,
    LoanApplication,
    Sex,
)
from loans.origination.cccd import CCCDInvalid, cccd_validate
from loans.policy import require_unit
from loans.validation import (
    clean_choice,
    clean_date,
    clean_phone,
    clean_text,
    full_clean,
    refuse_unknown_fields,
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
    refuse_unknown_fields(out, BORROWER_FIELDS)
    if "full_name" in out:
        out["full_name"] = clean_text(
            out["full_name"], field="full_name", label=_("Họ và tên"), required=True
        )
    if "date_of_birth" in out:
        dob = clean_date(out["date_of_birth"], field="date_of_birth", label=_("Ngày sinh"))
        if dob > today:
            raise LoanError(_("Ngày sinh không được sau ngày hôm nay."), field="date_of_birth")
    if "sex" in out:
        clean_choice(out["sex"], Sex, field="sex", label=_("Giới tính"))
    if "household_status" in out:
        clean_choice(
            out["household_status"],
            HouseholdStatus,
            field="household_status",
            label=_("Hoàn cảnh hộ"),
        )
    if "phone" in out:
        out["phone"] = clean_phone(out["phone"], field="phone", label=_("Điện thoại"))
    for f, label, length in (
        ("address", _("Địa chỉ"), 255),
        ("certificate_number", _("Số giấy chứng nhận hộ"), 64),
    ):
        if f in out:
            out[f] = clean_text(out[f], field=f, label=label, max_length=length)
    if "notes" in out:
        out["notes"] = clean_text(out["notes"], field="notes", label=_("Ghi chú"), max_length=5000)
    for f, label in (
        ("certificate_date", _("Ngày cấp giấy chứng nhận")),
        ("certificate_valid_to", _("Ngày hết hiệu lực giấy chứng nhận")),
    ):
        if f in out:
            out[f] = clean_date(out[f], field=f, label=label, required=False)
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
    require_unit(actor, fund_id=fund.pk, grassroots_union=grassroots_union)
    today = business_today()
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
    since = clean_date(
        member_since or today, field="member_since", label=_("Ngày bắt đầu sinh hoạt")
    )
    borrower = Borrower(fund=fund, grassroots_union=grassroots_union, **values)
    _check_borrower_consistency(borrower)
    with transaction.atomic():
        _check_cccd_free(borrower)
        full_clean(borrower, validate_unique=False, validate_constraints=False)
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
            actor=actor_user(actor),
            action="create",
            obj=borrower,
            changes={k: [None, v] for k, v in audit_snapshot(borrower, BORROWER_FIELDS).items()},
        )
    return borrower


def borrower_update(*, borrower: Borrower, actor=None, **fields) -> Borrower:
    """Change a borrower's details (not their union: see `borrower_transfer`)."""
    require_unit(actor, fund_id=borrower.fund_id, grassroots_union=borrower.grassroots_union)
    values = _clean_borrower_fields(fields, today=business_today())
    with transaction.atomic():
        b = Borrower.objects.select_for_update().get(pk=borrower.pk)
        before = audit_snapshot(b, BORROWER_FIELDS)
        for f, v in values.items():
            setattr(b, f, v)
        _check_borrower_consistency(b)
        _check_cccd_free(b)
        full_clean(b, validate_unique=False, validate_constraints=False)
        changes = audit_changes(before, b)
        if changes:
            b.save()
            audit_record(actor=actor_user(actor), action="update", obj=b, changes=changes)
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
    effective_date = clean_date(effective_date, field="effective_date", label=_("Ngày chuyển"))
    if grassroots_union.fund_id != borrower.fund_id:
        raise LoanError(_("Công đoàn cơ sở mới thuộc quỹ khác."), field="grassroots_union")
    require_unit(actor, fund_id=borrower.fund_id, grassroots_union=borrower.grassroots_union)
    require_unit(actor, fund_id=borrower.fund_id, grassroots_union=grassroots_union)
    if effective_date > business_today():
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
            actor=actor_user(actor),
            action="transfer",
            obj=b,
            changes={
                "grassroots_union_id": [old, grassroots_union.pk],
                "effective_date": [None, effective_date.isoformat()],
            },
        )
    return b
