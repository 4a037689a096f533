"""Ledger reads: balances, trial balance, general ledger, statements, chain verification.

Balances are signed debit-minus-credit sums; ``normal`` figures are shown on the account's
normal side. A balance as of a date starts from the latest checkpoint (written when a period is
closed, so it cannot go stale) and adds the postings since, so it costs the same at ten
postings or ten million.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, Exists, Max, OuterRef, Q, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy

from accounting.dates import HANOI
from accounting.errors import UnknownAccount
from accounting.models import (
    CLOSING_DOCUMENT_TYPE,
    Account,
    AccountCheckpoint,
    AccountTurnover,
    ChainHead,
    ChainLink,
    JournalEntry,
    PeriodClose,
    Posting,
    Side,
)
from accounting.services import (
    GENESIS_HASH,
    LEDGER_CHAIN,
    account_labels,
    chain_head_latest,
    entry_hash,
    entry_request_hash,
    link_hash,
)
from accounting.signing import (
    SignedHead,
    head_signature_valid,
    heads_parse,
    high_water_read,
    trusted_keys,
)

ZERO = Decimal(0)


def account_get(code: str) -> Account:
    try:
        return Account.objects.get(code=code)
    except Account.DoesNotExist:
        raise UnknownAccount(f"Tài khoản {code} không tồn tại.", field="account") from None


def _checkpoint_date(as_of: date) -> date | None:
    return PeriodClose.objects.filter(closed_through__lte=as_of).aggregate(m=Max("closed_through"))[
        "m"
    ]


def account_balance(
    *,
    account: Account | str,
    as_of: date,
    currency: str = "VND",
    fund_id: int | None = None,
    superior_union_id: int | None = None,
    grassroots_union_id: int | None = None,
    subledger: str | None = None,
) -> Decimal:
    """Signed balance (debit - credit) of an account and its subtree at the end of `as_of`.

    Whole-fund balances start from the latest checkpoint and add the turnover since (a few rows
    per account and day); balances of a union or a sub-ledger sum that dimension's postings
    (indexed).
    """
    subtree = _subtree_ids(account)
    postings = Posting.objects.filter(
        account_id__in=subtree, amount_currency=currency, effective_date__lte=as_of
    )
    if fund_id is not None:
        postings = postings.filter(fund_id=fund_id)
    dims = {
        k: v
        for k, v in (
            ("superior_union_id", superior_union_id),
            ("grassroots_union_id", grassroots_union_id),
            ("subledger", subledger),
        )
        if v is not None
    }
    base = ZERO
    if dims:
        postings = postings.filter(**dims)
    else:
        cp_date = _checkpoint_date(as_of)
        if cp_date is not None:
            cps = AccountCheckpoint.objects.filter(
                account_id__in=subtree, currency=currency, as_of=cp_date
            )
            if fund_id is not None:
                cps = cps.filter(fund_id=fund_id)
            base = cps.aggregate(s=Sum("balance"))["s"] or ZERO
        turnover = _turnover(currency=currency, as_of=as_of, since=cp_date, fund_id=fund_id)
        agg = turnover.filter(account_id__in=subtree).aggregate(d=Sum("debit"), c=Sum("credit"))
        return base + (agg["d"] or ZERO) - (agg["c"] or ZERO)
    return base + (postings.aggregate(s=Sum("amount"))["s"] or ZERO)


def _turnover(*, currency: str, as_of: date, since: date | None, fund_id: int | None):
    """Turnover rows dated in (since, as_of], of one fund or all (``AccountTurnover``)."""
    rows = AccountTurnover.objects.filter(currency=currency, effective_date__lte=as_of)
    if since is not None:
        rows = rows.filter(effective_date__gt=since)
    if fund_id is not None:
        rows = rows.filter(fund_id=fund_id)
    return rows.order_by()


def _subtree_ids(account: Account | str) -> list[int]:
    """Ids of the account and its descendants; an account code is looked up in the same query
    (UnknownAccount when there is none)."""
    if not isinstance(account, str):
        return list(
            Account.objects.filter(path__startswith=account.path).values_list("id", flat=True)
        )
    path = Account.objects.filter(code=account).values("path")[:1]
    ids = list(Account.objects.filter(path__startswith=Subquery(path)).values_list("id", flat=True))
    if not ids:
        raise UnknownAccount(f"Tài khoản {account} không tồn tại.", field="account")
    return ids


def normal_balance(account: Account, signed: Decimal) -> Decimal:
    return signed if account.normal_side == Side.DEBIT else -signed


def balances_by_account(
    *, as_of: date, since: date | None = None, currency: str = "VND", **dims
) -> dict[int, Decimal]:
    """Signed balance of every leaf account at the end of `as_of` (movement only after `since`).

    `dims` filter postings by fund_id, superior_union_id, grassroots_union_id or subledger.
    """
    result: dict[int, Decimal] = defaultdict(lambda: ZERO)
    dims = {k: v for k, v in dims.items() if v is not None}
    if set(dims) <= {"fund_id"}:
        # The whole fund (or all funds): the latest checkpoint plus the turnover since.
        cp_date = None
        if since is None:
            cp_date = _checkpoint_date(as_of)
            if cp_date is not None:
                for acc, bal in AccountCheckpoint.objects.filter(
                    as_of=cp_date, currency=currency, **dims
                ).values_list("account_id", "balance"):
                    result[acc] += bal
        rows = _turnover(
            currency=currency, as_of=as_of, since=since or cp_date, fund_id=dims.get("fund_id")
        )
        for acc, d, c in (
            rows.values("account_id")
            .annotate(d=Sum("debit"), c=Sum("credit"))
            .values_list("account_id", "d", "c")
        ):
            result[acc] += d - c
        return result
    postings = Posting.objects.filter(amount_currency=currency, effective_date__lte=as_of, **dims)
    if since is not None:
        postings = postings.filter(effective_date__gt=since)
    for acc, s in (
        postings.values("account_id").annotate(s=Sum("amount")).values_list("account_id", "s")
    ):
        result[acc] += s
    return result


@dataclass
class BalanceRow:
    account: Account
    depth: int
    is_leaf: bool
    balance: Decimal  # signed debit - credit, subtree included

    @property
    def debit(self) -> Decimal:
        return self.balance if self.balance > 0 else ZERO

    @property
    def credit(self) -> Decimal:
        return -self.balance if self.balance < 0 else ZERO


@dataclass
class TrialBalance:
    as_of: date
    rows: list[BalanceRow]
    total_debit: Decimal
    total_credit: Decimal

    @property
    def balanced(self) -> bool:
        return self.total_debit == self.total_credit


def _rollup(leaf_balances: dict[int, Decimal], accounts=None) -> list[BalanceRow]:
    if accounts is None:
        accounts = list(Account.objects.order_by("path"))
    parents = {a.parent_id for a in accounts if a.parent_id}
    by_id = {a.pk: a for a in accounts}
    totals: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for acc_id, bal in leaf_balances.items():
        node = by_id.get(acc_id)
        while node is not None:
            totals[node.pk] += bal
            node = by_id.get(node.parent_id) if node.parent_id else None
    return [
        BalanceRow(a, a.path.count("/") - 2, a.pk not in parents, totals[a.pk]) for a in accounts
    ]


def trial_balance(
    *, as_of: date, currency: str = "VND", accounts: list[Account] | None = None, **dims
) -> TrialBalance:
    """Every account's balance at the end of `as_of`; leaf debits equal leaf credits.

    `accounts`: the chart in path order, when the caller has already read it (two trial
    balances of one report share it); read here otherwise."""
    rows = _rollup(balances_by_account(as_of=as_of, currency=currency, **dims), accounts)
    leaves = [r for r in rows if r.is_leaf]
    return TrialBalance(
        as_of=as_of,
        rows=rows,
        total_debit=sum((r.debit for r in leaves), ZERO),
        total_credit=sum((r.credit for r in leaves), ZERO),
    )


@dataclass
class LedgerLine:
    entry_id: int
    effective_date: date
    memo: str
    document_type: str
    document_id: str
    debit: Decimal
    credit: Decimal
    balance: Decimal  # running, on the account's normal side


@dataclass
class GeneralLedger:
    account: Account
    start: date
    end: date
    opening: Decimal
    lines: list[LedgerLine] = field(default_factory=list)
    total_debit: Decimal = ZERO
    total_credit: Decimal = ZERO
    closing: Decimal = ZERO


def _ledger_postings(account: Account, start: date, end: date, currency: str, dims: dict):
    """The postings of `account` and its subtree in [start, end], in the ledger's order."""
    return Posting.objects.filter(
        account_id__in=_subtree_ids(account),
        amount_currency=currency,
        effective_date__gte=start,
        effective_date__lte=end,
        **{k: v for k, v in dims.items() if v is not None},
    ).order_by("effective_date", "entry_id", "id")


def _ledger_lines(account: Account, postings, running: Decimal):
    """`postings` (ordered) as ledger lines, the balance running on from `running` (signed)."""
    rows = postings.values_list(
        "entry_id",
        "effective_date",
        "entry__memo",
        "entry__document_type",
        "entry__document_id",
        "amount",
    )
    for entry_id, day, memo, doc_type, doc_id, amt in rows.iterator(chunk_size=2000):
        running += amt
        yield LedgerLine(
            entry_id,
            day,
            memo,
            doc_type,
            doc_id,
            amt if amt > 0 else ZERO,
            -amt if amt < 0 else ZERO,
            normal_balance(account, running),
        )


def _ledger_head(account, start, end, currency, dims) -> tuple[Account, Decimal]:
    if isinstance(account, str):
        account = account_get(account)
    return account, account_balance(
        account=account, as_of=start - timedelta(days=1), currency=currency, **dims
    )


def general_ledger(
    *, account: Account | str, start: date, end: date, currency: str = "VND", **dims
) -> GeneralLedger:
    """Postings of an account (and subtree) in [start, end] with opening and closing balances."""
    account, opening_signed = _ledger_head(account, start, end, currency, dims)
    gl = GeneralLedger(account, start, end, normal_balance(account, opening_signed))
    running = opening_signed
    for line in _ledger_lines(
        account, _ledger_postings(account, start, end, currency, dims), running
    ):
        gl.lines.append(line)
        gl.total_debit += line.debit
        gl.total_credit += line.credit
        running += line.debit - line.credit
    gl.closing = normal_balance(account, running)
    return gl


@dataclass
class GeneralLedgerPage(GeneralLedger):
    """One page of a general ledger: the period's opening, totals and closing, and of the page
    its lines with the balance brought forward from the pages before (`page_opening`)."""

    page: int = 1
    per_page: int = 500
    offset: int = 0  # lines of the period before this page's first
    count: int = 0  # lines in the whole period
    page_opening: Decimal = ZERO
    page_closing: Decimal = ZERO

    @property
    def pages(self) -> int:
        return max(1, -(-self.count // self.per_page))

    @property
    def first_number(self) -> int:
        return self.offset + 1 if self.lines else 0

    @property
    def last_number(self) -> int:
        return self.first_number + len(self.lines) - 1 if self.lines else 0


GENERAL_LEDGER_PAGE_SIZE = 500


def general_ledger_page(
    *,
    account: Account | str,
    start: date,
    end: date,
    page: int = 1,
    per_page: int = GENERAL_LEDGER_PAGE_SIZE,
    offset: int | None = None,
    currency: str = "VND",
    **dims,
) -> GeneralLedgerPage:
    """Page `page` (from 1; past the last, the last) of the general ledger of `account` in
    [start, end] or, given `offset` (the API's limit and offset), the `per_page` lines after the
    first `offset` (past the end, none): a fixed number of queries whatever the period's size.
    The page's running
    balance starts from the period's opening plus every posting of the pages before (one sum in
    the database), so a line shows the same balance paged or not."""
    account, opening_signed = _ledger_head(account, start, end, currency, dims)
    postings = _ledger_postings(account, start, end, currency, dims)
    agg = postings.order_by().aggregate(
        n=Count("id"),
        d=Sum("amount", filter=Q(amount__gt=0)),
        c=Sum("amount", filter=Q(amount__lt=0)),
    )
    gl = GeneralLedgerPage(
        account,
        start,
        end,
        normal_balance(account, opening_signed),
        per_page=per_page,
        count=agg["n"],
        total_debit=agg["d"] or ZERO,
        total_credit=-(agg["c"] or ZERO),
    )
    gl.closing = normal_balance(account, opening_signed + gl.total_debit - gl.total_credit)
    if offset is None:
        gl.page = min(max(1, page), gl.pages)
        offset = (gl.page - 1) * per_page
    else:
        gl.page = offset // per_page + 1
    gl.offset = offset
    running = opening_signed
    if offset:
        before = Posting.objects.filter(pk__in=postings.values("pk")[:offset])
        running += before.aggregate(s=Sum("amount"))["s"] or ZERO
    gl.page_opening = normal_balance(account, running)
    gl.lines = list(_ledger_lines(account, postings[offset : offset + per_page], running))
    gl.page_closing = gl.lines[-1].balance if gl.lines else gl.page_opening
    return gl


def general_ledger_rows(
    *, account: Account | str, start: date, end: date, currency: str = "VND", **dims
):
    """The general ledger for an export, without holding it in memory: ``(account, opening,
    lines)`` where `lines` is an iterator read from the database in chunks (the balance
    running, normal side), and the totals come from the lines themselves."""
    account, opening_signed = _ledger_head(account, start, end, currency, dims)
    postings = _ledger_postings(account, start, end, currency, dims)
    return (
        account,
        normal_balance(account, opening_signed),
        _ledger_lines(account, postings, opening_signed),
    )


@dataclass
class StatementLine:
    code: str
    name: str
    amount: Decimal
    name_en: str = ""  # the account's English name (shown on English pages)


def balance_sheet(*, as_of: date, currency: str = "VND", **dims) -> dict[str, list[StatementLine]]:
    """Assets, liabilities and fund capital (surplus of the year included) as of a date."""
    rows = _rollup(balances_by_account(as_of=as_of, currency=currency, **dims))
    out: dict[str, list[StatementLine]] = {"asset": [], "liability": [], "equity": []}
    surplus = ZERO
    for r in rows:
        if r.depth != 0:
            continue
        t = r.account.account_type
        if t in ("income", "expense"):
            surplus += -r.balance
            continue
        amount = r.balance if t == "asset" else -r.balance
        out[t].append(StatementLine(r.account.code, r.account.name, amount, r.account.name_en))
    if surplus:  # none once the year is closed (income and expenses moved to 421)
        out["equity"].append(
            StatementLine("", gettext_lazy("Chênh lệch thu chi kỳ này chưa kết chuyển"), surplus)
        )
    return out


def income_statement(*, start: date, end: date, currency: str = "VND", **dims) -> dict:
    """Income and expenses moved in [start, end] and the resulting surplus; the year-end
    closing entries (``CLOSING_DOCUMENT_TYPE``), which empty those accounts, are left out."""
    from datetime import timedelta

    moved = balances_by_account(
        as_of=end, since=start - timedelta(days=1), currency=currency, **dims
    )
    closing = Posting.objects.filter(
        entry__document_type=CLOSING_DOCUMENT_TYPE,
        amount_currency=currency,
        effective_date__gte=start,
        effective_date__lte=end,
        **{k: v for k, v in dims.items() if v is not None},
    )
    for acc, s in (
        closing.values("account_id").annotate(s=Sum("amount")).values_list("account_id", "s")
    ):
        moved[acc] -= s
    rows = _rollup(moved)
    income = [
        StatementLine(r.account.code, r.account.name, -r.balance, r.account.name_en)
        for r in rows
        if r.account.account_type == "income" and r.is_leaf and r.balance
    ]
    expense = [
        StatementLine(r.account.code, r.account.name, r.balance, r.account.name_en)
        for r in rows
        if r.account.account_type == "expense" and r.is_leaf and r.balance
    ]
    ti = sum((x.amount for x in income), ZERO)
    te = sum((x.amount for x in expense), ZERO)
    return {
        "income": income,
        "expense": expense,
        "total_income": ti,
        "total_expense": te,
        "surplus": ti - te,
    }


# --------------------------------------------------------------------------------------------
# Chain verification


@dataclass
class ChainReport:
    ok: bool
    links_checked: int
    unsealed_entries: int
    head_seq: int
    head_hash: str
    first_broken_seq: int | None = None
    first_broken_entry_id: int | None = None
    problem: str = ""


def ledger_chain_head() -> tuple[int, str]:
    head = ChainLink.objects.order_by("-seq").first()
    return (head.seq, head.link_hash) if head else (0, GENESIS_HASH)


def ledger_signed_head() -> SignedHead | None:
    """The last signed head of the ledger: what reports and statements print."""
    return chain_head_latest(LEDGER_CHAIN)


# Every sealed chain by name, and its link model (fields seq, link_hash); other apps register
# theirs (the audit log, ``fund.apps``) so heads and published heads are checked one way.
CHAIN_MODELS: dict[str, type] = {LEDGER_CHAIN: ChainLink}


def chain_register(name: str, link_model: type) -> None:
    CHAIN_MODELS[name] = link_model


def chain_heads_verify(*, chain: str, head_seq: int, head_hash: str) -> str:
    """The problem with `chain`'s signed heads against its links, or "" when there is none.

    Every stored head must carry a valid signature of a trusted key and still be a link of the
    chain (a rewritten link no longer matches a head signed after it); the last signed head must
    be the chain's head (a truncated chain falls short of it, links appended without the sealer
    lie beyond it); and the high-water mark kept outside the database must not be ahead of the
    stored heads (truncation that deleted the signed heads too).
    """
    link_model = CHAIN_MODELS[chain]
    keys = trusted_keys()
    heads = ChainHead.objects.filter(chain=chain)
    for h in heads.order_by("seq").iterator(chunk_size=5000):
        head = SignedHead(h.chain, h.seq, h.link_hash, h.signed_at, h.key_id, h.signature)
        if not head_signature_valid(head, keys):
            return f"đầu chuỗi #{h.seq} có chữ ký không hợp lệ (khóa {h.key_id})"
    lost = (
        heads.exclude(
            Exists(link_model.objects.filter(seq=OuterRef("seq"), link_hash=OuterRef("link_hash")))
        )
        .order_by("seq")
        .first()
    )
    if lost is not None:
        return (
            f"mắt xích #{lost.seq} không còn là đầu chuỗi đã ký lúc "
            f"{lost.signed_at:%d/%m/%Y %H:%M}: chuỗi đã bị cắt hoặc viết lại"
        )
    last = chain_head_latest(chain)
    mark = high_water_read(chain)
    if mark is not None and (last is None or last.seq < mark.seq):
        return (
            f"chuỗi chỉ còn đến đầu chuỗi đã ký #{last.seq if last else 0}, mốc cao nhất "
            f"giữ ngoài CSDL là #{mark.seq}: đầu chuỗi đã ký bị xóa"
        )
    if mark is not None and not head_signature_valid(mark, keys):
        return f"mốc cao nhất giữ ngoài CSDL (#{mark.seq}) có chữ ký không hợp lệ"
    signed = (last.seq, last.link_hash) if last else (0, GENESIS_HASH)
    if head_seq and signed != (head_seq, head_hash):
        return (
            f"các mắt xích #{signed[0] + 1}–#{head_seq} không được ký: thêm vào ngoài bộ niêm phong"
        )
    return ""


@dataclass
class PublishedHeadResult:
    head: SignedHead
    ok: bool
    problem: str = ""


def published_heads_check(text: str) -> list[PublishedHeadResult]:
    """Every head line in `text` (the heads an auditor kept) checked against today's chains:
    a valid signature of a trusted key, and the link it names still there with its hash."""
    keys = trusted_keys()
    results = []
    for head in heads_parse(text):
        model = CHAIN_MODELS.get(head.chain)
        if model is None:
            problem = f"không có chuỗi '{head.chain}'"
        elif not head_signature_valid(head, keys):
            problem = f"chữ ký không hợp lệ (khóa {head.key_id})"
        elif not model.objects.filter(seq=head.seq, link_hash=head.link_hash).exists():
            problem = f"mắt xích #{head.seq} không còn mang mã băm này: chuỗi đã bị viết lại"
        else:
            problem = ""
        results.append(PublishedHeadResult(head, not problem, problem))
    return results


def ledger_verify(*, chunk: int = 5000) -> ChainReport:
    """Walk the chain in order; recompute every entry's hash from what the tables hold now,
    then check the signed heads (`chain_heads_verify`).

    Reports the first link whose entry was altered or removed, or whose chaining is broken, or
    the problem with the signed heads.
    """
    labels = account_labels()
    prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    last_seq = 0
    while True:
        links = list(ChainLink.objects.filter(seq__gte=expected_seq).order_by("seq")[:chunk])
        if not links:
            break
        entry_ids = [lk.entry_id for lk in links]
        entries = {e.pk: e for e in JournalEntry.objects.filter(pk__in=entry_ids)}
        postings: dict[int, list[Posting]] = defaultdict(list)
        for p in Posting.objects.filter(entry_id__in=entry_ids):
            postings[p.entry_id].append(p)
        for lk in links:
            problem = ""
            if lk.seq != expected_seq:
                problem = f"thiếu mắt xích số {expected_seq}"
            elif lk.prev_hash != prev or lk.link_hash != link_hash(prev, lk.entry_hash):
                problem = "mắt xích không nối với mắt xích trước"
            elif lk.entry_id not in entries:
                problem = f"bút toán #{lk.entry_id} đã bị xóa"
            elif (
                entry_hash(
                    entries[lk.entry_id], postings[lk.entry_id], labels, version=lk.hash_version
                )
                != lk.entry_hash
            ):
                problem = f"bút toán #{lk.entry_id} đã bị sửa sau khi niêm phong"
            if problem:
                return ChainReport(
                    ok=False,
                    links_checked=checked,
                    unsealed_entries=_unsealed_count(),
                    head_seq=last_seq,
                    head_hash=prev,
                    first_broken_seq=lk.seq,
                    first_broken_entry_id=lk.entry_id,
                    problem=problem,
                )
            prev = lk.link_hash
            expected_seq += 1
            last_seq = lk.seq
            checked += 1
    problem = chain_heads_verify(chain=LEDGER_CHAIN, head_seq=last_seq, head_hash=prev)
    forged = None if problem else unsealed_entry_forged(labels)
    if forged is not None:
        problem = (
            f"bút toán chưa niêm phong #{forged} không khớp mã xác thực yêu cầu: ghi hoặc sửa "
            f"ngoài dịch vụ sổ cái"
        )
    return ChainReport(
        ok=not problem,
        links_checked=checked,
        unsealed_entries=_unsealed_count(),
        head_seq=last_seq,
        head_hash=prev,
        problem=problem,
    )


# --------------------------------------------------------------------------------------------
# Checkpoint verification


@dataclass
class CheckpointDifference:
    account_code: str
    as_of: date
    currency: str
    fund_id: int | None
    checkpoint_balance: Decimal | None  # None: the checkpoint is missing
    actual_balance: Decimal
    checkpoint_count: int | None
    actual_count: int

    def describe(self) -> str:
        fund = f", quỹ {self.fund_id}" if self.fund_id is not None else ""
        if self.checkpoint_balance is None:
            return (
                f"Tài khoản {self.account_code} ({self.currency}{fund}) thiếu số dư chốt ngày "
                f"{self.as_of:%d/%m/%Y}: tổng định khoản {self.actual_balance} "
                f"({self.actual_count} định khoản)."
            )
        return (
            f"Tài khoản {self.account_code} ({self.currency}{fund}) ngày {self.as_of:%d/%m/%Y}: "
            f"số dư chốt {self.checkpoint_balance} ({self.checkpoint_count} định khoản), tổng "
            f"định khoản {self.actual_balance} ({self.actual_count} định khoản)."
        )


@dataclass
class CheckpointReport:
    checkpoints_checked: int
    closes: int
    differences: list[CheckpointDifference] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences


def checkpoints_verify() -> CheckpointReport:
    """Re-verify every `AccountCheckpoint` against the raw sum of postings up to its date.

    One pass over the postings up to the last close (grouped by day), accumulated close by
    close; reports checkpoints that differ from the raw sum and raw sums that have none.
    """
    closes = list(
        PeriodClose.objects.order_by("closed_through").values_list("closed_through", flat=True)
    )
    if not closes:
        return CheckpointReport(checkpoints_checked=0, closes=0)
    # Raw movement per key and per closed period (the first close on or after its date).
    movement: dict[tuple, list[list]] = defaultdict(lambda: [[ZERO, 0] for _ in closes])
    for acc, cur, fund, day, s, n in (
        Posting.objects.filter(effective_date__lte=closes[-1])
        .order_by()
        .values_list("account_id", "amount_currency", "fund_id", "effective_date")
        .annotate(s=Sum("amount"), n=Count("id"))
    ):
        bucket = movement[(acc, cur, fund)][bisect_left(closes, day)]
        bucket[0] += s
        bucket[1] += n
    actual: dict[tuple, tuple[Decimal, int]] = {}
    for key, buckets in movement.items():
        bal, cnt = ZERO, 0
        for close, (s, n) in zip(closes, buckets, strict=True):
            bal, cnt = bal + s, cnt + n
            if cnt:
                actual[(*key, close)] = (bal, cnt)
    codes = dict(Account.objects.values_list("id", "code"))
    report = CheckpointReport(checkpoints_checked=0, closes=len(closes))
    seen = set()
    for cp in AccountCheckpoint.objects.order_by("as_of", "account_id", "currency", "fund_id"):
        key = (cp.account_id, cp.currency, cp.fund_id, cp.as_of)
        seen.add(key)
        report.checkpoints_checked += 1
        bal, cnt = actual.get(key, (ZERO, 0))
        if cp.balance != bal or cp.posting_count != cnt:
            report.differences.append(
                CheckpointDifference(
                    codes.get(cp.account_id, str(cp.account_id)),
                    cp.as_of,
                    cp.currency,
                    cp.fund_id,
                    cp.balance,
                    bal,
                    cp.posting_count,
                    cnt,
                )
            )
    for key in sorted(actual.keys() - seen, key=lambda k: (k[3], k[0], k[1], k[2] or 0)):
        bal, cnt = actual[key]
        report.differences.append(
            CheckpointDifference(
                codes.get(key[0], str(key[0])), key[3], key[1], key[2], None, bal, None, cnt
            )
        )
    return report


def unsealed_entry_forged(labels: dict | None = None) -> int | None:
    """The first entry not yet sealed whose request MAC does not match its rows (written or
    altered outside the services, by someone without the MAC key), or None."""
    codes = {pk: code for pk, (code, _path) in (labels or account_labels()).items()}
    unsealed = JournalEntry.objects.filter(chain_link__isnull=True).order_by("id")
    last = 0
    while True:
        entries = list(unsealed.filter(id__gt=last)[:5000])
        if not entries:
            return None
        postings: dict[int, list[Posting]] = defaultdict(list)
        for p in Posting.objects.filter(entry_id__in=[e.pk for e in entries]):
            postings[p.entry_id].append(p)
        for e in entries:
            if entry_request_hash(e, postings[e.pk], codes) != e.request_hash:
                return e.pk
        last = entries[-1].pk


def _unsealed_count() -> int:
    return JournalEntry.objects.filter(chain_link__isnull=True).count()


def ledger_seal_lag_seconds() -> float:
    """How long the oldest entry not yet in the hash chain has waited (0 when all are sealed):
    /readyz and the metrics watch it, since the sealer runs every minute."""
    oldest = (
        JournalEntry.objects.filter(chain_link__isnull=True)
        .order_by("id")
        .values_list("recorded_at", flat=True)
        .first()
    )
    if oldest is None:
        return 0.0
    return max(0.0, (timezone.now() - oldest).total_seconds())


def backdated_entries(
    *, start: date, end: date, fund_id: int | None = None, by: str = "value"
) -> list[JournalEntry]:
    """The back-dated entries (posted with a reason, ``JournalEntry.backdated_reason``) dated
    from `start` to `end` (`by` "value": their value date; "recorded": the day they were
    recorded, in Hà Nội), of `fund_id` (an entry with a posting of it) when given; in order of
    value date. Each carries ``total``, the sum of its debits (of that fund's postings)."""
    qs = JournalEntry.objects.exclude(backdated_reason="").select_related("posted_by")
    if by == "recorded":
        qs = qs.filter(
            recorded_at__gte=_hanoi_midnight(start),
            recorded_at__lt=_hanoi_midnight(end + timedelta(days=1)),
        )
    else:
        qs = qs.filter(effective_date__gte=start, effective_date__lte=end)
    postings = Posting.objects.filter(amount__gt=0)
    if fund_id is not None:
        qs = qs.filter(Exists(Posting.objects.filter(entry=OuterRef("pk"), fund_id=fund_id)))
        postings = postings.filter(fund_id=fund_id)
    entries = list(qs.order_by("effective_date", "id"))
    totals = dict(
        postings.filter(entry_id__in=[e.pk for e in entries])
        .values("entry_id")
        .order_by()
        .annotate(total=Sum("amount"))
        .values_list("entry_id", "total")
    )
    for e in entries:
        e.total = Decimal(totals.get(e.pk) or 0)
    return entries


def _hanoi_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=HANOI)


def entries_for_document(*, document_type: str, document_id) -> list[JournalEntry]:
    return list(
        JournalEntry.objects.filter(document_type=document_type, document_id=str(document_id))
        .prefetch_related("postings__account")
        .order_by("id")
    )


def turnover_by_account(
    *, start: date, end: date, currency: str = "VND", **dims
) -> dict[int, tuple[Decimal, Decimal]]:
    """Debit and credit movement (both positive) of every leaf account in [start, end].

    The two columns of a trial balance's "phát sinh trong kỳ"; `dims` as in
    ``balances_by_account``.
    """
    from django.db.models import Case, DecimalField, Q, Value, When

    dims = {k: v for k, v in dims.items() if v is not None}
    if set(dims) <= {"fund_id"}:
        rows = (
            _turnover(
                currency=currency,
                as_of=end,
                since=start - timedelta(days=1),
                fund_id=dims.get("fund_id"),
            )
            .values("account_id")
            .annotate(d=Sum("debit"), c=Sum("credit"))
            .values_list("account_id", "d", "c")
        )
        return {acc: (d, c) for acc, d, c in rows}
    zero = Value(ZERO, output_field=DecimalField(max_digits=20, decimal_places=0))
    rows = (
        Posting.objects.filter(
            amount_currency=currency, effective_date__gte=start, effective_date__lte=end, **dims
        )
        .order_by()
        .values("account_id")
        .annotate(
            d=Sum(Case(When(Q(amount__gt=0), then="amount"), default=zero)),
            c=Sum(Case(When(Q(amount__lt=0), then="amount"), default=zero)),
        )
        .values_list("account_id", "d", "c")
    )
    return {acc: (d or ZERO, -(c or ZERO)) for acc, d, c in rows}


@dataclass
class TurnoverDifference:
    account_code: str
    currency: str
    fund_id: int | None
    effective_date: date
    turnover: tuple[Decimal, Decimal, int]  # debit, credit, postings per AccountTurnover
    actual: tuple[Decimal, Decimal, int]  # the same summed from the postings

    def describe(self) -> str:
        fund = f", quỹ {self.fund_id}" if self.fund_id is not None else ""
        return (
            f"Tài khoản {self.account_code} ({self.currency}{fund}) ngày "
            f"{self.effective_date:%d/%m/%Y}: phát sinh ghi nhận Nợ {self.turnover[0]} / Có "
            f"{self.turnover[1]} ({self.turnover[2]} định khoản), tổng định khoản Nợ "
            f"{self.actual[0]} / Có {self.actual[1]} ({self.actual[2]} định khoản)."
        )


@dataclass
class TurnoverReport:
    keys_checked: int
    differences: list[TurnoverDifference] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences


def turnover_verify() -> TurnoverReport:
    """Compare ``AccountTurnover`` with the raw postings, per account, currency, fund and day.

    Both sides are read in one transaction (on PostgreSQL a repeatable-read snapshot when run
    outside a transaction), so postings committed meanwhile cannot show as a difference.
    """
    from django.db import connection, transaction
    from django.db.models import Case, DecimalField, Q, Value, When

    zero = Value(ZERO, output_field=DecimalField(max_digits=20, decimal_places=0))
    outer = not connection.in_atomic_block
    with transaction.atomic():
        if outer and connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        actual = {
            (acc, cur, fund, day): (d or ZERO, -(c or ZERO), n)
            for acc, cur, fund, day, d, c, n in Posting.objects.order_by()
            .values_list("account_id", "amount_currency", "fund_id", "effective_date")
            .annotate(
                d=Sum(Case(When(Q(amount__gt=0), then="amount"), default=zero)),
                c=Sum(Case(When(Q(amount__lt=0), then="amount"), default=zero)),
                n=Count("id"),
            )
        }
        kept = {
            (acc, cur, fund, day): (d, c, n)
            for acc, cur, fund, day, d, c, n in AccountTurnover.objects.order_by()
            .values_list("account_id", "currency", "fund_id", "effective_date")
            .annotate(d=Sum("debit"), c=Sum("credit"), n=Sum("postings"))
        }
    codes = dict(Account.objects.values_list("id", "code"))
    report = TurnoverReport(keys_checked=len(actual.keys() | kept.keys()))
    none = (ZERO, ZERO, 0)
    for key in sorted(actual.keys() | kept.keys(), key=lambda k: (k[3], k[0], k[1], k[2] or 0)):
        a, k = actual.get(key, none), kept.get(key, none)
        if tuple(a) != tuple(k):
            acc, cur, fund, day = key
            report.differences.append(
                TurnoverDifference(codes.get(acc, str(acc)), cur, fund, day, k, a)
            )
    return report
