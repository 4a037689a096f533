"""Follow-up visits after disbursement: the purpose checked and the jobs confirmed."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounting.dates import business_today
from accounting.idempotency import command_once
from fund.audit import audit_record
from fund.scoping import actor_user, actor_user_id
from loans.errors import (
    LoanError,
)
from loans.models import (
    FollowUpVisit,
    Loan,
)
from loans.origination.applications import MAX_PLANNED_JOBS
from loans.policy import require_unit
from loans.validation import clean_count, clean_date, clean_text, full_clean

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
    idempotency_key: str | None = None,
) -> FollowUpVisit:
    """Record a visit after disbursement: whether the money went to the stated purpose and how
    many new jobs it confirms (in addition to earlier visits).

    A visit that finds the purpose not verified and recalls the loan at once is
    ``loans.restructuring.decisions.loan_recall_on_visit`` (a fund officer's decision).

    With `idempotency_key` (the web form's), the same request under the same key records the
    visit once and returns it again; another request under that key is refused.
    """
    values = followup_visit_check(
        loan=loan,
        visited_on=visited_on,
        purpose_verified=purpose_verified,
        jobs_confirmed=jobs_confirmed,
        note=note,
        actor=actor,
    )
    if idempotency_key is None:
        return followup_visit_save(**values)
    return followup_visit_once(
        values, idempotency_key=idempotency_key, run=lambda: followup_visit_save(**values)
    )


def followup_visit_check(
    *, loan: Loan, visited_on, purpose_verified, jobs_confirmed, note, actor
) -> dict:
    """The visit's values checked (the actor's unit too), as ``followup_visit_save`` takes them."""
    require_unit(actor, fund_id=loan.fund_id, grassroots_union=loan.grassroots_union)
    visited_on = clean_date(visited_on, field="visited_on", label=_("Ngày kiểm tra"))
    if visited_on < loan.disbursed_on or visited_on > business_today():
        raise LoanError(_("Ngày kiểm tra phải từ ngày giải ngân đến hôm nay."), field="visited_on")
    if not isinstance(purpose_verified, bool):
        raise LoanError(
            _("Kết quả kiểm tra mục đích phải là có hoặc không."), field="purpose_verified"
        )
    jobs = clean_count(
        jobs_confirmed,
        field="jobs_confirmed",
        label=_("Số việc làm xác nhận"),
        maximum=MAX_PLANNED_JOBS,
    )
    note = clean_text(note, field="note", label=_("Ghi chú"), max_length=500)
    return {
        "loan": loan,
        "visited_on": visited_on,
        "purpose_verified": purpose_verified,
        "jobs": jobs,
        "note": note,
        "actor": actor,
    }


def followup_visit_once(
    values: dict, *, idempotency_key: str, run, recall_idempotency_key: str | None = None
) -> FollowUpVisit:
    """`run` (which records the visit of the checked `values` and returns it) once under
    `idempotency_key`; the key's request names the recall's key too, so a visit with a recall
    and one without are different requests."""
    with transaction.atomic():
        return command_once(
            scope="loans.followup_visit_record",
            key=idempotency_key,
            payload={
                "loan": values["loan"].pk,
                "visited_on": values["visited_on"].isoformat(),
                "purpose_verified": values["purpose_verified"],
                "jobs_confirmed": values["jobs"],
                "note": values["note"],
                "recall": recall_idempotency_key,
                "actor": actor_user_id(values["actor"]),
            },
            run=run,
            load=lambda pk: FollowUpVisit.objects.get(pk=pk),
        )


def followup_visit_save(*, loan, visited_on, purpose_verified, jobs, note, actor) -> FollowUpVisit:
    """Save the visit of checked values (``followup_visit_check``) and its audit record."""
    with transaction.atomic():
        visit = FollowUpVisit(
            loan=loan,
            visited_on=visited_on,
            purpose_verified=purpose_verified,
            jobs_confirmed=jobs,
            note=note,
            visited_by=actor_user(actor),
        )
        full_clean(visit, rows_held=True)
        visit.save()
        audit_record(
            actor=actor_user(actor),
            action="followup",
            obj=loan,
            changes={
                "visited_on": [None, visited_on.isoformat()],
                "purpose_verified": [None, purpose_verified],
                "jobs_confirmed": [None, jobs],
            },
        )
    return visit
