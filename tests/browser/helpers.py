"""Helpers of the browser journeys: fill a form's field, wait for what the next page says."""

import pytest
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait


def fill(browser, name, value):
    """Fill a field by name; dates through their ISO value (typing into a date input depends
    on the browser's locale)."""
    el = browser.find_element(By.NAME, name)
    if el.tag_name == "select":
        browser.execute_script(
            "arguments[0].value = arguments[1];arguments[0].dispatchEvent(new Event('change'));",
            el,
            str(value),
        )
    elif el.get_attribute("type") == "date":
        browser.execute_script("arguments[0].value = arguments[1];", el, value)
    else:
        el.clear()
        el.send_keys(value)


def wait_for(browser, text: str) -> None:
    """Wait for the page the last click loads to show `text` (the messages after a redirect);
    on time-out, fail with the errors the page shows."""
    try:
        WebDriverWait(browser, 10).until(lambda d: text in d.page_source)
    except TimeoutException:
        errors = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".error")]
        pytest.fail(f"{text!r} not shown; errors on the page: {errors}")
