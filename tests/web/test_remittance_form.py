"""The fund's entry of a union's remittance (loans:remittance) and what the loan page shows of
it: the lines of a batch on each loan's page are that loan's only."""

from decimal import Decimal

import pytest
from django.urls import reverse

from loans.servicing.repayments import repayment_batch_post
from loans.tests.factories import BorrowerFactory, new_key, today
from loans.tests.helpers import disbursed_loan

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_loans(org, loan, product, officers):
    """`loan` (Nguyễn Thị Hoa) and a loan of another member of LB-001."""
    member = BorrowerFactory(grassroots_union=org.lb1, full_name="Lê Văn Tám")
    return loan, disbursed_loan(borrower=member, product=product, officers=officers, days_ago=40)


def test_the_loan_page_lists_only_its_own_lines_of_a_batch(as_user, officers, org, two_loans):
    first, second = two_loans
    repayment_batch_post(
        grassroots_union=org.lb1,
        receipt_number="UNC-77",
        paid_on=today(),
        lines=[(first, Decimal(1_000_000)), (second, Decimal(700_000))],
        idempotency_key=new_key("batch"),
        actor=officers.fund,
    )
    from loans.servicing.selectors import loan_ledger_lines

    batch_lines = [x for x in loan_ledger_lines(loan_id=first.pk) if x.kind == "repayment"]
    assert batch_lines, "the batch's lines of the first loan"
    assert sum(x.amount for x in batch_lines) == Decimal(-1_000_000)  # its credits only
    assert batch_lines[0].memo and all(x.memo is None for x in batch_lines[1:])
    body = as_user(officers.fund).get(reverse("loans:loan_detail", args=[first.pk])).content
    ledger = body.decode().split('data-testid="ledger"', 1)[1].split("</table>", 1)[0]
    assert "700.000" not in ledger and "1.700.000" not in ledger
