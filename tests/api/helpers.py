"""Helpers of the API tests: a loan disbursed through the services, an amount as the API
takes it."""

from datetime import timedelta

from loans.origination.disbursement import loan_disburse
from loans.tests.factories import BorrowerFactory, application_to, new_key
from loans.tests.helpers import disbursed_day


def make_loan(chain, *, grassroots_union=None, amount=12_000_000, term=12, on=None):
    """A loan disbursed through the services (grassroots union LB-001 unless given)."""
    on = on or disbursed_day()
    gu = grassroots_union or chain.borrower.grassroots_union
    borrower = BorrowerFactory(grassroots_union=gu, certificate_date=on - timedelta(days=30))
    reviewer = (
        chain.reviewer
        if gu.superior_union_id == chain.borrower.grassroots_union.superior_union_id
        else None
    )
    app = application_to(
        "approved",
        borrower=borrower,
        product=chain.product,
        maker=chain.maker if gu == chain.borrower.grassroots_union else None,
        reviewer=reviewer,
        approver=chain.approver,
        amount=amount,
        term=term,
    )
    return loan_disburse(
        application=app, disbursed_on=on, idempotency_key=new_key("disburse"), actor=chain.disburser
    )


def money(amount) -> dict:
    return {"amount": str(amount), "currency": "VND"}
