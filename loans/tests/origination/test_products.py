"""Products: every setting the issue lists, validated; changes never reach existing loans."""

from decimal import Decimal

import pytest

from fund.errors import PermissionRefused
from fund.models import AuditLog
from loans.errors import LoanError
from loans.models import LoanProduct
from loans.origination.products import loan_product_create, loan_product_update

pytestmark = pytest.mark.django_db

WEEKLY = {
    "min_amount": 2_000_000,
    "max_amount": 30_000_000,
    "min_term": 12,
    "max_term": 104,
    "rate": "6.6",
    "rate_period": "year",
    "method": "annuity",
    "frequency": "weekly",
    "principal_grace": 2,
    "interest_grace": 1,
    "penalty_rate": "8.58",  # 130 % of the normal rate, the usual ceiling being 150 %
    "penalty_rate_period": "year",
    "savings_kind": "fixed_per_installment",
    "savings_amount": 20_000,
}


def test_a_product_keeps_every_setting(org, officers):
    p = loan_product_create(
        fund=org.fund, code="TUAN", name="Cho vay trả góp tuần", actor=officers.fund, **WEEKLY
    )
    p.refresh_from_db()
    assert (p.min_amount.amount, p.max_amount.amount, p.min_term, p.max_term) == (
        2_000_000,
        30_000_000,
        12,
        104,
    )
    assert (p.rate, p.rate_period, p.method, p.frequency) == (
        Decimal("6.6"),
        "year",
        "annuity",
        "weekly",
    )
    assert (p.principal_grace, p.interest_grace, p.penalty_rate) == (2, 1, Decimal("8.58"))
    assert (p.savings_kind, p.savings_amount.amount, p.savings_percent) == (
        "fixed_per_installment",
        20_000,
        0,
    )
    assert p.allocation_order[0] == "penalty" and len(p.debt_groups) == 5
    assert AuditLog.objects.filter(action="create", content_type__model="loanproduct").exists()


@pytest.mark.parametrize(
    "change, field",
    [
        ({"min_amount": 0}, "min_amount"),
        ({"min_amount": "1000000.5"}, "min_amount"),
        ({"max_amount": 1_000_000}, "max_amount"),
        ({"max_amount": 60_000_000}, "max_amount"),  # beyond the fund's limit per member
        ({"min_term": 0}, "min_term"),
        ({"min_term": 200}, "min_term"),
        ({"rate": "-1"}, "rate"),
        ({"rate": 0.55}, "rate"),
        ({"rate": "0.00001"}, "rate"),
        ({"rate_period": "day"}, "rate_period"),
        ({"method": "balloon"}, "method"),
        ({"frequency": "daily"}, "frequency"),
        ({"principal_grace": 12}, "principal_grace"),
        ({"interest_grace": 12}, "interest_grace"),
        ({"savings_kind": "percent_of_loan", "savings_percent": "0"}, "savings_percent"),
        ({"savings_kind": "fixed_per_installment", "savings_amount": 0}, "savings_amount"),
        ({"allocation_order": ["penalty"]}, "allocation_order"),
        ({"debt_groups": [{"group": 1}]}, "debt_groups"),
        ({"min_age": 70}, "min_age"),
        ({"colour": "red"}, "fields"),
    ],
)
def test_bad_product_settings_name_the_field_and_write_nothing(org, change, field):
    with pytest.raises(Exception) as e:
        loan_product_create(fund=org.fund, code="X", name="X", **{**WEEKLY, **change})
    assert getattr(e.value, "field", None) == field
    assert LoanProduct.objects.count() == 0


def test_product_codes_are_unique_in_the_fund(org):
    loan_product_create(fund=org.fund, code="X", name="X", **WEEKLY)
    with pytest.raises(LoanError) as e:
        loan_product_create(fund=org.fund, code="X", name="Y", **WEEKLY)
    assert e.value.field == "code"


@pytest.mark.parametrize("who", ["grassroots", "superior", "auditor", "other_fund"])
def test_only_fund_officers_set_products(org, officers, who):
    with pytest.raises(PermissionRefused):
        loan_product_create(
            fund=org.fund, code="X", name="X", actor=getattr(officers, who), **WEEKLY
        )


def test_an_update_is_audited_and_switching_savings_off_clears_the_figures(org, officers):
    p = loan_product_create(fund=org.fund, code="X", name="X", **WEEKLY)
    p = loan_product_update(product=p, savings_kind="none", actor=officers.fund)
    assert (p.savings_kind, p.savings_amount.amount) == ("none", 0)
    log = AuditLog.objects.get(action="update", content_type__model="loanproduct")
    assert log.changes == {
        "savings_kind": ["fixed_per_installment", "none"],
        "savings_amount": ["20000", "0"],
    }
