"""Real headless Chromium (Debian's chromium + chromium-driver) driven by Selenium.

`make test` installs the two packages when they are missing, so a missing browser is a failure
here, not a skip. Pages are served by pytest-django's `live_server` (a real HTTP server thread on
the test database). Screenshots land in test-artifacts/browser/ for people to look at.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"

# Flags that keep Chromium off the network this machine does not have and out of a sandbox it
# cannot create as root.
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,900",
    "--lang=vi",
]


@pytest.fixture(scope="session")
def _chromium_paths():
    for path in (CHROMIUM, CHROMEDRIVER):
        if not shutil.which(path):
            pytest.fail(f"{path} is missing: `make test` installs chromium and chromium-driver")
    return CHROMIUM, CHROMEDRIVER


@pytest.fixture(autouse=True)
def _flushable_ledger(request):
    """A live-server test is transactional: the flush that ends it truncates the ledger tables,
    which PostgreSQL's append-only triggers refuse unless they are switched off
    (``purge_ledger_after``)."""
    if "live_server" in request.fixturenames:
        request.getfixturevalue("purge_ledger_after")


@pytest.fixture
def chromium_prefs():
    """Chromium preferences; a test module overrides this fixture to add its own."""
    return {"intl.accept_languages": "vi-VN,vi"}


@pytest.fixture
def browser(_chromium_paths, chromium_prefs):
    """A fresh headless Chromium with an empty profile; quits after the test.

    With ``download.default_directory`` in `chromium_prefs`, files are downloaded there without
    asking (headless Chromium also needs that said through DevTools).
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = _chromium_paths[0]
    profile = tempfile.mkdtemp(prefix="trovon-chromium-")
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.add_experimental_option("prefs", chromium_prefs)
    driver = webdriver.Chrome(options=options, service=Service(_chromium_paths[1]))
    if downloads := chromium_prefs.get("download.default_directory"):
        driver.execute_cdp_cmd(
            "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": downloads}
        )
    driver.set_page_load_timeout(30)
    driver.implicitly_wait(2)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def screenshot(browser, request):
    """screenshot("step") saves test-artifacts/browser/<test>-<step>.png and returns the path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(step: str) -> Path:
        path = ARTIFACTS / f"{request.node.name}-{step}.png"
        browser.save_screenshot(str(path))
        return path

    return take


@pytest.fixture
def login_as(browser, live_server):
    """Sign a user in without the log-in form (its own test drives the form): session cookie."""
    from django.conf import settings
    from django.test import Client

    from tests.helpers import two_factor_pass

    def login(user):
        client = Client()
        client.force_login(user)
        two_factor_pass(client, user)  # the second factor, where the user's fund requires it
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        browser.get(live_server.url + "/favicon.ico")  # a page of the domain, to set cookies on
        name = settings.SESSION_COOKIE_NAME
        browser.add_cookie({"name": name, "value": cookie.value, "path": "/"})
        return user

    return login


@pytest.fixture
def click_through(browser):
    """click_through(element): click a link or submit button and wait for the next page.

    Without the wait, a lookup right after the click can find the element on the page being
    left and go stale when the new one arrives (a race that a slow machine loses).
    """
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def left(old) -> bool:
        # Chromium sometimes answers a lookup on a node of the page just left with "Node with
        # given id does not belong to the document" instead of a stale-element error: the same.
        try:
            old.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as e:
            if "does not belong to the document" in str(e):
                return True
            raise
        return False

    def click(element) -> None:
        old = browser.find_element(By.TAG_NAME, "html")
        element.click()
        wait = WebDriverWait(browser, 30)
        wait.until(lambda d: left(old))
        wait.until(lambda d: d.execute_script("return document.readyState") == "complete")

    return click
