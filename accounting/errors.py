"""The project's exception hierarchy.

Every refusal a user can cause is an `ApplicationError` subclass with a Vietnamese message and,
where one input is to blame, the name of that `field`, so forms and the API can show it next to
the field. Other layers subclass `ApplicationError` (``FundError``, ``LoanError``...).
"""


class ApplicationError(Exception):
    """A refusal caused by the request, not a bug: shown to the user, never a 500."""

    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code

    def as_dict(self) -> dict:
        return {"code": self.code, "field": self.field, "message": self.message}


class LedgerError(ApplicationError):
    code = "ledger_error"


class UnbalancedEntry(LedgerError):
    code = "unbalanced"


class TooFewPostings(LedgerError):
    code = "too_few_postings"


class InvalidAmount(LedgerError):
    code = "invalid_amount"


class WrongCurrency(LedgerError):
    code = "wrong_currency"


class UnknownAccount(LedgerError):
    code = "unknown_account"


class AccountNotPostable(LedgerError):
    code = "account_not_postable"


class PeriodClosed(LedgerError):
    code = "period_closed"


class ReversalRefused(LedgerError):
    code = "reversal_refused"


class PostedRowImmutable(LedgerError):
    """Posted ledger rows are never edited or deleted: corrections are new entries."""

    code = "immutable"


class IdempotencyConflict(ApplicationError):
    """The same idempotency key was used with a different request."""

    code = "idempotency_conflict"
