"""Separation of duties: the fund's policy of which two halves of a task two people do.

The one home of these rules. Each rule has a key, the ``Fund`` field that switches it (all on
by default; fund officers change them on the fund's policy page, audited) and the sentence that
names it in every refusal:

* ``approver_disburses`` — whoever approved a loan application may not disburse it
  (``loans.origination.disbursement``);
* ``recorder_reverses`` — whoever recorded a repayment, a line of a union's remittance or a
  recovery may not reverse it (``loans.servicing.repayments``);
* ``capital_confirms`` — a capital contribution, withdrawal or transfer above the fund's
  threshold is entered by one fund officer and confirmed by another before it posts
  (``fund.services.capital_move_enter`` / ``capital_move_confirm``).

The system itself (``actor=None``: imports, the demo, scheduled jobs; a site administrator
without an officer profile acts as the system) is no person and is never refused; neither is a
row recorded by the system.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from accounting.money import amount_of
from fund.errors import DutiesSeparated
from fund.models import Fund
from fund.scoping import actor_scope, actor_user_id

APPROVER_DISBURSES = "approver_disburses"
RECORDER_REVERSES = "recorder_reverses"
CAPITAL_CONFIRMS = "capital_confirms"

# rule -> the Fund field that switches it on
DUTY_FIELDS = {
    APPROVER_DISBURSES: "duty_approver_not_disburser",
    RECORDER_REVERSES: "duty_recorder_not_reverser",
}

DUTY_RULES = {
    APPROVER_DISBURSES: _(
        "Tách bạch nhiệm vụ: người phê duyệt khoản vay không được tự giải ngân khoản vay đó; "
        "một cán bộ quỹ khác phải giải ngân."
    ),
    RECORDER_REVERSES: _(
        "Tách bạch nhiệm vụ: người đã ghi nghiệp vụ thu tiền này không được tự hủy nó; "
        "một cán bộ quỹ khác phải hủy."
    ),
    CAPITAL_CONFIRMS: _(
        "Tách bạch nhiệm vụ: nghiệp vụ vốn trên ngưỡng phải do một cán bộ quỹ khác xác nhận, "
        "không phải người đã lập."
    ),
}


def duty_applies(fund: Fund, rule: str) -> bool:
    """Whether the fund's policy holds the rule now (the capital rule: a threshold is set)."""
    if rule == CAPITAL_CONFIRMS:
        return fund.capital_confirmation_threshold is not None
    return bool(getattr(fund, DUTY_FIELDS[rule]))


def duty_require_other(
    *, fund: Fund, rule: str, actor, first_user_id: int | None, field: str = "actor"
) -> None:
    """Refuse (``DutiesSeparated``, naming the rule) `actor` doing the second half of a task
    whose first half `first_user_id` did, when the fund's policy holds the rule."""
    acting = actor_user_id(actor) if actor_scope(actor) is not None else None
    if acting is None or first_user_id is None or acting != first_user_id:
        return
    if duty_applies(fund, rule):
        raise DutiesSeparated(DUTY_RULES[rule], rule=rule, field=field)


def capital_needs_confirmation(*, fund: Fund, amount, actor) -> bool:
    """Whether a capital move of `amount` entered by `actor` waits for a second fund officer:
    the fund sets a threshold, the amount is above it, and a person (not the system) enters
    it."""
    threshold = fund.capital_confirmation_threshold
    if threshold is None or actor_scope(actor) is None:
        return False
    return Decimal(amount) > amount_of(threshold)
