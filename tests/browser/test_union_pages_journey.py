"""The union pages in real Chromium: a superior union's officer goes from the inbox, through the
menu, to their union's page (attainment, the grassroots unions' table, the loan book, overdue
and PAR as of the business date), opens a grassroots union from that table and the quarterly
report on the web; a grassroots union's officer reaches only their own union's page (another
union's page answers 404)."""

from datetime import timedelta

import pytest
from selenium.webdriver.common.by import By

from loans.servicing.close_of_business import close_of_business_catch_up
from loans.tests.factories import BorrowerFactory, today
from loans.tests.helpers import disbursed_loan

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("purge_ledger_after"),
]


def _testid(browser, name: str) -> str:
    return browser.find_element(By.CSS_SELECTOR, f"[data-testid={name}]").text


def test_superior_and_grassroots_officers_on_their_union_pages(
    browser, live_server, screenshot, login_as, click_through, org, officers, product, capital
):
    # A loan of LB-001 disbursed 45 days ago, its first installment late after the close of
    # business through yesterday; one of HBT-001 (another superior union) that LB never sees.
    loan = disbursed_loan(
        borrower=BorrowerFactory(grassroots_union=org.lb1, full_name="Nguyễn Thị Hoa"),
        product=product,
        officers=officers,
    )
    disbursed_loan(
        borrower=BorrowerFactory(grassroots_union=org.hbt1, full_name="Đinh Văn Tú"),
        product=product,
        officers=officers,
    )
    close_of_business_catch_up(fund_id=org.fund.pk, through_date=today() - timedelta(days=1))
    loan.refresh_from_db()
    assert loan.days_past_due > 0

    login_as(officers.superior)
    browser.get(live_server.url + "/")
    assert "/loans/inbox/" in browser.current_url
    click_through(browser.find_element(By.LINK_TEXT, "Công đoàn của tôi"))
    assert f"/reports/unions/superior/{org.lb.pk}/" in browser.current_url
    assert _testid(browser, "headline")  # the quarter's attainment against plan
    units = _testid(browser, "units")
    assert "LB-001" in units and "HBT-001" not in units
    assert _testid(browser, "loan-count") == "1"
    assert _testid(browser, "overdue-amount") != "0 ₫"
    assert "PAR" in _testid(browser, "par")
    overdue = _testid(browser, "overdue")
    assert "Nguyễn Thị Hoa" in overdue and str(loan.days_past_due) in overdue
    assert "Đinh Văn Tú" not in browser.page_source
    screenshot("1-superior-union")

    click_through(browser.find_element(By.CSS_SELECTOR, "[data-unit=LB-001] a"))
    assert f"/reports/unions/{org.lb1.pk}/" in browser.current_url
    assert "Nguyễn Thị Hoa" in _testid(browser, "loan-book")
    assert _testid(browser, "loan-count") == "1"
    screenshot("2-grassroots-union-from-the-table")
    browser.back()
    click_through(browser.find_element(By.PARTIAL_LINK_TEXT, "Báo cáo quý đầy đủ"))
    assert "/reports/quarterly/" in browser.current_url
    assert _testid(browser, "headline") and _testid(browser, "debt-groups")
    screenshot("3-quarterly-report")

    login_as(officers.grassroots)
    browser.get(live_server.url + "/")
    click_through(browser.find_element(By.LINK_TEXT, "Công đoàn của tôi"))
    assert f"/reports/unions/{org.lb1.pk}/" in browser.current_url
    assert _testid(browser, "loan-count") == "1"
    screenshot("4-grassroots-own-union")
    # Another grassroots union's page: not found; the superior union's page: not for this role.
    for path, code in (
        (f"/reports/unions/{org.lb2.pk}/", "404"),
        (f"/reports/unions/superior/{org.lb.pk}/", "403"),
    ):
        browser.get(live_server.url + path)
        assert browser.find_element(By.CSS_SELECTOR, ".error-code").text == code, path
        assert "Nguyễn Thị Hoa" not in browser.page_source
    screenshot("5-grassroots-refused")
