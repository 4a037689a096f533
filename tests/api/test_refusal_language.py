"""A service's refusal through the API: the message in the caller's language
(``Accept-Language``), Vietnamese by default; the code the same in every language."""

import pytest

from fund.models import CapitalSource
from fund.services import capital_contribution_post
from loans.tests.factories import today
from tests.api.helpers import money

pytestmark = pytest.mark.django_db


def test_refusal_message_follows_accept_language_and_the_code_does_not(api, officers, org):
    source = CapitalSource.objects.create(
        fund=org.fund, code="CD", name="Quỹ công đoàn", kind=CapitalSource.Kind.UNION_FUNDS
    )
    capital_contribution_post(
        fund=org.fund,
        source=source,
        amount=500_000_000,
        effective_date=today(),
        idempotency_key="von-1",
    )
    body = {"source": source.pk, "amount": money(600_000_000), "effective_date": str(today())}
    url = "/api/v1/capital/withdrawals/create/"
    c = api(officers.fund)
    answers = {
        lang: c.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=f"rut-{lang}", **headers)
        for lang, headers in {
            "default": {},
            "vi": {"HTTP_ACCEPT_LANGUAGE": "vi"},
            "en": {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"},
        }.items()
    }
    for r in answers.values():
        assert r.status_code == 400
        assert (r.json()["code"], r.json()["field"]) == ("insufficient_capital", "amount")
    vietnamese = "Nguồn Quỹ công đoàn chỉ còn 500.000.000 ₫, không rút được 600.000.000 ₫."
    assert answers["default"].json()["message"] == vietnamese
    assert answers["vi"].json()["message"] == vietnamese
    assert answers["en"].json()["message"] == (
        "Source Quỹ công đoàn holds only 500.000.000 ₫; 600.000.000 ₫ cannot be withdrawn."
    )
    # A refusal of the API layer itself (no key) follows the language too.
    r = c.post(url, body, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert r.json()["code"] == "idempotency_key_required"
    assert "Idempotency-Key" in r.json()["message"] and "Thiếu" not in r.json()["message"]


def test_an_illegal_move_in_each_language(api, officers, loan):
    """A move the application's state does not allow: the action, the state and the loan named
    in the caller's language; the code and field the same."""
    url = f"/api/v1/applications/{loan.application_id}/approve/"
    c = api(officers.checker)
    vi = c.post(url, HTTP_IDEMPOTENCY_KEY="duyet-1").json()
    en = c.post(url, HTTP_IDEMPOTENCY_KEY="duyet-2", HTTP_ACCEPT_LANGUAGE="en").json()
    assert (
        (vi["code"], vi["field"]) == (en["code"], en["field"]) == ("illegal_transition", "status")
    )
    assert vi["message"].startswith(f"Không thể phê duyệt hồ sơ #{loan.application_id}:")
    assert f"(khoản vay #{loan.pk})" in vi["message"]
    assert en["message"].startswith(f"Cannot approve application #{loan.application_id}: its ")
    assert f"(loan #{loan.pk}); approve is possible only when the application is " in en["message"]
    assert "hồ sơ" not in en["message"]


def test_a_cccd_refusal_in_each_language(api, officers, org):
    """The CCCD check's refusal (here the 4th digit against the sex and year of birth)."""
    body = {
        "grassroots_union": org.lb1.pk,
        "full_name": "Trần Thị Mai",
        "date_of_birth": "1990-01-02",
        "sex": "female",
        "national_id": "001090424242",  # 4th digit 0: a man born in the 1900s
        "household_status": "near_poor",
        "phone": "0987654321",
    }
    c = api(officers.grassroots)
    vi = c.post("/api/v1/borrowers/create/", body, format="json").json()
    en = c.post("/api/v1/borrowers/create/", body, format="json", HTTP_ACCEPT_LANGUAGE="en").json()
    assert vi["field"] == en["field"] == "national_id" and vi["code"] == en["code"]
    assert vi["message"] == (
        "Số CCCD 001090424242: chữ số thứ 4 là '0' nhưng người nữ sinh năm 1990 phải có '1'."
    )
    assert en["message"] == (
        "CCCD number 001090424242: the 4th digit is '0' but a woman born in 1990 must have '1'."
    )


def test_a_borrower_service_refusal_in_each_language(api, officers, org, borrower):
    """A refusal of the borrower service itself (a CCCD already registered in the fund)."""
    body = {
        "grassroots_union": org.lb1.pk,
        "full_name": borrower.full_name,
        "date_of_birth": borrower.date_of_birth.isoformat(),
        "sex": borrower.sex,
        "national_id": borrower.national_id,
        "household_status": "near_poor",
    }
    c = api(officers.grassroots)
    vi = c.post("/api/v1/borrowers/create/", body, format="json")
    en = c.post("/api/v1/borrowers/create/", body, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert vi.status_code == en.status_code == 400
    vi, en = vi.json(), en.json()
    assert (vi["code"], vi["field"]) == (en["code"], en["field"])
    assert (vi["code"], vi["field"]) == ("duplicate_national_id", "national_id")
    assert vi["message"] == (
        f"Số CCCD {borrower.national_id} đã được đăng ký cho một thành viên khác của quỹ."
    )
    assert en["message"] == (
        f"CCCD number {borrower.national_id} is already registered for another member of the fund."
    )


def test_a_union_update_refusal_in_each_language(client, officers, org):
    """A field the union update does not know, and a body that is not JSON: refused in the
    caller's language."""
    client.force_login(officers.fund)
    url = f"/api/v1/grassroots-unions/{org.lb1.pk}/update/"
    answers = {
        lang: client.post(url, data, content_type="application/json", **headers)
        for data, lang, headers in (
            ('{"colour": "red", "code": "X"}', "vi", {}),
            ('{"colour": "red", "code": "X"}', "en", {"HTTP_ACCEPT_LANGUAGE": "en"}),
            ("{not json", "vi-body", {}),
            ("{not json", "en-body", {"HTTP_ACCEPT_LANGUAGE": "en"}),
        )
    }
    assert {r.status_code for r in answers.values()} == {400}
    got = {lang: (r.json()["field"], r.json()["message"]) for lang, r in answers.items()}
    assert got["vi"] == ("colour", "Trường không hợp lệ: colour.")
    assert got["en"] == ("colour", "Unknown fields: colour.")
    assert {answers[lang].json()["code"] for lang in ("vi-body", "en-body")} == {"parse_error"}
    assert got["vi-body"][0] is None and got["en-body"][0] is None


def test_a_repayment_refusal_in_each_language(api, officers, loan):
    """The repayment service's refusals (a paid_on after today, an amount over what the loan
    can take): the same code and field, the message in the caller's language."""
    from datetime import timedelta

    c = api(officers.grassroots)

    def pay(amount, paid_on, key, **headers):
        body = {"loan": loan.pk, "amount": money(amount), "paid_on": paid_on.isoformat()}
        r = c.post(
            "/api/v1/repayments/create/", body, format="json", HTTP_IDEMPOTENCY_KEY=key, **headers
        )
        assert r.status_code == 400
        return r.json()

    tomorrow = today() + timedelta(days=1)
    vi = pay(1_000_000, tomorrow, "mai-vi")
    en = pay(1_000_000, tomorrow, "mai-en", HTTP_ACCEPT_LANGUAGE="en")
    assert (vi["code"], vi["field"]) == (en["code"], en["field"]) == ("loan_error", "paid_on")
    assert vi["message"] == "Ngày trả nợ không được sau ngày hôm nay."
    assert en["message"] == "The repayment date cannot be after today."

    vi = pay(10_000_000_000, today(), "thua-vi")
    en = pay(10_000_000_000, today(), "thua-en", HTTP_ACCEPT_LANGUAGE="en")
    assert (vi["code"], vi["field"]) == (en["code"], en["field"]) == ("loan_error", "amount")
    assert vi["message"].startswith(
        f"Số tiền 10.000.000.000 ₫ vượt quá số có thể thu của khoản vay #{loan.pk} ("
    )
    assert en["message"].startswith(
        f"The amount 10.000.000.000 ₫ is more than can be collected on loan #{loan.pk} ("
    )
    assert vi["message"].split("(")[1] == en["message"].split("(")[1]  # the same figure


def test_a_remittance_line_refusal_in_each_language(api, officers, loan, org):
    """A line's refusal wrapped with its line number: both parts in the caller's language."""
    body = {
        "grassroots_union": org.lb1.pk,
        "receipt_number": "UNC-9",
        "paid_on": today().isoformat(),
        "lines": [{"loan": loan.pk, "amount": money(10_000_000_000)}],
    }
    url = "/api/v1/repayment-batches/create/"
    c = api(officers.grassroots)
    vi = c.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="dot-vi")
    en = c.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="dot-en", HTTP_ACCEPT_LANGUAGE="en")
    assert vi.status_code == en.status_code == 400
    vi, en = vi.json(), en.json()
    assert vi["field"] == en["field"] == "lines[0].amount" and vi["code"] == en["code"]
    assert vi["message"].startswith("Dòng 1: Số tiền 10.000.000.000 ₫ vượt quá số có thể thu ")
    assert en["message"].startswith("Row 1: The amount 10.000.000.000 ₫ is more than can be ")
