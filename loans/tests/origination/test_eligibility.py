"""The eligibility rules, each with its reason, and the helpers they rest on."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from fund.models import SuperiorUnion
from loans.origination.eligibility import (
    age_on,
    borrower_eligibility,
    certificate_expiry,
)
from loans.schedules import add_months
from loans.tests.factories import BorrowerFactory, application_draft, today

pytestmark = pytest.mark.django_db


def check(borrower, product, amount=20_000_000, term=12, on=None, **kw):
    return borrower_eligibility(
        borrower=borrower, product=product, amount=Decimal(amount), term=term, on=on, **kw
    )


def test_a_typical_member_is_eligible(borrower, product):
    result = check(borrower, product)
    assert result.eligible and result.reasons == ()
    assert (result.outstanding, result.limit) == (0, Decimal(50_000_000))


@pytest.mark.parametrize(
    "born, on, age",
    [
        (date(2000, 2, 29), date(2018, 2, 28), 17),
        (date(2000, 2, 29), date(2018, 3, 1), 18),
        (date(1990, 6, 15), date(2025, 6, 14), 34),
        (date(1990, 6, 15), date(2025, 6, 15), 35),
    ],
)
def test_age_in_whole_years(born, on, age):
    assert age_on(born, on) == age


def test_add_months_clamps_to_the_month_end():
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2024, 11, 30), 3) == date(2025, 2, 28)


def test_too_young_and_too_old(org, product):
    on = date(2025, 6, 1)
    young = BorrowerFactory(
        grassroots_union=org.lb1, date_of_birth=date(2007, 6, 2), certificate_date=on
    )
    old = BorrowerFactory(
        grassroots_union=org.lb1, date_of_birth=date(1964, 5, 31), certificate_date=on
    )
    assert check(young, product, on=on).codes == ["too_young"]
    assert check(old, product, on=on).codes == ["too_old"]
    assert check(young, product, on=date(2025, 6, 2)).eligible


@pytest.mark.parametrize(
    "status, issued_days_ago, codes",
    [
        ("poor", 300, []),
        ("poor", 400, ["certificate_expired"]),
        ("near_poor", 400, ["certificate_expired"]),
        ("just_out_of_poverty", 400, []),  # counts 36 months after leaving poverty
        ("just_out_of_poverty", 365 * 3 + 5, ["certificate_expired"]),
        ("low_income", -3, ["certificate_not_yet_issued"]),
    ],
)
def test_certificate_validity_by_household_status(org, product, status, issued_days_ago, codes):
    b = BorrowerFactory(
        grassroots_union=org.lb1,
        household_status=status,
        certificate_date=today() - timedelta(days=issued_days_ago),
    )
    result = check(b, product)
    assert result.codes == codes
    if codes:
        assert result.reasons[0].field == "certificate_date"


def test_an_explicit_validity_date_wins(org, product):
    b = BorrowerFactory(
        grassroots_union=org.lb1,
        certificate_date=today() - timedelta(days=600),
        certificate_valid_to=today(),
    )
    assert certificate_expiry(borrower=b, product=product) == today()
    assert check(b, product).eligible
    assert check(b, product, on=today() + timedelta(days=1)).codes == ["certificate_expired"]


def test_a_missing_certificate(org, product):
    b = BorrowerFactory(grassroots_union=org.lb1, certificate_number="", certificate_date=None)
    assert check(b, product).reasons[0].field == "certificate_number"


def test_an_inactive_union_makes_its_members_ineligible(org, product, borrower):
    org.lb1.active_to = today()
    org.lb1.save()
    borrower.refresh_from_db()
    result = check(borrower, product)
    assert result.codes == ["union_inactive"] and org.lb1.name in result.reasons[0].message
    assert check(borrower, product, on=today() - timedelta(days=1)).eligible


def test_an_inactive_superior_union_too(org, product, borrower):
    SuperiorUnion.objects.filter(pk=org.lb.pk).update(active_to=today() - timedelta(days=1))
    borrower.refresh_from_db()
    result = check(borrower, product)
    assert result.codes == ["union_inactive"] and "Long Biên" in result.reasons[0].message


def test_product_ranges_and_state(borrower, product):
    assert check(borrower, product, amount=1_999_999).codes == ["amount_out_of_range"]
    assert check(borrower, product, amount=50_000_001).codes == [
        "amount_out_of_range",
        "borrower_limit",
    ]
    assert check(borrower, product, term=5).codes == ["term_out_of_range"]
    assert check(borrower, product, term=37).reasons[0].field == "term"
    product.active = False
    assert check(borrower, product).codes == ["product_inactive"]


def test_the_limit_is_the_fund_setting(org, borrower, product):
    org.fund.borrower_outstanding_limit = Decimal(15_000_000)
    org.fund.save()
    borrower.refresh_from_db()
    result = check(borrower, product)
    assert result.codes == ["borrower_limit"] and "15.000.000" in result.reasons[0].message


def test_at_disbursement_only_the_member_is_checked(org, borrower, product):
    product.active = False
    assert check(borrower, product, amount=99_000_000, term=99, at_disbursement=True).eligible
    borrower.certificate_date = today() - timedelta(days=400)
    assert check(borrower, product, at_disbursement=True).codes == ["certificate_expired"]


def test_another_open_application_but_not_this_one(borrower, product):
    app = application_draft(borrower=borrower, product=product)
    assert check(borrower, product).codes == ["open_application"]
    assert check(borrower, product, application=app).eligible


def test_the_standing_equals_the_orm_selectors(chain, capital, officers, org):
    """``borrower_standing`` (written as SQL) against ``borrower_outstanding``,
    ``borrower_has_overdue`` and the applications in progress read through the ORM: a member
    without loans, with an application in progress, with two loans before and after a due date,
    with a loan classified past due, after an installment paid and once a loan is closed."""
    from loans.models import Installment, Loan, LoanApplication
    from loans.origination.applications import (
        application_approve,
        application_review,
        application_submit,
    )
    from loans.origination.disbursement import loan_disburse
    from loans.origination.eligibility import (
        borrower_has_overdue,
        borrower_outstanding,
        borrower_standing,
    )
    from loans.tests.factories import new_key

    member = chain.borrower

    def both(on, open_except=None):
        others = LoanApplication.objects.filter(
            borrower=member, status__in=LoanApplication.OPEN_STATUSES
        )
        if open_except is not None:
            others = others.exclude(pk=open_except)
        expected = (
            borrower_outstanding(borrower=member),
            borrower_has_overdue(borrower=member, on=on),
            others.order_by("pk").values_list("pk", flat=True).first(),
        )
        got = borrower_standing(borrower=member, on=on, open_except=open_except)
        assert (got.outstanding, got.late, got.other_open) == expected
        assert isinstance(got.outstanding, Decimal)
        without = borrower_standing(borrower=member, on=on, with_open=False)
        assert (without.outstanding, without.late, without.other_open) == (*expected[:2], None)
        return expected

    assert both(today()) == (0, False, None)
    loans = []
    for amount in (20_000_000, 15_000_000):
        app = application_draft(
            borrower=member, product=chain.product, actor=chain.maker, amount=amount
        )
        assert both(today()) == (sum(a.principal.amount for a in loans), False, app.pk)
        assert both(today(), open_except=app.pk)[2] is None
        app = application_submit(
            application=app, idempotency_key=new_key("submit"), actor=chain.maker
        )
        app = application_review(
            application=app,
            decision="approve",
            idempotency_key=new_key("review"),
            actor=chain.reviewer,
        )
        app = application_approve(
            application=app, idempotency_key=new_key("approve"), actor=chain.approver
        )
        loans.append(
            loan_disburse(
                application=app,
                disbursed_on=today(),
                idempotency_key=new_key("disburse"),
                actor=officers.fund,
            )
        )
    first_due = Installment.objects.filter(loan=loans[0]).order_by("number").first().due_date
    assert both(today()) == (35_000_000, False, None)
    assert both(first_due) == (35_000_000, False, None)
    assert both(first_due + timedelta(days=1)) == (35_000_000, True, None)
    Installment.objects.filter(loan__in=loans, due_date=first_due).update(status="paid")
    assert both(first_due + timedelta(days=1)) == (35_000_000, False, None)
    Loan.objects.filter(pk=loans[1].pk).update(days_past_due=3)
    assert both(today()) == (35_000_000, True, None)
    Loan.objects.filter(pk=loans[1].pk).update(status="closed")
    assert both(today()) == (20_000_000, False, None)
