"""Phone numbers are validated and stored in E.164 wherever they come in (a service, an
import); a job-creation product's application plans at least one new job before it is sent."""

import pytest

from accounting.tests.factories import new_key
from fund.errors import FundError, ImportRejected
from fund.services import superior_union_update
from fund.templatetags.money import phone
from fund.union_io import unions_import
from loans.errors import LoanError, MemberImportRejected
from loans.models import Borrower, LoanApplication
from loans.origination.applications import application_submit, application_update
from loans.origination.borrowers import borrower_update
from loans.origination.member_import import members_import
from loans.origination.products import loan_product_update
from loans.tests.factories import application_draft
from loans.tests.helpers import borrower_counts

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "text, stored",
    [
        ("0912345678", "+84912345678"),
        ("0912.345.678", "+84912345678"),
        (" 091 234 5678 ", "+84912345678"),
        ("+84 912 345 678", "+84912345678"),
        ("024 3987 6543", "+842439876543"),
        ("", ""),
    ],
)
def test_a_member_s_phone_is_stored_in_e164(borrower, officers, text, stored):
    borrower_update(borrower=borrower, phone=text, actor=officers.grassroots)
    assert Borrower.objects.get(pk=borrower.pk).phone == stored


@pytest.mark.parametrize("text", ["abc", "0911", "1900", "09123456789012", "+1 555"])
def test_a_phone_that_is_not_a_number_is_refused_by_name(borrower, officers, text):
    before = Borrower.objects.get(pk=borrower.pk).phone
    with pytest.raises(LoanError) as e:
        borrower_update(borrower=borrower, phone=text, actor=officers.grassroots)
    assert e.value.field == "phone"
    assert Borrower.objects.get(pk=borrower.pk).phone == before


def test_a_guarantor_s_and_a_union_s_phone_follow_the_same_rule(chain, org, officers):
    app = application_draft(borrower=chain.borrower, product=chain.product, actor=chain.maker)
    with pytest.raises(LoanError) as e:
        application_update(application=app, guarantor_phone="abc", actor=chain.maker)
    assert e.value.field == "guarantor_phone"
    application_update(
        application=app,
        security_kind="guarantor",
        guarantor_name="Trần Văn Nam",
        guarantor_national_id="036079001234",
        guarantor_relationship="Anh trai",
        guarantor_phone="0987654321",
        actor=chain.maker,
    )
    assert LoanApplication.objects.get(pk=app.pk).guarantor_phone == "+84987654321"
    with pytest.raises(FundError) as e:
        superior_union_update(superior_union=org.lb, contact_phone="abc", actor=officers.superior)
    assert e.value.field == "contact_phone"


def test_an_import_names_the_row_of_a_wrong_phone_and_writes_nothing(org):
    header = "Số CCCD;Họ và tên;Ngày sinh;Giới tính;Mã CĐCS;Hoàn cảnh hộ;Điện thoại"
    rows = [
        "001188004521;Nguyễn Thị Hoa;14/07/1988;Nữ;LB-001;Hộ nghèo;0987654321",
        "036079001234;Trần Văn Nam;02/03/1979;Nam;LB-002;cận nghèo;không có",
    ]
    n = borrower_counts()
    with pytest.raises(MemberImportRejected) as e:
        members_import(fund=org.fund, data="\n".join([header, *rows]).encode(), format="csv")
    assert [(err.row, err.column) for err in e.value.errors] == [(3, "Điện thoại")]
    assert borrower_counts() == n
    unions = (
        "Mã;Tên công đoàn cấp trên;Loại;Điện thoại\n"
        "GD;Công đoàn ngành Giáo dục;Công đoàn ngành;12ab\n"
    )
    with pytest.raises(ImportRejected) as e:
        unions_import(fund=org.fund, data=unions.encode(), format="csv", level="superior")
    assert [(err.row, err.column) for err in e.value.errors] == [(2, "Điện thoại")]


def test_a_stored_number_is_shown_as_people_write_it():
    assert phone("+84912345678") == "0912 345 678"
    assert phone("+442079460000") == "+44 20 7946 0000"
    assert phone("") == "—"
    assert phone("số cũ") == "số cũ"


def test_a_job_creation_application_plans_at_least_one_job(chain, officers):
    app = application_draft(
        borrower=chain.borrower, product=chain.product, actor=chain.maker, planned_jobs=0
    )
    with pytest.raises(LoanError) as e:
        application_submit(application=app, idempotency_key=new_key("s"), actor=chain.maker)
    assert e.value.field == "planned_jobs"
    assert LoanApplication.objects.get(pk=app.pk).status == "draft"
    # A product that does not lend for new jobs takes an application that plans none.
    loan_product_update(product=chain.product, creates_jobs=False, actor=officers.fund)
    app = application_submit(application=app, idempotency_key=new_key("s"), actor=chain.maker)
    assert app.status == "submitted"
