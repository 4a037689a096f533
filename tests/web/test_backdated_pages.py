"""Back-dated postings on the pages: a date before the fund's open window without a reason is
refused next to the date and writes nothing; with one, the entry is flagged and listed on the
auditor's page of back-dated postings (exportable)."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from accounting.dates import backdate_window_start
from accounting.models import JournalEntry, Posting
from fund.models import AuditLog, CapitalMovement, CapitalMoveRequest
from fund.services import capital_contribution_post
from fund.tests.factories import capital_move_entered_last_month, last_month, narrow_window
from loans.models import InterestWaiver, LoanChangeRequest, Repayment
from loans.tests.factories import application_to, new_key, today
from loans.tests.helpers import (
    disbursed_loan,
    receipt_booked_last_month,
    write_off_requested_last_month,
)
from tests.web.helpers import error_fields, idempotency_key

pytestmark = pytest.mark.django_db


def counts():
    tables = (Repayment, CapitalMovement, CapitalMoveRequest, JournalEntry, Posting, AuditLog)
    return [m.objects.count() for m in tables]


def test_a_backdated_repayment_without_a_reason_is_refused_by_its_date(
    as_user, officers, org, loan
):
    narrow_window(org.fund)
    c = as_user(officers.fund)
    key = idempotency_key(c.get(reverse("loans:loan_detail", args=[loan.pk])))
    url = reverse("loans:loan_repay", args=[loan.pk])
    data = {"idempotency_key": key, "amount": "500.000", "paid_on": f"{last_month():%d/%m/%Y}"}
    before = counts()
    r = c.post(url, data)
    assert r.status_code == 400 and "paid_on" in error_fields(r)
    body = r.content.decode()
    assert "ghi sổ lùi ngày phải nêu lý do" in body
    assert f"{backdate_window_start(0):%d/%m/%Y}" in body
    assert 'name="backdate_reason"' in body  # the reason's field, shown with the date
    assert counts() == before

    r = c.post(url, {**data, "backdate_reason": "Phiếu thu giấy tháng trước"})
    assert r.status_code == 302
    entry = JournalEntry.objects.get(document_type="loan_repayment")
    assert entry.effective_date == last_month()
    assert entry.backdated_reason == "Phiếu thu giấy tháng trước"


def test_a_backdated_interest_waiver_is_refused_by_its_date_then_taken_with_a_reason(
    as_user, officers, org, borrower, product, capital
):
    # Disbursed 100 days ago, so that an installment fell due before last month's end whatever
    # the day: 45 days before 28 February the first one was still to come on 31 January.
    borrower.certificate_date = today() - timedelta(days=200)
    borrower.save(update_fields=["certificate_date"])
    loan = disbursed_loan(borrower=borrower, product=product, officers=officers, days_ago=100)
    narrow_window(org.fund)
    c = as_user(officers.fund)
    url = reverse("loans:loan_interest_waive", args=[loan.pk])
    key = idempotency_key(c.get(url))
    data = {
        "idempotency_key": key,
        "waived_on": f"{last_month():%d/%m/%Y}",
        "interest": "on",
        "penalty": "on",
        "reason": "Ốm nặng",
        "confirmed": "1",
    }
    before = counts()
    r = c.post(url, data)
    assert r.status_code == 400 and "waived_on" in error_fields(r)
    assert 'name="backdate_reason"' in r.content.decode()
    assert counts() == before and not InterestWaiver.objects.exists()
    r = c.post(url, {**data, "backdate_reason": "Đơn giấy tháng trước"})
    assert r.status_code == 302, r.content.decode()[:3000]
    log = AuditLog.objects.get(action="waive", object_id=str(loan.pk))
    assert log.changes["backdated_reason"] == [None, "Đơn giấy tháng trước"]


def test_a_receipt_booked_before_the_window_is_confirmed_with_a_reason(
    as_user, officers, org, loan
):
    batch, line = receipt_booked_last_month(org, loan, receipt="UNC-8", reference="FT8")
    narrow_window(org.fund)
    c = as_user(officers.fund)
    url = reverse("loans:bank_line", args=[line.pk])
    form = c.get(url)
    assert 'name="backdate_reason"' in form.content.decode()
    data = {"idempotency_key": idempotency_key(form), "batch": batch.pk, "confirmed": "1"}
    before = counts()
    r = c.post(url, data)
    assert r.status_code == 400 and "backdate_reason" in error_fields(r)
    assert f"{backdate_window_start(0):%d/%m/%Y}" in r.content.decode()
    assert counts() == before
    ask = c.post(url, {**data, "confirmed": "", "backdate_reason": "Sao kê nhận muộn"})
    assert "Sao kê nhận muộn" in ask.content.decode()
    r = c.post(url, {**data, "backdate_reason": "Sao kê nhận muộn"})
    assert r.status_code == 302
    entry = JournalEntry.objects.get(document_type="remittance_receipt")
    assert entry.backdated_reason == "Sao kê nhận muộn"


def test_a_move_confirmed_after_the_window_moved_on_asks_the_confirmer_for_a_reason(
    as_user, officers, org, capital
):
    req = capital_move_entered_last_month(
        org.fund, source=capital.source, actor=officers.fund, key=new_key("q")
    )
    narrow_window(org.fund)
    c = as_user(officers.checker)
    page = c.get(reverse("fundweb:capital_requests")).content.decode()
    assert f'id="id_confirm_{req.pk}_backdate_reason"' in page
    url = reverse("fundweb:capital_request_confirm", args=[req.pk])
    before = counts()
    r = c.post(url)
    assert r.status_code == 400 and "backdate_reason" in error_fields(r)
    assert f"{backdate_window_start(0):%d/%m/%Y}" in r.content.decode()
    assert counts() == before
    r = c.post(url, {"backdate_reason": "Xác nhận muộn"})
    assert r.status_code == 302
    req.refresh_from_db()
    assert req.status == "confirmed" and req.backdated_reason == "Xác nhận muộn"
    assert req.movement.journal_entry.backdated_reason == "Xác nhận muộn"


def test_a_visit_that_recalls_a_loan_before_the_window_needs_a_reason(as_user, officers, org, loan):
    from loans.models import FollowUpVisit, ScheduleRevision

    narrow_window(org.fund)
    c = as_user(officers.fund)
    url = reverse("loans:loan_visit", args=[loan.pk])
    form = c.get(url)
    assert 'name="backdate_reason"' in form.content.decode()
    data = {
        "idempotency_key": idempotency_key(form),
        "visited_on": f"{last_month():%d/%m/%Y}",
        "purpose_verified": "no",
        "jobs_confirmed": "0",
        "note": "",
        "recall": "on",
        "confirmed": "1",
    }
    before = counts()
    r = c.post(url, data)
    assert r.status_code == 400 and "visited_on" in error_fields(r)
    assert counts() == before
    assert not FollowUpVisit.objects.exists() and not ScheduleRevision.objects.exists()
    r = c.post(url, {**data, "backdate_reason": "Biên bản kiểm tra giấy"})
    assert r.status_code == 302
    log = AuditLog.objects.get(action="recall", object_id=str(loan.pk))
    assert log.changes["backdated_reason"] == [None, "Biên bản kiểm tra giấy"]
    # A grassroots officer records visits but does not recall: no reason asked.
    page = as_user(officers.grassroots).get(url)
    assert page.status_code == 200 and 'name="visited_on"' in page.content.decode()
    assert 'name="backdate_reason"' not in page.content.decode()


def test_the_application_page_shows_its_decision_dates(as_user, officers, chain):
    from loans.origination.applications import application_cancel

    on = last_month() - timedelta(days=3)
    app = application_to(
        "approved",
        borrower=chain.borrower,
        product=chain.product,
        maker=chain.maker,
        approver=chain.approver,
        decided_on=on,
    )
    c = as_user(officers.fund)
    url = reverse("loans:application_detail", args=[app.pk])
    body = c.get(url).content.decode()
    assert f'data-testid="reviewed-on">{on:%d/%m/%Y}<' in body
    assert f'data-testid="approved-on">{on:%d/%m/%Y}<' in body
    assert 'data-testid="decided-on"' not in body
    application_cancel(
        application=app,
        reason="Thành viên rút hồ sơ",
        decided_on=on,
        actor=officers.fund,
        idempotency_key=new_key("huy"),
    )
    body = c.get(url).content.decode()
    assert f'Ngày hủy</dt><dd data-testid="decided-on">{on:%d/%m/%Y}<' in body


def test_a_backdated_capital_contribution_is_refused_by_its_date(as_user, officers, org, capital):
    narrow_window(org.fund)
    c = as_user(officers.fund)
    url = reverse("fundweb:capital")
    page = c.get(url)
    assert 'name="backdate_reason"' in page.content.decode()
    data = {
        "idempotency_key": idempotency_key(page),
        "source": capital.source.pk,
        "amount": "5.000.000",
        "effective_date": f"{last_month():%d/%m/%Y}",
        "memo": "Vốn tài trợ chuyển sổ",
        "confirmed": "1",
    }
    before = counts()
    r = c.post(url, data)
    assert r.status_code == 400 and "effective_date" in error_fields(r)
    assert counts() == before
    # Confirmation page first: it shows the reason, then the post keeps it.
    unconfirmed = {k: v for k, v in data.items() if k != "confirmed"}
    r = c.post(url, {**unconfirmed, "backdate_reason": "Sổ vốn giấy"})
    assert r.status_code == 200 and "Sổ vốn giấy" in r.content.decode()
    r = c.post(url, {**data, "backdate_reason": "Sổ vốn giấy"})
    assert r.status_code == 302
    movement = CapitalMovement.objects.get(memo="Vốn tài trợ chuyển sổ")
    assert movement.journal_entry.backdated_reason == "Sổ vốn giấy"


@pytest.fixture
def backdated(org, capital):
    """Two back-dated contributions of the fund (one with a reason that looks like markup and a
    formula), one of the other fund, and one in the window (not back-dated)."""
    source = capital.source
    narrow_window(org.fund)
    narrow_window(org.other_fund)
    made = {}
    for name, reason in (("plain", "Chuyển sổ giấy"), ("tricky", "=1+2 <b>đậm</b>")):
        made[name] = capital_contribution_post(
            fund=org.fund,
            source=source,
            amount=1_000_000,
            effective_date=backdate_window_start(0) - timedelta(days=40),
            idempotency_key=new_key("bd"),
            backdate_reason=reason,
        ).journal_entry
    made["today"] = capital_contribution_post(
        fund=org.fund,
        source=source,
        amount=2_000_000,
        effective_date=today(),
        idempotency_key=new_key("bd"),
        backdate_reason="không cần",
    ).journal_entry
    from fund.services import capital_source_create

    other_source = capital_source_create(
        fund=org.other_fund, code="NS", name="Ngân sách", kind="city_budget"
    )
    made["other"] = capital_contribution_post(
        fund=org.other_fund,
        source=other_source,
        amount=3_000_000,
        effective_date=last_month(),
        idempotency_key=new_key("bd"),
        backdate_reason="Quỹ khác",
    ).journal_entry
    return made


def test_the_auditors_list_shows_the_funds_backdated_entries_with_their_reasons(
    as_user, officers, backdated
):
    c = as_user(officers.auditor)
    assert reverse("audit:backdated") in c.get(reverse("audit:index")).content.decode()
    day = backdated["plain"].effective_date
    start, end = day - timedelta(days=1), today()
    r = c.get(reverse("audit:backdated"), {"start": f"{start:%d/%m/%Y}", "end": f"{end:%d/%m/%Y}"})
    assert r.status_code == 200
    body = r.content.decode()
    assert "Chuyển sổ giấy" in body
    assert "&lt;b&gt;đậm&lt;/b&gt;" in body and "<b>đậm" not in body
    assert "Quỹ khác" not in body and "không cần" not in body
    assert reverse("audit:entry_detail", args=[backdated["plain"].pk]) in body
    detail = c.get(reverse("audit:entry_detail", args=[backdated["tricky"].pk])).content.decode()
    assert 'id="backdated-reason"' in detail and "&lt;b&gt;đậm&lt;/b&gt;" in detail
    assert [e.pk for e, _who in r.context["entries"]] == [
        backdated["plain"].pk,
        backdated["tricky"].pk,
    ]
    assert "1.000.000 ₫" in body

    # By value date, a period after them lists none; by the day recorded (today), both.
    later = {"start": f"{day + timedelta(days=1):%d/%m/%Y}", "end": f"{today():%d/%m/%Y}"}
    assert c.get(reverse("audit:backdated"), later).context["entries"] == []
    recorded = c.get(reverse("audit:backdated"), {**later, "by": "recorded"})
    assert len(recorded.context["entries"]) == 2


def test_the_auditors_list_exports_to_xlsx_and_csv(as_user, officers, backdated):
    c = as_user(officers.auditor)
    day = backdated["plain"].effective_date
    params = {"start": f"{day:%d/%m/%Y}", "end": f"{today():%d/%m/%Y}"}
    r = c.get(reverse("audit:backdated"), {**params, "format": "csv"})
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][-1] == "Lý do ghi sổ lùi ngày"
    assert [row[2] for row in rows[1:]] == [
        str(backdated["plain"].pk),
        str(backdated["tricky"].pk),
    ]
    assert rows[1][-1] == "Chuyển sổ giấy"
    assert not rows[2][-1].startswith("=")  # a reason is never a formula
    r = c.get(reverse("audit:backdated"), {**params, "format": "xlsx"})
    ws = load_workbook(io.BytesIO(r.content)).active
    values = [list(row) for row in ws.iter_rows(values_only=True)]
    reasons = [row[-1] for row in values]
    assert "Chuyển sổ giấy" in reasons
    tricky = next(row for row in values if row[2] == backdated["tricky"].pk)
    assert tricky[4] == 1_000_000 and not str(tricky[-1]).startswith("=")


def test_only_the_funds_readers_open_the_list(as_user, officers, backdated):
    url = reverse("audit:backdated")
    for user in (officers.superior, officers.grassroots):
        assert as_user(user).get(url).status_code == 403
    # A fund officer of the other fund reads only that fund's back-dated entries.
    r = as_user(officers.other_fund).get(url, {"start": "01/01/2000", "end": f"{today():%d/%m/%Y}"})
    assert r.status_code == 200
    assert [e.pk for e, _who in r.context["entries"]] == [backdated["other"].pk]


def test_a_request_approved_after_the_window_moved_asks_the_approver_for_a_reason(
    as_user, officers, org, loan
):
    req = write_off_requested_last_month(loan, actor=officers.superior)
    narrow_window(org.fund)
    c = as_user(officers.fund)
    url = reverse("loans:change_request_detail", args=[req.pk])
    data = {"decision": "approve", "idempotency_key": idempotency_key(c.get(url))}
    before = counts()
    r = c.post(url, data)
    assert r.status_code == 400 and "backdate_reason" in error_fields(r)
    assert counts() == before
    req.refresh_from_db()
    assert req.status == LoanChangeRequest.Status.PENDING
    r = c.post(url, {**data, "backdate_reason": "Duyệt muộn sau khóa tháng"})
    assert r.status_code == 302, r.content.decode()[:2000]
    req.refresh_from_db()
    assert req.write_off.journal_entry.backdated_reason == "Duyệt muộn sau khóa tháng"
