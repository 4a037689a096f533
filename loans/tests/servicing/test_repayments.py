"""Repayments: allocation in the loan's order, the ledger entry, the loan book, the refusals."""

from datetime import timedelta
from decimal import Decimal

import pytest

from accounting.models import CommandRecord
from accounting.selectors import account_balance
from loans.errors import LoanError
from loans.models import Loan, LoanTransaction
from loans.servicing.repayments import repayment_post
from loans.tests.factories import (
    DaysFromToday,
    LoanProductFactory,
    new_key,
    on_run_day,
    today,
)
from loans.tests.helpers import dec, inst, make_loan, pay, reconciled, repayment_counts

pytestmark = pytest.mark.django_db


def left(i, c):
    return dec(getattr(i, f"{c}_due")) - dec(getattr(i, f"{c}_paid"))


def test_schedule_is_what_the_hand_checks_assume(loan):
    # 12 000 000 over 12 months, equal principal: 1 000 000 of principal each month.
    first, second = inst(loan, 1), inst(loan, 2)
    assert dec(first.principal_due) == 1_000_000
    assert dec(second.principal_due) == 1_000_000
    assert dec(first.interest_due) > dec(second.interest_due) > 0
    # 100 days after disbursement: installments 1–3 overdue, 4 current.
    assert inst(loan, 3).due_date < today() <= inst(loan, 4).due_date


def test_partial_payment_goes_to_overdue_interest_then_overdue_principal(loan):
    i1, i2, i3 = inst(loan, 1), inst(loan, 2), inst(loan, 3)
    interest_overdue = sum(dec(i.interest_due) for i in (i1, i2, i3))
    amount = interest_overdue + 1_500_000
    r = pay(loan, amount)
    i1, i2, i3, i4 = (inst(loan, n) for n in (1, 2, 3, 4))
    assert dec(r.interest) == interest_overdue
    assert dec(r.principal) == 1_500_000
    assert (i1.status, i2.status, i3.status, i4.status) == ("paid", "partial", "partial", "pending")
    assert dec(i2.principal_paid) == 500_000 and dec(i3.principal_paid) == 0
    assert i1.paid_on == today()
    loan.refresh_from_db()
    assert dec(loan.outstanding_principal) == 10_500_000
    # One balanced entry: Dr 1121 = Cr 1283 + Cr 5151, with the fund and unions on every leg.
    entry = r.journal_entry
    legs = {p.account.code: dec(p.amount) for p in entry.postings.select_related("account")}
    assert legs == {"1121": amount, "1283": -1_500_000, "5151": -interest_overdue}
    assert all(
        p.fund_id == loan.fund_id
        and p.superior_union_id == loan.superior_union_id
        and p.grassroots_union_id == loan.grassroots_union_id
        for p in entry.postings.all()
    )
    assert account_balance(account="1283", as_of=today(), subledger=loan.subledger) == 10_500_000
    assert {(a.installment.number, a.component, dec(a.amount)) for a in r.allocations.all()} == {
        (1, "interest", dec(i1.interest_due)),
        (2, "interest", dec(i2.interest_due)),
        (3, "interest", dec(i3.interest_due)),
        (1, "principal", Decimal(1_000_000)),
        (2, "principal", Decimal(500_000)),
    }
    assert reconciled(loan)


def test_stored_order_principal_before_interest_is_followed(chain, capital):
    order = [
        "penalty",
        "overdue_principal",
        "overdue_interest",
        "current_principal",
        "current_interest",
    ]
    product = LoanProductFactory(fund=chain.product.fund, code="GT", allocation_order=order)
    loan = make_loan(chain, product=product)
    r = pay(loan, 2_500_000)
    assert dec(r.principal) == 2_500_000 and dec(r.interest) == 0
    assert inst(loan, 3).status == "partial"


def test_early_payment_goes_to_following_installments_principal(chain, capital):
    loan = make_loan(chain, on=today() - timedelta(days=3))
    i1 = inst(loan, 1)
    assert i1.due_date >= today()  # the first installment is the current one
    amount = dec(i1.interest_due) + 1_000_000 + 2_000_000
    r = pay(loan, amount)
    assert dec(r.interest) == dec(i1.interest_due) and dec(r.principal) == 3_000_000
    assert [inst(loan, n).status for n in (1, 2, 3, 4)] == ["paid", "partial", "partial", "pending"]
    # The following installments' interest is not taken early.
    assert dec(inst(loan, 2).interest_paid) == 0
    assert dec(inst(loan, 3).principal_paid) == 1_000_000
    assert reconciled(loan)


def test_paying_everything_closes_the_loan(loan):
    rows = list(loan.installments.order_by("number"))
    current = next(i for i in rows if i.due_date >= today())
    owed = sum(dec(i.interest_due) for i in rows if i.number <= current.number) + 12_000_000
    with pytest.raises(LoanError) as e:
        pay(loan, owed + 1)
    assert e.value.field == "amount"
    r = pay(loan, owed)
    loan.refresh_from_db()
    assert loan.status == "closed" and loan.closed_on == today() and r.closed_loan
    assert dec(loan.outstanding_principal) == 0
    assert account_balance(account="1283", as_of=today(), subledger=loan.subledger) == 0
    with pytest.raises(LoanError) as e:
        pay(loan, 1000)
    assert e.value.field == "loan"
    assert reconciled(loan)


def test_overpayment_to_savings_is_credited_to_the_borrower(loan):
    rows = list(loan.installments.order_by("number"))
    current = next(i for i in rows if i.due_date >= today())
    owed = sum(dec(i.interest_due) for i in rows if i.number <= current.number) + 12_000_000
    r = pay(loan, owed + 250_000, overpayment="savings")
    assert dec(r.overpayment_savings) == 250_000
    sub = f"borrower:{loan.borrower_id}"
    assert account_balance(account="33881", as_of=today(), subledger=sub) == -250_000
    assert reconciled(loan)


def test_compulsory_savings_are_collected_with_installments(chain, capital):
    product = LoanProductFactory(
        fund=chain.product.fund,
        code="TK",
        savings_kind="fixed_per_installment",
        savings_amount=Decimal(50_000),
    )
    loan = make_loan(chain, product=product)
    rows = list(loan.installments.order_by("number"))
    current = next(i for i in rows if i.due_date >= today())
    debt = sum(
        dec(i.interest_due) + dec(i.principal_due) for i in rows if i.number <= current.number
    )
    r = pay(loan, debt + 120_000)
    # The overdue and current debt first, then the savings (50 000 each), oldest first.
    assert dec(r.savings) == 120_000 and dec(r.principal) == 4_000_000
    assert [dec(inst(loan, n).savings_paid) for n in (1, 2, 3)] == [50_000, 50_000, 20_000]
    assert inst(loan, 1).status == "paid" and inst(loan, 3).status == "partial"
    sub = f"borrower:{loan.borrower_id}"
    assert account_balance(account="33881", as_of=today(), subledger=sub) == -120_000
    assert LoanTransaction.objects.get(journal_entry=r.journal_entry).savings.amount == 120_000


def test_same_key_returns_the_same_repayment_and_another_request_is_refused(loan):
    r1 = pay(loan, 500_000, key="remit-1")
    before = repayment_counts()
    r2 = pay(loan, 500_000, key="remit-1")
    assert r2.pk == r1.pk and repayment_counts() == before
    with pytest.raises(Exception) as e:
        pay(loan, 600_000, key="remit-1")
    assert e.value.field == "idempotency_key"
    assert repayment_counts() == before


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"amount": Decimal("1000.5")}, "amount"),
        ({"amount": 0}, "amount"),
        ({"amount": -5}, "amount"),
        ({"amount": 1000.0}, "amount"),
        ({"paid_on": DaysFromToday(1)}, "paid_on"),
        ({"paid_on": DaysFromToday(-101)}, "paid_on"),  # the day before the disbursement
        ({"amount": 10**12}, "amount"),
        ({"overpayment": "keep"}, "overpayment"),
    ],
)
def test_refusals_name_the_field_and_write_nothing(loan, kwargs, field):
    before, keys = repayment_counts(), CommandRecord.objects.count()
    args = {"amount": 1_000_000, "paid_on": today(), **on_run_day(kwargs)}
    with pytest.raises(LoanError) as e:
        repayment_post(loan=loan, idempotency_key=new_key("bad"), **args)
    assert e.value.field == field
    assert repayment_counts() == before and CommandRecord.objects.count() == keys
    loan.refresh_from_db()
    assert dec(loan.outstanding_principal) == 12_000_000


def test_late_payments_in_sequence_reconcile(loan):
    for days_ago, amount in ((60, 700_000), (30, 1_234_567), (5, 2_000_000), (0, 999)):
        pay(loan, amount, on=today() - timedelta(days=days_ago))
    loan.refresh_from_db()
    paid = sum(dec(r.principal) for r in loan.repayments.all())
    assert dec(loan.outstanding_principal) == 12_000_000 - paid
    assert sum(dec(i.principal_paid) for i in loan.installments.all()) == paid
    assert reconciled(loan)
    assert Loan.objects.get(pk=loan.pk).status == "active"
