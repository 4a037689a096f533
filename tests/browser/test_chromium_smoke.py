"""The browser harness itself: Chromium starts, reaches the live server and a signed-in session."""

import pytest
from django.contrib.auth import get_user_model

# On PostgreSQL the flush after a transactional test must pass the ledger's TRUNCATE guard.
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("purge_ledger_after"),
]


def test_chromium_renders_the_admin_login_in_vietnamese(browser, live_server, screenshot):
    browser.get(live_server.url + "/admin/login/")
    assert "Đăng nhập" in browser.page_source
    assert screenshot("admin-login").stat().st_size > 1000


def test_login_as_carries_the_session_into_the_browser(browser, live_server, login_as):
    user = get_user_model().objects.create_superuser("sep", "sep@example.org", "x-pass-123")
    login_as(user)
    browser.get(live_server.url + "/admin/")
    assert "sep" in browser.page_source.lower()
    assert "/admin/login/" not in browser.current_url
