"""Full payoff: the quote, and paying it closes the loan."""

from datetime import timedelta
from decimal import Decimal

import pytest

from accounting.selectors import account_balance
from loans.errors import LoanError
from loans.models import Installment
from loans.servicing.repayments import full_payoff_quote
from loans.tests.factories import LoanProductFactory, today
from loans.tests.helpers import dec, make_loan, pay, reconciled

pytestmark = pytest.mark.django_db


def test_quote_is_principal_plus_interest_through_the_current_installment(loan):
    rows = list(Installment.objects.filter(loan=loan).order_by("number"))
    current = next(i for i in rows if i.due_date >= today())
    interest = sum(dec(i.interest_due) for i in rows if i.number <= current.number)
    quote = full_payoff_quote(loan=loan, on=today())
    assert quote.principal == 12_000_000
    assert quote.interest == interest
    assert quote.penalty == 0 and quote.savings == 0
    assert quote.total == 12_000_000 + interest


def test_paying_the_quote_after_a_partial_payment_closes_the_loan(loan):
    pay(loan, 1_777_777, on=today() - timedelta(days=20))
    quote = full_payoff_quote(loan=loan, on=today())
    loan.refresh_from_db()
    assert quote.principal == dec(loan.outstanding_principal)
    r = pay(loan, quote.total)
    loan.refresh_from_db()
    assert r.closed_loan and loan.status == "closed" and loan.closed_on == today()
    assert dec(r.overpayment_savings) == 0
    assert account_balance(account="1283", as_of=today(), subledger=loan.subledger) == 0
    assert reconciled(loan)
    with pytest.raises(LoanError) as e:
        full_payoff_quote(loan=loan, on=today())
    assert e.value.field == "loan"


def test_quote_includes_the_savings_due_with_installments(chain, capital):
    product = LoanProductFactory(
        fund=chain.product.fund,
        code="TK2",
        savings_kind="fixed_per_installment",
        savings_amount=Decimal(30_000),
    )
    loan = make_loan(chain, product=product)
    rows = list(Installment.objects.filter(loan=loan).order_by("number"))
    current = next(i for i in rows if i.due_date >= today())
    quote = full_payoff_quote(loan=loan, on=today())
    assert quote.savings == 30_000 * current.number
    pay(loan, quote.total)
    loan.refresh_from_db()
    assert loan.status == "closed"


def test_quote_refuses_a_date_before_disbursement(loan):
    with pytest.raises(LoanError) as e:
        full_payoff_quote(loan=loan, on=loan.disbursed_on - timedelta(days=1))
    assert e.value.field == "paid_on"
