"""API tokens that expire and are revoked, sessions with an idle and an absolute limit, and
no-store caching on pages and API answers (issue #18)."""

from datetime import timedelta

import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

PASSWORD = "mat-khau-dung-2026"


def _token(user) -> str:
    if not user.check_password(PASSWORD):
        user.set_password(PASSWORD)  # (a password change revokes the user's tokens)
        user.save()
    r = APIClient().post(
        "/api/v1/auth/token/",
        {"username": user.get_username(), "password": PASSWORD},
        format="json",
    )
    assert r.status_code == 200, r.content
    assert r.json()["expiry"]
    return r.json()["token"]


def _me(token) -> int:
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return c.get("/api/v1/me/").status_code


def test_a_token_expires(officers):
    token = _token(officers.fund)
    assert _me(token) == 200
    with time_machine.travel(timezone.now() + timedelta(hours=10, minutes=1)):
        assert _me(token) == 401


def test_sign_out_revokes_this_token_or_all(officers):
    first, second, third = (_token(officers.fund) for _ in range(3))
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION=f"Token {first}")
    assert c.post("/api/v1/auth/logout/").status_code == 204
    assert _me(first) == 401 and _me(second) == 200
    c.credentials(HTTP_AUTHORIZATION=f"Token {second}")
    assert c.post("/api/v1/auth/logout-all/").status_code == 204
    assert _me(second) == 401 and _me(third) == 401


def test_a_password_change_revokes_every_token(officers):
    token = _token(officers.fund)
    c = Client()
    c.force_login(officers.fund)
    new = "Mat-khau-moi-2026"
    r = c.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert r.status_code == 302
    assert _me(token) == 401


def test_a_deactivation_revokes_every_token(officers):
    token = _token(officers.grassroots)
    officers.grassroots.is_active = False
    officers.grassroots.save()
    assert _me(token) == 401


def test_a_session_ends_after_its_idle_timeout(officers):
    c = Client()
    c.force_login(officers.fund)
    assert c.get(reverse("fundweb:plans")).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(minutes=20)):
        assert c.get(reverse("fundweb:plans")).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(minutes=20 + 31)):
        r = c.get(reverse("fundweb:plans"))
        assert r.status_code == 302 and r["Location"].startswith(reverse("login"))
        assert "_auth_user_id" not in c.session


def test_a_session_ends_after_its_absolute_limit_even_when_used(officers):
    c = Client()
    c.force_login(officers.fund)
    start = timezone.now()
    c.get(reverse("fundweb:plans"))
    for minutes in range(25, 10 * 60, 25):  # a request every 25 minutes, never idle
        with time_machine.travel(start + timedelta(minutes=minutes)):
            assert c.get(reverse("fundweb:plans")).status_code == 200
    with time_machine.travel(start + timedelta(hours=10, minutes=5)):
        assert c.get(reverse("fundweb:plans")).status_code == 302


def test_no_store_on_pages_and_api_answers(officers):
    c = Client()
    c.force_login(officers.fund)
    a = APIClient()
    a.force_authenticate(officers.fund)
    for r in (
        c.get(reverse("fundweb:plans")),
        c.get(reverse("loans:borrower_list")),
        a.get("/api/v1/borrowers/"),
        a.get("/api/v1/me/"),
        Client().get(reverse("login")),
    ):
        assert r.status_code == 200
        assert "no-store" in r["Cache-Control"]
