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

from accounting.errors import ApplicationError, IdempotencyConflict
from accounting.models import CommandRecord

T = TypeVar("T")


def idempotency_key_for(*, user, key: str, channel: str) -> str:
    """A caller's idempotency key namespaced by `channel` and user, the one rule for the API's
    ``Idempotency-Key`` header (channel ``api``) and the pages' hidden key (channel ``web``):
    one user's key can never take a key another user's request will use."""
    return f"{channel}:{getattr(user, 'pk', None) or 0}:{key}"


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
    result_id=None,
) -> T:
    """Run `run()` once per (scope, key); later calls return `load(result_id)`.

    `run` returns a model instance (its pk is recorded) or a string id. The record and the
    command's writes commit together or not at all; the caller needs no transaction of its own.
    `result_id`: the result's id when it is known before running (a command that moves an
    existing row and returns it), recorded with the key at once instead of afterwards; `run`
    must then return that result (ApplicationError otherwise, and nothing is written).
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
                known = "" if result_id is None else str(result_id)
                record = CommandRecord.objects.create(
                    scope=scope, key=key, request_hash=digest, result_id=known
                )
                result = run()
                got = str(getattr(result, "pk", result))
                if result_id is None:
                    record.result_id = got
                    record.save(update_fields=["result_id"])
                elif got != known:
                    raise ApplicationError(
                        f"Lệnh {scope} trả về #{got}, không phải #{known} như đã ghi nhận."
                    )
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
