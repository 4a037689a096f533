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
