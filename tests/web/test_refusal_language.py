"""A service's refusal shown on a page in the language the user chose: next to its field, in
English after the language switch, in Vietnamese (the default) otherwise."""

import html
from datetime import timedelta

import pytest
from django.urls import reverse

from fund.services import annual_plan_set
from loans.models import LoanApplication
from loans.tests.factories import today
from tests.web.helpers import (
    error_fields,
    field_error,
    idempotency_key,
    in_english,
    loan_url,
    plan_data,
    proposal_data,
    write_off_data,
)

pytestmark = pytest.mark.django_db


def test_plan_change_without_a_reason_in_each_language(as_user, officers, org):
    year = today().year
    annual_plan_set(fund=org.fund, year=year, jobs=2300)
    url = reverse("fundweb:plan_set")
    vi = as_user(officers.fund).post(url, plan_data(year, jobs="2500"))
    assert vi.status_code == 400 and "reason" in error_fields(vi)
    assert "Nhập lý do điều chỉnh kế hoạch." in vi.content.decode()

    en = in_english(as_user(officers.fund)).post(url, plan_data(year, jobs="2500"))
    assert en.status_code == 400 and "reason" in error_fields(en)
    body = en.content.decode()
    assert "Enter the reason for changing the plan." in body
    assert "Nhập lý do điều chỉnh kế hoạch." not in body


def test_ineligible_amount_in_each_language(as_user, officers, product):
    """The eligibility reason (with its figures filled in) next to the amount."""
    data = {"amount": "90.000.000"}
    vi = as_user(officers.grassroots)
    r = vi.post(
        reverse("loans:propose"),
        proposal_data(idempotency_key(vi.get(reverse("loans:propose"))), product, **data),
    )
    assert r.status_code == 400 and 'data-field="amount"' in r.content.decode()
    assert (
        "ngoài khoảng" in r.content.decode()
        and f"của sản phẩm {product.code}" in r.content.decode()
    )

    en = in_english(as_user(officers.grassroots))
    r = en.post(
        reverse("loans:propose"),
        proposal_data(idempotency_key(en.get(reverse("loans:propose"))), product, **data),
    )
    body = r.content.decode()
    assert r.status_code == 400 and 'data-field="amount"' in body
    assert "The amount 90.000.000 ₫ is outside the range" in body
    assert f"of product {product.code}." in body and "ngoài khoảng" not in body
    assert not LoanApplication.objects.exists()


def test_loan_action_refusals_in_each_language(as_user, officers, loan):
    """A refusal built from parts (here the field's label) in the language of the page."""
    future = (today() + timedelta(days=1)).isoformat()
    url = loan_url("loan_write_off", loan)
    vi = as_user(officers.fund)
    late = {"written_off_on": future, "confirmed": "1"}
    r = vi.post(url, write_off_data(idempotency_key(vi.get(url)), officers, **late))
    assert (
        field_error(r, "written_off_on").strip() == "Ngày xử lý rủi ro không được sau ngày hôm nay."
    )

    en = in_english(as_user(officers.fund))
    key = idempotency_key(en.get(url))
    r = en.post(url, write_off_data(key, officers, **late))
    assert field_error(r, "written_off_on").strip() == "Write-off date cannot be after today."


def test_guarantor_refusal_in_each_language(as_user, officers, product):
    """A loan service's refusal built from two translated parts (the guarantor's CCCD check
    inside the application's), next to the guarantor's CCCD."""
    data = {
        "security_kind": "guarantor",
        "group_name": "",
        "guarantor_name": "Lê Văn An",
        "guarantor_national_id": "003185100998",  # 003: a province code the circular skips
    }
    vi = as_user(officers.grassroots)
    r = vi.post(
        reverse("loans:propose"),
        proposal_data(idempotency_key(vi.get(reverse("loans:propose"))), product, **data),
    )
    assert html.unescape(field_error(r, "guarantor_national_id")).strip() == (
        "Người bảo lãnh: Số CCCD 003185100998: mã tỉnh nơi đăng ký khai sinh '003' không tồn "
        "tại (chỉ có 63 mã từ 001 đến 096)."
    )

    en = in_english(as_user(officers.grassroots))
    r = en.post(
        reverse("loans:propose"),
        proposal_data(idempotency_key(en.get(reverse("loans:propose"))), product, **data),
    )
    assert html.unescape(field_error(r, "guarantor_national_id")).strip() == (
        "Guarantor: CCCD number 003185100998: birth-registration province code '003' does not "
        "exist (there are only 63 codes, 001 to 096)."
    )
    assert not LoanApplication.objects.exists()
