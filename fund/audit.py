"""The audit log of fund data: every service that changes a fund row records it here.

The log is sealed into a hash chain like the ledger (``audit_seal``, beat every minute: each
row's hash chained to the previous link, the head signed with the ledger's signing key as chain
``audit``), and ``audit_verify`` finds a row deleted or altered after it was sealed, a truncated
tail and links forged without the key.

``audit_record`` is called inside the service's transaction, so a change and its log entry
commit together or not at all. ``audit_changes`` computes the ``{"field": [old, new]}`` diff that
goes into the entry; ``audit_value`` is the one plain form of a value it stores, so the log reads
the same whatever the type.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Model, QuerySet
from django.utils import timezone
from djmoney.money import Money

from accounting.selectors import chain_heads_verify
from accounting.services import GENESIS_HASH, chain_head_sign, chain_seal_start, link_hash
from fund.models import AuditLink, AuditLog, Fund, GrassrootsUnion, Role, SuperiorUnion
from fund.scoping import actor_user


def audit_value(value):
    """A value as the audit log stores it: amounts as plain decimal strings (whole đồng without a
    fraction; 6.6000 and 6.6 are the same rate), dates ISO, rows by id; plain values as they
    are."""
    if isinstance(value, Money):
        value = value.amount
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Model):
        return value.pk
    return str(value)


def audit_snapshot(obj: Model, fields: Iterable[str]) -> dict:
    """The values of `fields` (attnames for foreign keys) as they are now."""
    return {f: audit_value(getattr(obj, f)) for f in fields}


def audit_changes(before: dict, obj: Model) -> dict:
    """``{"field": [old, new]}`` for the fields of `before` that differ on `obj` now."""
    after = audit_snapshot(obj, before)
    return {f: [old, after[f]] for f, old in before.items() if after[f] != old}


def _dimensions(obj: Model) -> tuple[int | None, int | None, int | None]:
    """(fund_id, superior_union_id, grassroots_union_id) of the object, for scoping the log."""
    if isinstance(obj, Fund):
        return obj.pk, None, None
    if isinstance(obj, SuperiorUnion):
        return obj.fund_id, obj.pk, None
    if isinstance(obj, GrassrootsUnion):
        return obj.fund_id, obj.superior_union_id, obj.pk
    gu_id = getattr(obj, "grassroots_union_id", None)
    su_id = getattr(obj, "superior_union_id", None)
    fund_id = getattr(obj, "fund_id", None)
    if gu_id is not None and (fund_id is None or su_id is None):
        gu = GrassrootsUnion.objects.filter(pk=gu_id).values("fund_id", "superior_union_id").first()
        if gu:
            fund_id = fund_id or gu["fund_id"]
            su_id = su_id or gu["superior_union_id"]
    if fund_id is None and su_id is not None:
        fund_id = SuperiorUnion.objects.filter(pk=su_id).values_list("fund_id", flat=True).first()
    if fund_id is None and hasattr(obj, "plan_id"):
        fund_id = obj.plan.fund_id
    return fund_id, su_id, gu_id


def _entry(*, actor, action: str, obj: Model, changes: dict | None, at=None) -> AuditLog:
    fund_id, su_id, gu_id = _dimensions(obj)
    return AuditLog(
        at=at or timezone.now(),
        actor=actor_user(actor),
        actor_name=actor.get_username() if actor is not None and actor.pk else "",
        action=action,
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=True),
        object_id=str(obj.pk),
        object_repr=str(obj)[:255],
        changes={k: v for k, v in (changes or {}).items()},
        fund_id=fund_id,
        superior_union_id=su_id,
        grassroots_union_id=gu_id,
    )


def audit_record(*, actor, action: str, obj: Model, changes: dict | None = None) -> AuditLog:
    """Record that `actor` (None: the system) did `action` to `obj`, changing `changes`."""
    entry = _entry(actor=actor, action=action, obj=obj, changes=changes)
    entry.save()
    return entry


def audit_record_many(*, actor, records: Iterable[tuple[str, Model, dict | None]]) -> int:
    """Record many changes at once (imports); one timestamp for the batch."""
    now = timezone.now()
    rows = [
        _entry(actor=actor, action=action, obj=obj, changes=changes, at=now)
        for action, obj, changes in records
    ]
    AuditLog.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def audit_scope_filter(qs: QuerySet, scope) -> QuerySet:
    """The log entries a scope may read (see ``audit_log_list``)."""
    if scope.role in (Role.FUND_OFFICER, Role.AUDITOR):
        return qs.filter(fund_id=scope.fund_id)
    if scope.role == Role.SUPERIOR_OFFICER:
        return qs.filter(fund_id=scope.fund_id, superior_union_id=scope.superior_union_id)
    if scope.role == Role.GRASSROOTS_OFFICER:
        return qs.filter(grassroots_union_id=scope.grassroots_union_id)
    return qs.none()


def audit_log_list(
    *,
    scope,
    model: type[Model] | str | None = None,
    actor=None,
    start: date | None = None,
    end: date | None = None,
    object_id=None,
    action: str | None = None,
) -> QuerySet:
    """The log entries the scope may read, newest first, filtered.

    Fund officers and auditors read their fund's log; a superior-union officer the entries about
    their union and its grassroots unions; a grassroots-union officer those about their own.
    `model` is a model class or "app_label.model"; `start`/`end` are inclusive local dates.
    """
    qs = audit_scope_filter(AuditLog.objects.select_related("actor", "content_type"), scope)
    if model is not None:
        if isinstance(model, str):
            app_label, _, name = model.lower().partition(".")
            ct = ContentType.objects.get_by_natural_key(app_label, name)
        else:
            ct = ContentType.objects.get_for_model(model, for_concrete_model=True)
        qs = qs.filter(content_type=ct)
    if actor is not None:
        qs = qs.filter(actor=actor)
    tz = timezone.get_current_timezone()
    if start is not None:
        qs = qs.filter(at__gte=datetime.combine(start, time.min, tzinfo=tz))
    if end is not None:
        qs = qs.filter(at__lte=datetime.combine(end, time.max, tzinfo=tz))
    if object_id is not None:
        qs = qs.filter(object_id=str(object_id))
    if action is not None:
        qs = qs.filter(action=action)
    return qs


# The chain -------------------------------------------------------------------------------------

AUDIT_CHAIN = "audit"
AUDIT_SEAL_LOCK_ID = 0x7472_6F78  # one audit sealer at a time; writers never take it


def audit_row_hash(row: AuditLog) -> str:
    """SHA-256 of everything a log row says, as read back from the database."""
    payload = [
        row.pk,
        row.at.isoformat(),
        row.actor_id,
        row.actor_name,
        row.action,
        row.content_type_id,
        row.object_id,
        row.object_repr,
        row.changes,
        row.fund_id,
        row.superior_union_id,
        row.grassroots_union_id,
    ]
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def audit_seal(*, batch_size: int = 5000) -> int:
    """Seal the log rows written since the last seal, in id order, and sign the new head.

    Refuses (`ChainTampered`) to build on a chain whose last link is not the last signed head.
    Returns the number of rows sealed.
    """
    sealed = 0
    while True:
        with transaction.atomic():
            start = chain_seal_start(
                chain=AUDIT_CHAIN, lock_id=AUDIT_SEAL_LOCK_ID, link_model=AuditLink
            )
            if start is None:
                return sealed
            seq, prev = start
            rows = list(
                AuditLog.objects.filter(chain_link__isnull=True)
                .order_by("id")
                .select_related(None)[:batch_size]
            )
            if not rows:
                return sealed
            links = []
            for row in rows:
                seq += 1
                rh = audit_row_hash(row)
                lh = link_hash(prev, rh)
                links.append(AuditLink(seq=seq, log=row, row_hash=rh, prev_hash=prev, link_hash=lh))
                prev = lh
            AuditLink.objects.bulk_create(links)
            chain_head_sign(chain=AUDIT_CHAIN, seq=seq, head_hash=prev)
            sealed += len(links)


@dataclass
class AuditChainReport:
    ok: bool
    links_checked: int
    unsealed_rows: int
    head_seq: int
    head_hash: str
    first_broken_seq: int | None = None
    problem: str = ""


def audit_verify(*, chunk: int = 5000) -> AuditChainReport:
    """Walk the audit log's chain; recompute every row's hash; check the signed heads."""
    prev, expected, checked = GENESIS_HASH, 1, 0
    while True:
        links = list(AuditLink.objects.filter(seq__gte=expected).order_by("seq")[:chunk])
        if not links:
            break
        rows = {r.pk: r for r in AuditLog.objects.filter(pk__in=[lk.log_id for lk in links])}
        for lk in links:
            problem = ""
            if lk.seq != expected:
                problem = f"thiếu mắt xích số {expected}"
            elif lk.prev_hash != prev or lk.link_hash != link_hash(prev, lk.row_hash):
                problem = "mắt xích không nối với mắt xích trước"
            elif lk.log_id not in rows:
                problem = f"dòng nhật ký #{lk.log_id} đã bị xóa"
            elif audit_row_hash(rows[lk.log_id]) != lk.row_hash:
                problem = f"dòng nhật ký #{lk.log_id} đã bị sửa sau khi niêm phong"
            if problem:
                return AuditChainReport(
                    False, checked, _audit_unsealed(), expected - 1, prev, lk.seq, problem
                )
            prev = lk.link_hash
            expected += 1
            checked += 1
    problem = chain_heads_verify(chain=AUDIT_CHAIN, head_seq=expected - 1, head_hash=prev)
    return AuditChainReport(
        not problem, checked, _audit_unsealed(), expected - 1, prev, None, problem
    )


def _audit_unsealed() -> int:
    return AuditLog.objects.filter(chain_link__isnull=True).count()
