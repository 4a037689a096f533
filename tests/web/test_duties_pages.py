"""Pages of the separation of duties and of the year-end closing: each refusal is shown with its
rule or next to its field, and changes nothing."""

from datetime import date

import pytest
from django.urls import reverse

from accounting.models import JournalEntry
from accounting.services import credit, debit, journal_entry_post
from fund.models import AuditLog, CapitalMovement, CapitalMoveRequest, YearClose
from fund.services import capital_move_enter
from loans.tests.factories import today
from tests.web.helpers import error_fields, idempotency_key

pytestmark = pytest.mark.django_db
LAST = today().year - 1


def _counts():
    return (
        JournalEntry.objects.count(),
        CapitalMovement.objects.count(),
        CapitalMoveRequest.objects.count(),
        YearClose.objects.count(),
    )


def test_a_capital_request_rejected_with_a_reason(as_user, officers, org, capital):
    req = capital_move_enter(
        kind="contribution",
        fund=org.fund,
        source=capital.source,
        amount=200_000_000,
        effective_date=today(),
        idempotency_key="k",
        actor=officers.fund,
    )
    c = as_user(officers.checker)
    url = reverse("fundweb:capital_request_reject", args=[req.pk])
    before = _counts()
    r = c.post(url, {"reason": ""})
    assert r.status_code == 400 and "Nhập lý do từ chối" in r.content.decode()
    assert _counts() == before
    assert c.post(url, {"reason": "Chưa nhận được tiền"}).status_code == 302
    req.refresh_from_db()
    assert req.status == "rejected" and req.reason == "Chưa nhận được tiền"
    assert _counts() == before  # nothing posted
    assert as_user(officers.auditor).post(url, {"reason": "x"}).status_code == 403


def test_the_duties_page_changes_the_policy_audited(as_user, officers, org):
    c = as_user(officers.fund)
    url = reverse("fundweb:duties")
    assert "duties-form" in c.get(url).content.decode()
    r = c.post(url, {"capital_confirmation_threshold": "-5"})
    assert r.status_code == 400 and "capital_confirmation_threshold" in error_fields(r)
    assert not AuditLog.objects.filter(action="duties_set").exists()
    r = c.post(url, {"duty_approver_not_disburser": "on", "capital_confirmation_threshold": ""})
    assert r.status_code == 302
    org.fund.refresh_from_db()
    assert org.fund.capital_confirmation_threshold is None
    assert not org.fund.duty_recorder_not_reverser and org.fund.duty_approver_not_disburser
    assert AuditLog.objects.filter(action="duties_set").count() == 1
    assert as_user(officers.auditor).get(url).status_code == 403


def test_year_close_page_refuses_then_closes_and_the_balance_sheet_balances(as_user, officers, org):
    fund = org.fund.pk
    for year in (LAST - 1, LAST):
        journal_entry_post(
            effective_date=date(year, 6, 1),
            legs=[debit("1121", 900_000, fund_id=fund), credit("5151", 900_000, fund_id=fund)],
            memo="Thu lãi",
            idempotency_key=f"lai-{year}",
        )
    c = as_user(officers.fund)
    url = reverse("fundweb:year_closes")
    page = c.get(url)
    assert page.status_code == 200 and 'id="year-close-form"' in page.content.decode()
    data = {"idempotency_key": idempotency_key(page), "year": LAST, "confirmed": "1"}
    before = _counts()
    r = c.post(url, data)  # the year before is still open
    assert r.status_code == 400 and "year" in error_fields(r)
    assert str(LAST - 1) in r.content.decode() and _counts() == before
    for year in (LAST - 1, LAST):
        key = idempotency_key(c.get(url))
        assert (
            "confirm-form" in c.post(url, {"idempotency_key": key, "year": year}).content.decode()
        )
        r = c.post(url, {"idempotency_key": key, "year": year, "confirmed": "1"})
        assert r.status_code == 302
    assert YearClose.objects.count() == 2
    again = c.post(url, {"idempotency_key": "other", "year": LAST, "confirmed": "1"})
    assert again.status_code == 400 and "year" in error_fields(again)
    assert YearClose.objects.count() == 2

    auditor = as_user(officers.auditor)
    body = auditor.get(url).content.decode()
    assert 'id="year-close-form"' not in body and "bút toán khóa sổ" in body
    sheet = auditor.get(
        reverse("audit:balance_sheet"), {"start": f"{LAST}-10-01", "end": f"{LAST}-12-31"}
    )
    assert sheet.status_code == 200 and sheet.context["balanced"]
    assert "chưa kết chuyển" not in sheet.content.decode()


def test_the_fund_sets_its_back_dating_window_and_remittance_wait(as_user, officers, org):
    c = as_user(officers.fund)
    url = reverse("fundweb:duties")
    before = (org.fund.backdate_open_months, org.fund.remittance_receipt_days)
    for field, value in (("backdate_open_months", "121"), ("remittance_receipt_days", "0")):
        r = c.post(url, {field: value})
        assert r.status_code == 400 and field in error_fields(r), field
    org.fund.refresh_from_db()
    assert (org.fund.backdate_open_months, org.fund.remittance_receipt_days) == before
    assert not AuditLog.objects.filter(action="duties_set").exists()
    r = c.post(url, {"backdate_open_months": "2", "remittance_receipt_days": "7"})
    assert r.status_code == 302
    org.fund.refresh_from_db()
    assert (org.fund.backdate_open_months, org.fund.remittance_receipt_days) == (2, 7)
    log = AuditLog.objects.get(action="duties_set")
    assert log.changes["backdate_open_months"] == [before[0], 2]
    # Left empty, a number keeps its value.
    assert c.post(url, {"duty_approver_not_disburser": "on"}).status_code == 302
    org.fund.refresh_from_db()
    assert (org.fund.backdate_open_months, org.fund.remittance_receipt_days) == (2, 7)
