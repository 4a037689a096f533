"""Two-factor sign-in (TOTP from an authenticator app, django-otp) with recovery codes.

Required of a fund's officers and auditors when the fund's ``two_factor_required`` is on
(the default); optional for union officers, who may set it up for themselves; once a user has a
confirmed device it is asked at every sign-in. Recovery codes (django-otp's static tokens, ten,
each usable once) are shown once, at set-up.
"""

from __future__ import annotations

import secrets

from django_otp import devices_for_user, match_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from fund.models import Role

REQUIRED_ROLES = (Role.FUND_OFFICER, Role.AUDITOR)
RECOVERY_CODES = 10


def two_factor_required_by_role(user) -> bool:
    """Whether the user's role and fund require a second factor (no query: the officer and
    the fund are read with the user)."""
    officer = getattr(user, "officer", None)
    return (
        officer is not None and officer.role in REQUIRED_ROLES and officer.fund.two_factor_required
    )


def two_factor_required(user) -> bool:
    """Whether the user must pass a second factor: a role of ``REQUIRED_ROLES`` in a fund that
    requires it, or a confirmed device the user set up."""
    if not getattr(user, "is_authenticated", False):
        return False
    return two_factor_required_by_role(user) or two_factor_enabled(user)


def two_factor_enabled(user) -> bool:
    return any(True for _ in devices_for_user(user, confirmed=True))


def totp_device_new(user) -> TOTPDevice:
    """An unconfirmed authenticator for the user (any earlier unconfirmed one replaced)."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)


def totp_device_confirm(device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm the authenticator with a first code; the new recovery codes, or None when the
    code is wrong."""
    if not device.verify_token((code or "").strip()):
        return None
    TOTPDevice.objects.filter(user=device.user, confirmed=True).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return recovery_codes_new(device.user)


def recovery_codes_new(user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    static = StaticDevice.objects.create(user=user, name="recovery", confirmed=True)
    codes = [secrets.token_hex(5) for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=static, token=c) for c in codes])
    return codes


def second_factor_match(user, code: str):
    """The device that accepts the code (an authenticator's or a recovery code, which is then
    used up), or None."""
    code = (code or "").strip().replace(" ", "")
    return match_token(user, code) if code else None
