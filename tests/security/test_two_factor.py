"""Two-factor sign-in (issue #18): required of fund officers and auditors when the fund says
so, optional for union officers, recovery codes usable once, and the API token needs it too."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

PASSWORD = "mat-khau-dung-2026"


@pytest.fixture
def required(org, officers):
    org.fund.two_factor_required = True
    org.fund.save()
    for user in (officers.fund, officers.auditor, officers.grassroots):
        user.set_password(PASSWORD)
        user.save()
    return officers


def _code(user) -> str:
    device = TOTPDevice.objects.get(user=user)
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def _sign_in(user) -> Client:
    c = Client()
    r = c.post(reverse("login"), {"username": user.get_username(), "password": PASSWORD})
    assert r.status_code == 302
    return c


def test_a_fund_officer_must_set_up_then_pass_the_second_factor(required):
    user = required.fund
    c = _sign_in(user)
    r = c.get(reverse("fundweb:plans"))
    assert r.status_code == 302 and r["Location"].startswith(reverse("two_factor_setup"))
    page = c.get(r["Location"])
    assert page.status_code == 200 and "totp-key" in page.content.decode()
    assert c.get("/api/v1/me/").json()["code"] == "otp_required"
    assert c.post(reverse("two_factor_setup"), {"code": "000000"}).status_code == 200
    # (django-otp slows down guessing: a wrong code holds the next try back a second or more.)
    TOTPDevice.objects.filter(user=user).update(throttling_failure_timestamp=None)
    done = c.post(reverse("two_factor_setup"), {"code": _code(user)})
    codes = re.findall(r"<code>([0-9a-f]{10})</code>", done.content.decode())
    assert len(codes) == 10
    assert c.get(reverse("fundweb:plans")).status_code == 200
    # Next sign-in: the code page; a recovery code works once.
    c = _sign_in(user)
    r = c.get(reverse("fundweb:plans"))
    assert r["Location"].startswith(reverse("two_factor_verify"))
    assert c.post(reverse("two_factor_verify"), {"code": codes[0]}).status_code == 302
    assert c.get(reverse("fundweb:plans")).status_code == 200
    c = _sign_in(user)
    again = c.post(reverse("two_factor_verify"), {"code": codes[0]})
    assert again.status_code == 200 and "otp-error" in again.content.decode()


def test_an_auditor_too_but_a_union_officer_may_skip_it(required):
    c = _sign_in(required.auditor)
    assert c.get(reverse("audit:index"))["Location"].startswith(reverse("two_factor_setup"))
    c = _sign_in(required.grassroots)
    assert c.get(reverse("loans:collections")).status_code == 200


def test_the_fund_setting_turns_it_off(required, org):
    org.fund.two_factor_required = False
    org.fund.save()
    c = _sign_in(required.fund)
    assert c.get(reverse("fundweb:plans")).status_code == 200


def test_the_api_token_needs_the_second_factor(required):
    user = required.fund
    TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    url = "/api/v1/auth/token/"
    body = {"username": user.get_username(), "password": PASSWORD}
    r = APIClient().post(url, body, format="json")
    assert r.status_code == 400 and r.json()["field"] == "otp"
    r = APIClient().post(url, {**body, "otp": _code(user)}, format="json")
    assert r.status_code == 200 and r.json()["token"]
