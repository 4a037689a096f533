"""Requests to change a loan's terms — a rescheduling or a write-off — filed by one officer and
decided by another (four eyes, as for applications; ``LoanChangeRequest``).

* ``change_request_file``: an officer in charge of the loan (the grassroots union's, the superior
  union's or a fund officer) asks, with the terms; they are checked as the decision will check
  them, so a request that could never be approved is refused at once, by field. One pending
  request of each kind per loan.
* ``change_request_approve``: a fund officer other than the requester decides yes; the decision
  (``loans.restructuring.decisions.loan_reschedule`` / ``loan_write_off``) runs with the requested
  terms, the requester recorded as such, and its result is linked to the request — all in one
  transaction, once per idempotency key. Should the decision be refused (the loan was repaid
  meanwhile, say), nothing is written and the request stays pending.
* ``change_request_reject``: a fund officer other than the requester decides no, with a note.
* ``change_request_withdraw``: the requester takes the request back.

Each step is in the audit log.
"""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounting.errors import lazy_lower
from accounting.idempotency import command_once
from accounting.money import amount_of
from fund.audit import audit_record
from fund.errors import PermissionRefused
from fund.scoping import actor_user, actor_user_id
from loans.errors import LoanError, MakerChecker
from loans.models import Loan, LoanChangeRequest, LoanStatus
from loans.policy import loan_require_fund_officer, loan_require_servicer
from loans.restructuring import decisions as restructuring
from loans.validation import clean_reason

Kind = LoanChangeRequest.Kind
Status = LoanChangeRequest.Status

__all__ = [
    "change_request_approve",
    "change_request_file",
    "change_request_reject",
    "change_request_withdraw",
]


def _check_terms(loan: Loan, kind: str, terms: dict) -> dict:
    if kind == Kind.RESCHEDULE:
        allowed = {
            "effective_date",
            "term",
            "method",
            "first_due_date",
            "reason",
            "backdate_reason",
        }
        check = restructuring.reschedule_terms_check
    elif kind == Kind.WRITE_OFF:
        allowed = {"written_off_on", "cause", "note", "backdate_reason"}
        check = restructuring.write_off_terms_check
    else:
        raise LoanError(
            _("Loại đề nghị không hợp lệ: %(kind)s."), field="kind", params={"kind": repr(kind)}
        )
    unknown = set(terms) - allowed
    if unknown:
        raise LoanError(
            _("Không có mục %(name)s trong đề nghị này."),
            field="kind",
            params={"name": repr(sorted(unknown)[0])},
        )
    try:
        return check(loan=loan, **terms)
    except TypeError as e:  # a required term missing
        raise LoanError(
            _("Đề nghị thiếu nội dung: %(error)s."), field="kind", params={"error": str(e)}
        ) from None


def _stored(terms: dict) -> dict:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in terms.items()}


def _loaded(req: LoanChangeRequest) -> dict:
    dates = {"effective_date", "first_due_date", "written_off_on"}
    return {
        k: date.fromisoformat(v) if k in dates and v else v for k, v in (req.terms or {}).items()
    }


def _require_open_loan(loan: Loan, kind: str) -> None:
    if loan.status != LoanStatus.ACTIVE:
        raise LoanError(
            _("Khoản vay #%(id)s đang ở trạng thái “%(status)s”, không đề nghị %(what)s được."),
            field="loan",
            params={
                "id": loan.pk,
                "status": loan.get_status_display(),
                "what": lazy_lower(Kind(kind).label),
            },
        )
    if amount_of(loan.outstanding_principal) <= 0:
        raise LoanError(
            _("Khoản vay #%(id)s không còn dư nợ gốc."), field="loan", params={"id": loan.pk}
        )


def change_request_file(
    *, loan: Loan, kind: str, actor, idempotency_key: str, **terms
) -> LoanChangeRequest:
    """Ask for a rescheduling (terms: effective_date, term, method, first_due_date, reason) or a
    write-off (written_off_on, cause, note) of `loan`, each with `backdate_reason` when its date
    is before the fund's open window: the request keeps it until the approval's decision posts
    with it. Refused with nothing written when the actor is not in charge of the loan, the loan
    is not active or owes no principal, a term is wrong (by field), or a request of that kind is
    already pending."""
    loan_require_servicer(actor, loan=loan, field="actor")
    if actor_user(actor) is None:
        raise LoanError(_("Phải có người đề nghị."), field="actor")
    checked = _check_terms(loan, kind, terms)
    stored = _stored(checked)

    def run():
        locked = Loan.objects.select_for_update(of=("self",)).get(pk=loan.pk)
        _require_open_loan(locked, kind)
        if LoanChangeRequest.objects.filter(loan=locked, kind=kind, status=Status.PENDING).exists():
            raise LoanError(
                _("Khoản vay #%(id)s đã có một đề nghị %(what)s đang chờ duyệt."),
                field="kind",
                code="request_pending",
                params={"id": locked.pk, "what": lazy_lower(Kind(kind).label)},
            )
        req = LoanChangeRequest.objects.create(
            loan=locked, kind=kind, terms=stored, requested_by=actor_user(actor)
        )
        audit_record(
            actor=actor_user(actor),
            action="request",
            obj=req,
            changes={"kind": [None, kind], "terms": [None, stored]},
        )
        return req

    with transaction.atomic():
        return command_once(
            scope="loans.change_request_file",
            key=idempotency_key,
            payload={"loan": loan.pk, "kind": kind, "terms": stored, "actor": actor_user(actor).pk},
            run=run,
            load=lambda pk: LoanChangeRequest.objects.get(pk=pk),
        )


def _locked_request(request: LoanChangeRequest) -> LoanChangeRequest:
    return (
        LoanChangeRequest.objects.select_for_update(of=("self",))
        .select_related("loan", "loan__borrower", "requested_by")
        .get(pk=request.pk)
    )


def _require_pending(req: LoanChangeRequest) -> None:
    if req.status != Status.PENDING:
        raise LoanError(
            _("Đề nghị #%(id)s đã %(status)s, không quyết định lại được."),
            field="status",
            code="request_decided",
            params={"id": req.pk, "status": lazy_lower(req.get_status_display())},
        )


def _require_decider(req: LoanChangeRequest, actor) -> None:
    loan_require_fund_officer(actor, loan=req.loan)
    if actor_user(actor) is None:
        raise MakerChecker(_("Đề nghị phải do một cán bộ quỹ quyết định."))
    if req.requested_by_id == actor_user(actor).pk:
        raise MakerChecker(
            _("Người đề nghị không được tự quyết định đề nghị của mình; cần một cán bộ quỹ khác.")
        )


def _close(req: LoanChangeRequest, actor, status: str, action: str, **fields) -> None:
    """Record the decision on `req` (its new status, who and when, `fields`) and audit it."""
    req.status = status
    req.decided_by = actor_user(actor)
    req.decided_at = timezone.now()
    for name, value in fields.items():
        setattr(req, name, value)
    req.save(update_fields=["status", "decided_by", "decided_at", *fields])
    changes = {"status": [Status.PENDING.value, status]}
    if fields.get("decision_note"):
        changes["note"] = [None, fields["decision_note"]]
    audit_record(actor=actor_user(actor), action=action, obj=req, changes=changes)


def change_request_approve(
    *, request: LoanChangeRequest, actor, idempotency_key: str, backdate_reason: str = ""
) -> LoanChangeRequest:
    """Approve a pending request: run the decision with its terms and link the result. A retry
    with the same key after the approval returns the approved request.

    The decision keeps the reason for back-dating given when the request was filed; a request
    filed inside the fund's open window and approved after the window has moved on takes the
    approver's `backdate_reason` instead (without one it is refused by its date, and stays
    pending)."""

    def run():
        req = _locked_request(request)
        _require_pending(req)
        _require_decider(req, actor)
        decide, result = (
            (restructuring.loan_reschedule, "revision")
            if req.kind == Kind.RESCHEDULE
            else (restructuring.loan_write_off, "write_off")
        )
        terms = _loaded(req)
        if backdate_reason and not terms.get("backdate_reason"):
            terms["backdate_reason"] = backdate_reason
        done = decide(
            loan=req.loan,
            requested_by=req.requested_by,
            actor=actor,
            idempotency_key=f"request:{req.pk}",
            **terms,
        )
        _close(req, actor, Status.APPROVED, "approve", **{result: done})
        return req

    with transaction.atomic():
        return command_once(
            scope="loans.change_request_approve",
            key=idempotency_key,
            payload={
                "request": request.pk,
                "actor": actor_user_id(actor),
                **({"backdate_reason": backdate_reason} if backdate_reason else {}),
            },
            run=run,
            load=lambda pk: LoanChangeRequest.objects.get(pk=pk),
        )


def change_request_reject(*, request: LoanChangeRequest, actor, note: str) -> LoanChangeRequest:
    """Refuse a pending request, with the reason (``note``) the requester will read."""
    note = clean_reason(note, field="note")
    with transaction.atomic():
        req = _locked_request(request)
        _require_pending(req)
        _require_decider(req, actor)
        _close(req, actor, Status.REJECTED, "reject", decision_note=note)
    return req


def change_request_withdraw(*, request: LoanChangeRequest, actor) -> LoanChangeRequest:
    """The requester takes back a pending request."""
    with transaction.atomic():
        req = _locked_request(request)
        _require_pending(req)
        if actor_user(actor) is None or req.requested_by_id != actor_user(actor).pk:
            raise PermissionRefused(
                _("Chỉ người đề nghị được rút đề nghị của mình."),
                field="actor",
                code="not_requester",
            )
        _close(req, actor, Status.WITHDRAWN, "withdraw")
    return req
