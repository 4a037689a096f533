"""The main journeys in real headless Chromium, with a screenshot at each step.

(a) A grassroots-union officer signs in through the log-in form, proposes a member for a loan
    and records what was collected this month (one remittance).
(b) A fund officer — not the one who entered or reviewed the application — approves it and
    disburses the loan.
"""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from loans.models import ApplicationStatus, Loan, LoanApplication, RepaymentBatch
from loans.tests.factories import BorrowerFactory, application_to, today
from loans.tests.helpers import disbursed_loan
from tests.browser.helpers import fill, wait_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("purge_ledger_after"),
]


PASSWORD = "Cong-doan-co-so-2026"


def test_grassroots_officer_proposes_and_records_collections(
    browser, live_server, screenshot, org, officers, product, capital
):
    loan = disbursed_loan(
        borrower=BorrowerFactory(grassroots_union=org.lb1, full_name="Nguyễn Thị Hoa"),
        product=product,
        officers=officers,
    )
    officers.grassroots.set_password(PASSWORD)
    officers.grassroots.save()

    browser.get(live_server.url + "/")
    assert "/accounts/login/" in browser.current_url
    fill(browser, "username", "cdcs_lb1")
    fill(browser, "password", PASSWORD)
    screenshot("1-login")
    browser.find_element(By.CSS_SELECTOR, "button.primary").click()
    # The start page is the officer's inbox: nothing waits for this union yet.
    WebDriverWait(browser, 10).until(lambda d: "/loans/inbox/" in d.current_url)
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid=inbox-returned] .count").text == "0"
    header = browser.find_element(By.CSS_SELECTOR, "[data-testid=who]").text
    assert "Cán bộ công đoàn cơ sở" in header and org.lb1.name in header

    browser.find_element(By.LINK_TEXT, "Đề nghị vay").click()
    for name, value in {
        "full_name": "Lê Thị Mai",
        "date_of_birth": "1985-05-17",
        "sex": "female",
        "national_id": "001185100999",
        "household_status": "poor",
        "phone": "0912000111",
        "certificate_number": "GCN-777/2026",
        "certificate_date": today().replace(day=1).isoformat(),
        "product": product.pk,
        "amount": "20.000.000",
        "term": "12",
        "purpose_kind": "crafts",
        "purpose": "Mua máy may công nghiệp",
        "planned_jobs": "2",
        "security_kind": "group",
        "group_name": "Tổ vay vốn số 1",
    }.items():
        fill(browser, name, value)
    screenshot("2-proposal")
    browser.find_element(By.ID, "propose-submit").click()
    wait_for(browser, "Đã gửi đề nghị vay của Lê Thị Mai")
    screenshot("3-proposal-sent")
    app = LoanApplication.objects.get(borrower__full_name="Lê Thị Mai")
    assert app.status == ApplicationStatus.SUBMITTED and app.planned_jobs == 2

    browser.find_element(By.LINK_TEXT, "Thu nợ tháng").click()
    sheet = browser.find_element(By.CSS_SELECTOR, "[data-testid=collection-sheet]").text
    assert "Nguyễn Thị Hoa" in sheet
    fill(browser, "receipt_number", "PT-11/2026")
    screenshot("4-collection-sheet")
    browser.find_element(By.ID, "collection-submit").click()
    wait_for(browser, "Xác nhận đợt nộp tiền")
    browser.find_element(By.ID, "confirm-submit").click()
    wait_for(browser, "Đã ghi đợt nộp PT-11/2026")
    screenshot("5-collections-recorded")
    batch = RepaymentBatch.objects.get()
    assert batch.grassroots_union == org.lb1
    assert batch.repayments.get().loan == loan


def test_fund_officer_approves_and_disburses(
    browser, live_server, screenshot, login_as, org, officers, product, capital
):
    member = BorrowerFactory(grassroots_union=org.lb1, full_name="Đỗ Thị Lan")
    app = application_to(
        "reviewed",
        borrower=member,
        product=product,
        maker=officers.grassroots,
        reviewer=officers.superior,
        approver=None,
    )
    login_as(officers.checker)  # not the maker nor the reviewer
    browser.get(live_server.url + "/")
    assert "/loans/inbox/" in browser.current_url
    screenshot("1-inbox")
    # The inbox counts the application waiting for approval, and the menu entry too.
    item = browser.find_element(By.CSS_SELECTOR, "[data-testid=inbox-approvals]")
    assert item.find_element(By.CSS_SELECTOR, ".count").text == "1"
    entry = browser.find_element(By.LINK_TEXT, "Chờ phê duyệt")
    assert entry.get_attribute("data-count") == "1"
    item.find_element(By.TAG_NAME, "a").click()
    browser.find_element(By.LINK_TEXT, f"#{app.pk}").click()
    screenshot("2-application")
    browser.find_element(By.ID, "approve-submit").click()
    wait_for(browser, "Đã phê duyệt hồ sơ")
    screenshot("3-approved")
    app.refresh_from_db()
    assert app.status == ApplicationStatus.APPROVED and app.approved_by == officers.checker
    # Separation of duties: the approver is told another fund officer disburses.
    assert browser.find_elements(By.ID, "own-approval")
    assert not browser.find_elements(By.ID, "disburse-submit")
    login_as(officers.fund)
    browser.get(f"{live_server.url}/loans/applications/{app.pk}/")
    browser.find_element(By.ID, "disburse-submit").click()
    wait_for(browser, "Đã giải ngân khoản vay")
    loan = Loan.objects.get(application=app)
    assert f"/loans/{loan.pk}/" in browser.current_url
    assert "20.000.000 ₫" in browser.find_element(By.CSS_SELECTOR, "[data-testid=outstanding]").text
    screenshot("4-disbursed-loan")
