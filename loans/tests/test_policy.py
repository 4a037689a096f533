"""The table of a loan's actions (``loans.policy``): each loan state × role gives the actions the
loan page offered before the table existed, and the pages and the API open each action to the
table's roles.

The loans here are not saved: their repayments, visits and pending requests are given as the
loan page gives them (``page_*``), so the table must answer without a query (the test database
is not open to these tests).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from types import SimpleNamespace

import pytest

from fund.models import Role
from fund.scoping import Scope
from loans import policy
from loans.models import Loan, LoanClosure, LoanStatus

FUND, SUPERIOR, GRASSROOTS, AUDITOR = (
    Role.FUND_OFFICER,
    Role.SUPERIOR_OFFICER,
    Role.GRASSROOTS_OFFICER,
    Role.AUDITOR,
)
ALL_ACTIONS = [
    "visit",
    "reverse",
    "reschedule",
    "waive",
    "write_off",
    "recovery",
    "close",
    "recall",
]


def _repayment(*, reversed_=False, closed_loan=False):
    return SimpleNamespace(reversal_entry_id=1 if reversed_ else None, closed_loan=closed_loan)


@dataclass
class State:
    status: str = LoanStatus.ACTIVE
    owed: int = 10_000_000
    repayments: tuple = ()
    visits_verified: tuple = ()
    pending: tuple = ()
    recalled: bool = False
    closure: bool = False

    def loan(self) -> Loan:
        loan = Loan(
            pk=None,
            status=self.status,
            outstanding_principal=Decimal(self.owed),
            recalled_on="2026-01-05" if self.recalled else None,
            closed_on=None,
        )
        loan.page_repayments = list(self.repayments)
        loan.page_visits = [SimpleNamespace(purpose_verified=v) for v in self.visits_verified]
        loan.page_requests = [SimpleNamespace(kind=k) for k in self.pending]
        if self.closure:
            loan.closed_on = "2026-06-30"
            loan.closure = LoanClosure()  # the closure row, as the page reads it
        return loan


def _offered(state: State, role: str) -> list[str]:
    return policy.loan_actions_offered(state.loan(), Scope(user=None, role=role, fund_id=1))


BUSY = State(repayments=(_repayment(),), visits_verified=(False,))

# state, role → the actions the loan page offered (in its order)
CASES = [
    # An active loan with a repayment to reverse and a visit that found the money misused.
    (BUSY, FUND, ["visit", "reverse", "reschedule", "waive", "write_off", "close", "recall"]),
    (BUSY, SUPERIOR, ["visit", "reschedule", "write_off"]),
    (BUSY, GRASSROOTS, ["visit", "reschedule", "write_off"]),
    (BUSY, AUDITOR, []),
    # Nothing repaid, no visit yet.
    (State(), FUND, ["visit", "reschedule", "waive", "write_off", "close"]),
    (State(), GRASSROOTS, ["visit", "reschedule", "write_off"]),
    # Only reversed repayments; only verified visits.
    (
        State(repayments=(_repayment(reversed_=True),), visits_verified=(True,)),
        FUND,
        ["visit", "reschedule", "waive", "write_off", "close"],
    ),
    # One request of each kind at a time.
    (
        State(pending=("reschedule",)),
        FUND,
        ["visit", "waive", "write_off", "close"],
    ),
    (State(pending=("write_off",)), SUPERIOR, ["visit", "reschedule"]),
    (State(pending=("reschedule", "write_off")), GRASSROOTS, ["visit"]),
    # No principal left to reschedule or write off.
    (State(owed=0), FUND, ["visit", "waive", "close"]),
    (State(owed=0), GRASSROOTS, ["visit"]),
    # Already recalled: not again.
    (
        State(recalled=True, visits_verified=(False,)),
        FUND,
        ["visit", "reschedule", "waive", "write_off", "close"],
    ),
    # Paid off: the repayment that closed it can be reversed until a closure settles it.
    (
        State(status=LoanStatus.CLOSED, owed=0, repayments=(_repayment(closed_loan=True),)),
        FUND,
        ["visit", "reverse", "close"],
    ),
    (
        State(status=LoanStatus.CLOSED, owed=0, repayments=(_repayment(),)),
        FUND,
        ["visit", "close"],
    ),
    (
        State(status=LoanStatus.CLOSED, owed=0, repayments=(_repayment(closed_loan=True),)),
        GRASSROOTS,
        ["visit"],
    ),
    (
        State(
            status=LoanStatus.CLOSED,
            owed=0,
            repayments=(_repayment(closed_loan=True),),
            closure=True,
        ),
        FUND,
        ["visit"],
    ),
    (State(status=LoanStatus.CLOSED, owed=0, closure=True), AUDITOR, []),
    # Written off with nothing left to recover (this unsaved loan has no write-off row).
    (State(status=LoanStatus.WRITTEN_OFF, repayments=(_repayment(),)), FUND, []),
]


@pytest.mark.parametrize(("state", "role", "expected"), CASES)
def test_each_state_and_role_offers_what_the_loan_page_offered(state, role, expected):
    assert _offered(state, role) == expected


def test_a_written_off_loan_offers_its_recovery_to_fund_officers_while_something_is_left(
    monkeypatch,
):
    written_off = State(status=LoanStatus.WRITTEN_OFF, visits_verified=(False,))
    monkeypatch.setattr(policy, "loan_recoverable", lambda loan: Decimal(1))
    assert _offered(written_off, FUND) == ["recovery"]
    for role in (SUPERIOR, GRASSROOTS, AUDITOR):
        assert _offered(written_off, role) == []
    monkeypatch.setattr(policy, "loan_recoverable", lambda loan: Decimal(0))
    assert _offered(written_off, FUND) == []


def test_allowed_agrees_with_offered_for_every_action():
    for state, role, expected in CASES:
        scope = Scope(user=None, role=role, fund_id=1)
        allowed = [n for n in ALL_ACTIONS if policy.loan_action_allowed(n, state.loan(), scope)]
        assert allowed == expected


def test_the_roles_of_each_action():
    servicers, deciders = (FUND, SUPERIOR, GRASSROOTS), (FUND,)
    assert {name: set(policy.loan_action_roles(name)) for name in ALL_ACTIONS} == {
        "visit": set(servicers),
        "reverse": set(deciders),
        "reschedule": set(servicers),
        "waive": set(deciders),
        "write_off": set(servicers),
        "recovery": set(deciders),
        "close": set(deciders),
        "recall": set(deciders),
    }
    assert list(policy.LOAN_ACTIONS) == ALL_ACTIONS  # the loan page's order
    assert AUDITOR not in {r for name in ALL_ACTIONS for r in policy.loan_action_roles(name)}


def test_the_pages_and_the_api_open_each_action_to_the_tables_roles():
    from loans.api import actions as api_actions
    from loans.api import views as api_views
    from loans.web import actions as web_actions

    api = {
        "visit": api_views.LoanFollowUpVisitCreateApi,
        "reverse": api_views.RepaymentReverseApi,
        "reschedule": api_actions.LoanRescheduleRequestApi,
        "waive": api_actions.LoanInterestWaiveApi,
        "write_off": api_actions.LoanWriteOffRequestApi,
        "recovery": api_actions.LoanWriteOffRecoveryApi,
        "close": api_actions.LoanCloseApi,
        "recall": api_actions.LoanRecallApi,
    }
    for name in ALL_ACTIONS:
        roles = policy.loan_action_roles(name)
        page = getattr(web_actions, web_actions.ACTIONS[name].url_name)
        assert page.access_rule == roles, name
        assert api[name].access_roles == roles, name
