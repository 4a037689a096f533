"""What the loan's pages show about a loan besides its forms: the loan in the officer's scope,
the figures an officer sees before deciding on it, and the record of what was decided on it
after disbursement (the loan page's ``{% loan_decisions %}``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounting.dates import business_today
from accounting.errors import ApplicationError
from accounting.formatting import format_vnd
from accounting.money import amount_of
from fund.people import person_name
from fund.scoping import scoped_get_or_404
from loans import policy
from loans.models import Loan, LoanStatus, LoanWriteOff
from loans.restructuring import decisions as restructuring
from loans.servicing import repayments
from loans.servicing.selectors import loan_list


def loan_in_scope(request, pk) -> Loan:
    """The loan `pk` if it is in the officer's scope, else Http404."""
    return scoped_get_or_404(
        loan_list(scope=request.scope).select_related("product", "superior_union"),
        request.scope,
        pk=pk,
    )


@dataclass(frozen=True)
class Decision:
    on: date
    what: str
    detail: str
    amount: object = None
    who: str = ""


def _name(user) -> str:
    return person_name(user)


def loan_decisions(loan: Loan) -> list[Decision]:
    """What was decided on the loan after disbursement, oldest first (the loan page's record)."""
    out = []
    # The loan's own fields say which records can exist (each service sets them with the row):
    # a rescheduling or a recall starts a new schedule version, a write-off sets
    # ``written_off_on``; the page then reads only the tables that can hold something.
    revisions = (
        loan.revisions.select_related("requested_by", "approved_by")
        if loan.schedule_version > 1
        else ()
    )
    for r in revisions:
        detail = r.reason
        if r.kind == r.Kind.RESCHEDULE:
            detail = _("%(term)s kỳ từ %(first)s — %(reason)s") % {
                "term": r.term,
                "first": f"{r.first_due_date:%d/%m/%Y}",
                "reason": r.reason,
            }
        who = " → ".join(n for n in (_name(r.requested_by), _name(r.approved_by)) if n)
        out.append(Decision(r.effective_date, r.get_kind_display(), detail, r.principal, who))
    for w in loan.waivers.select_related("created_by"):
        detail = _("lãi %(interest)s, lãi phạt %(penalty)s — %(reason)s") % {
            "interest": format_vnd(amount_of(w.interest)),
            "penalty": format_vnd(amount_of(w.penalty)),
            "reason": w.reason,
        }
        out.append(Decision(w.waived_on, _("Miễn giảm lãi"), detail, None, _name(w.created_by)))
    read = policy.page_repayments(loan)
    reversed_reps = (
        loan.repayments.filter(reversal_entry__isnull=False).select_related("reversal_entry")
        if read is None
        else [rep for rep in read if rep.reversal_entry_id is not None]
    )
    for rep in reversed_reps:
        out.append(
            Decision(
                rep.reversal_entry.effective_date,
                _("Hủy lần trả nợ #%(id)s") % {"id": rep.pk},
                rep.reversal_reason,
                rep.amount,
            )
        )
    try:
        wo = loan.write_off if loan.written_off_on is not None else None
    except LoanWriteOff.DoesNotExist:
        wo = None
    if wo is not None:
        who = " → ".join(n for n in (_name(wo.requested_by), _name(wo.approved_by)) if n)
        detail = wo.get_cause_display() + (f" — {wo.note}" if wo.note else "")
        out.append(Decision(wo.written_off_on, _("Xử lý rủi ro"), detail, wo.principal, who))
        for rec in wo.recoveries.select_related("created_by"):
            out.append(
                Decision(
                    rec.received_on,
                    _("Thu hồi nợ đã xử lý rủi ro"),
                    "",
                    rec.amount,
                    _name(rec.created_by),
                )
            )
    if policy.loan_has_closure(loan):
        c = loan.closure
        detail = _("tiết kiệm trừ vào nợ %(applied)s, hoàn trả %(returned)s") % {
            "applied": format_vnd(amount_of(c.savings_applied)),
            "returned": format_vnd(amount_of(c.savings_returned)),
        }
        out.append(Decision(c.closed_on, _("Tất toán"), detail, None, _name(c.created_by)))
    return sorted(out, key=lambda d: d.on)


# What the officer sees before deciding.


def outstanding_facts(loan):
    """Each ``*_facts`` is a list of (label, amount) rows shown above a decision's form."""
    return [(gettext_lazy("Dư nợ gốc"), amount_of(loan.outstanding_principal))]


def payoff_facts(loan):
    if loan.status != LoanStatus.ACTIVE:
        return []
    try:
        quote = repayments.full_payoff_quote(loan=loan, on=business_today())
    except ApplicationError:
        return []
    return [
        (gettext_lazy("Lãi đến hạn chưa trả"), quote.interest),
        (gettext_lazy("Lãi phạt chưa trả"), quote.penalty),
        (gettext_lazy("Số tiền tất toán hôm nay"), quote.total),
    ]


def _savings(loan):
    return [
        (
            gettext_lazy("Tiết kiệm bắt buộc đang giữ"),
            restructuring.borrower_savings_balance(loan=loan),
        )
    ]


def close_facts(loan):
    return outstanding_facts(loan) + payoff_facts(loan) + _savings(loan)


def write_off_facts(loan):
    return outstanding_facts(loan) + [
        (gettext_lazy("Dự phòng rủi ro đã trích"), amount_of(loan.provision_held))
    ]


def recovery_facts(loan):
    try:
        principal = amount_of(loan.write_off.principal)
    except LoanWriteOff.DoesNotExist:
        return []
    return [
        (gettext_lazy("Gốc đã xử lý rủi ro"), principal),
        (gettext_lazy("Còn có thể thu hồi"), policy.loan_recoverable(loan)),
    ]
