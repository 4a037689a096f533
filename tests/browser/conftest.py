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


@pytest.fixture
def browser(_chromium_paths):
    """A fresh headless Chromium with an empty profile; quits after the test."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = _chromium_paths[0]
    profile = tempfile.mkdtemp(prefix="trovon-chromium-")
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": "vi-VN,vi"})
    driver = webdriver.Chrome(options=options, service=Service(_chromium_paths[1]))
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

    def login(user):
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        browser.get(live_server.url + "/favicon.ico")  # a page of the domain, to set cookies on
        name = settings.SESSION_COOKIE_NAME
        browser.add_cookie({"name": name, "value": cookie.value, "path": "/"})
        return user

    return login
