"""The allocation order and the debt-group table: defaults, validation, classification."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from loans.terms import (
    debt_group_for,
    default_allocation_order,
    default_debt_groups,
    provision_rate_for,
    validate_allocation_order,
    validate_debt_groups,
)


def test_the_default_allocation_order_clears_penalty_then_overdue_then_current():
    assert default_allocation_order() == [
        "penalty",
        "overdue_interest",
        "overdue_principal",
        "current_interest",
        "current_principal",
    ]
    validate_allocation_order(default_allocation_order())


@pytest.mark.parametrize(
    "order",
    [
        ["penalty", "overdue_interest", "overdue_principal", "current_interest"],
        ["penalty"] * 5,
        [*default_allocation_order(), "fees"],
        "penalty,overdue_interest",
    ],
)
def test_an_allocation_order_must_name_each_bucket_once(order):
    with pytest.raises(ValidationError):
        validate_allocation_order(order)


@pytest.mark.parametrize(
    "days, group, rate",
    [
        (0, 1, "0"),
        (9, 1, "0"),
        (10, 2, "2"),
        (29, 2, "2"),
        (30, 3, "25"),
        (89, 3, "25"),
        (90, 4, "50"),
        (179, 4, "50"),
        (180, 5, "100"),
        (2000, 5, "100"),
    ],
)
def test_the_default_table_is_circular_14_2024(days, group, rate):
    table = default_debt_groups()
    validate_debt_groups(table)
    assert debt_group_for(days, table) == group
    assert provision_rate_for(group, table) == Decimal(rate)


def test_a_bank_table_can_be_expressed_too():
    bank = [
        {"group": 1, "min_days": 0, "provision_rate": "0"},
        {"group": 2, "min_days": 10, "provision_rate": "5"},
        {"group": 3, "min_days": 90, "provision_rate": "20"},
        {"group": 4, "min_days": 180, "provision_rate": "50"},
        {"group": 5, "min_days": 360, "provision_rate": "100"},
    ]
    validate_debt_groups(bank)
    assert [debt_group_for(d, bank) for d in (5, 60, 100, 200, 400)] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    "table",
    [
        [],
        [{"group": 1, "min_days": 0, "provision_rate": "0"}],
        [
            {"group": 1, "min_days": 5, "provision_rate": "0"},
            {"group": 2, "min_days": 10, "provision_rate": "2"},
        ],
        [
            {"group": 1, "min_days": 0, "provision_rate": "0"},
            {"group": 3, "min_days": 10, "provision_rate": "2"},
        ],
        [
            {"group": 1, "min_days": 0, "provision_rate": "0"},
            {"group": 2, "min_days": 0, "provision_rate": "2"},
        ],
        [
            {"group": 1, "min_days": 0, "provision_rate": "5"},
            {"group": 2, "min_days": 10, "provision_rate": "2"},
        ],
        [
            {"group": 1, "min_days": 0, "provision_rate": "0"},
            {"group": 2, "min_days": 10, "provision_rate": "120"},
        ],
        [
            {"group": 1, "min_days": 0, "provision_rate": "0"},
            {"group": 2, "min_days": 10, "provision_rate": "abc"},
        ],
        [
            {"group": 1, "min_days": 0, "provision_rate": "0"},
            {"group": 2, "min_days": 10.5, "provision_rate": "2"},
        ],
        [
            {"group": 1, "min_days": 0, "provision_rate": "0", "colour": "red"},
            {"group": 2, "min_days": 10, "provision_rate": "2"},
        ],
        [
            {"group": 1, "min_days": 0, "provision_rate": "0"},
            {"group": 2, "min_days": 10, "provision_rate": "2", "reschedulings": 0},
        ],
    ],
)
def test_broken_tables_are_refused(table):
    with pytest.raises(ValidationError):
        validate_debt_groups(table)
