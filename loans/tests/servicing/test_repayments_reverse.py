"""Reversing a repayment: the entry reversed, the installments re-opened exactly, the loan too."""

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounting.selectors import account_balance
from loans.errors import LoanError
from loans.models import Installment, LoanTransaction
from loans.servicing.repayments import repayment_reverse
from loans.tests.factories import new_key, today
from loans.tests.helpers import dec, make_loan, pay, reconciled

pytestmark = pytest.mark.django_db


FIELDS = ("principal_paid", "interest_paid", "penalty_paid", "savings_paid", "status", "paid_on")


def snapshot(loan):
    loan.refresh_from_db()
    rows = Installment.objects.filter(loan=loan).order_by("number").values_list(*FIELDS)
    return dec(loan.outstanding_principal), loan.status, loan.closed_on, list(rows)


def reverse(repayment, *, key=None, reason="Nhập nhầm số tiền"):
    return repayment_reverse(
        repayment=repayment, reason=reason, idempotency_key=key or new_key("rev")
    )


def test_reversal_reopens_exactly_what_the_repayment_paid(loan):
    pay(loan, 800_000, on=today() - timedelta(days=40))
    before = snapshot(loan)
    r = pay(loan, 2_345_678)
    assert snapshot(loan) != before
    reverse(r)
    assert snapshot(loan) == before
    r.refresh_from_db()
    assert r.reversal_entry.reversal_of_id == r.journal_entry_id
    assert r.reversal_reason == "Nhập nhầm số tiền"
    txn = LoanTransaction.objects.get(journal_entry=r.reversal_entry)
    assert txn.kind == "reversal" and dec(txn.principal_change) == dec(r.principal)
    assert account_balance(account="1283", as_of=today(), subledger=loan.subledger) == before[0]
    assert reconciled(loan)


def test_reversing_the_payoff_reopens_the_loan(chain, capital):
    loan = make_loan(chain, on=today() - timedelta(days=2))
    before = snapshot(loan)
    owed = 12_000_000 + dec(Installment.objects.get(loan=loan, number=1).interest_due)
    r = pay(loan, owed)
    assert snapshot(loan)[1] == "closed"
    reverse(r)
    assert snapshot(loan) == before
    assert snapshot(loan)[1] == "active"
    assert reconciled(loan)


def test_reversal_is_idempotent_and_happens_once(loan):
    r = pay(loan, 1_000_000)
    first = reverse(r, key="huy-1")
    again = reverse(r, key="huy-1")
    assert first.pk == again.pk == r.pk
    assert LoanTransaction.objects.filter(kind="reversal").count() == 1
    with pytest.raises(LoanError) as e:
        reverse(r, key="huy-2")
    assert e.value.field == "repayment"
    assert LoanTransaction.objects.filter(kind="reversal").count() == 1


def test_only_the_latest_repayment_in_force_can_be_reversed(loan):
    older = pay(loan, 500_000, on=today() - timedelta(days=10))
    newer = pay(loan, 700_000)
    with pytest.raises(LoanError) as e:
        reverse(older)
    assert e.value.field == "repayment"
    reverse(newer)
    reverse(older)
    loan.refresh_from_db()
    assert dec(loan.outstanding_principal) == 12_000_000
    assert not Installment.objects.filter(loan=loan).exclude(status="pending").exists()
    assert reconciled(loan)


def test_a_reason_is_required(loan):
    r = pay(loan, 500_000)
    with pytest.raises(LoanError) as e:
        reverse(r, reason="  ")
    assert e.value.field == "reason"
    r.refresh_from_db()
    assert r.reversal_entry_id is None


def test_the_loan_admin_page_lists_repayments_and_reversals(client, loan):
    from django.urls import reverse as url

    from loans.tests.factories import UserFactory

    client.force_login(UserFactory(username="quantri", is_staff=True, is_superuser=True))
    r = pay(loan, 1_234_567)
    reverse(r, reason="Nộp nhầm khoản vay")
    html = client.get(url("admin:loans_loan_change", args=[loan.pk])).content.decode()
    assert "các lần trả nợ" in html.lower()
    assert "1.234.567" in html and "Nộp nhầm khoản vay" in html


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(["pay", "reverse"]),
            st.integers(min_value=1, max_value=6_000_000),
            st.integers(min_value=0, max_value=100),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_any_sequence_of_payments_and_reversals_keeps_book_and_ledger_in_step(loan, steps):
    # Each example runs in the test's transaction; a savepoint undoes it for the next example.
    from django.db import transaction

    sid = transaction.savepoint()
    loan.refresh_from_db()  # the previous example's changes were rolled back
    try:
        for action, amount, days_ago in steps:
            live = list(loan.repayments.filter(reversal_entry__isnull=True).order_by("pk"))
            if action == "reverse" and live:
                reverse(live[-1])
                continue
            earliest = max(
                [loan.disbursed_on] + [r.paid_on for r in live]
            )  # payments in date order
            on = max(earliest, today() - timedelta(days=days_ago))
            try:
                pay(loan, amount, on=on)
            except LoanError as e:
                assert e.field in ("amount", "loan")
        loan.refresh_from_db()
        live = loan.repayments.filter(reversal_entry__isnull=True)
        principal = sum((dec(r.principal) for r in live), 0)
        assert dec(loan.outstanding_principal) == 12_000_000 - principal
        rows = Installment.objects.filter(loan=loan)
        assert sum(dec(i.principal_paid) for i in rows) == principal
        assert sum(dec(i.interest_paid) for i in rows) == sum((dec(r.interest) for r in live), 0)
        assert (loan.status == "closed") == (dec(loan.outstanding_principal) == 0)
        assert reconciled(loan)
    finally:
        transaction.savepoint_rollback(sid)
