"""The header at a phone's width (360 px) and a laptop's (1366 px), in Vietnamese and English:
nothing overflows the page sideways, sign-out and password change are always on screen, and on
a phone the menu folds behind its button. Screenshots in test-artifacts/browser/."""

import pytest
from django.urls import reverse
from selenium.webdriver.common.by import By

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("purge_ledger_after"),
]

WIDTHS = (360, 1366)


def _visible_in_viewport(browser, element) -> bool:
    return browser.execute_script(
        "const r = arguments[0].getBoundingClientRect();"
        "return r.width > 0 && r.left >= 0 && r.right <= window.innerWidth;",
        element,
    )


def _check_header(browser, width, menu_label):
    assert browser.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth;"
    ), f"the page scrolls sideways at {width} px"
    for testid in ("sign-out", "password-change"):
        el = browser.find_element(By.CSS_SELECTOR, f"[data-testid={testid}]")
        assert _visible_in_viewport(browser, el), f"{testid} off screen at {width} px"
    nav = browser.find_element(By.ID, "site-nav")
    toggle = browser.find_element(By.CSS_SELECTOR, "[data-testid=nav-toggle]")
    if width < 900:
        assert not nav.is_displayed() and toggle.is_displayed()
        assert menu_label in toggle.text
        toggle.click()
        assert nav.is_displayed()
    links = nav.find_elements(By.TAG_NAME, "a")
    assert links and all(_visible_in_viewport(browser, a) for a in links)


def test_fund_officer_header_fits_at_360_and_1366_in_both_languages(
    browser, live_server, login_as, screenshot, officers
):
    login_as(officers.fund)
    for lang, menu_label, forbidden_word in (("vi", "Danh mục", None), ("en", "Menu", "Đăng")):
        browser.add_cookie({"name": "django_language", "value": lang, "path": "/"})
        for width in WIDTHS:
            browser.set_window_size(width, 900)
            browser.get(live_server.url + "/loans/dashboard/")
            _check_header(browser, width, menu_label)
            if forbidden_word:
                header = browser.find_element(By.CSS_SELECTOR, "header").text
                assert forbidden_word not in header, header
            screenshot(f"fund-{lang}-{width}")
    # The error pages wear the same header: a fund officer on a grassroots officer's page.
    browser.set_window_size(360, 900)
    browser.get(live_server.url + reverse("loans:propose"))
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid=error-page]").is_displayed()
    sign_out = browser.find_element(By.CSS_SELECTOR, "[data-testid=sign-out]")
    assert _visible_in_viewport(browser, sign_out)
    screenshot("forbidden-en-360")
