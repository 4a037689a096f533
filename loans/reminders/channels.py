"""Channels behind one interface: ``message_send(channel=, to=, subject=, body=, key=)``.

* e-mail goes through Django's mail backends (``EMAIL_BACKEND``: console by default, the file
  backend in tests, SMTP in production);
* SMS goes through the backend named by ``SMS_BACKEND``:
  ``loans.reminders.channels.ConsoleSmsBackend`` (default: printed to the log),
  ``loans.reminders.channels.FileSmsBackend``
  (one JSON file per message in ``SMS_FILE_PATH``) or ``loans.reminders.channels.HttpSmsBackend``
  (posts ``{"id", "to", "text"}`` as JSON to ``SMS_HTTP_URL`` with ``SMS_HTTP_TIMEOUT`` seconds and
  an optional ``Authorization: Bearer SMS_HTTP_TOKEN``; any answer other than 2xx is a failure).

``key`` identifies the message (a reminder delivery): the file backend names its file after it
and the HTTP adapter sends it as ``id`` so that a gateway that deduplicates on it never delivers
one message twice. A backend with ``idempotent = True`` may therefore be retried after a worker
died while sending (see ``loans.reminders.planning``).

Every failure raises ``DeliveryError`` (or the backend's own exception), never returns silently.
"""

from __future__ import annotations

import json
import logging
import re
import urllib.error
import urllib.request
from email.utils import make_msgid
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class DeliveryError(Exception):
    """A channel refused or could not take a message."""


class SmsBackend:
    idempotent = False

    def send(self, *, to: str, text: str, key: str) -> str:
        """Send one SMS; return the provider's message id (or the key)."""
        raise NotImplementedError


class ConsoleSmsBackend(SmsBackend):
    def send(self, *, to: str, text: str, key: str) -> str:
        logger.warning("SMS %s → %s: %s", key, to, text)
        return key


class FileSmsBackend(SmsBackend):
    """One file per message, named after its key: writing it again replaces it (idempotent)."""

    idempotent = True

    def __init__(self, path: str | None = None):
        self.path = Path(path or getattr(settings, "SMS_FILE_PATH", "") or "var/sms")

    def send(self, *, to: str, text: str, key: str) -> str:
        self.path.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", key)
        target = self.path / f"{name}.json"
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps({"id": key, "to": to, "text": text}, ensure_ascii=False))
        tmp.replace(target)
        return key


class HttpSmsBackend(SmsBackend):
    """An SMS gateway that takes JSON over HTTP(S). The gateway deduplicates on ``id``."""

    idempotent = True

    def __init__(self, url: str | None = None, *, timeout: float | None = None, token: str = ""):
        self.url = url or getattr(settings, "SMS_HTTP_URL", "")
        self.timeout = timeout or getattr(settings, "SMS_HTTP_TIMEOUT", 10.0)
        self.token = token or getattr(settings, "SMS_HTTP_TOKEN", "")
        if not self.url:
            raise DeliveryError("Chưa cấu hình địa chỉ cổng SMS (SMS_HTTP_URL).")

    def send(self, *, to: str, text: str, key: str) -> str:
        data = json.dumps({"id": key, "to": to, "text": text}, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                payload = response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            raise DeliveryError(f"Cổng SMS trả lỗi HTTP {e.code}.") from e
        except (urllib.error.URLError, TimeoutError, OSError) as e:
            raise DeliveryError(f"Không kết nối được cổng SMS: {e}") from e
        try:
            return str(json.loads(payload).get("message_id") or key)
        except (ValueError, AttributeError):
            return key


@cache
def _sms_backend_class(path: str):
    return import_string(path)


def sms_backend() -> SmsBackend:
    path = getattr(settings, "SMS_BACKEND", "loans.reminders.channels.ConsoleSmsBackend")
    return _sms_backend_class(path)()


def channel_is_idempotent(channel: str) -> bool:
    """Whether sending a message twice under one key delivers it once (safe to retry blind)."""
    if channel == "sms":
        path = getattr(settings, "SMS_BACKEND", "loans.reminders.channels.ConsoleSmsBackend")
        return bool(getattr(_sms_backend_class(path), "idempotent", False))
    return False


def message_send(*, channel: str, to: str, subject: str, body: str, key: str) -> str:
    """Send one message on `channel` ("email" or "sms"); return the provider's id."""
    if not to:
        raise DeliveryError("Không có địa chỉ người nhận.")
    if channel == "email":
        domain = getattr(settings, "EMAIL_MESSAGE_ID_DOMAIN", None) or "trovon.local"
        message_id = make_msgid(idstring=re.sub(r"[^A-Za-z0-9.-]", ".", key), domain=domain)
        email = EmailMessage(
            subject=subject,
            body=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[to],
            headers={"Message-ID": message_id, "X-Trovon-Key": key},
        )
        if email.send(fail_silently=False) != 1:
            raise DeliveryError("Máy chủ thư không nhận thư.")
        return message_id
    if channel == "sms":
        return sms_backend().send(to=to, text=body, key=key)
    raise DeliveryError(f"Kênh không được hỗ trợ: {channel}")
