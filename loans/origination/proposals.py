"""A grassroots union proposes a member for a loan: register, enter and send, in one step."""

from __future__ import annotations

from accounting.idempotency import command_once
from fund.scoping import actor_user_id
from loans.models import LoanApplication
from loans.origination.applications import application_create, application_submit
from loans.origination.borrowers import borrower_create


def borrower_propose(
    *,
    grassroots_union,
    borrower: dict,
    application: dict,
    idempotency_key: str,
    actor=None,
) -> LoanApplication:
    """Register a member of `grassroots_union` and send their application to the superior union.

    All or nothing: a refused member, application or submission writes nothing. Once per key:
    the same request again returns the first application.
    """

    def run():
        member = borrower_create(
            fund=grassroots_union.fund,
            grassroots_union=grassroots_union,
            actor=actor,
            **borrower,
        )
        app = application_create(borrower=member, actor=actor, **application)
        return application_submit(
            application=app, idempotency_key=f"propose:{idempotency_key}", actor=actor
        )

    payload = {
        "grassroots_union": grassroots_union.pk,
        "borrower": borrower,
        "application": {k: getattr(v, "pk", v) for k, v in application.items()},
        "actor": actor_user_id(actor),
    }
    return command_once(
        scope="loans.borrower_propose",
        key=idempotency_key,
        payload=payload,
        run=run,
        load=lambda pk: LoanApplication.objects.get(pk=pk),
    )


def member_application_propose(
    *, borrower, application: dict, idempotency_key: str, actor=None
) -> LoanApplication:
    """A new application for a member already registered, entered and sent at once.

    All or nothing, once per key (as ``borrower_propose``).
    """

    def run():
        app = application_create(borrower=borrower, actor=actor, **application)
        return application_submit(
            application=app, idempotency_key=f"propose:{idempotency_key}", actor=actor
        )

    payload = {
        "borrower": borrower.pk,
        "application": {k: getattr(v, "pk", v) for k, v in application.items()},
        "actor": actor_user_id(actor),
    }
    return command_once(
        scope="loans.member_application_propose",
        key=idempotency_key,
        payload=payload,
        run=run,
        load=lambda pk: LoanApplication.objects.get(pk=pk),
    )
