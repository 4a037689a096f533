"""Officer accounts in real Chromium: a fund officer creates a grassroots-union officer, who
opens the e-mailed link, sets a password and signs in through the log-in form (issue #19)."""

import pytest
from django.core import mail
from selenium.webdriver.common.by import By

from tests.browser.helpers import fill, wait_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("purge_ledger_after"),
]
PASSWORD = "Hoa-sen-nở-2026"


def test_a_fund_officer_creates_an_officer_who_then_signs_in(
    browser, live_server, screenshot, login_as, click_through, org, officers
):
    mail.outbox.clear()
    login_as(officers.fund)
    browser.get(live_server.url + "/fund/officers/")
    click_through(browser.find_element(By.CSS_SELECTOR, "[data-testid=officer-new]"))
    fill(browser, "username", "cdcs_lb2_moi")
    fill(browser, "full_name", "Phạm Thị Thu Hà")
    fill(browser, "email", "ha@example.vn")
    fill(browser, "phone", "0912 345 678")
    fill(browser, "role", "grassroots_officer")
    fill(browser, "grassroots_union", org.lb2.pk)
    click_through(browser.find_element(By.CSS_SELECTOR, "#officer-form button[type=submit]"))
    wait_for(browser, "Đã tạo tài khoản cdcs_lb2_moi")
    screenshot("1-created")
    assert len(mail.outbox) == 1
    link = next(w for w in mail.outbox[0].body.split() if w.startswith(live_server.url))

    browser.delete_all_cookies()  # the new officer, in their own browser
    browser.get(link)
    wait_for(browser, "Đặt mật khẩu")
    fill(browser, "new_password1", PASSWORD)
    fill(browser, "new_password2", PASSWORD)
    click_through(browser.find_element(By.CSS_SELECTOR, "#password-set-form button"))
    wait_for(browser, "Mật khẩu mới của bạn đã được lưu")
    screenshot("2-password-set")

    browser.get(live_server.url + "/accounts/login/")
    fill(browser, "username", "cdcs_lb2_moi")
    fill(browser, "password", PASSWORD)
    click_through(browser.find_element(By.CSS_SELECTOR, "section.card form button.primary"))
    assert "/accounts/login/" not in browser.current_url
    wait_for(browser, "Phạm Thị Thu Hà")
    screenshot("3-signed-in")
