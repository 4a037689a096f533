"""Log-in, its throttle, log-out, password change, the home redirect and the header."""

import pytest
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import NoReverseMatch, reverse

from config.navigation import navigation_for
from fund.models import Role

PASSWORD = "mat-khau-dung-2026"


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def grassroots(officers):
    officers.grassroots.set_password(PASSWORD)
    officers.grassroots.save()
    return officers.grassroots


def _login(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_login_page_is_vietnamese_even_for_an_english_browser(db):
    r = Client().get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-US,en")
    assert r.status_code == 200
    assert "Đăng nhập" in r.content.decode()
    assert 'lang="vi"' in r.content.decode()


def test_language_switch_to_english(grassroots):
    c = Client()
    r = c.post(reverse("set_language"), {"language": "en", "next": "/accounts/login/"})
    assert r.status_code == 302
    body = c.get(reverse("login")).content.decode()
    assert 'lang="en"' in body
    assert "Log in" in body and "Đăng nhập" not in body


def test_login_then_home_sends_each_role_to_its_start_page(grassroots, officers):
    c = Client()
    r = _login(c, "cdcs_lb1", PASSWORD)
    assert r.status_code == 302
    r = c.get("/")
    # Every role that acts starts on its inbox (what waits for it); the auditor on the audit.
    assert r.status_code == 302 and r["Location"] == reverse("loans:inbox")
    for user, page in (
        (officers.fund, "loans:inbox"),
        (officers.superior, "loans:inbox"),
        (officers.auditor, "audit:index"),
    ):
        c = Client()
        c.force_login(user)
        assert c.get("/")["Location"] == reverse(page)


def test_anonymous_home_and_pages_go_to_login(db):
    c = Client()
    assert c.get("/")["Location"] == reverse("login")
    r = c.get(reverse("loans:dashboard"))
    assert r.status_code == 302 and r["Location"].startswith(reverse("login"))


def test_wrong_password_is_refused_in_vietnamese(grassroots):
    r = _login(Client(), "cdcs_lb1", "sai")
    assert r.status_code == 200
    assert "đúng" in r.content.decode() or "chính xác" in r.content.decode()


@override_settings(AXES_FAILURE_LIMIT=3)
def test_throttle_refuses_after_too_many_failures_even_the_right_password(grassroots):
    c = Client()
    for _ in range(2):
        assert _login(c, "cdcs_lb1", "sai").status_code == 200
    r = _login(c, "cdcs_lb1", "sai")
    assert r.status_code == 429
    assert "tạm bị khóa" in r.content.decode()
    r = _login(c, "cdcs_lb1", PASSWORD)
    assert r.status_code == 429
    assert "_auth_user_id" not in c.session
    # Once the window has passed the right password works again (tests/security/test_signin.py).


@override_settings(AXES_FAILURE_LIMIT=3)
def test_successful_login_resets_the_count(grassroots):
    c = Client()
    _login(c, "cdcs_lb1", "sai")
    _login(c, "cdcs_lb1", "sai")
    assert _login(c, "cdcs_lb1", PASSWORD).status_code == 302
    c.post(reverse("logout"))
    _login(c, "cdcs_lb1", "sai")
    _login(c, "cdcs_lb1", "sai")
    assert _login(c, "cdcs_lb1", PASSWORD).status_code == 302


def test_logout_is_a_post(grassroots):
    c = Client()
    c.force_login(grassroots)
    r = c.post(reverse("logout"))
    assert r.status_code == 302
    assert "_auth_user_id" not in c.session


def test_password_change(grassroots):
    c = Client()
    c.force_login(grassroots)
    assert c.get(reverse("password_change")).status_code == 200
    r = c.post(
        reverse("password_change"),
        {"old_password": "sai", "new_password1": "x", "new_password2": "y"},
    )
    assert r.status_code == 200
    assert 'class="error"' in r.content.decode()
    r = c.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "Hoa-sen-Ho-Tay-2026",
            "new_password2": "Hoa-sen-Ho-Tay-2026",
        },
    )
    assert r.status_code == 302
    grassroots.refresh_from_db()
    assert grassroots.check_password("Hoa-sen-Ho-Tay-2026")


def test_header_shows_user_role_and_unit(as_user, officers, org):
    body = as_user(officers.grassroots).get(reverse("loans:collections")).content.decode()
    assert "cdcs_lb1" in body
    assert "Cán bộ công đoàn cơ sở" in body
    assert org.lb1.name in body
    assert reverse("loans:propose") in body  # its navigation
    assert reverse("loans:approvals") not in body  # not the fund's


def test_navigation_skips_pages_that_do_not_exist():
    fund_nav = [x["url_name"] for x in navigation_for(Role.FUND_OFFICER)]
    assert "loans:dashboard" in fund_nav
    assert "no-such:page" not in fund_nav
    from config import navigation

    entry = navigation.NavEntry("x", "no-such:page", (Role.FUND_OFFICER,))
    original = navigation.NAVIGATION
    try:
        navigation.NAVIGATION = (*original, entry)
        assert "no-such:page" not in [x["url_name"] for x in navigation_for(Role.FUND_OFFICER)]
    finally:
        navigation.NAVIGATION = original


def test_english_pages_for_an_officer(as_user, officers):
    c = as_user(officers.grassroots)
    c.post(reverse("set_language"), {"language": "en", "next": "/"})
    body = c.get(reverse("loans:collections")).content.decode()
    assert "Monthly collection" in body and "Grassroots-union officer" in body


def test_every_menu_entry_leads_to_a_page_its_roles_may_open():
    """A role sees an entry only if the page's own rule lets it in (no menu item to a 403)."""
    from django.urls import resolve

    from config.navigation import NAVIGATION
    from fund.access import PUBLIC, view_access_rule

    for entry in NAVIGATION:
        try:
            url = reverse(entry.url_name)
        except NoReverseMatch:
            continue
        rule = view_access_rule(resolve(url).func)
        assert rule == PUBLIC or set(entry.roles) <= set(rule), (entry.url_name, rule)


def test_auditors_menu_has_the_officers_page_they_may_read(as_user, officers):
    auditor_nav = [x["url_name"] for x in navigation_for(Role.AUDITOR)]
    assert "fundweb:officers" in auditor_nav
    c = as_user(officers.auditor)
    body = c.get(reverse("audit:index")).content.decode()
    assert f'href="{reverse("fundweb:officers")}"' in body
    assert c.get(reverse("fundweb:officers")).status_code == 200
    # A grassroots officer may not read it, and is not shown it.
    assert "fundweb:officers" not in [
        x["url_name"] for x in navigation_for(Role.GRASSROOTS_OFFICER)
    ]
