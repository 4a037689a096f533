"""Ledger services: the only code that writes to the ledger.

Every service validates the whole request before it writes anything and writes inside one
transaction, so a refused request leaves nothing behind. PostgreSQL re-checks the same rules
with triggers (see ``models`` docstring); these checks are the friendly ones, with a message that
names the problem.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from djmoney.money import Money

from accounting.chart import load_chart, read_chart_rows
from accounting.dates import BACKDATE_REASON_MAX, business_today, value_date_check
from accounting.errors import (
    AccountNotPostable,
    ChainTampered,
    IdempotencyConflict,
    InvalidAmount,
    LedgerError,
    PeriodClosed,
    ReversalRefused,
    TooFewPostings,
    UnbalancedEntry,
    UnknownAccount,
    WrongCurrency,
)
from accounting.models import (
    Account,
    ChainHead,
    ChainLink,
    JournalEntry,
    PeriodClose,
    Posting,
)
from accounting.money import CURRENCY, to_dong
from accounting.signing import (
    SignedHead,
    head_sign,
    high_water_read,
    high_water_write,
    request_mac,
)

GENESIS_HASH = "0" * 64


# --------------------------------------------------------------------------------------------
# Chart of accounts


def chart_load(*, rows: Iterable[dict] | None = None) -> int:
    """Create or update accounts from rows (code, parent, type, contra, name, name_en).

    Idempotent: loading the same chart twice changes nothing. Invariant: only leaf accounts hold
    postings, so an account that already has postings is never given a child (PostgreSQL
    refuses it too, with a trigger).
    """
    rows = read_chart_rows() if rows is None else list(rows)
    parents = {r["parent"] for r in rows if r.get("parent")}
    with transaction.atomic():
        posted = sorted(
            Account.objects.filter(code__in=parents, postings__isnull=False)
            .values_list("code", flat=True)
            .distinct()
        )
        if posted:
            raise AccountNotPostable(
                f"Tài khoản {', '.join(posted)} đã có định khoản; không thể thêm tài khoản con "
                "(chỉ tài khoản chi tiết được ghi sổ).",
                field="parent",
            )
        count = load_chart(Account, rows)
    chart_cache_clear()
    return count


@dataclass(frozen=True)
class _AccountInfo:
    id: int
    code: str
    currency: str
    postable: bool


_chart_cache: dict[str, _AccountInfo] = {}
_chart_loaded_at = [0.0]
# The chart changes rarely (a migration or `chart_load`); another process's change is seen
# within this many seconds. PostgreSQL re-checks leafness and currency on every posting anyway.
CHART_CACHE_SECONDS = 60.0


def chart_cache_clear() -> None:
    _chart_cache.clear()
    _chart_loaded_at[0] = 0.0


def _accounts_by_code(codes: Iterable[str]) -> dict[str, _AccountInfo]:
    """Postability and currency of accounts, cached per process: posting costs no chart query.

    A miss (or an entry older than ``CHART_CACHE_SECONDS``) reloads the whole chart.
    """
    codes = set(codes)
    now = time.monotonic()
    if not codes <= _chart_cache.keys() or now - _chart_loaded_at[0] > CHART_CACHE_SECONDS:
        _chart_cache.clear()
        _chart_loaded_at[0] = now
        for a in Account.objects.annotate(n_children=Count("children")).values(
            "id", "code", "currency", "n_children"
        ):
            _chart_cache[a["code"]] = _AccountInfo(
                a["id"], a["code"], a["currency"], a["n_children"] == 0
            )
    return {c: _chart_cache[c] for c in codes if c in _chart_cache}


# --------------------------------------------------------------------------------------------
# Posting


@dataclass(frozen=True)
class Leg:
    """One leg of an entry to post: a signed amount (debit > 0, credit < 0) on a leaf account."""

    account: str
    amount: object
    fund_id: int | None = None
    superior_union_id: int | None = None
    grassroots_union_id: int | None = None
    subledger: str = ""
    currency: str = CURRENCY


def debit(account: str, amount, **dims) -> Leg:
    return _leg(account, amount, 1, dims)


def credit(account: str, amount, **dims) -> Leg:
    return _leg(account, amount, -1, dims)


def _leg(account, amount, sign, dims) -> Leg:
    currency = dims.pop("currency", CURRENCY)
    if isinstance(amount, Money):
        currency = str(amount.currency)
    value = to_dong(amount, currency=currency)
    if value <= 0:
        raise InvalidAmount(
            f"Số tiền ghi {'Nợ' if sign > 0 else 'Có'} tài khoản {account} phải lớn hơn 0.",
            field="amount",
        )
    return Leg(account, sign * value, currency=currency, **dims)


@dataclass
class EntrySpec:
    effective_date: date
    legs: Sequence[Leg]
    memo: str
    idempotency_key: str
    document_type: str = ""
    document_id: str = ""
    reversal_of_id: int | None = None
    # Why the entry is dated before the fund's open window ("" when it is not; the caller's
    # rule, `accounting.dates.backdate_reason_check`): stored on the entry, hashed when set.
    backdated_reason: str = ""
    # Filled by validation:
    _amounts: list[Decimal] = field(default_factory=list, repr=False)
    _accounts: list[_AccountInfo] = field(default_factory=list, repr=False)
    _hash: str = ""


_DIMENSIONS = ("fund_id", "superior_union_id", "grassroots_union_id")


def _validate(spec: EntrySpec, *, closed_through: date | None) -> EntrySpec:
    """Check everything about an entry before anything is written; fill its amounts and hash.

    The closed-period check comes last so that a refused retry still has its request hash (a
    retry of an entry posted before its period was closed returns that entry).
    """
    key = spec.idempotency_key
    if not isinstance(key, str) or not key.strip():
        raise LedgerError(_("Thiếu khóa chống trùng (idempotency key)."), field="idempotency_key")
    if len(key) > 200:
        raise LedgerError(_("Khóa chống trùng dài quá 200 ký tự."), field="idempotency_key")
    if isinstance(spec.effective_date, datetime) or not isinstance(spec.effective_date, date):
        raise LedgerError(
            f"Ngày hạch toán phải là một ngày (date), nhận được {spec.effective_date!r}.",
            field="effective_date",
        )
    value_date_check(spec.effective_date, field="effective_date", label=_("Ngày hạch toán"))
    if not isinstance(spec.memo, str) or not spec.memo.strip():
        raise LedgerError(_("Bút toán phải có diễn giải."), field="memo")
    for name, value, limit in (
        ("memo", spec.memo, 500),
        ("document_type", spec.document_type, 64),
        ("document_id", spec.document_id, 64),
        ("backdated_reason", spec.backdated_reason, BACKDATE_REASON_MAX),
    ):
        if len(value) > limit:
            raise LedgerError(f"Trường {name} dài quá {limit} ký tự.", field=name)
    legs = list(spec.legs)
    if len(legs) < 2:
        raise TooFewPostings(
            f"Bút toán phải có ít nhất 2 định khoản, nhận được {len(legs)}.", field="legs"
        )
    for i, leg in enumerate(legs):
        if not isinstance(leg, Leg):
            raise LedgerError(
                f"Định khoản {i + 1} không hợp lệ: dùng debit()/credit() hoặc Leg.",
                field=f"legs[{i}]",
            )
    accounts = _accounts_by_code(leg.account for leg in legs)
    totals: dict[str, Decimal] = {}
    spec._amounts, spec._accounts = [], []
    for i, leg in enumerate(legs):
        info = accounts.get(leg.account)
        if info is None:
            raise UnknownAccount(
                _("Tài khoản %(account)s không tồn tại."),
                field=f"legs[{i}]",
                params={"account": leg.account},
            )
        if not info.postable:
            raise AccountNotPostable(
                _(
                    "Tài khoản %(account)s là tài khoản tổng hợp; chỉ được ghi vào tài khoản chi "
                    "tiết."
                ),
                field=f"legs[{i}]",
                params={"account": leg.account},
            )
        amount = to_dong(leg.amount, field=f"legs[{i}].amount", currency=leg.currency)
        if amount == 0:
            raise InvalidAmount(
                f"Định khoản {i + 1} (tài khoản {leg.account}) có số tiền bằng 0.",
                field=f"legs[{i}].amount",
            )
        if leg.currency != info.currency:
            raise WrongCurrency(
                f"Tài khoản {leg.account} ghi bằng {info.currency}, không nhận {leg.currency}.",
                field=f"legs[{i}]",
            )
        for dim in _DIMENSIONS:
            v = getattr(leg, dim)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int)):
                raise LedgerError(
                    f"Định khoản {i + 1}: {dim} phải là số nguyên, nhận được {v!r}.",
                    field=f"legs[{i}].{dim}",
                )
        if not isinstance(leg.subledger, str) or len(leg.subledger) > 64:
            raise LedgerError(
                f"Định khoản {i + 1}: sổ chi tiết phải là chuỗi tối đa 64 ký tự.",
                field=f"legs[{i}].subledger",
            )
        totals[leg.currency] = totals.get(leg.currency, Decimal(0)) + amount
        spec._amounts.append(amount)
        spec._accounts.append(info)
    spec.legs = legs
    for cur, total in totals.items():
        if total != 0:
            side = _("Nợ lớn hơn Có") if total > 0 else _("Có lớn hơn Nợ")
            raise UnbalancedEntry(
                _("Bút toán không cân: tổng %(side)s %(total)s %(currency)s."),
                field="legs",
                params={
                    "side": side,
                    "total": f"{abs(total):,.0f}".replace(",", "."),
                    "currency": cur,
                },
            )
    spec._hash = _request_hash(spec)
    if closed_through is not None and spec.effective_date <= closed_through:
        raise _period_closed(closed_through, spec.effective_date)
    return spec


def _period_closed(closed_through: date, day: date) -> PeriodClosed:
    return PeriodClosed(
        _("Kỳ kế toán đã khóa sổ đến ngày %(closed)s; không thể ghi sổ vào ngày %(day)s."),
        field="effective_date",
        params={"closed": f"{closed_through:%d/%m/%Y}", "day": f"{day:%d/%m/%Y}"},
    )


def _request_payload(
    *,
    day: date,
    memo: str,
    document_type: str,
    document_id,
    reversal_of_id,
    legs,
    backdated_reason: str = "",
) -> dict:
    """What an entry asks for, canonically: its request hash is the MAC of this. `legs`: one
    (account code, amount, currency, fund, superior union, grassroots union, sub-ledger) each.
    A back-dating reason is part of it only when set, so entries without one hash as before."""
    payload = {
        "d": day.isoformat(),
        "m": memo,
        "dt": document_type,
        "di": str(document_id),
        "r": reversal_of_id,
        "l": [[code, f"{a:f}", *rest] for code, a, *rest in legs],
    }
    if backdated_reason:
        payload["b"] = backdated_reason
    return payload


def request_hash_for(
    *,
    day: date,
    memo: str,
    document_type: str,
    document_id,
    reversal_of_id=None,
    legs,
    backdated_reason: str = "",
) -> str:
    """The request MAC of an entry written without the services (benchmarks, imports that
    COPY rows): what the services would store, so the sealer accepts the rows."""
    return request_mac(
        _request_payload(
            day=day,
            memo=memo,
            document_type=document_type,
            document_id=document_id,
            reversal_of_id=reversal_of_id,
            legs=legs,
            backdated_reason=backdated_reason,
        )
    )


def _request_hash(spec: EntrySpec) -> str:
    return request_hash_for(
        day=spec.effective_date,
        memo=spec.memo,
        document_type=spec.document_type,
        document_id=spec.document_id,
        reversal_of_id=spec.reversal_of_id,
        backdated_reason=spec.backdated_reason,
        legs=[
            (
                leg.account,
                a,
                leg.currency,
                leg.fund_id,
                leg.superior_union_id,
                leg.grassroots_union_id,
                leg.subledger,
            )
            for leg, a in zip(spec.legs, spec._amounts, strict=True)
        ],
    )


def entry_request_hash(entry: JournalEntry, postings: Iterable[Posting], codes: dict) -> str:
    """The request MAC recomputed from the rows as stored (`codes`: account id -> code); equal
    to the entry's ``request_hash`` unless a row was written or changed outside the services."""
    return request_mac(
        _request_payload(
            day=entry.effective_date,
            memo=entry.memo,
            document_type=entry.document_type,
            document_id=entry.document_id,
            reversal_of_id=entry.reversal_of_id,
            backdated_reason=entry.backdated_reason,
            legs=[
                (
                    codes.get(p.account_id, ""),
                    p.amount.amount,
                    str(p.amount.currency),
                    p.fund_id,
                    p.superior_union_id,
                    p.grassroots_union_id,
                    p.subledger,
                )
                for p in sorted(postings, key=lambda p: p.pk)
            ],
        )
    )


def ledger_closed_through() -> date | None:
    """The last day the ledger is closed through (``period_close``); None when never closed."""
    return PeriodClose.objects.aggregate(m=Max("closed_through"))["m"]


# Refusals of the PostgreSQL triggers (migration 0002) that reach the service: a closed period
# (checked there rather than by a query of the service's own), or a chart change by another
# process that this process's cached chart has not seen yet.
_DATABASE_REFUSALS = [
    (
        "is not a leaf",
        AccountNotPostable,
        "Một tài khoản của bút toán vừa trở thành tài khoản tổng hợp; chỉ được ghi vào tài "
        "khoản chi tiết.",
        "legs",
    ),
    (
        "to an account kept in",
        WrongCurrency,
        "Tiền tệ của định khoản khác tiền tệ của tài khoản.",
        "legs",
    ),
]


def _translated(error: Exception, spec: EntrySpec) -> Exception:
    text = str(error)
    if "period closed through" in text:
        return _period_closed(ledger_closed_through() or spec.effective_date, spec.effective_date)
    for needle, cls, message, field_name in _DATABASE_REFUSALS:
        if needle in text:
            return cls(message, field=field_name)
    return error


def _replay(spec: EntrySpec, error: Exception) -> JournalEntry:
    """The entry already posted under the spec's key, if the request is the same; else refuse."""
    existing = JournalEntry.objects.filter(idempotency_key=spec.idempotency_key).first()
    if existing is None:
        translated = _translated(error, spec)
        if translated is error:
            raise error
        raise translated from error
    if existing.request_hash != spec._hash:
        raise IdempotencyConflict(
            _("Khóa chống trùng '%(key)s' đã dùng cho một bút toán khác (#%(entry)s)."),
            field="idempotency_key",
            params={"key": spec.idempotency_key, "entry": existing.pk},
        )
    return existing


def journal_entry_post(
    *,
    effective_date: date,
    legs: Sequence[Leg],
    memo: str,
    idempotency_key: str,
    posted_by=None,
    document_type: str = "",
    document_id: str = "",
    reversal_of: JournalEntry | None = None,
    backdated_reason: str = "",
) -> JournalEntry:
    """Post one balanced entry, or return the entry already posted under the same key.

    Invariant: at least two legs on leaf accounts, whole đồng, summing to zero per currency,
    dated after the last closed period. The same key with a different request is refused. A
    reversal (``reversal_of``) never reverses a reversal.
    """
    if reversal_of is not None and reversal_of.reversal_of_id is not None:
        raise _reversal_of_reversal(reversal_of.pk, "reversal_of")
    if reversal_of is not None:
        _reversal_date_check(effective_date, reversal_of.effective_date, reversal_of.pk)
    spec = EntrySpec(
        effective_date=effective_date,
        legs=list(legs),
        memo=memo,
        idempotency_key=idempotency_key,
        document_type=document_type,
        document_id=str(document_id),
        reversal_of_id=reversal_of.pk if reversal_of else None,
        backdated_reason=backdated_reason or "",
    )
    on_postgres = connection.vendor == "postgresql"
    try:
        # On PostgreSQL the entry's trigger checks the period (a query fewer per post); its
        # refusal comes back as the same PeriodClosed.
        _validate(spec, closed_through=None if on_postgres else ledger_closed_through())
    except PeriodClosed as error:
        # A retry of an entry posted before its period was closed still returns that entry.
        return _replay(spec, error)
    try:
        if on_postgres:
            entry = _insert_entry_pg(spec, posted_by)
        else:
            with transaction.atomic():
                entry = JournalEntry.objects.create(
                    effective_date=spec.effective_date,
                    memo=spec.memo,
                    posted_by=posted_by,
                    document_type=spec.document_type,
                    document_id=spec.document_id,
                    idempotency_key=spec.idempotency_key,
                    request_hash=spec._hash,
                    reversal_of_id=spec.reversal_of_id,
                    backdated_reason=spec.backdated_reason,
                )
                Posting.objects.bulk_create(_postings(entry.pk, spec))
    except IntegrityError as error:
        # Another request (a retry, or a concurrent one) took the key first, or a trigger
        # refused the entry.
        return _replay(spec, error)
    return entry


_ENTRY_INSERT = (
    "INSERT INTO accounting_journalentry (effective_date, recorded_at, memo, posted_by_id, "
    "document_type, document_id, idempotency_key, request_hash, reversal_of_id, "
    "backdated_reason) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id, txid; "
    "INSERT INTO accounting_posting (entry_id, account_id, amount, amount_currency, "
    "effective_date, fund_id, superior_union_id, grassroots_union_id, subledger) VALUES "
)
_POSTING_ROW = (
    "(currval(pg_get_serial_sequence('accounting_journalentry', 'id')), "
    "%s, %s, %s, %s, %s, %s, %s, %s)"
)


def _insert_entry_pg(spec: EntrySpec, posted_by) -> JournalEntry:
    """The entry and its postings in one round trip: two statements sent as one query.

    Outside a transaction the server runs a multi-statement query as one implicit transaction,
    so the entry commits (and its deferred balance check runs) without a BEGIN and a COMMIT of
    their own; inside one, a savepoint keeps a refusal from spoiling the caller's transaction.
    """
    now = timezone.now()
    params: list = [
        spec.effective_date,
        now,
        spec.memo,
        posted_by.pk if posted_by else None,
        spec.document_type,
        spec.document_id,
        spec.idempotency_key,
        spec._hash,
        spec.reversal_of_id,
        spec.backdated_reason,
    ]
    for leg, amount, info in zip(spec.legs, spec._amounts, spec._accounts, strict=True):
        params += [
            info.id,
            amount,
            leg.currency,
            spec.effective_date,
            leg.fund_id,
            leg.superior_union_id,
            leg.grassroots_union_id,
            leg.subledger,
        ]
    sql = _ENTRY_INSERT + ", ".join([_POSTING_ROW] * len(spec.legs))
    if connection.in_atomic_block:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql, params)
            entry_id, txid = cur.fetchone()
    else:
        with connection.cursor() as cur:
            cur.execute(sql, params)
            entry_id, txid = cur.fetchone()
    entry = JournalEntry(
        id=entry_id,
        effective_date=spec.effective_date,
        recorded_at=now,
        memo=spec.memo,
        posted_by=posted_by,
        document_type=spec.document_type,
        document_id=spec.document_id,
        idempotency_key=spec.idempotency_key,
        request_hash=spec._hash,
        reversal_of_id=spec.reversal_of_id,
        backdated_reason=spec.backdated_reason,
        txid=txid,
    )
    entry._state.adding = False
    entry._state.db = connection.alias
    return entry


def _postings(entry_id: int, spec: EntrySpec) -> list[Posting]:
    return [
        Posting(
            entry_id=entry_id,
            account_id=info.id,
            amount=Money(amount, leg.currency),
            effective_date=spec.effective_date,
            fund_id=leg.fund_id,
            superior_union_id=leg.superior_union_id,
            grassroots_union_id=leg.grassroots_union_id,
            subledger=leg.subledger,
        )
        for leg, amount, info in zip(spec.legs, spec._amounts, spec._accounts, strict=True)
    ]


def journal_entries_post_bulk(*, entries: Sequence[EntrySpec], posted_by=None) -> int:
    """Post many entries in one transaction (nightly accruals, imports); all or nothing.

    Entries whose key was already posted with the same content are skipped (a re-run of the
    same batch changes nothing); a key reused for different content refuses the whole batch.
    On PostgreSQL rows go in by COPY. Returns the number of entries newly posted.
    """
    closed = ledger_closed_through()
    specs = list(entries)
    for n, s in enumerate(specs):
        # The closed period is checked below, for new entries only: a re-run batch whose
        # entries were posted before their period was closed posts nothing and is not an error.
        _validate_in_batch(n, s, closed_through=None)
    keys = [s.idempotency_key for s in specs]
    seen: set[str] = set()
    dup = next((k for k in keys if k in seen or seen.add(k)), None)
    if dup is not None:
        raise LedgerError(
            f"Lô bút toán có khóa chống trùng '{dup}' lặp lại.", field="idempotency_key"
        )
    with transaction.atomic():
        _check_bulk_reversals(specs)
        existing = _posted_hashes(keys)
        todo = []
        for s in specs:
            if s.idempotency_key in existing:
                if existing[s.idempotency_key] != s._hash:
                    raise IdempotencyConflict(
                        _("Khóa chống trùng '%(key)s' đã dùng cho một bút toán khác."),
                        field="idempotency_key",
                        params={"key": s.idempotency_key},
                    )
            else:
                todo.append(s)
        if not todo:
            return 0
        if closed is not None:
            new = {id(s) for s in todo}
            for n, s in enumerate(specs):
                if id(s) in new and s.effective_date <= closed:
                    _validate_in_batch(n, s, closed_through=closed)
        if connection.vendor == "postgresql":
            _copy_entries(todo, posted_by)
        else:
            now = timezone.now()
            created = JournalEntry.objects.bulk_create(
                [
                    JournalEntry(
                        effective_date=s.effective_date,
                        recorded_at=now,
                        memo=s.memo,
                        posted_by=posted_by,
                        document_type=s.document_type,
                        document_id=s.document_id,
                        idempotency_key=s.idempotency_key,
                        request_hash=s._hash,
                        reversal_of_id=s.reversal_of_id,
                        backdated_reason=s.backdated_reason,
                    )
                    for s in todo
                ],
                batch_size=1000,
            )
            Posting.objects.bulk_create(
                [p for e, s in zip(created, todo, strict=True) for p in _postings(e.pk, s)],
                batch_size=2000,
            )
    return len(todo)


def _posted_hashes(keys: list[str]) -> dict[str, str]:
    """The request hash of each key already posted. On PostgreSQL one query with the keys as
    one array parameter (20,000 keys as 20,000 parameters cost more to send than to look up)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(
                "SELECT idempotency_key, request_hash FROM accounting_journalentry "
                "WHERE idempotency_key = ANY(%s)",
                [keys],
            )
            return dict(cur.fetchall())
    existing: dict[str, str] = {}
    for start in range(0, len(keys), 5000):
        existing.update(
            JournalEntry.objects.filter(idempotency_key__in=keys[start : start + 5000]).values_list(
                "idempotency_key", "request_hash"
            )
        )
    return existing


def _validate_in_batch(n: int, spec: EntrySpec, *, closed_through: date | None) -> None:
    try:
        _validate(spec, closed_through=closed_through)
    except LedgerError as e:
        raise type(e)(
            f"Bút toán thứ {n + 1} trong lô (khóa '{spec.idempotency_key}'): {e.message}",
            field=f"entries[{n}].{e.field}" if e.field else f"entries[{n}]",
        ) from None


def _check_bulk_reversals(specs: list[EntrySpec]) -> None:
    """The reversal rules of `journal_entry_reverse`, for reversals posted in a batch."""
    targets = [s.reversal_of_id for s in specs if s.reversal_of_id is not None]
    if not targets:
        return
    if len(set(targets)) != len(targets):
        raise ReversalRefused(_("Lô bút toán đảo cùng một bút toán hai lần."), field="entries")
    found, entry_days = {}, {}
    for pk, reversal_of_id, day in JournalEntry.objects.filter(pk__in=targets).values_list(
        "pk", "reversal_of_id", "effective_date"
    ):
        found[pk], entry_days[pk] = reversal_of_id, day
    reversed_by = dict(
        JournalEntry.objects.filter(reversal_of_id__in=targets).values_list(
            "reversal_of_id", "idempotency_key"
        )
    )
    for s in specs:
        t = s.reversal_of_id
        if t is None:
            continue
        if t not in found:
            raise ReversalRefused(
                _("Bút toán #%(entry)s cần đảo không tồn tại."),
                field="entries",
                params={"entry": t},
            )
        if found[t] is not None:
            raise _reversal_of_reversal(t, "entries")
        if t in reversed_by and reversed_by[t] != s.idempotency_key:
            raise _already_reversed(t, "entries")
        _reversal_date_check(s.effective_date, entry_days[t], t, field="entries")


def _reversal_date_check(day, entry_day: date, entry_id: int, field: str = "effective_date"):
    """A reversal is not dated before the entry it reverses."""
    value_date_check(
        day,
        field=field,
        label=_("Ngày đảo bút toán"),
        not_before=entry_day,
        not_before_what=_("hạch toán bút toán #%(entry)s") % {"entry": entry_id},
        error=ReversalRefused,
    )


def _reversal_of_reversal(entry_id: int, field: str) -> ReversalRefused:
    return ReversalRefused(
        _("Bút toán #%(entry)s là bút toán đảo; không đảo một bút toán đảo."),
        field=field,
        params={"entry": entry_id},
    )


def _already_reversed(entry_id: int, field: str) -> ReversalRefused:
    return ReversalRefused(
        _("Bút toán #%(entry)s đã được đảo."), field=field, params={"entry": entry_id}
    )


# COPY's text format: a backslash, tab, newline or carriage return in a value is escaped; None
# is \N. Rows are formatted here and sent in large chunks, a few times faster than one
# `write_row` call per row for the 60,000 rows of a 20,000-entry batch.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    return str(value)


def _copy_entries(specs: list[EntrySpec], posted_by) -> None:
    now = timezone.now().isoformat()
    user = _copy_text(posted_by.pk if posted_by else None)
    t = _copy_text
    with connection.cursor() as cur:
        cur.execute(
            "SELECT nextval(pg_get_serial_sequence('accounting_journalentry', 'id')) "
            "FROM generate_series(1, %s)",
            [len(specs)],
        )
        ids = [r[0] for r in cur.fetchall()]
        raw = cur.cursor
        with raw.copy(
            "COPY accounting_journalentry (id, effective_date, recorded_at, memo, posted_by_id, "
            "document_type, document_id, idempotency_key, request_hash, reversal_of_id, "
            "backdated_reason) FROM STDIN"
        ) as copy:
            copy.write(
                "".join(
                    f"{i}\t{s.effective_date.isoformat()}\t{now}\t{t(s.memo)}\t{user}\t"
                    f"{t(s.document_type)}\t{t(s.document_id)}\t{t(s.idempotency_key)}\t"
                    f"{s._hash}\t{t(s.reversal_of_id)}\t{t(s.backdated_reason)}\n"
                    for i, s in zip(ids, specs, strict=True)
                )
            )
        with raw.copy(
            "COPY accounting_posting (entry_id, account_id, amount, amount_currency, "
            "effective_date, fund_id, superior_union_id, grassroots_union_id, subledger) "
            "FROM STDIN"
        ) as copy:
            copy.write(
                "".join(
                    f"{i}\t{info.id}\t{amount}\t{t(leg.currency)}\t{day}\t{t(leg.fund_id)}\t"
                    f"{t(leg.superior_union_id)}\t{t(leg.grassroots_union_id)}\t"
                    f"{t(leg.subledger)}\n"
                    for i, s, day in (
                        (i, s, s.effective_date.isoformat())
                        for i, s in zip(ids, specs, strict=True)
                    )
                    for leg, amount, info in zip(s.legs, s._amounts, s._accounts, strict=True)
                )
            )


def journal_entry_reverse(
    *,
    entry: JournalEntry,
    idempotency_key: str,
    memo: str = "",
    effective_date: date | None = None,
    posted_by=None,
    backdated_reason: str = "",
) -> JournalEntry:
    """Post the mirror image of `entry`. A reversal is never reversed; an entry at most once.
    `backdated_reason`: why the reversal is dated before the fund's open window (the caller's
    rule), kept on the reversal."""
    if entry.reversal_of_id is not None:
        raise _reversal_of_reversal(entry.pk, "entry")
    prior = JournalEntry.objects.filter(reversal_of=entry).first()
    if prior is not None and prior.idempotency_key != idempotency_key:
        raise ReversalRefused(
            _("Bút toán #%(entry)s đã được đảo bởi bút toán #%(reversal)s."),
            field="entry",
            params={"entry": entry.pk, "reversal": prior.pk},
        )
    legs = [
        Leg(
            p.account.code,
            -p.amount.amount,
            fund_id=p.fund_id,
            superior_union_id=p.superior_union_id,
            grassroots_union_id=p.grassroots_union_id,
            subledger=p.subledger,
            currency=str(p.amount.currency),
        )
        for p in entry.postings.select_related("account").order_by("id")
    ]
    try:
        return journal_entry_post(
            effective_date=effective_date or entry.effective_date,
            legs=legs,
            memo=memo or f"Đảo bút toán #{entry.pk}: {entry.memo}"[:500],
            idempotency_key=idempotency_key,
            posted_by=posted_by,
            document_type=entry.document_type,
            document_id=entry.document_id,
            reversal_of=entry,
            backdated_reason=backdated_reason,
        )
    except IntegrityError:  # pragma: no cover - concurrent reversal under another key
        raise _already_reversed(entry.pk, "entry") from None


# --------------------------------------------------------------------------------------------
# Periods and checkpoints


def _close_not_after(last: date) -> PeriodClosed:
    return PeriodClosed(
        _("Sổ đã khóa đến ngày %(last)s; ngày khóa mới phải sau ngày đó."),
        field="through",
        params={"last": f"{last:%d/%m/%Y}"},
    )


def period_close(*, through: date, closed_by=None, note: str = "") -> PeriodClose:
    """Close every date up to `through`; record a balance checkpoint per account as of it.

    Invariant: nothing is ever posted on or before a closed date, so the checkpoints written
    here never go stale. On PostgreSQL the close waits for the transactions already posting and
    holds new ones back until it commits (a table lock taken once a month, never by posters).
    """
    if isinstance(through, datetime) or not isinstance(through, date):
        raise LedgerError(
            f"Ngày khóa sổ phải là một ngày (date), nhận được {through!r}.", field="through"
        )
    today = business_today()
    if through > today:
        raise PeriodClosed(
            _("Không khóa sổ đến ngày %(through)s: ngày đó chưa đến (hôm nay %(today)s)."),
            field="through",
            params={"through": f"{through:%d/%m/%Y}", "today": f"{today:%d/%m/%Y}"},
        )
    last = ledger_closed_through()
    if last is not None and through <= last:
        raise _close_not_after(last)
    if connection.vendor == "postgresql":
        # The database's own function locks, re-checks the last close, records the close and
        # writes its checkpoints (migration 0009): the application's role writes neither table.
        try:
            with transaction.atomic(), connection.cursor() as cur:
                cur.execute(
                    "SELECT accounting_period_close(%s, %s, %s, %s)",
                    [through, timezone.now(), closed_by.pk if closed_by else None, note],
                )
                close_id = cur.fetchone()[0]
        except IntegrityError as error:  # another close got in first
            if "period closed through" not in str(error):
                raise
            raise _close_not_after(ledger_closed_through() or through) from error
        return PeriodClose.objects.get(pk=close_id)
    # SQLite: its trigger writes the checkpoints from the same query (migration 0009).
    with transaction.atomic():
        pc = PeriodClose.objects.create(closed_through=through, closed_by=closed_by, note=note)
    return pc


# --------------------------------------------------------------------------------------------
# Tamper evidence


HASH_VERSION = 2  # the entry hash of new links covers each account's code and path


def account_labels() -> dict[int, tuple[str, str]]:
    """Account id -> (code, path), as the chart reads now (the entry hash covers both)."""
    rows = Account.objects.values_list("id", "code", "path")
    return {pk: (code, path) for pk, code, path in rows}


def entry_hash(
    entry: JournalEntry,
    postings: Iterable[Posting],
    accounts: dict[int, tuple[str, str]] | None = None,
    *,
    version: int = HASH_VERSION,
) -> str:
    """Hash of everything an entry says; any change to a posted row changes it.

    Version 2 also covers each posting's account code and path (`accounts`, from
    `account_labels`), so an account renumbered or moved under another parent breaks the
    links of its postings; version 1 (links sealed before migration 0008) covers the id only.
    """

    def account(p):
        if version == 1:
            return [p.account_id]
        code, path = (accounts or {}).get(p.account_id, ("", ""))
        return [p.account_id, code, path]

    payload = [
        entry.pk,
        entry.effective_date.isoformat(),
        entry.recorded_at.isoformat(),
        entry.memo,
        entry.posted_by_id,
        entry.document_type,
        entry.document_id,
        entry.idempotency_key,
        entry.reversal_of_id,
        [
            [
                p.pk,
                *account(p),
                str(p.amount.amount),
                str(p.amount.currency),
                str(p.effective_date),
                p.fund_id,
                p.superior_union_id,
                p.grassroots_union_id,
                p.subledger,
            ]
            for p in sorted(postings, key=lambda p: p.pk)
        ],
    ]
    if entry.backdated_reason:
        # Only when set, so that every entry sealed before the field existed hashes as before.
        payload.append(entry.backdated_reason)
    return hashlib.sha256(
        json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    ).hexdigest()


def link_hash(prev_hash: str, e_hash: str) -> str:
    return hashlib.sha256((prev_hash + e_hash).encode()).hexdigest()


def chain_head_sign(*, chain: str, seq: int, head_hash: str) -> SignedHead:
    """Sign the head a seal leaves and store it (in the caller's transaction), then move the
    high-water mark outside the database to it. Used by every sealed chain (ledger, audit)."""
    head = head_sign(chain, seq, head_hash, timezone.now())
    ChainHead.objects.create(
        chain=chain,
        seq=seq,
        link_hash=head_hash,
        signed_at=head.signed_at,
        key_id=head.key_id,
        signature=head.signature,
    )
    transaction.on_commit(lambda: high_water_write(head))
    return head


def chain_head_latest(chain: str) -> SignedHead | None:
    h = ChainHead.objects.filter(chain=chain).order_by("-seq").first()
    if h is None:
        return None
    return SignedHead(h.chain, h.seq, h.link_hash, h.signed_at, h.key_id, h.signature)


def chain_seal_start(*, chain: str, lock_id: int, link_model) -> tuple[int, str] | None:
    """The start of a seal, in the sealer's transaction: take the chain's sealer lock (None when
    another sealer holds it) and return the head (seq, hash) to build on, after checking it is
    the last signed head — nobody appended or rewrote links since (`ChainTampered`)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_try_advisory_xact_lock(%s)", [lock_id])
            if not cur.fetchone()[0]:
                return None
    head = link_model.objects.order_by("-seq").first()
    seq, prev = (head.seq, head.link_hash) if head else (0, GENESIS_HASH)
    signed = chain_head_latest(chain)
    if signed is None and seq and high_water_read(chain) is None:
        # A chain sealed before heads were signed (migration 0008): its head is signed once as
        # it stands (docs/ledger.md §7, "Upgrading").
        signed = chain_head_sign(chain=chain, seq=seq, head_hash=prev)
    if ((signed.seq, signed.link_hash) if signed else (0, GENESIS_HASH)) != (seq, prev):
        raise ChainTampered(
            _(
                "Đầu chuỗi %(chain)s (#%(seq)s) không phải đầu chuỗi đã ký gần nhất "
                "(#%(signed)s): không niêm phong tiếp."
            ),
            params={"chain": chain, "seq": seq, "signed": signed.seq if signed else 0},
        )
    return seq, prev


SEAL_LOCK_ID = 0x7472_6F76  # "trov": one sealer at a time; posters never take it
LEDGER_CHAIN = "ledger"


def ledger_seal(*, batch_size: int = 5000, max_batches: int | None = None) -> int:
    """Seal committed, unsealed entries into the hash chain, in order, in batches, and sign
    the head each batch leaves.

    Before sealing, the sealer re-verifies what it builds on: the chain's last link must be
    the last signed head (nobody appended or rewrote links since), and every entry's request
    MAC must match its rows as stored (nobody wrote or altered it outside the services). On a
    mismatch it seals the good entries before it and raises `ChainTampered`, so a forged or
    altered entry is never sealed as genuine.
    Only the sealer serialises (an advisory lock on PostgreSQL); posting never waits for it.
    Returns the number of entries sealed.
    """
    sealed = 0
    batches = 0
    labels = account_labels()
    while max_batches is None or batches < max_batches:
        refused = None
        with transaction.atomic():
            start = chain_seal_start(chain=LEDGER_CHAIN, lock_id=SEAL_LOCK_ID, link_model=ChainLink)
            if start is None:
                return sealed
            seq, prev = start
            entries = list(
                JournalEntry.objects.filter(chain_link__isnull=True).order_by("id")[:batch_size]
            )
            if not entries:
                return sealed
            by_entry: dict[int, list[Posting]] = {e.pk: [] for e in entries}
            for p in Posting.objects.filter(entry_id__in=by_entry.keys()):
                by_entry[p.entry_id].append(p)
            codes = {pk: code for pk, (code, _path) in labels.items()}
            links = []
            for e in entries:
                if entry_request_hash(e, by_entry[e.pk], codes) != e.request_hash:
                    refused = e
                    break
                seq += 1
                eh = entry_hash(e, by_entry[e.pk], labels)
                lh = link_hash(prev, eh)
                links.append(
                    ChainLink(seq=seq, entry=e, entry_hash=eh, prev_hash=prev, link_hash=lh)
                )
                prev = lh
            if links:
                ChainLink.objects.bulk_create(links)
                chain_head_sign(chain=LEDGER_CHAIN, seq=seq, head_hash=prev)
            sealed += len(links)
            batches += 1
        if refused is not None:
            raise ChainTampered(
                _(
                    "Bút toán #%(entry)s không khớp mã xác thực yêu cầu (ghi hoặc sửa ngoài "
                    "dịch vụ sổ cái): không niêm phong."
                ),
                params={"entry": refused.pk},
            )
    return sealed


# --------------------------------------------------------------------------------------------
# Turnover per account and day


_TURNOVER_KEY = "account_id, currency, fund_id, effective_date"
_TURNOVER_KEYS_SQLITE = (
    "SELECT DISTINCT account_id, currency, coalesce(fund_id, -1), effective_date"
    " FROM accounting_accountturnover WHERE NOT compacted AND id <= %s"
)
_TURNOVER_MATCH_SQLITE = (
    f"id <= %s AND (account_id, currency, coalesce(fund_id, -1), effective_date)"
    f" IN ({_TURNOVER_KEYS_SQLITE})"
)


def ledger_turnover_compact() -> int:
    """Merge the turnover rows written since the last compaction into one row per account,
    currency, fund and day; returns the number of rows merged away.

    Invariant: the sum of a key's rows is the same before and after, at every moment, for every
    reader: on PostgreSQL the rows deleted and the row inserted are one statement (one
    snapshot), so a row committed meanwhile by a poster is neither deleted nor counted twice;
    on SQLite the single writer holds the database for the whole transaction.
    """
    with transaction.atomic(), connection.cursor() as cur:
        if connection.vendor == "postgresql":
            # The database's own function (migration 0009): one compaction at a time, the
            # merge in one statement; the application's role cannot write turnover itself.
            cur.execute("SELECT accounting_turnover_compact()")
            return cur.fetchone()[0]
        cur.execute("SELECT max(id) FROM accounting_accountturnover")
        top = cur.fetchone()[0]
        if top is None:
            return 0
        cur.execute(
            f"INSERT INTO accounting_accountturnover ({_TURNOVER_KEY}, debit, credit, postings,"
            f" compacted) SELECT {_TURNOVER_KEY}, sum(debit), sum(credit), sum(postings), 1"
            f" FROM accounting_accountturnover WHERE {_TURNOVER_MATCH_SQLITE}"
            f" GROUP BY {_TURNOVER_KEY}",
            [top, top],
        )
        added = cur.rowcount
        cur.execute(
            f"DELETE FROM accounting_accountturnover WHERE {_TURNOVER_MATCH_SQLITE}", [top, top]
        )
        return cur.rowcount - added
