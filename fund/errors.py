"""Refusals of the fund layer, under the project's ``ApplicationError``."""

from accounting.errors import ApplicationError


class FundError(ApplicationError):
    code = "fund_error"


class InsufficientCapital(FundError):
    """Lending (or committing, or withdrawing) more than the capital available."""

    code = "insufficient_capital"
    default_field = "amount"


class PermissionRefused(FundError):
    """The user's role does not allow the change (an auditor writing, an officer approving)."""

    code = "permission_refused"


class ImportRejected(FundError):
    """A union file with at least one wrong row: nothing was imported.

    ``errors`` lists every wrong row as ``RowError(row, column, message)``; ``row`` is the row
    number as a spreadsheet shows it (the header is row 1).
    """

    code = "import_rejected"

    def __init__(self, errors, *, field: str | None = "file"):
        self.errors = list(errors)
        shown = "; ".join(str(e) for e in self.errors[:20])
        more = f" (và {len(self.errors) - 20} lỗi khác)" if len(self.errors) > 20 else ""
        super().__init__(
            f"Không nhập được tệp: {len(self.errors)} lỗi, chưa nhập dòng nào. {shown}{more}",
            field=field,
        )

    def as_dict(self) -> dict:
        data = super().as_dict()
        data["errors"] = [e._asdict() for e in self.errors]
        return data
