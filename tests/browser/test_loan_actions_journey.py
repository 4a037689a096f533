"""A fund officer's work on a loan after disbursement, in real headless Chromium: a follow-up
visit, the reversal of a repayment entered by mistake, and the write-off of the loan after a
natural disaster (asked for by the superior union's officer in the browser, then approved by the
fund officer), with a screenshot at each step (test-artifacts/browser/).
"""

import pytest
from selenium.webdriver.common.by import By

from accounting.models import Posting
from loans.models import FollowUpVisit, LoanStatus, LoanWriteOff
from loans.servicing.repayments import repayment_post
from loans.tests.factories import BorrowerFactory, new_key, today
from loans.tests.helpers import disbursed_loan
from tests.browser.helpers import fill, wait_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("purge_ledger_after"),
]


def test_fund_officer_visits_reverses_a_repayment_and_writes_off(
    browser, live_server, screenshot, login_as, click_through, org, officers, product, capital
):
    loan = disbursed_loan(
        borrower=BorrowerFactory(grassroots_union=org.lb1, full_name="Phạm Thị Thu"),
        product=product,
        officers=officers,
        days_ago=40,
        amount=15_000_000,
    )
    wrong = repayment_post(
        loan=loan, amount=1_800_000, paid_on=today(), idempotency_key=new_key("pay")
    )
    login_as(officers.fund)
    browser.get(f"{live_server.url}/loans/{loan.pk}/")
    actions = browser.find_element(By.CSS_SELECTOR, "[data-testid=loan-actions]").text
    assert "Kiểm tra sau giải ngân" in actions and "Hủy lần trả nợ" in actions
    screenshot("1-loan-page")

    # 1. The follow-up visit.
    click_through(browser.find_element(By.ID, "action-visit"))
    fill(browser, "visited_on", today().isoformat())
    browser.find_element(By.CSS_SELECTOR, "input[name=purpose_verified][value=yes]").click()
    fill(browser, "jobs_confirmed", "2")
    fill(browser, "note", "Cùng kiểm tra: bà Ngô Thị Hạnh, chủ tịch CĐCS; đã mua máy may")
    screenshot("2-visit-form")
    click_through(browser.find_element(By.ID, "action-submit"))
    wait_for(browser, "Đã ghi kết quả kiểm tra sau giải ngân")
    visit = FollowUpVisit.objects.get(loan=loan)
    assert visit.jobs_confirmed == 2 and visit.purpose_verified

    # 2. The repayment entered by mistake, reversed (with a confirmation step).
    click_through(browser.find_element(By.ID, "action-reverse"))
    fill(browser, "reason", "Ghi nhầm: tiền của người vay khác")
    screenshot("3-reverse-form")
    click_through(browser.find_element(By.ID, "action-submit"))
    assert "Ghi nhầm" in browser.find_element(By.CSS_SELECTOR, "[data-testid=summary]").text
    screenshot("4-reverse-confirm")
    click_through(browser.find_element(By.ID, "confirm-submit"))
    wait_for(browser, "Đã hủy lần trả nợ")
    wrong.refresh_from_db()
    loan.refresh_from_db()
    assert wrong.reversal_entry_id is not None
    assert loan.outstanding_principal.amount == 15_000_000
    outstanding = browser.find_element(By.CSS_SELECTOR, "[data-testid=outstanding]").text
    assert "15.000.000 ₫" in outstanding
    screenshot("5-reversed")

    # 3. The write-off, asked for by the superior union's officer: a bad first try (other cause
    # without a note) shows the field's error.
    browser.delete_all_cookies()
    login_as(officers.superior)
    browser.get(f"{live_server.url}/loans/{loan.pk}/")
    click_through(browser.find_element(By.ID, "action-write_off"))
    browser.find_element(By.CSS_SELECTOR, "input[name=cause][value=other]").click()
    click_through(browser.find_element(By.ID, "action-submit"))
    error = browser.find_element(By.CSS_SELECTOR, ".error[data-field=note]").text
    assert "nguyên nhân khác" in error
    screenshot("6-write-off-error")
    browser.find_element(By.CSS_SELECTOR, "input[name=cause][value=natural_disaster]").click()
    fill(browser, "note", "Bão số 3 cuốn trôi xưởng may")
    click_through(browser.find_element(By.ID, "action-submit"))
    wait_for(browser, "Đã gửi đề nghị xử lý rủi ro")
    assert loan.status == LoanStatus.ACTIVE  # nothing happens until the fund decides
    screenshot("7-write-off-requested")

    # 4. The fund officer opens the request from the loan page and approves it.
    browser.delete_all_cookies()
    login_as(officers.fund)
    browser.get(f"{live_server.url}/loans/{loan.pk}/")
    pending = browser.find_element(By.CSS_SELECTOR, "[data-testid=pending-requests]")
    assert "Xử lý rủi ro" in pending.text
    click_through(pending.find_element(By.TAG_NAME, "a"))
    assert "Bão số 3" in browser.find_element(By.CSS_SELECTOR, "[data-testid=request]").text
    screenshot("8-request")
    click_through(browser.find_element(By.ID, "approve-submit"))
    wait_for(browser, "Đã duyệt đề nghị")
    screenshot("9-written-off")
    loan.refresh_from_db()
    assert loan.status == LoanStatus.WRITTEN_OFF
    write_off = LoanWriteOff.objects.get(loan=loan)
    assert (write_off.requested_by, write_off.approved_by) == (officers.superior, officers.fund)
    credit = Posting.objects.get(entry=write_off.journal_entry, account__code="1283")
    assert credit.amount.amount == -15_000_000
    actions = browser.find_element(By.CSS_SELECTOR, "[data-testid=loan-actions]").text
    assert "Thu hồi nợ đã xử lý rủi ro" in actions and "Xử lý rủi ro" not in actions.replace(
        "Thu hồi nợ đã xử lý rủi ro", ""
    )
