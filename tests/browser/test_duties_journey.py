"""Four eyes and the year-end closing in real Chromium: one fund officer enters a capital
contribution above the fund's threshold, another confirms it; last year is closed and the
auditor's balance sheet balances with no "unclosed difference" line."""

from datetime import date

import pytest
from selenium.webdriver.common.by import By

from accounting.services import credit, debit, journal_entry_post
from fund.models import CapitalMovement, CapitalMoveRequest, YearClose
from loans.tests.factories import today
from tests.browser.helpers import fill, wait_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("purge_ledger_after"),
]


def test_four_eyes_on_capital_then_the_year_closed(
    browser, live_server, screenshot, login_as, click_through, org, officers, capital
):
    last = today().year - 1
    journal_entry_post(  # last year's interest: a result to close
        effective_date=date(last, 6, 1),
        legs=[
            debit("1121", 1_200_000, fund_id=org.fund.pk),
            credit("5151", 1_200_000, fund_id=org.fund.pk),
        ],
        memo="Thu lãi cho vay",
        idempotency_key="lai-nam-truoc",
    )
    login_as(officers.fund)
    browser.get(live_server.url + "/fund/capital/")
    fill(browser, "source", capital.source.pk)
    fill(browser, "amount", "250.000.000")
    fill(browser, "effective_date", today().isoformat())
    click_through(browser.find_element(By.CSS_SELECTOR, "form.card button[type=submit]"))
    click_through(browser.find_element(By.ID, "confirm-submit"))
    wait_for(browser, "chờ một cán bộ quỹ khác xác nhận")
    req = CapitalMoveRequest.objects.get()
    assert not browser.find_elements(By.ID, f"confirm-{req.pk}")  # not to the one who entered it
    screenshot("1-waiting")

    login_as(officers.checker)
    browser.get(live_server.url + "/fund/capital/requests/")
    click_through(browser.find_element(By.ID, f"confirm-{req.pk}"))
    wait_for(browser, f"Đã xác nhận và hạch toán nghiệp vụ vốn #{req.pk}")
    movement = CapitalMovement.objects.get(request=req)
    assert movement.created_by == officers.fund and movement.confirmed_by == officers.checker
    screenshot("2-confirmed")

    browser.get(live_server.url + "/fund/year-closes/")
    assert browser.find_element(By.NAME, "year").get_attribute("value") == str(last)
    click_through(browser.find_element(By.CSS_SELECTOR, "#year-close-form button"))
    click_through(browser.find_element(By.ID, "confirm-submit"))
    wait_for(browser, f"Đã khóa sổ năm {last}")
    assert YearClose.objects.get().surplus.amount == 1_200_000
    screenshot("3-year-closed")

    login_as(officers.auditor)
    browser.get(f"{live_server.url}/audit/balance-sheet/?start={last}-10-01&end={last}-12-31")
    assert "Tổng tài sản bằng tổng nguồn vốn" in browser.find_element(By.ID, "balanced").text
    assert "chưa kết chuyển" not in browser.page_source
    assert "421" in browser.find_element(By.ID, "balance-sheet").text
    screenshot("4-balance-sheet")
