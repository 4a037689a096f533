"""The project's exception hierarchy.

Every refusal a user can cause is an `ApplicationError` subclass with a Vietnamese message and,
where one input is to blame, the name of that `field`, so forms and the API can show it next to
the field. Other layers subclass `ApplicationError` (``FundError``, ``LoanError``...).

Messages are translatable: the Vietnamese text is the msgid, marked with ``gettext_lazy`` and
its variable parts given as named `params` (``%(amount)s``), so the message is put together
in the language active where it is shown (a page in English, the API with
``Accept-Language: en``), not where it was raised. The `code` never changes with the language.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.utils.functional import Promise


@cache
def _lazy(func):
    # Django is imported when the first message is made, not with this module: pure modules
    # (loans.schedules) raise these errors and must import without Django.
    from django.utils.functional import lazy

    return lazy(func, str)


def _gettext(message: str) -> str:
    from django.conf import settings

    if not settings.configured:
        return message  # used without Django (a script on loans.schedules): the Vietnamese
    from django.utils.translation import gettext

    return gettext(message)


def gettext_lazy(message: str):
    """Django's ``gettext_lazy`` for the pure modules (loans.schedules): Django is imported when
    a message is made, not when the module is, and without configured settings the message
    stays in Vietnamese, the source language."""
    return _lazy(_gettext)(message)


def _interpolate(message, params: dict) -> str:
    return str(message) % params


def _join(separator: str, items) -> str:
    return separator.join(str(item) for item in items)


def _lower(value) -> str:
    return str(value).lower()


_DEFAULT = object()


def translatable(message, params: dict | None = None):
    """`message` (a lazy msgid) with its `params`, translated and filled in when shown."""
    if not params:
        return message
    return _lazy(_interpolate)(message, params)


def lazy_join(separator: str, items):
    """Translatable parts joined when shown (a list of reasons, each in the active language)."""
    return _lazy(_join)(separator, items)


def lazy_lower(value):
    """A translatable label in lower case, inside a sentence (a status, a household kind)."""
    return _lazy(_lower)(value)


class ApplicationError(Exception):
    """A refusal caused by the request, not a bug: shown to the user, never a 500.

    `message`: a Vietnamese sentence, preferably ``gettext_lazy`` with named placeholders
    filled from `params`; ``self.message`` then renders in the active language when shown.
    """

    code = "invalid"
    # The input to blame when the raiser names none (`field=None` names none on purpose).
    default_field: str | None = None

    def __init__(
        self,
        message: str | Promise,
        *,
        field: str | None | object = _DEFAULT,
        code: str | None = None,
        params: dict | None = None,
    ):
        self.params = params or {}
        self.message = translatable(message, self.params)
        super().__init__(self.message)
        self.field = self.default_field if field is _DEFAULT else field
        if code:
            self.code = code

    def __str__(self) -> str:
        return str(self.message)

    def as_dict(self) -> dict:
        return {"code": self.code, "field": self.field, "message": str(self.message)}


class RowsRejected(ApplicationError):
    """A file with at least one wrong row: nothing was imported.

    ``errors`` lists every wrong row as ``RowError(row, column, message)``; ``row`` is the row
    number as a spreadsheet shows it (the header is row 1). The message names the first
    `SHOWN` of them.
    """

    code = "import_rejected"
    default_field = "file"
    SHOWN = 20

    def __init__(self, errors, *, field: str | None | object = _DEFAULT):
        from django.utils.translation import gettext_lazy as _

        self.errors = list(errors)
        more = len(self.errors) - self.SHOWN
        super().__init__(
            _("Không nhập được tệp: %(count)s lỗi, chưa nhập dòng nào. %(rows)s%(more)s"),
            field=field,
            params={
                "count": len(self.errors),
                "rows": lazy_join("; ", self.errors[: self.SHOWN]),
                "more": translatable(_(" (và %(more)s lỗi khác)"), {"more": more})
                if more > 0
                else "",
            },
        )

    def as_dict(self) -> dict:
        """The refusal with its rows; a column of ours named in the language shown (a column the
        file made up, as written)."""
        from django.utils.translation import gettext

        data = super().as_dict()
        data["errors"] = [
            {
                **e._asdict(),
                "column": gettext(str(e.column)) if e.column else e.column,
                "message": str(e.message),
            }
            for e in self.errors
        ]
        return data


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


class ValueDateRefused(LedgerError):
    """A date after today in Hà Nội, or before what the posting or decision follows."""

    code = "value_date"


class ReversalRefused(LedgerError):
    code = "reversal_refused"


class PostedRowImmutable(LedgerError):
    """Posted ledger rows are never edited or deleted: corrections are new entries."""

    code = "immutable"


class ChainTampered(LedgerError):
    """A sealed chain or an entry about to be sealed is not what the services wrote."""

    code = "chain_tampered"


class IdempotencyConflict(ApplicationError):
    """The same idempotency key was used with a different request."""

    code = "idempotency_conflict"
