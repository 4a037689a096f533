"""The reviewer's view of an application: the member's loans and debt (overdue included), the
guarantor, and the schedule the loan would have, which is the one the disbursement then makes."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from accounting.formatting import format_date_vi, format_vnd
from fund.calendar import days_off_between
from fund.services import calendar_day_set
from loans.models import Loan
from loans.origination.applications import application_approve, application_review
from loans.origination.disbursement import loan_disburse
from loans.origination.products import loan_product_update
from loans.schedules import add_months
from loans.tests.factories import application_to, new_key, today
from loans.tests.helpers import disbursed_loan
from tests.web.helpers import in_english, vietnamese_left, visible_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def loan(borrower, product, officers, capital):
    """The member's loan, disbursed ten days ago: nothing due yet, so they may borrow again."""
    return disbursed_loan(borrower=borrower, product=product, officers=officers, days_ago=10)


@pytest.fixture
def submitted(officers, product, loan, other_loan):
    """A second application of the member of `loan`, guaranteed by the member of `other_loan`."""
    guarantor = other_loan.borrower
    return application_to(
        "submitted",
        borrower=loan.borrower,
        product=product,
        maker=officers.grassroots,
        approver=None,
        amount=5_000_000,
        term=6,
        security_kind="guarantor",
        group_name="",
        guarantor_name=guarantor.full_name,
        guarantor_national_id=guarantor.national_id,
        guarantor_phone="0912345678",
        guarantor_relationship="Anh trai",
    )


def _section(body: str, testid: str) -> str:
    return body.split(f'data-testid="{testid}"', 1)[1].split("</section>", 1)[0]


def test_the_reviewer_sees_the_members_debt_and_the_guarantor(as_user, officers, loan, submitted):
    # The last close of business found the first loan 15 days late.
    Loan.objects.filter(pk=loan.pk).update(
        days_past_due=15, overdue_principal=Decimal(1_000_000), overdue_interest=Decimal(80_000)
    )
    loan.refresh_from_db()
    body = (
        as_user(officers.superior)
        .get(reverse("loans:application_detail", args=[submitted.pk]))
        .content.decode()
    )
    debt = _section(body, "member-debt")
    assert format_vnd(loan.outstanding_principal.amount) in debt
    assert 'data-testid="member-overdue">1.080.000 ₫<' in debt
    assert reverse("loans:loan_detail", args=[loan.pk]) in debt
    guarantor = _section(body, "guarantor")
    assert submitted.guarantor_name in guarantor and "0912 345 678" in guarantor
    assert "Anh trai" in guarantor
    # The guarantor is a member with a loan of their own (another superior union's member:
    # the reviewer sees the figure, not the loan).
    other = Loan.objects.exclude(pk=loan.pk).get(
        borrower__national_id=submitted.guarantor_national_id
    )
    assert format_vnd(other.outstanding_principal.amount) in guarantor
    assert reverse("loans:loan_detail", args=[other.pk]) not in body


def test_the_preview_is_the_schedule_the_disbursement_makes(
    as_user, officers, org, product, submitted
):
    # The product moves due dates off days off; the first nominal due date is made a day off.
    loan_product_update(product=product, day_off_rule="following", actor=officers.fund)
    nominal = add_months(today(), 1)
    if nominal not in days_off_between(org.fund.pk, nominal, nominal):
        calendar_day_set(fund=org.fund, day=nominal, working=False, actor=officers.fund)
    body = (
        as_user(officers.superior)
        .get(reverse("loans:application_detail", args=[submitted.pk]))
        .content.decode()
    )
    preview = _section(body, "schedule-preview")
    assert preview.count('<tr><td class="num">') == submitted.term
    assert format_date_vi(nominal) not in preview  # moved to the next working day
    # Approved and disbursed today: the loan's schedule is the one previewed.
    application_review(
        application=submitted,
        decision="approve",
        idempotency_key=new_key("review"),
        actor=officers.superior,
        decided_on=today() - timedelta(days=1),
    )
    app = application_approve(
        application=submitted,
        idempotency_key=new_key("approve"),
        actor=officers.checker,
        decided_on=today(),
    )
    new = loan_disburse(
        application=app, disbursed_on=today(), idempotency_key=new_key("d"), actor=officers.fund
    )
    for i in new.installments.order_by("number"):
        row = f'<td class="num">{i.number}</td><td>{format_date_vi(i.due_date)}</td>'
        assert row in preview, row
        assert format_vnd(i.principal_due.amount) in preview.split(row, 1)[1].split("</tr>")[0]
    # Once disbursed the page shows the loan, not the preview.
    body = (
        as_user(officers.superior)
        .get(reverse("loans:application_detail", args=[submitted.pk]))
        .content.decode()
    )
    assert 'data-testid="schedule-preview"' not in body


def test_the_reviewers_view_in_english(as_user, officers, submitted):
    c = in_english(as_user(officers.superior))
    body = c.get(reverse("loans:application_detail", args=[submitted.pk])).content.decode()
    assert "The member's existing debt" in body and "Expected repayment schedule" in body
    text = visible_text(body).replace("Anh trai", " ")  # data: what the officer wrote
    assert not vietnamese_left(text)
