"""Checks of the values a loan service is given: the generic ones (``fund.validation``) refusing
with a ``LoanError`` naming its field, and the loan's own (a reason, a day of the loan's life)."""

from __future__ import annotations

from datetime import date
from functools import partial

from django.utils.translation import gettext_lazy as _

from accounting.dates import business_today
from fund import validation
from loans.errors import LoanError
from loans.models import Loan

full_clean = partial(validation.full_clean, error=LoanError)
clean_text = partial(validation.clean_text, error=LoanError)
clean_phone = partial(validation.clean_phone, error=LoanError)
clean_date = partial(validation.clean_date, error=LoanError)
clean_count = partial(validation.clean_count, error=LoanError)
clean_positive_dong = partial(validation.clean_positive_dong, error=LoanError)
clean_choice = partial(validation.clean_choice, error=LoanError)
refuse_unknown_fields = partial(validation.refuse_unknown_fields, error=LoanError)

REASON_MAX = 500


def clean_reason(value, *, field: str = "reason", required: bool = True) -> str:
    """The reason given for a decision: text of at most 500 characters, required unless said."""
    if required and (value is None or (isinstance(value, str) and not value.split())):
        raise LoanError(_("Phải ghi lý do."), field=field)
    return clean_text(value, field=field, label=_("Lý do"), max_length=REASON_MAX)


def clean_loan_day(value, *, loan: Loan, field: str, label: str) -> date:
    """A day in the loan's life so far: from its disbursement to today."""
    value = clean_date(value, field=field, label=label)
    if value > business_today():
        raise LoanError(
            _("%(label)s không được sau ngày hôm nay."), field=field, params={"label": label}
        )
    if value < loan.disbursed_on:
        raise LoanError(
            _("%(label)s không được trước ngày giải ngân %(disbursed)s."),
            field=field,
            params={"label": label, "disbursed": f"{loan.disbursed_on:%d/%m/%Y}"},
        )
    return value
