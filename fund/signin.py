"""Sign-in security of the fund's users: the client's address, the lockout's user name and
message, the sign-in log, and the recent failures a fund officer sees.

The client's address, as the trusted proxy in front of the app saw it.

Behind a reverse proxy every request comes from the proxy's address, and the client's own is in
``X-Forwarded-For``, a header anyone can also write. Only the addresses the proxy appended are
believed: ``TRUSTED_PROXIES`` (settings, from the environment) lists the proxies' networks.

- ``REMOTE_ADDR`` not a trusted proxy → it is the client (a forged ``X-Forwarded-For`` from a
  client talking to the app directly counts for nothing);
- otherwise ``X-Forwarded-For`` is read from the right (the proxy's own entry last), trusted
  proxies skipped; the first address that is not a trusted proxy is the client. Whatever the
  client wrote to the left of it is never read, so rotating the header changes nothing.

Every part of trovon that keys on the client (the sign-in lockout of django-axes, DRF's
throttles, the sign-in log) asks :func:`client_ip`; no other code reads the header.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.utils.translation import gettext as _

from fund.people import person_name


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]):
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in proxies if p.strip())


def _address(text: str):
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[::1]:443"
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "203.0.113.5:51234"
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(address, networks) -> bool:
    return address is not None and any(address in net for net in networks)


def client_ip(request) -> str | None:
    """The client's address (a string; None when the request has none, as with a test's
    ``force_login``), never taken from a header the client controls."""
    meta = getattr(request, "META", {})
    remote = meta.get("REMOTE_ADDR", "") or ""
    networks = _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ()) or ()))
    remote_address = _address(remote)
    if not networks or not _trusted(remote_address, networks):
        return str(remote_address) if remote_address is not None else None
    hops = [h for h in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break  # garbage where a proxy writes: trust nothing further left
        if not _trusted(address, networks):
            return str(address)
    return str(remote_address)


def axes_username(request, credentials) -> str:
    """The user name a failure counts against (AXES_USERNAME_CALLABLE): as typed, without
    surrounding spaces or case (``Quy_Lap`` and ``quy_lap `` are the same account's)."""
    name = (credentials or {}).get("username")
    if name is None and request is not None:
        data = getattr(request, "POST", None) or getattr(request, "data", None) or {}
        name = data.get("username", "") if hasattr(data, "get") else ""
    return str(name or "").strip().lower()


def locked_message() -> str:
    return _(
        "Đăng nhập sai quá %(n)s lần. Tài khoản hoặc địa chỉ này tạm bị khóa đăng nhập "
        "trong %(m)s phút; hãy thử lại sau hoặc liên hệ cán bộ quỹ."
    ) % {"n": settings.AXES_FAILURE_LIMIT, "m": lockout_minutes()}


def lockout_minutes() -> int:
    """How long a lockout lasts, in whole minutes (AXES_COOLOFF_TIME is in hours)."""
    return max(1, round(float(settings.AXES_COOLOFF_TIME) * 60))


# --------------------------------------------------------------------------------------------
# The sign-in log: every success, failure and lockout as a `logging` line (logger
# "trovon.signin"), with the user name, the client address and the path, never the password.

log = logging.getLogger("trovon.signin")


def _log(level: int, event: str, username: str, request, address: str | None = None) -> None:
    fields = {
        "event": event,
        "username": username,
        "client_ip": address or (client_ip(request) if request is not None else None) or "",
        "path": getattr(request, "path", "") if request is not None else "",
    }
    log.log(
        level,
        "%(event)s username=%(username)r client_ip=%(client_ip)s path=%(path)s",
        fields,
        extra=fields,
    )


def on_login_failed(sender, credentials=None, request=None, **kwargs):
    _log(logging.WARNING, "signin_failed", axes_username(request, credentials), request)


def on_locked_out(sender, request=None, username=None, ip_address=None, **kwargs):
    _log(logging.WARNING, "signin_locked_out", username or "", request, ip_address)


def on_logged_in(sender, request=None, user=None, **kwargs):
    _log(logging.INFO, "signin", user.get_username() if user is not None else "", request)


def tokens_revoke_on_change(sender, instance, raw=False, **kwargs):
    """A user's API tokens (django-rest-knox) are revoked when the password changes or the
    account is deactivated, and a deactivation also ends the user's sessions at once
    (``pre_save`` of the user model, so the admin's switch does it too)."""
    if raw or instance.pk is None:
        return
    old = sender._default_manager.filter(pk=instance.pk).values("password", "is_active").first()
    if old is None:
        return
    deactivated = old["is_active"] and not instance.is_active
    if old["password"] != instance.password or deactivated:
        from knox.models import AuthToken

        AuthToken.objects.filter(user_id=instance.pk).delete()
    if deactivated:
        sessions_end(instance.pk)


def sessions_end(user_id: int) -> int:
    """End every live session of the user (sessions are stored in the database); the number
    ended. A session only names its user inside its encoded data, so the live ones are read."""
    from django.contrib.auth import SESSION_KEY
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    ended = [
        s.pk
        for s in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if str(s.get_decoded().get(SESSION_KEY)) == str(user_id)
    ]
    if ended:
        Session.objects.filter(pk__in=ended).delete()
    return len(ended)


def signin_log_connect() -> None:
    """Connect the log's receivers and the token revocation (``fund.apps.FundConfig.ready``)."""
    from axes.signals import user_locked_out
    from django.contrib.auth import get_user_model
    from django.contrib.auth.signals import user_logged_in, user_login_failed
    from django.db.models.signals import pre_save

    pre_save.connect(
        tokens_revoke_on_change, sender=get_user_model(), dispatch_uid="trovon.signin.tokens"
    )

    user_login_failed.connect(on_login_failed, dispatch_uid="trovon.signin.failed")
    user_logged_in.connect(on_logged_in, dispatch_uid="trovon.signin.in")
    user_locked_out.connect(on_locked_out, dispatch_uid="trovon.signin.locked")


# --------------------------------------------------------------------------------------------
# What a fund officer sees: recent failed sign-ins and lockouts of the fund's users.


@dataclass(frozen=True)
class SigninEvent:
    at: object
    username: str
    full_name: str
    client_ip: str
    path: str
    locked_out: bool


def signin_failures_recent(fund_id: int, *, limit: int = 200) -> list[SigninEvent]:
    """The fund's users' latest failed sign-ins (and which of them locked the account or the
    address), newest first. User names are matched as axes counts them (lower case)."""
    from axes.models import AccessFailureLog
    from django.contrib.auth import get_user_model

    users = {
        u.username.strip().lower(): u
        for u in get_user_model().objects.filter(officer__fund_id=fund_id)
    }
    if not users:
        return []
    rows = AccessFailureLog.objects.filter(username__in=list(users)).order_by("-attempt_time")[
        :limit
    ]
    return [
        SigninEvent(
            at=r.attempt_time,
            username=users[r.username].username,
            full_name=person_name(users[r.username]),
            client_ip=r.ip_address or "",
            path=r.path_info or "",
            locked_out=r.locked_out,
        )
        for r in rows
    ]
