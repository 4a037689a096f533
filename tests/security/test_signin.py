"""Sign-in door by door (issue #18): the app's log-in, the admin's, the API token endpoint and
the password change all count failures in django-axes (the database, not one process's memory),
lock by account and by client, and take the client's address from the trusted proxy only."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from fund.signin import client_ip, signin_failures_recent

PASSWORD = "mat-khau-dung-2026"
PROXY = "10.0.0.5"


@pytest.fixture
def people(officers):
    for user in (officers.grassroots, officers.fund):
        user.set_password(PASSWORD)
        user.save()
    return officers


def _login(client, username, password, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def _token(username, password, **extra):
    return APIClient().post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json", **extra
    )


class _Request:
    def __init__(self, remote, forwarded=None):
        self.META = {"REMOTE_ADDR": remote}
        if forwarded is not None:
            self.META["HTTP_X_FORWARDED_FOR"] = forwarded


@override_settings(TRUSTED_PROXIES=[])
def test_without_a_trusted_proxy_the_header_is_ignored():
    assert client_ip(_Request("203.0.113.9", "1.2.3.4")) == "203.0.113.9"


@override_settings(TRUSTED_PROXIES=["10.0.0.0/8"])
def test_behind_the_trusted_proxy_only_its_own_entry_counts():
    # The proxy appends the address it saw; what the client wrote to its left is never read.
    assert client_ip(_Request(PROXY, "1.2.3.4, 198.51.100.7")) == "198.51.100.7"
    assert client_ip(_Request(PROXY, "198.51.100.7, 10.0.0.9")) == "198.51.100.7"
    # A client talking to the app directly cannot pose as the proxy's client.
    assert client_ip(_Request("203.0.113.9", "1.2.3.4")) == "203.0.113.9"
    assert client_ip(_Request("[::1]")) is None or client_ip(_Request("::1")) == "::1"


@override_settings(AXES_FAILURE_LIMIT=3, TRUSTED_PROXIES=["10.0.0.0/8"])
def test_rotating_x_forwarded_for_does_not_escape_the_lockout(people):
    c = Client(REMOTE_ADDR=PROXY)
    for n in range(3):
        # The attacker writes a new address each time; the proxy appends the real one.
        _login(c, "cdcs_lb1", "sai", HTTP_X_FORWARDED_FOR=f"7.7.7.{n}, 198.51.100.7")
    r = _login(c, "cdcs_lb1", PASSWORD, HTTP_X_FORWARDED_FOR="9.9.9.9, 198.51.100.7")
    assert r.status_code == 429
    assert r["Retry-After"]


@override_settings(AXES_FAILURE_LIMIT=3)
def test_the_account_is_locked_from_every_address_and_unlocks_after_the_window(people):
    for n in range(3):
        _login(Client(REMOTE_ADDR=f"198.51.100.{n}"), "cdcs_lb1", "sai")
    # The right password from yet another address: still refused (lockout by account).
    assert _login(Client(REMOTE_ADDR="198.51.100.99"), "CDCS_LB1 ", PASSWORD).status_code == 429
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert _login(Client(REMOTE_ADDR="198.51.100.99"), "cdcs_lb1", PASSWORD).status_code == 302


@override_settings(AXES_FAILURE_LIMIT=3)
def test_password_spraying_from_one_client_is_locked(people):
    c = Client(REMOTE_ADDR="198.51.100.7")
    for n in range(3):
        _login(c, f"nobody{n}", "Mat-khau-2026")
    # A valid account and its right password, from that client: refused (lockout by client).
    assert _login(c, "quy_lap", PASSWORD).status_code == 429
    # The same account from another client still signs in.
    assert _login(Client(REMOTE_ADDR="198.51.100.8"), "quy_lap", PASSWORD).status_code == 302


@override_settings(AXES_FAILURE_LIMIT=3)
def test_the_admin_login_counts_and_locks_too(people):
    c = Client(REMOTE_ADDR="198.51.100.7")
    url = reverse("admin:login")
    for _ in range(3):
        c.post(url, {"username": "quy_lap", "password": "sai", "next": "/admin/"})
    r = c.post(url, {"username": "quy_lap", "password": PASSWORD, "next": "/admin/"})
    assert r.status_code == 429
    # The lock is the account's, whichever door is tried next.
    assert _login(Client(REMOTE_ADDR="198.51.100.8"), "quy_lap", PASSWORD).status_code == 429


@override_settings(AXES_FAILURE_LIMIT=3)
def test_the_token_endpoint_locks_in_json(people):
    for n in range(2):
        assert _token("quy_lap", "sai", REMOTE_ADDR=f"198.51.100.{n}").status_code == 400
    assert _token("quy_lap", "sai", REMOTE_ADDR="198.51.100.2").status_code == 429
    r = _token("quy_lap", PASSWORD, REMOTE_ADDR="198.51.100.50")
    assert r.status_code == 429
    assert r.json()["code"] == "locked_out" and r.json()["message"]


@override_settings(AXES_FAILURE_LIMIT=3)
def test_a_wrong_old_password_counts_and_the_lockout_signs_out(people):
    c = Client(REMOTE_ADDR="198.51.100.7")
    assert _login(c, "quy_lap", PASSWORD).status_code == 302
    data = {
        "old_password": "sai",
        "new_password1": "X-moi-2026-dai",
        "new_password2": "X-moi-2026-dai",
    }
    for _ in range(2):
        assert c.post(reverse("password_change"), data).status_code == 200
    r = c.post(reverse("password_change"), data)
    assert r.status_code == 429
    assert "_auth_user_id" not in c.session
    people.fund.refresh_from_db()
    assert people.fund.check_password(PASSWORD)


@override_settings(AXES_FAILURE_LIMIT=2)
def test_fund_officers_see_their_users_failures_and_lockouts(people, caplog):
    caplog.set_level("INFO", logger="trovon.signin")
    for _ in range(2):
        _login(Client(REMOTE_ADDR="198.51.100.7"), "cdcs_lb1", "sai")
    events = signin_failures_recent(people.fund.officer.fund_id)
    assert [e.username for e in events] == ["cdcs_lb1"] * 2
    assert any(e.locked_out for e in events)
    assert "signin_locked_out" in caplog.text and "198.51.100.7" in caplog.text
    assert "sai" not in [r.getMessage() for r in caplog.records]
    c = Client()
    c.force_login(people.fund)
    page = c.get(reverse("fundweb:signin_failures"))
    assert page.status_code == 200
    assert "cdcs_lb1" in page.content.decode() and "198.51.100.7" in page.content.decode()
    # Not for other roles.
    c.force_login(people.grassroots)
    assert c.get(reverse("fundweb:signin_failures")).status_code == 403
