"""Deactivating an officer from the officers' page ends at once both their open sessions and
their API tokens (issue #19): neither waits for an idle timeout or an expiry."""

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from knox.models import AuthToken
from rest_framework.test import APIClient

from fund.signin import sessions_end

pytestmark = pytest.mark.django_db
PASSWORD = "mat-khau-dung-2026"


def _signed_in(user) -> Client:
    """A client that signed in through the log-in form (a real session in the database)."""
    user.set_password(PASSWORD)
    user.save()
    c = Client()
    r = c.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert r.status_code == 302
    return c


def _me(token: str) -> int:
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return c.get("/api/v1/me/").status_code


def _sessions_of(user) -> int:
    return sum(1 for s in Session.objects.all() if s.get_decoded().get(SESSION_KEY) == str(user.pk))


def test_deactivation_ends_a_live_session_and_a_token(officers):
    target = officers.grassroots
    theirs = _signed_in(target)
    other = _signed_in(officers.grassroots_lb2)  # someone else's session stays
    _, token = AuthToken.objects.create(target)
    page = reverse("loans:collections")
    assert theirs.get(page).status_code == 200 and _me(token) == 200
    assert _sessions_of(target) == 1

    fund = Client()
    fund.force_login(officers.fund)
    r = fund.post(reverse("fundweb:officer_deactivate", args=[target.officer.pk]))
    assert r.status_code == 302

    assert _sessions_of(target) == 0
    r = theirs.get(page)
    assert r.status_code == 302 and r["Location"].startswith(reverse("login"))
    assert _me(token) == 401 and not AuthToken.objects.filter(user=target).exists()
    assert other.get(page).status_code == 200
    # Signing in again is refused while deactivated.
    r = Client().post(reverse("login"), {"username": target.username, "password": PASSWORD})
    assert r.status_code == 200


def test_sessions_end_counts_only_the_users_live_sessions(officers):
    _signed_in(officers.grassroots)
    _signed_in(officers.grassroots)
    _signed_in(officers.superior)
    assert sessions_end(officers.grassroots.pk) == 2
    assert _sessions_of(officers.grassroots) == 0 and _sessions_of(officers.superior) == 1
