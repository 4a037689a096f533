"""Ledger services: the only code that writes to the ledger.

Every service validates the whole request before it writes anything and writes inside one
transaction, so a refused request leaves nothing behind. PostgreSQL re-checks the same rules
with triggers (see ``models`` docstring); these checks are the friendly ones, with a message that
names the problem.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Max, Sum
from django.utils import timezone
from djmoney.money import Money

from .chart import load_chart
from .errors import (
    AccountNotPostable,
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
from .models import (
    Account,
    AccountCheckpoint,
    ChainLink,
    JournalEntry,
    PeriodClose,
    Posting,
)
from .money import CURRENCY, to_dong

GENESIS_HASH = "0" * 64


# --------------------------------------------------------------------------------------------
# Chart of accounts


def chart_load(*, rows: Iterable[dict] | None = None) -> int:
    """Create or update accounts from rows (code, parent, type, contra, name, name_en).

    Idempotent: loading the same chart twice changes nothing.
    """
    with transaction.atomic():
        count = load_chart(Account, rows)
    _chart_cache.clear()
    return count


@dataclass(frozen=True)
class _AccountInfo:
    id: int
    code: str
    currency: str
    postable: bool


_chart_cache: dict[str, _AccountInfo] = {}


def _accounts_by_code(codes: Iterable[str]) -> dict[str, _AccountInfo]:
    """Postability and currency of accounts, cached per process (the chart changes rarely).

    A miss reloads the whole chart; PostgreSQL re-checks leafness on every posting anyway.
    """
    codes = set(codes)
    if not codes <= _chart_cache.keys():
        _chart_cache.clear()
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
    currency = str(amount.currency) if isinstance(amount, Money) else dims.pop("currency", CURRENCY)
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
    # Filled by validation:
    _amounts: list[Decimal] = field(default_factory=list, repr=False)
    _accounts: list[_AccountInfo] = field(default_factory=list, repr=False)
    _hash: str = ""


def _validate(spec: EntrySpec, *, closed_through: date | None) -> EntrySpec:
    if not spec.idempotency_key or not str(spec.idempotency_key).strip():
        raise LedgerError("Thiếu khóa chống trùng (idempotency key).", field="idempotency_key")
    if len(spec.idempotency_key) > 200:
        raise LedgerError("Khóa chống trùng dài quá 200 ký tự.", field="idempotency_key")
    if not isinstance(spec.effective_date, date):
        raise LedgerError("Ngày hạch toán không hợp lệ.", field="effective_date")
    if not spec.memo or not spec.memo.strip():
        raise LedgerError("Bút toán phải có diễn giải.", field="memo")
    if len(spec.legs) < 2:
        raise TooFewPostings(
            f"Bút toán phải có ít nhất 2 định khoản, nhận được {len(spec.legs)}.", field="legs"
        )
    if closed_through is not None and spec.effective_date <= closed_through:
        raise PeriodClosed(
            f"Kỳ kế toán đã khóa sổ đến ngày {closed_through:%d/%m/%Y}; không thể ghi sổ vào "
            f"ngày {spec.effective_date:%d/%m/%Y}.",
            field="effective_date",
        )
    accounts = _accounts_by_code(leg.account for leg in spec.legs)
    totals: dict[str, Decimal] = {}
    spec._amounts, spec._accounts = [], []
    for i, leg in enumerate(spec.legs):
        info = accounts.get(leg.account)
        if info is None:
            raise UnknownAccount(f"Tài khoản {leg.account} không tồn tại.", field=f"legs[{i}]")
        if not info.postable:
            raise AccountNotPostable(
                f"Tài khoản {leg.account} là tài khoản tổng hợp; chỉ được ghi vào tài khoản chi "
                "tiết.",
                field=f"legs[{i}]",
            )
        amount = to_dong(leg.amount, field=f"legs[{i}].amount", currency=leg.currency)
        if amount == 0:
            raise InvalidAmount(f"Định khoản {i + 1} có số tiền bằng 0.", field=f"legs[{i}]")
        if leg.currency != info.currency:
            raise WrongCurrency(
                f"Tài khoản {leg.account} ghi bằng {info.currency}, không nhận {leg.currency}.",
                field=f"legs[{i}]",
            )
        totals[leg.currency] = totals.get(leg.currency, Decimal(0)) + amount
        spec._amounts.append(amount)
        spec._accounts.append(info)
    for cur, total in totals.items():
        if total != 0:
            raise UnbalancedEntry(
                f"Bút toán không cân: tổng Nợ khác tổng Có {abs(total):,.0f} {cur}.".replace(
                    ",", "."
                ),
                field="legs",
            )
    spec._hash = _request_hash(spec)
    return spec


def _request_hash(spec: EntrySpec) -> str:
    payload = {
        "d": spec.effective_date.isoformat(),
        "m": spec.memo,
        "dt": spec.document_type,
        "di": str(spec.document_id),
        "r": spec.reversal_of_id,
        "l": [
            [
                leg.account,
                str(a),
                leg.currency,
                leg.fund_id,
                leg.superior_union_id,
                leg.grassroots_union_id,
                leg.subledger,
            ]
            for leg, a in zip(spec.legs, spec._amounts, strict=True)
        ],
    }
    return hashlib.sha256(json.dumps(payload, separators=(",", ":")).encode()).hexdigest()


def _closed_through() -> date | None:
    return PeriodClose.objects.aggregate(m=Max("closed_through"))["m"]


def _replay(spec: EntrySpec, error: IntegrityError) -> JournalEntry:
    existing = JournalEntry.objects.filter(idempotency_key=spec.idempotency_key).first()
    if existing is None:
        raise error
    if existing.request_hash != spec._hash:
        raise IdempotencyConflict(
            f"Khóa chống trùng '{spec.idempotency_key}' đã dùng cho một bút toán khác "
            f"(#{existing.pk}).",
            field="idempotency_key",
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
) -> JournalEntry:
    """Post one balanced entry, or return the entry already posted under the same key.

    Invariant: at least two legs on leaf accounts, whole đồng, summing to zero per currency,
    dated after the last closed period. The same key with a different request is refused.
    """
    spec = _validate(
        EntrySpec(
            effective_date=effective_date,
            legs=list(legs),
            memo=memo,
            idempotency_key=idempotency_key,
            document_type=document_type,
            document_id=str(document_id),
            reversal_of_id=reversal_of.pk if reversal_of else None,
        ),
        closed_through=_closed_through(),
    )
    try:
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
            )
            Posting.objects.bulk_create(_postings(entry.pk, spec))
    except IntegrityError as error:
        # Another request (a retry, or a concurrent one) took the key first.
        return _replay(spec, error)
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
    closed = _closed_through()
    specs = [_validate(s, closed_through=closed) for s in entries]
    keys = [s.idempotency_key for s in specs]
    if len(set(keys)) != len(keys):
        raise LedgerError("Lô bút toán có khóa chống trùng lặp lại.", field="idempotency_key")
    with transaction.atomic():
        existing = {}
        for chunk_start in range(0, len(keys), 5000):
            existing.update(
                JournalEntry.objects.filter(
                    idempotency_key__in=keys[chunk_start : chunk_start + 5000]
                ).values_list("idempotency_key", "request_hash")
            )
        todo = []
        for s in specs:
            if s.idempotency_key in existing:
                if existing[s.idempotency_key] != s._hash:
                    raise IdempotencyConflict(
                        f"Khóa chống trùng '{s.idempotency_key}' đã dùng cho một bút toán khác.",
                        field="idempotency_key",
                    )
            else:
                todo.append(s)
        if not todo:
            return 0
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


def _copy_entries(specs: list[EntrySpec], posted_by) -> None:
    now = timezone.now()
    user_id = posted_by.pk if posted_by else None
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
            "document_type, document_id, idempotency_key, request_hash, reversal_of_id) "
            "FROM STDIN"
        ) as copy:
            for i, s in zip(ids, specs, strict=True):
                copy.write_row(
                    (
                        i,
                        s.effective_date,
                        now,
                        s.memo,
                        user_id,
                        s.document_type,
                        s.document_id,
                        s.idempotency_key,
                        s._hash,
                        s.reversal_of_id,
                    )
                )
        with raw.copy(
            "COPY accounting_posting (entry_id, account_id, amount, amount_currency, "
            "effective_date, fund_id, superior_union_id, grassroots_union_id, subledger) "
            "FROM STDIN"
        ) as copy:
            for i, s in zip(ids, specs, strict=True):
                for leg, amount, info in zip(s.legs, s._amounts, s._accounts, strict=True):
                    copy.write_row(
                        (
                            i,
                            info.id,
                            amount,
                            leg.currency,
                            s.effective_date,
                            leg.fund_id,
                            leg.superior_union_id,
                            leg.grassroots_union_id,
                            leg.subledger,
                        )
                    )


def journal_entry_reverse(
    *,
    entry: JournalEntry,
    idempotency_key: str,
    memo: str = "",
    effective_date: date | None = None,
    posted_by=None,
) -> JournalEntry:
    """Post the mirror image of `entry`. A reversal is never reversed; an entry at most once."""
    if entry.reversal_of_id is not None:
        raise ReversalRefused(
            f"Bút toán #{entry.pk} là bút toán đảo; không đảo một bút toán đảo.", field="entry"
        )
    prior = JournalEntry.objects.filter(reversal_of=entry).first()
    if prior is not None and prior.idempotency_key != idempotency_key:
        raise ReversalRefused(
            f"Bút toán #{entry.pk} đã được đảo bởi bút toán #{prior.pk}.", field="entry"
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
        )
    except IntegrityError:  # pragma: no cover - concurrent reversal under another key
        raise ReversalRefused(f"Bút toán #{entry.pk} đã được đảo.", field="entry") from None


# --------------------------------------------------------------------------------------------
# Periods and checkpoints


def period_close(*, through: date, closed_by=None, note: str = "") -> PeriodClose:
    """Close every date up to `through`; record a balance checkpoint per account as of it.

    Invariant: nothing is ever posted on or before a closed date, so the checkpoints written
    here never go stale. Posting is held back while the checkpoints are computed.
    """
    last = _closed_through()
    if last is not None and through <= last:
        raise PeriodClosed(
            f"Sổ đã khóa đến ngày {last:%d/%m/%Y}; ngày khóa mới phải sau ngày đó.",
            field="through",
        )
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Wait for transactions already posting, and keep new ones out until we commit.
            with connection.cursor() as cur:
                cur.execute("LOCK TABLE accounting_posting IN SHARE MODE")
        pc = PeriodClose.objects.create(closed_through=through, closed_by=closed_by, note=note)
        prev = (
            {
                (c.account_id, c.currency, c.fund_id): c
                for c in AccountCheckpoint.objects.filter(as_of=last)
            }
            if last
            else {}
        )
        delta = Posting.objects.filter(effective_date__lte=through)
        if last:
            delta = delta.filter(effective_date__gt=last)
        sums = {
            (r["account_id"], r["amount_currency"], r["fund_id"]): (r["s"], r["n"])
            for r in delta.values("account_id", "amount_currency", "fund_id").annotate(
                s=Sum("amount"), n=Count("id")
            )
        }
        rows = []
        for key in prev.keys() | sums.keys():
            base = prev.get(key)
            s, n = sums.get(key, (Decimal(0), 0))
            rows.append(
                AccountCheckpoint(
                    account_id=key[0],
                    currency=key[1],
                    fund_id=key[2],
                    as_of=through,
                    balance=(base.balance if base else 0) + s,
                    posting_count=(base.posting_count if base else 0) + n,
                )
            )
        AccountCheckpoint.objects.bulk_create(rows, batch_size=2000)
    return pc


# --------------------------------------------------------------------------------------------
# Tamper evidence


def entry_hash(entry: JournalEntry, postings: Iterable[Posting]) -> str:
    """Hash of everything an entry says; any change to a posted row changes it."""
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
                p.account_id,
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
    return hashlib.sha256(
        json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    ).hexdigest()


def link_hash(prev_hash: str, e_hash: str) -> str:
    return hashlib.sha256((prev_hash + e_hash).encode()).hexdigest()


SEAL_LOCK_ID = 0x7472_6F76  # "trov": one sealer at a time; posters never take it


def ledger_seal(*, batch_size: int = 5000, max_batches: int | None = None) -> int:
    """Seal committed, unsealed entries into the hash chain, in order, in batches.

    Only the sealer serialises (an advisory lock on PostgreSQL); posting never waits for it.
    Returns the number of entries sealed.
    """
    sealed = 0
    batches = 0
    while max_batches is None or batches < max_batches:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cur:
                    cur.execute("SELECT pg_try_advisory_xact_lock(%s)", [SEAL_LOCK_ID])
                    if not cur.fetchone()[0]:
                        return sealed
            head = ChainLink.objects.order_by("-seq").first()
            seq = head.seq if head else 0
            prev = head.link_hash if head else GENESIS_HASH
            entries = list(
                JournalEntry.objects.filter(chain_link__isnull=True).order_by("id")[:batch_size]
            )
            if not entries:
                return sealed
            by_entry: dict[int, list[Posting]] = {e.pk: [] for e in entries}
            for p in Posting.objects.filter(entry_id__in=by_entry.keys()):
                by_entry[p.entry_id].append(p)
            links = []
            for e in entries:
                seq += 1
                eh = entry_hash(e, by_entry[e.pk])
                lh = link_hash(prev, eh)
                links.append(
                    ChainLink(seq=seq, entry=e, entry_hash=eh, prev_hash=prev, link_hash=lh)
                )
                prev = lh
            ChainLink.objects.bulk_create(links)
            sealed += len(links)
            batches += 1
    return sealed
