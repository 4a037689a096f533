"""Hypothesis state machine over a few loans: any sequence of servicing events keeps the loan
book, the schedules and the ledger in step.

Steps: pay (any date after the last payment), reverse the latest payment, reschedule, waive,
accrue a penalty and set aside a provision (what the daily pass does), recall, write off,
recover, close with savings. Refusals are allowed (each step may be refused for a reason the
services name) but must write nothing that breaks the invariants checked after every step:
the reconciliation is clean, the principal of the schedule in force still owed equals the
outstanding principal, the ledger balances, the provision and savings sub-ledgers agree with
the loans, recoveries stay within what was written off.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from accounting.errors import ApplicationError
from accounting.models import Posting
from accounting.money import amount_of
from accounting.selectors import account_balance
from accounting.services import credit, debit, journal_entry_post
from fund.errors import PermissionRefused
from loans.models import Installment, Loan, LoanWriteOff
from loans.restructuring.decisions import (
    borrower_savings_balance,
    loan_close,
    loan_interest_waive,
    loan_recall_on_visit,
    loan_reschedule,
    loan_write_off,
    write_off_recovery_post,
)
from loans.servicing.reconciliation import loan_book_reconcile
from loans.servicing.repayments import full_payoff_quote, repayment_post, repayment_reverse
from loans.tests.factories import LoanProductFactory, new_key, today
from loans.tests.helpers import make_loan

pytestmark = pytest.mark.django_db

LOANS = st.integers(min_value=0, max_value=2)


class LoanBook(RuleBasedStateMachine):
    """Class attributes set by the test: ``loans``, ``officers``, ``fund``."""

    loans: list[Loan] = []
    officers = None
    fund = None

    def __init__(self):
        super().__init__()
        self.savepoint = transaction.savepoint()
        for loan in self.loans:
            loan.refresh_from_db()

    def teardown(self):
        transaction.savepoint_rollback(self.savepoint)

    def loan(self, i) -> Loan:
        loan = self.loans[i]
        loan.refresh_from_db()
        return loan

    # ---- steps --------------------------------------------------------------------------

    @rule(
        i=LOANS,
        amount=st.integers(min_value=1, max_value=4_000_000),
        days=st.integers(0, 90),
        overpayment=st.sampled_from(["refuse", "savings"]),
    )
    def pay(self, i, amount, days, overpayment):
        loan = self.loan(i)
        last = loan.repayments.filter(reversal_entry__isnull=True).order_by("-paid_on").first()
        on = max(today() - timedelta(days=days), loan.disbursed_on)
        if last is not None:
            on = max(on, last.paid_on)
        try:
            repayment_post(
                loan=loan,
                amount=amount,
                paid_on=on,
                idempotency_key=new_key("pay"),
                actor=self.officers.grassroots,
                overpayment=overpayment,
            )
        except ApplicationError as e:
            assert e.field in ("amount", "loan"), e

    @rule(i=LOANS, leave=st.sampled_from([0, 1, 300_000, 1_000_000]))
    def pay_off(self, i, leave):
        """Pay the full payoff quote, or all of it but `leave` (left for the savings)."""
        loan = self.loan(i)
        if loan.status != "active":
            return
        total = full_payoff_quote(loan=loan, on=today()).total - leave
        if total > 0:
            repayment_post(
                loan=loan, amount=total, paid_on=today(), idempotency_key=new_key("payoff")
            )

    @rule(i=LOANS)
    def reverse(self, i):
        loan = self.loan(i)
        live = loan.repayments.filter(reversal_entry__isnull=True).order_by("-pk").first()
        if live is None:
            return
        try:
            repayment_reverse(
                repayment=live, reason="Nhập nhầm", idempotency_key=new_key("rev"), actor=None
            )
        except ApplicationError as e:
            assert e.field == "repayment", e

    @rule(i=LOANS, term=st.integers(min_value=1, max_value=12), draw=st.integers(0, 2))
    def reschedule(self, i, term, draw):
        if draw:  # decisions on terms are rarer than payments: one draw in three
            return
        try:
            loan_reschedule(
                loan=self.loan(i),
                effective_date=today(),
                term=term,
                reason="Giãn nợ",
                idempotency_key=new_key("cocau"),
                requested_by=self.officers.grassroots,
                actor=self.officers.checker,
            )
        except ApplicationError as e:
            assert e.field == "loan", e

    @rule(i=LOANS, interest=st.booleans())
    def waive(self, i, interest):
        try:
            loan_interest_waive(
                loan=self.loan(i),
                waived_on=today(),
                reason="Khó khăn",
                idempotency_key=new_key("mien"),
                interest=interest,
                penalty=True,
                actor=self.officers.fund,
            )
        except ApplicationError as e:
            assert e.field in ("loan", "interest", "penalty"), e

    @rule(i=LOANS, amount=st.integers(min_value=1, max_value=200_000))
    def accrue_penalty(self, i, amount):
        """What the daily pass does: penalty on an overdue installment (no entry, cash basis)."""
        loan = self.loan(i)
        if loan.status != "active":
            return
        inst = (
            Installment.objects.filter(
                loan=loan, schedule_version=loan.schedule_version, due_date__lt=today()
            )
            .order_by("number")
            .first()
        )
        if inst is not None:
            inst.penalty_due = amount_of(inst.penalty_due) + amount
            inst.status = "partial" if inst.status == "paid" else inst.status
            inst.save(update_fields=["penalty_due", "status"])

    @rule(i=LOANS, percent=st.sampled_from([0, 2, 25, 50, 100, 150]))
    def provide(self, i, percent):
        """What the daily pass does: the provision held moved to a share of the outstanding."""
        loan = self.loan(i)
        if loan.status != "active":
            return
        target = (amount_of(loan.outstanding_principal) * percent / 100).quantize(Decimal(1))
        delta = target - amount_of(loan.provision_held)
        if not delta:
            return
        dims = {
            "fund_id": loan.fund_id,
            "superior_union_id": loan.superior_union_id,
            "grassroots_union_id": loan.grassroots_union_id,
            "subledger": loan.subledger,
        }
        expense, provision = ("6422", "2293") if delta > 0 else ("2293", "6422")
        journal_entry_post(
            effective_date=today(),
            legs=[debit(expense, abs(delta), **dims), credit(provision, abs(delta), **dims)],
            memo="Dự phòng",
            idempotency_key=new_key("dp"),
        )
        Loan.objects.filter(pk=loan.pk).update(provision_held=target)

    @rule(i=LOANS, draw=st.integers(0, 3))
    def recall(self, i, draw):
        loan = self.loan(i)
        if draw:  # a misuse is rare: one draw in four
            return
        try:
            loan_recall_on_visit(
                loan=loan,
                visited_on=today(),
                purpose_verified=False,
                jobs_confirmed=0,
                actor=self.officers.fund,
                recall_idempotency_key=new_key("thuhoi"),
            )
        except ApplicationError as e:
            assert e.field == "loan", e

    @rule(
        i=LOANS,
        cause=st.sampled_from(["death", "disability", "natural_disaster"]),
        draw=st.integers(0, 2),
    )
    def write_off(self, i, cause, draw):
        if draw:
            return
        try:
            loan_write_off(
                loan=self.loan(i),
                written_off_on=today(),
                cause=cause,
                idempotency_key=new_key("xlrr"),
                requested_by=self.officers.superior,
                actor=self.officers.checker,
            )
        except ApplicationError as e:
            assert e.field == "loan", e

    @rule(i=LOANS, amount=st.integers(min_value=1, max_value=5_000_000))
    def recover(self, i, amount):
        try:
            write_off_recovery_post(
                loan=self.loan(i),
                amount=amount,
                received_on=today(),
                idempotency_key=new_key("thu"),
                actor=self.officers.fund,  # recoveries are the fund officers' (loans.policy)
            )
        except ApplicationError as e:
            assert e.field in ("amount", "loan"), e

    @rule(i=LOANS, apply_savings=st.booleans())
    def close(self, i, apply_savings):
        try:
            loan_close(
                loan=self.loan(i),
                closed_on=today(),
                apply_savings=apply_savings,
                idempotency_key=new_key("tt"),
                actor=self.officers.fund,
            )
        except PermissionRefused:  # pragma: no cover - the fund officer may
            raise
        except ApplicationError as e:
            assert e.field in ("loan", "apply_savings"), e

    # ---- invariants -----------------------------------------------------------------------

    @invariant()
    def book_schedules_and_ledger_agree(self):
        self.book_and_ledger_reconcile()
        self.schedule_in_force_owes_the_outstanding_principal()
        self.ledger_balances_and_sub_ledgers_agree()

    def book_and_ledger_reconcile(self):
        report = loan_book_reconcile(fund=self.fund, as_of=today())
        assert report.ok, report.lines()

    def schedule_in_force_owes_the_outstanding_principal(self):
        for loan in Loan.objects.filter(pk__in=[x.pk for x in self.loans]):
            outstanding = amount_of(loan.outstanding_principal)
            if loan.status == "written_off":
                assert outstanding == 0
                continue
            owed = Installment.objects.filter(
                loan=loan, schedule_version=loan.schedule_version
            ).aggregate(due=Sum("principal_due"), paid=Sum("principal_paid"))
            assert owed["due"] - owed["paid"] == outstanding
            if loan.status == "closed":
                assert outstanding == 0

    def ledger_balances_and_sub_ledgers_agree(self):
        assert (Posting.objects.aggregate(s=Sum("amount"))["s"] or 0) == 0
        for loan in Loan.objects.filter(pk__in=[x.pk for x in self.loans]):
            held = account_balance(account="2293", as_of=today(), subledger=loan.subledger)
            assert -held == amount_of(loan.provision_held)
            assert borrower_savings_balance(loan=loan) >= 0
            w = LoanWriteOff.objects.filter(loan=loan).first()
            if w is not None:
                recovered = -account_balance(
                    account="7111", as_of=today(), subledger=loan.subledger
                )
                assert 0 <= recovered <= amount_of(w.principal)


def test_any_sequence_of_servicing_events_keeps_book_schedule_and_ledger_in_step(
    chain, capital, org, officers
):
    savings = LoanProductFactory(
        fund=org.fund, code="TK10", savings_kind="percent_of_loan", savings_percent=Decimal(10)
    )
    LoanBook.loans = [
        make_loan(chain),
        make_loan(chain, product=savings),
        make_loan(chain, product=savings, on=today() - timedelta(days=40)),
    ]
    LoanBook.officers = officers
    LoanBook.fund = org.fund
    run_state_machine_as_test(
        LoanBook, settings=settings(max_examples=20, stateful_step_count=8, deadline=None)
    )
