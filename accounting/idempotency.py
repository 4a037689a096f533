"""Idempotent business commands.

Every command that moves money or changes a loan's state takes a key. The first call under a key
runs the command and records its result; a retry with the same request returns that result
without running anything; the same key with a different request is refused. Concurrent calls
with one key serialise on the unique index: the loser waits, then sees the winner's record.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import TypeVar

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from .errors import ApplicationError, IdempotencyConflict
from .models import CommandRecord

T = TypeVar("T")


def fingerprint(payload) -> str:
    return hashlib.sha256(
        json.dumps(payload, sort_keys=True, default=str, separators=(",", ":")).encode()
    ).hexdigest()


def command_once(
    *,
    scope: str,
    key: str,
    payload,
    run: Callable[[], T],
    load: Callable[[str], T],
) -> T:
    """Run `run()` once per (scope, key); later calls return `load(result_id)`.

    `run` returns a model instance (its pk is recorded) or a string id. The record and the
    command's writes commit together or not at all.
    """
    if not key or not str(key).strip():
        raise ApplicationError(
            _("Thiếu khóa chống trùng (idempotency key)."), field="idempotency_key"
        )
    digest = fingerprint(payload)
    existing = CommandRecord.objects.filter(scope=scope, key=key).first()
    if existing is None:
        try:
            with transaction.atomic():
                record = CommandRecord.objects.create(scope=scope, key=key, request_hash=digest)
                result = run()
                record.result_id = str(getattr(result, "pk", result))
                record.save(update_fields=["result_id"])
                return result
        except IntegrityError:
            existing = CommandRecord.objects.filter(scope=scope, key=key).first()
            if existing is None:
                raise
    if existing.request_hash != digest:
        raise IdempotencyConflict(
            _("Khóa chống trùng '%(key)s' đã được dùng cho một yêu cầu khác."),
            field="idempotency_key",
            params={"key": key},
        )
    return load(existing.result_id)
