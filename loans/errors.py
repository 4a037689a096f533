"""Refusals of the loans layer, under the project's ``ApplicationError``."""

from __future__ import annotations

from typing import NamedTuple

from django.utils.translation import gettext_lazy as _

from accounting.errors import ApplicationError, RowsRejected, lazy_join


class LoanError(ApplicationError):
    code = "loan_error"


class IllegalTransition(LoanError):
    """An application asked to move to a state its current state does not lead to."""

    code = "illegal_transition"
    default_field = "status"


class MakerChecker(LoanError):
    """The approver entered the application (or reviewed it): four eyes are required."""

    code = "maker_checker"
    default_field = "actor"


class Reason(NamedTuple):
    """One eligibility rule that is not met: a code tests can assert, the input to blame and a
    Vietnamese sentence for the officer."""

    code: str
    field: str
    message: str

    def __str__(self):
        return self.message


class IneligibleBorrower(LoanError):
    """The borrower, amount or term breaks at least one eligibility rule; ``reasons`` lists all."""

    code = "ineligible"

    def __init__(self, reasons):
        self.reasons = list(reasons)
        super().__init__(
            _("Không đủ điều kiện vay: %(reasons)s"),
            field=self.reasons[0].field if self.reasons else None,
            params={"reasons": lazy_join("; ", [r.message for r in self.reasons])},
        )

    def as_dict(self) -> dict:
        data = super().as_dict()
        data["reasons"] = [{**r._asdict(), "message": str(r.message)} for r in self.reasons]
        return data


class BorrowerLimitExceeded(LoanError):
    """The borrower's outstanding principal would go beyond the fund's per-borrower limit."""

    code = "borrower_limit"
    default_field = "amount"


class MemberImportRejected(LoanError, RowsRejected):
    """A member file with at least one wrong row: nothing was imported (``RowsRejected``)."""

    code = "import_rejected"


class StatementRejected(LoanError, RowsRejected):
    """A bank statement with at least one wrong line: nothing was imported (``RowsRejected``)."""

    code = "import_rejected"
