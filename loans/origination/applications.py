"""Loan applications along the approval chain.

Every service takes keyword-only arguments, validates the whole request before it writes, runs
in one transaction and records what it changed in the audit log. Moves of an application along
the approval chain (``application_submit`` … ``loan_disburse``) run once per idempotency key
(``accounting.idempotency.command_once``): a retry with the same request returns the first
result, the same key with another request is refused.

An approval always needs a person, who must not be the one who entered the application
(maker-checker).

The chain::

    draft ──submit──▶ submitted ──review: approve──▶ reviewed ──approve──▶ approved ──▶ disbursed
      ▲                  │  └──review: return──▶ returned ──submit──┘         │
      └──── update ──────┘          (reject from submitted or reviewed; cancel before disbursed)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounting.dates import business_today, value_date_check
from accounting.errors import lazy_join, lazy_lower, translatable
from accounting.idempotency import command_once
from accounting.money import amount_of
from fund.audit import audit_changes, audit_record, audit_record_many, audit_snapshot
from fund.calendar import days_off_between
from fund.errors import PermissionRefused
from fund.models import Role
from fund.scoping import (
    actor_require_fund_officer,
    actor_scope,
    actor_user,
    actor_user_id,
    scope_require_approver,
    scope_require_write,
)
from fund.services import (
    capital_commitment_create,
    capital_commitment_release,
)
from fund.validation import backdate_reason_clean
from loans.documents.services import application_documents_require
from loans.errors import (
    IllegalTransition,
    IneligibleBorrower,
    LoanError,
    MakerChecker,
)
from loans.models import (
    ApplicationEvent,
    ApplicationStatus,
    Borrower,
    Loan,
    LoanApplication,
    LoanProduct,
    PurposeKind,
    SecurityKind,
)
from loans.origination.cccd import CCCDInvalid, cccd_validate
from loans.origination.eligibility import borrower_eligibility
from loans.origination.products import product_terms
from loans.policy import require_unit
from loans.schedules import (
    DayOffRule,
    Installment,
    ScheduleError,
    ScheduleTerms,
    due_dates_span_end,
    schedule_generate,
    schedule_validate,
)
from loans.validation import (
    clean_choice,
    clean_count,
    clean_phone,
    clean_positive_dong,
    clean_reason,
    clean_text,
    full_clean,
    refuse_unknown_fields,
)

S = ApplicationStatus

MAX_PLANNED_JOBS = 1000

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
    refuse_unknown_fields(fields, APPLICATION_FIELDS)
    for f, v in fields.items():
        if f == "product":
            # The product as stored now, whatever copy the caller holds.
            v = LoanProduct.objects.get(pk=v.pk)
        elif f == "amount":
            v = clean_positive_dong(v, field="amount", label=_("Số tiền vay"))
        elif f == "term":
            v = clean_count(
                v, field="term", label=_("Thời hạn vay (số kỳ)"), minimum=1, maximum=600
            )
        elif f == "planned_jobs":
            v = clean_count(
                v,
                field="planned_jobs",
                label=_("Số việc làm mới dự kiến"),
                maximum=MAX_PLANNED_JOBS,
            )
        elif f == "purpose_kind":
            clean_choice(v, PurposeKind, field=f, label=_("Lĩnh vực sử dụng vốn"))
        elif f == "security_kind":
            clean_choice(v, SecurityKind, field=f, label=_("Hình thức bảo đảm"))
        elif f == "purpose":
            v = clean_text(
                v, field=f, label=_("Mục đích sử dụng vốn"), required=True, max_length=500
            )
        elif f == "guarantor_phone":
            v = clean_phone(v, field=f, label=_("Điện thoại người bảo lãnh"))
        elif f != "product":
            v = clean_text(v, field=f, label=LoanApplication._meta.get_field(f).verbose_name)
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


def application_schedule_terms(
    terms: dict, *, amount: Decimal, term: int, on: date, fund_id: int | None = None
) -> ScheduleTerms:
    """The schedule terms of an application's `terms`; with `fund_id`, its due dates follow the
    fund's working days by the product's rule (terms approved before the rule existed keep
    their dates)."""
    rule = DayOffRule(terms.get("day_off_rule", DayOffRule.KEEP))
    days_off = frozenset()
    if fund_id is not None and rule is not DayOffRule.KEEP:
        end = due_dates_span_end(start=on, count=term, frequency=terms["frequency"])
        days_off = days_off_between(fund_id, on, end)
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
        day_off_rule=rule,
        days_off=days_off,
    )


def application_schedule_preview(app: LoanApplication, *, on: date) -> list[Installment]:
    """The schedule the loan would have if disbursed on `on`: the approved terms (before the
    approval, the product's current ones), the amount and term asked for, due dates moved off
    the fund's days off by the product's rule, exactly as the disbursement will compute it.
    Raises ``ScheduleError`` for terms that give no schedule."""
    terms = app.terms or product_terms(app.product)
    return schedule_generate(
        application_schedule_terms(
            terms, amount=amount_of(app.amount), term=app.term, on=on, fund_id=app.fund_id
        )
    )


_SCHEDULE_FIELDS = {"principal": "amount", "installments": "term"}


def _check_schedule_possible(app: LoanApplication, terms: dict | None = None) -> None:
    """The product's terms give a schedule for this amount and term (grace shorter than term)."""
    try:
        schedule_validate(
            application_schedule_terms(
                terms or product_terms(app.product),
                amount=amount_of(app.amount),
                term=app.term,
                on=business_today(),
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


def application_event(
    app: LoanApplication,
    *,
    action: str,
    before: str,
    actor,
    note: str = "",
    also=(),
    backdated: str = "",
) -> None:
    """The application's event and its audit entry; `also`: more audit entries ``(action, obj,
    changes)`` of the same move, written with it in one statement; `backdated`: the reason of a
    decision dated before the fund's open window (flagged in the audit entry)."""
    ApplicationEvent.objects.create(
        application=app,
        action=action,
        from_status=before,
        to_status=app.status,
        actor=actor_user(actor),
        note=note,
    )
    changes = {"status": [before or None, app.status]}
    if note:
        changes["note"] = [None, note]
    if backdated:
        changes["backdated_reason"] = [None, backdated]
    if also:
        audit_record_many(actor=actor_user(actor), records=[(action, app, changes), *also])
    else:
        audit_record(actor=actor_user(actor), action=action, obj=app, changes=changes)


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
    require_unit(actor, fund_id=borrower.fund_id, grassroots_union=gu, field="borrower")
    app = LoanApplication(
        fund_id=borrower.fund_id,
        borrower=borrower,
        grassroots_union=gu,
        superior_union_id=gu.superior_union_id,
        created_by=actor_user(actor),
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
        full_clean(app, rows_held=True, validate_constraints=False)
        app.save()
        application_event(app, action="create", before="", actor=actor)
    return app


def application_update(*, application: LoanApplication, actor=None, **fields) -> LoanApplication:
    """Change a draft or returned application (the grassroots union's side of the chain)."""
    require_unit(actor, fund_id=application.fund_id, grassroots_union=application.grassroots_union)
    with transaction.atomic():
        app = application_lock(application)
        application_require_status(app, (S.DRAFT, S.RETURNED), "sửa")
        before = audit_snapshot(app, [f + "_id" if f == "product" else f for f in fields])
        _clean_application(app, fields)
        _require_eligible(app)
        _check_schedule_possible(app)
        full_clean(app, validate_constraints=False)
        changes = audit_changes(before, app)
        if changes:
            app.save()
            audit_record(actor=actor_user(actor), action="update", obj=app, changes=changes)
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


def application_lock(application: LoanApplication, *, related=_WITH_BORROWER) -> LoanApplication:
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

_DECISION_FIELDS = ("decided_by", "decided_at", "decided_on", "decision_reason")

_REVIEW_FIELDS = ("reviewed_by", "reviewed_at", "reviewed_on", "review_note")


def application_require_status(app: LoanApplication, allowed, action: str) -> None:
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
    payload = {
        "application": application.pk,
        "actor": actor_user_id(actor),
        **payload,
    }
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


def _require_planned_jobs(app: LoanApplication) -> None:
    """A job-creation product lends to create jobs: its application plans at least one. A draft
    may still say 0 while it is being written; it cannot be sent so."""
    if app.product.creates_jobs and app.planned_jobs < 1:
        raise LoanError(
            _("Sản phẩm cho vay tạo việc làm: phải dự kiến ít nhất một việc làm mới."),
            field="planned_jobs",
        )


def application_submit(
    *, application: LoanApplication, idempotency_key: str, actor=None
) -> LoanApplication:
    """Send a draft (or returned) application to the superior union for review.

    The member must be eligible on the day it is sent.
    """
    require_unit(actor, fund_id=application.fund_id, grassroots_union=application.grassroots_union)

    def run():
        app = application_lock(application)
        application_require_status(app, (S.DRAFT, S.RETURNED), "submit")
        if app.borrower.grassroots_union_id != app.grassroots_union_id:
            raise LoanError(
                _("Thành viên đã chuyển sang công đoàn cơ sở khác; hãy hủy hồ sơ này."),
                field="borrower",
            )
        _require_eligible(app)
        _require_planned_jobs(app)
        before = app.status
        app.status = S.SUBMITTED
        app.superior_union_id = app.grassroots_union.superior_union_id
        app.submitted_by, app.submitted_at = actor_user(actor), timezone.now()
        app.save(update_fields=[*_MOVE_FIELDS, "superior_union", "submitted_by", "submitted_at"])
        application_event(app, action="submit", before=before, actor=actor)
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
    scope = actor_scope(actor)
    if scope is None:
        return
    scope_require_write(scope, field="actor")
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
    decided_on: date | None = None,
    backdate_reason: str = "",
) -> LoanApplication:
    """The superior union's review of a submitted application: approve (send it on to the fund),
    return (back to the grassroots union to complete) or reject (a reason is required).

    `decided_on`, the review's business date, is today unless given; never after today; before
    the fund's open window only with `backdate_reason` (``decision_backdate``)."""
    if decision not in REVIEW_DECISIONS:
        raise LoanError(
            _("Ý kiến thẩm định phải là một trong %(choices)s."),
            field="decision",
            params={"choices": ", ".join(REVIEW_DECISIONS)},
        )
    if decision in ("return", "reject"):
        note = clean_reason(note, field="note")
    else:
        note = clean_text(note, field="note", label=_("Ý kiến thẩm định"), max_length=500)
    _require_reviewer(actor, application)
    asked_on = decided_on
    decided_on = decision_date(decided_on, field="decided_on", label=_("Ngày thẩm định"))
    backdated = decision_backdate(application, decided_on, backdate_reason, _("Ngày thẩm định"))

    def run():
        app = application_lock(application)
        application_require_status(app, (S.SUBMITTED,), "review")
        before = app.status
        now = timezone.now()
        if decision == "approve":
            _require_eligible(app)
            application_documents_require(app)
            app.status = S.REVIEWED
        elif decision == "return":
            app.status = S.RETURNED
        else:
            app.status = S.REJECTED
            app.decided_by, app.decided_at, app.decision_reason = actor_user(actor), now, note
            app.decided_on = decided_on
        app.reviewed_by, app.reviewed_at, app.review_note = actor_user(actor), now, note
        app.reviewed_on = decided_on
        app.save(update_fields=[*_MOVE_FIELDS, *_DECISION_FIELDS, *_REVIEW_FIELDS])
        application_event(
            app,
            action=f"review_{decision}",
            before=before,
            actor=actor,
            note=note,
            backdated=backdated,
        )
        return app

    return _transition(
        name="application_review",
        application=application,
        key=idempotency_key,
        payload={
            "decision": decision,
            "note": note,
            "decided_on": asked_on,
            **({"backdate_reason": backdated} if backdated else {}),
        },
        actor=actor,
        run=run,
    )


def decision_date(day, *, field: str, label, **order) -> date:
    """The business date of a decision: today in Hà Nội unless given, under the value-date rule
    (`accounting.dates.value_date_check`), refused as the loan book's own error."""
    if day is None:
        return business_today()
    return value_date_check(day, field=field, label=label, error=LoanError, **order)


def decision_backdate(
    application: LoanApplication, day: date, reason, label, field: str = "decided_on"
) -> str:
    """The back-dating rule on a decision's date (``fund.validation.backdate_reason_clean``,
    with the application's fund's window): "" in the window, else the reason, kept in the
    decision's audit entry; none given, a refusal naming `field`."""
    return backdate_reason_clean(
        application.fund, day, reason, field=field, label=label, error=LoanError
    )


def application_approve(
    *,
    application: LoanApplication,
    idempotency_key: str,
    actor,
    decided_on: date | None = None,
    backdate_reason: str = "",
) -> LoanApplication:
    """The fund's approval of a reviewed application, by a fund officer who did not enter,
    submit or review it (maker-checker).

    `decided_on`, the approval's business date, is today unless given: never after today, never
    before the review's date; the loan is not disbursed before it.

    The product's terms are copied onto the application now (the loan keeps them whatever later
    happens to the product) and the amount is held as a capital commitment
    (``application:<id>``) until disbursement, rejection or cancellation.
    """
    if actor_user(actor) is None:
        raise MakerChecker(_("Phê duyệt phải do một cán bộ quỹ thực hiện."))
    scope = actor_scope(actor)
    if scope is not None:
        scope_require_approver(scope, field="actor")
        if scope.fund_id != application.fund_id:
            raise PermissionRefused(_("Bạn không thuộc quỹ này."), field="actor", code="other_fund")
    asked_on = decided_on
    decided_on = decision_date(decided_on, field="decided_on", label=_("Ngày phê duyệt"))
    backdated = decision_backdate(application, decided_on, backdate_reason, _("Ngày phê duyệt"))

    def run():
        app = application_lock(application)
        application_require_status(app, (S.REVIEWED,), "approve")
        if app.reviewed_on is not None:
            decision_date(
                decided_on,
                field="decided_on",
                label=_("Ngày phê duyệt"),
                not_before=app.reviewed_on,
                not_before_what=_("thẩm định"),
            )
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
        app.approved_by, app.approved_at, app.approved_on = actor, timezone.now(), decided_on
        app.save(
            update_fields=[*_MOVE_FIELDS, "terms", "approved_by", "approved_at", "approved_on"]
        )
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
            actor=actor_user(actor),
        )
        application_event(app, action="approve", before=before, actor=actor, backdated=backdated)
        return app

    return _transition(
        name="application_approve",
        application=application,
        key=idempotency_key,
        payload={
            "decided_on": asked_on,
            **({"backdate_reason": backdated} if backdated else {}),
        },
        actor=actor,
        run=run,
    )


def application_reject(
    *,
    application: LoanApplication,
    reason: str,
    idempotency_key: str,
    actor=None,
    decided_on: date | None = None,
    backdate_reason: str = "",
) -> LoanApplication:
    """Refuse an application for good, keeping the reason and who decided.

    From ``submitted`` by the reviewing superior union (or the fund); from ``reviewed`` or
    ``approved`` by a fund officer (an approved application's capital commitment is released).
    `decided_on`: the decision's business date, today unless given, under the same rules as a
    review's (never after today, nor before the review or approval; before the fund's open
    window only with `backdate_reason`).
    """
    reason = clean_reason(reason)
    scope = actor_scope(actor)
    asked_on = decided_on
    decided_on = decision_date(decided_on, field="decided_on", label=_("Ngày từ chối"))
    backdated = decision_backdate(application, decided_on, backdate_reason, _("Ngày từ chối"))

    def run():
        app = application_lock(application)
        application_require_status(app, (S.SUBMITTED, S.REVIEWED, S.APPROVED), "reject")
        if app.status == S.SUBMITTED:
            _require_reviewer(actor, app)
        elif scope is not None:
            actor_require_fund_officer(actor, fund_id=app.fund_id, field="actor")
        _decision_after(app, decided_on, _("Ngày từ chối"))
        before = app.status
        app.status = S.REJECTED
        app.decided_by, app.decided_at, app.decision_reason = (
            actor_user(actor),
            timezone.now(),
            reason,
        )
        app.decided_on = decided_on
        app.save(update_fields=[*_MOVE_FIELDS, *_DECISION_FIELDS])
        capital_commitment_release(reference=app.commitment_reference, actor=actor_user(actor))
        application_event(
            app, action="reject", before=before, actor=actor, note=reason, backdated=backdated
        )
        return app

    if scope is not None:
        scope_require_write(scope, field="actor")
    return _transition(
        name="application_reject",
        application=application,
        key=idempotency_key,
        payload=_decision_payload(reason, asked_on, backdated),
        actor=actor,
        run=run,
    )


def _decision_after(app: LoanApplication, decided_on: date, label) -> None:
    """A rejection or cancellation is not dated before the review or approval it ends."""
    if app.approved_on is not None:
        before, what = app.approved_on, _("phê duyệt hồ sơ")
    elif app.reviewed_on is not None:
        before, what = app.reviewed_on, _("thẩm định")
    else:
        return
    decision_date(
        decided_on, field="decided_on", label=label, not_before=before, not_before_what=what
    )


def _decision_payload(reason: str, asked_on, backdated: str) -> dict:
    """A rejection's or cancellation's request, as stored by its idempotency key: the keys of a
    date and a back-dating reason only when given, so requests made before they existed match."""
    payload: dict = {"reason": reason}
    if asked_on is not None:
        payload["decided_on"] = asked_on
    if backdated:
        payload["backdate_reason"] = backdated
    return payload


def application_cancel(
    *,
    application: LoanApplication,
    reason: str,
    idempotency_key: str,
    actor=None,
    decided_on: date | None = None,
    backdate_reason: str = "",
) -> LoanApplication:
    """Withdraw an application before disbursement (the member no longer needs the loan…),
    keeping the reason and who decided. Before approval the proposing union may cancel; once
    approved only a fund officer, and the capital commitment is released. `decided_on` and
    `backdate_reason` as for a rejection."""
    reason = clean_reason(reason)
    asked_on = decided_on
    decided_on = decision_date(decided_on, field="decided_on", label=_("Ngày hủy"))
    backdated = decision_backdate(application, decided_on, backdate_reason, _("Ngày hủy"))
    require_unit(actor, fund_id=application.fund_id, grassroots_union=application.grassroots_union)

    def run():
        app = application_lock(application)
        application_require_status(app, LoanApplication.OPEN_STATUSES, "cancel")
        if app.status == S.APPROVED:
            actor_require_fund_officer(actor, fund_id=app.fund_id, field="actor")
        _decision_after(app, decided_on, _("Ngày hủy"))
        before = app.status
        app.status = S.CANCELLED
        app.decided_by, app.decided_at, app.decision_reason = (
            actor_user(actor),
            timezone.now(),
            reason,
        )
        app.decided_on = decided_on
        app.save(update_fields=[*_MOVE_FIELDS, *_DECISION_FIELDS])
        capital_commitment_release(reference=app.commitment_reference, actor=actor_user(actor))
        application_event(
            app, action="cancel", before=before, actor=actor, note=reason, backdated=backdated
        )
        return app

    return _transition(
        name="application_cancel",
        application=application,
        key=idempotency_key,
        payload=_decision_payload(reason, asked_on, backdated),
        actor=actor,
        run=run,
    )
