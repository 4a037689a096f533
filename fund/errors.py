"""Refusals of the fund layer, under the project's ``ApplicationError``."""

from accounting.errors import ApplicationError, RowsRejected


class FundError(ApplicationError):
    code = "fund_error"


class InsufficientCapital(FundError):
    """Lending (or committing, or withdrawing) more than the capital available."""

    code = "insufficient_capital"
    default_field = "amount"


class PermissionRefused(FundError):
    """The user's role does not allow the change (an auditor writing, an officer approving)."""

    code = "permission_refused"


class ImportRejected(FundError, RowsRejected):
    """A union file with at least one wrong row: nothing was imported (``RowsRejected``)."""

    code = "import_rejected"


class DutiesSeparated(PermissionRefused):
    """One person would do both halves of a task the fund's policy gives to two (``fund.duties``);
    the message names the rule, ``rule`` is its key."""

    code = "separation_of_duties"
    default_field = "actor"

    def __init__(self, message, *, rule: str, **kwargs):
        super().__init__(message, **kwargs)
        self.rule = rule
