"""Borrowers: registration with a validated CCCD, changes, transfers that keep the history."""

from datetime import date, timedelta

import pytest

from fund.errors import PermissionRefused
from fund.models import AuditLog
from loans.errors import LoanError
from loans.models import Borrower
from loans.origination.borrowers import borrower_create, borrower_transfer, borrower_update
from loans.tests.factories import (
    BorrowerFactory,
    DaysFromToday,
    application_draft,
    on_run_day,
    today,
)
from loans.tests.helpers import borrower_counts

pytestmark = pytest.mark.django_db

HOA = {
    "full_name": "  Nguyễn   Thị Hoa ",
    "date_of_birth": date(1988, 7, 14),
    "sex": "female",
    "national_id": "001 188 004 521",
    "household_status": "near_poor",
    "phone": "0987 654 321",
    "certificate_number": "123/GCN-UBND",
    "certificate_date": date(2025, 1, 15),
}


def test_a_member_is_registered_with_a_normalised_cccd_and_a_membership(org, officers):
    b = borrower_create(
        fund=org.fund,
        grassroots_union=org.lb1,
        member_since=date(2019, 9, 1),
        actor=officers.grassroots,
        **HOA,
    )
    assert b.full_name == "Nguyễn Thị Hoa" and b.national_id == "001188004521"
    assert list(b.memberships.values_list("grassroots_union", "valid_from", "valid_to")) == [
        (org.lb1.pk, date(2019, 9, 1), None)
    ]
    log = AuditLog.objects.get(action="create", content_type__model="borrower")
    assert log.changes["national_id"] == [None, "001188004521"]
    assert log.grassroots_union_id == org.lb1.pk and log.superior_union_id == org.lb.pk


@pytest.mark.parametrize(
    "change, field",
    [
        ({"national_id": "00118800452"}, "national_id"),
        ({"national_id": "003188004521"}, "national_id"),  # no province 003
        ({"national_id": "001088004521"}, "national_id"),  # 0 = a man born in the 1900s
        ({"national_id": "001189004521"}, "national_id"),  # year digits say 1989
        ({"sex": "x"}, "sex"),
        ({"household_status": "rich"}, "household_status"),
        ({"full_name": " "}, "full_name"),
        ({"date_of_birth": "1988-07-14"}, "date_of_birth"),
        ({"date_of_birth": DaysFromToday(1)}, "date_of_birth"),
        ({"certificate_date": DaysFromToday(3)}, "certificate_date"),
        ({"certificate_valid_to": date(2024, 1, 1)}, "certificate_valid_to"),
        ({"phone": "0" * 40}, "phone"),
    ],
)
def test_bad_member_data_names_the_field_and_writes_nothing(org, change, field):
    n = borrower_counts()
    with pytest.raises(LoanError) as e:
        borrower_create(fund=org.fund, grassroots_union=org.lb1, **{**HOA, **on_run_day(change)})
    assert e.value.field == field
    assert borrower_counts() == n


def test_a_cccd_is_unique_in_the_fund_but_not_across_funds(org):
    borrower_create(fund=org.fund, grassroots_union=org.lb1, **HOA)
    n = borrower_counts()
    with pytest.raises(LoanError) as e:
        borrower_create(fund=org.fund, grassroots_union=org.hbt1, **HOA)
    assert e.value.field == "national_id" and e.value.code == "duplicate_national_id"
    assert borrower_counts() == n
    other = borrower_create(fund=org.other_fund, grassroots_union=org.other_gu, **HOA)
    assert other.fund == org.other_fund


def test_a_union_of_another_fund_or_outside_the_scope_is_refused(org, officers):
    with pytest.raises(LoanError) as e:
        borrower_create(fund=org.fund, grassroots_union=org.other_gu, **HOA)
    assert e.value.field == "grassroots_union"
    with pytest.raises(PermissionRefused) as e:
        borrower_create(fund=org.fund, grassroots_union=org.lb2, actor=officers.grassroots, **HOA)
    assert e.value.field == "grassroots_union"
    with pytest.raises(PermissionRefused):
        borrower_create(fund=org.fund, grassroots_union=org.lb1, actor=officers.auditor, **HOA)
    assert Borrower.objects.count() == 0


def test_an_update_is_audited_field_by_field_and_rechecks_the_cccd(org, officers):
    b = borrower_create(fund=org.fund, grassroots_union=org.lb1, **HOA)
    b = borrower_update(
        borrower=b, household_status="poor", phone="0911000111", actor=officers.superior
    )
    log = AuditLog.objects.get(action="update", content_type__model="borrower")
    assert log.changes == {
        "household_status": ["near_poor", "poor"],
        "phone": ["+84987654321", "+84911000111"],
    }
    with pytest.raises(LoanError) as e:
        borrower_update(borrower=b, sex="male")
    assert e.value.field == "national_id"
    with pytest.raises(LoanError) as e:
        borrower_update(borrower=b, grassroots_union=org.lb2)
    assert e.value.field == "fields"
    b.refresh_from_db()
    assert (b.sex, b.grassroots_union) == ("female", org.lb1)


def test_an_update_that_changes_nothing_is_not_logged(org):
    b = borrower_create(fund=org.fund, grassroots_union=org.lb1, **HOA)
    borrower_update(borrower=b, phone="0987 654 321")
    assert not AuditLog.objects.filter(action="update").exists()


def test_a_transfer_keeps_the_history(org, officers):
    b = BorrowerFactory(grassroots_union=org.lb1)
    day = today() - timedelta(days=10)
    b = borrower_transfer(
        borrower=b, grassroots_union=org.lb2, effective_date=day, actor=officers.superior
    )
    assert b.grassroots_union == org.lb2
    assert list(
        b.memberships.order_by("valid_from").values_list(
            "grassroots_union", "valid_from", "valid_to"
        )
    ) == [(org.lb1.pk, date(2020, 1, 1), day), (org.lb2.pk, day, None)]
    log = AuditLog.objects.get(action="transfer")
    assert log.changes["grassroots_union_id"] == [org.lb1.pk, org.lb2.pk]


def test_a_transfer_is_refused_while_an_application_is_in_progress(org, product):
    b = BorrowerFactory(grassroots_union=org.lb1)
    app = application_draft(borrower=b, product=product)
    with pytest.raises(LoanError) as e:
        borrower_transfer(borrower=b, grassroots_union=org.lb2, effective_date=today())
    assert e.value.field == "borrower" and f"#{app.pk}" in e.value.message
    assert b.memberships.count() == 1


@pytest.mark.parametrize(
    "target, day, field",
    [
        ("lb1", None, "grassroots_union"),
        ("other_gu", None, "grassroots_union"),
        ("lb2", "future", "effective_date"),
        ("lb2", "before_start", "effective_date"),
    ],
)
def test_bad_transfers_are_refused(org, target, day, field):
    b = BorrowerFactory(grassroots_union=org.lb1)
    effective = {
        None: today(),
        "future": today() + timedelta(days=1),
        "before_start": date(2020, 1, 1),
    }[day]
    with pytest.raises(LoanError) as e:
        borrower_transfer(
            borrower=b, grassroots_union=getattr(org, target), effective_date=effective
        )
    assert e.value.field == field
    assert b.memberships.count() == 1


def test_a_grassroots_officer_cannot_move_a_member_to_another_union(org, officers):
    b = BorrowerFactory(grassroots_union=org.lb1)
    with pytest.raises(PermissionRefused):
        borrower_transfer(
            borrower=b, grassroots_union=org.lb2, effective_date=today(), actor=officers.grassroots
        )
