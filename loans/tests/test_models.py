"""The database's own guards on the loan book, for code that bypasses the services (bulk
updates of the daily run in part 2 included)."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from loans.models import Borrower, Installment, Loan
from loans.tests.factories import BorrowerFactory, today
from loans.tests.helpers import lend

pytestmark = pytest.mark.django_db


@pytest.fixture
def loan(chain, capital):
    """The chain's member's loan of 20 000 000 ₫, disbursed today."""
    return lend(chain, chain.borrower, 20_000_000, today())


@pytest.mark.parametrize(
    "change",
    [
        {"outstanding_principal": Decimal(20_000_001)},
        {"outstanding_principal": Decimal(-1)},
        {"debt_group": 0},
    ],
)
def test_a_loan_s_outstanding_stays_within_its_principal(loan, change):
    with pytest.raises(IntegrityError), transaction.atomic():
        Loan.objects.filter(pk=loan.pk).update(**change)


def test_an_installment_is_never_paid_beyond_what_is_due(loan):
    first = loan.installments.get(number=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Installment.objects.filter(pk=first.pk).update(
            principal_paid=first.principal_due.amount + 1
        )
    Installment.objects.filter(pk=first.pk).update(principal_paid=first.principal_due.amount)
    first.refresh_from_db()
    assert first.principal_paid == first.principal_due


def test_one_loan_per_application_and_one_row_per_installment_number(loan):
    with pytest.raises(IntegrityError), transaction.atomic():
        Installment.objects.create(
            loan=loan, number=1, due_date=today(), principal_due=1, balance_after=0
        )
    data = {
        f.attname: getattr(loan, f.attname)
        for f in Loan._meta.concrete_fields
        if f.attname not in ("id", "disbursement_entry_id")
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        Loan.objects.create(**data)


def test_a_cccd_is_unique_in_the_fund_at_the_database_too(org):
    b = BorrowerFactory(grassroots_union=org.lb1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Borrower.objects.create(
            fund=org.fund,
            grassroots_union=org.lb2,
            full_name="Bản sao",
            date_of_birth=b.date_of_birth,
            sex=b.sex,
            national_id=b.national_id,
            household_status="poor",
        )
