"""Ledger services: posting, idempotency, refusals, reversal, bulk posting, period close, chain."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from djmoney.money import Money

from accounting import services
from accounting.errors import (
    AccountNotPostable,
    IdempotencyConflict,
    InvalidAmount,
    LedgerError,
    PeriodClosed,
    PostedRowImmutable,
    ReversalRefused,
    TooFewPostings,
    UnbalancedEntry,
    UnknownAccount,
    WrongCurrency,
)
from accounting.models import (
    AccountCheckpoint,
    ChainLink,
    JournalEntry,
    PeriodClose,
    Posting,
)
from accounting.selectors import account_balance
from accounting.services import (
    GENESIS_HASH,
    EntrySpec,
    Leg,
    chart_load,
    credit,
    debit,
    journal_entries_post_bulk,
    journal_entry_post,
    journal_entry_reverse,
    ledger_seal,
    link_hash,
    period_close,
)
from accounting.tests.factories import DAY, UserFactory, account_add, entry_post, new_key
from accounting.tests.helpers import ledger_rows

pytestmark = pytest.mark.django_db


# --------------------------------------------------------------------------------------------
# Posting


def test_post_balanced_entry_writes_signed_postings_with_dimensions():
    user = UserFactory()
    entry = journal_entry_post(
        effective_date=DAY,
        legs=[
            debit(
                "1283",
                20_000_000,
                fund_id=1,
                superior_union_id=7,
                grassroots_union_id=70,
                subledger="loan:42",
            ),
            credit("1121", 20_000_000, fund_id=1),
        ],
        memo="Giải ngân khoản vay",
        idempotency_key="disburse-42",
        posted_by=user,
        document_type="loan",
        document_id=42,
    )
    entry.refresh_from_db()
    assert entry.effective_date == DAY
    assert entry.posted_by == user
    assert (entry.document_type, entry.document_id) == ("loan", "42")
    assert entry.recorded_at is not None
    legs = [
        (
            p.account.code,
            p.amount,
            p.fund_id,
            p.superior_union_id,
            p.grassroots_union_id,
            p.subledger,
            p.effective_date,
        )
        for p in entry.postings.order_by("id")
    ]
    assert legs == [
        ("1283", Money(20_000_000, "VND"), 1, 7, 70, "loan:42", DAY),
        ("1121", Money(-20_000_000, "VND"), 1, None, None, "", DAY),
    ]
    assert entry.postings.get(account__code="1283").debit == 20_000_000
    assert entry.postings.get(account__code="1121").credit == 20_000_000


def test_post_accepts_many_legs_int_decimal_string_and_money_amounts():
    entry = journal_entry_post(
        effective_date=DAY,
        legs=[
            debit("1121", 1_500_000),
            credit("1283", Decimal("1000000")),
            credit("13881", "400000"),
            credit("13882", Money(100_000, "VND")),
        ],
        memo="Thu nợ gốc, lãi và phạt",
        idempotency_key=new_key(),
    )
    assert sorted(p.amount.amount for p in entry.postings.all()) == [
        -1_000_000,
        -400_000,
        -100_000,
        1_500_000,
    ]


def test_same_key_and_same_content_returns_the_first_entry():
    first = entry_post(5_000_000, key="capital-1")
    again = entry_post(5_000_000, key="capital-1")
    assert again.pk == first.pk
    assert ledger_rows() == (1, 2)


def test_same_key_with_different_content_is_refused():
    entry_post(5_000_000, key="capital-1")
    with pytest.raises(IdempotencyConflict, match="capital-1") as e:
        entry_post(6_000_000, key="capital-1")
    assert e.value.field == "idempotency_key"
    with pytest.raises(IdempotencyConflict):
        entry_post(5_000_000, key="capital-1", on=DAY + timedelta(days=1))
    with pytest.raises(IdempotencyConflict):
        entry_post(5_000_000, key="capital-1", fund_id=2)
    assert ledger_rows() == (1, 2)


def _post(legs, **kw):
    args = dict(effective_date=DAY, legs=legs, memo="Thử", idempotency_key=new_key())
    args.update(kw)
    return journal_entry_post(**args)


BAD_INPUT = [
    # (id, call, exception class, words of the message)
    (
        "zero debit",
        lambda: _post([debit("1121", 0), credit("4111", 0)]),
        InvalidAmount,
        "lớn hơn 0",
    ),
    (
        "negative credit",
        lambda: _post([debit("1121", 5), credit("4111", -5)]),
        InvalidAmount,
        "lớn hơn 0",
    ),
    ("zero leg", lambda: _post([Leg("1121", 0), Leg("4111", 0)]), InvalidAmount, "bằng 0"),
    (
        "fraction Decimal",
        lambda: _post([debit("1121", Decimal("1.5")), credit("4111", 2)]),
        InvalidAmount,
        "phần lẻ của đồng",
    ),
    (
        "fraction string",
        lambda: _post([debit("1121", "100.5"), credit("4111", 100)]),
        InvalidAmount,
        "phần lẻ của đồng",
    ),
    (
        "fraction in a Leg",
        lambda: _post([Leg("1121", Decimal("0.5")), Leg("4111", -1)]),
        InvalidAmount,
        "phần lẻ của đồng",
    ),
    ("float", lambda: _post([debit("1121", 100.0), credit("4111", 100)]), InvalidAmount, "số thực"),
    (
        "not a number",
        lambda: _post([debit("1121", "một trăm"), credit("4111", 100)]),
        InvalidAmount,
        "không hợp lệ",
    ),
    (
        "infinite",
        lambda: _post([debit("1121", Decimal("Infinity")), credit("4111", 1)]),
        InvalidAmount,
        "không hợp lệ",
    ),
    (
        "too large",
        lambda: _post([debit("1121", 10**21), credit("4111", 10**21)]),
        InvalidAmount,
        "20 chữ số",
    ),
    (
        "wrong currency",
        lambda: _post([debit("1121", 100, currency="USD"), credit("4111", 100)]),
        WrongCurrency,
        "không nhận USD",
    ),
    (
        "wrong Money",
        lambda: _post([debit("1121", Money(100, "USD")), credit("4111", 100)]),
        WrongCurrency,
        "không nhận USD",
    ),
    (
        "unknown account",
        lambda: _post([debit("9999", 100), credit("4111", 100)]),
        UnknownAccount,
        "9999 không tồn tại",
    ),
    (
        "non-leaf account",
        lambda: _post([debit("112", 100), credit("4111", 100)]),
        AccountNotPostable,
        "112 là tài khoản tổng hợp",
    ),
    ("one leg", lambda: _post([debit("1121", 100)]), TooFewPostings, "ít nhất 2"),
    ("no legs", lambda: _post([]), TooFewPostings, "ít nhất 2"),
    (
        "unbalanced",
        lambda: _post([debit("1121", 100), credit("4111", 90)]),
        UnbalancedEntry,
        "không cân: tổng Nợ lớn hơn Có 10 VND",
    ),
    (
        "unbalanced credit",
        lambda: _post([debit("1121", 1_000_000), credit("4111", 3_000_000)]),
        UnbalancedEntry,
        "Có lớn hơn Nợ 2.000.000 VND",
    ),
    (
        "two debits",
        lambda: _post([debit("1121", 100), debit("4111", 100)]),
        UnbalancedEntry,
        "không cân",
    ),
    (
        "no key",
        lambda: _post([debit("1121", 1), credit("4111", 1)], idempotency_key=" "),
        LedgerError,
        "khóa chống trùng",
    ),
    (
        "no memo",
        lambda: _post([debit("1121", 1), credit("4111", 1)], memo=""),
        LedgerError,
        "diễn giải",
    ),
    (
        "memo too long",
        lambda: _post([debit("1121", 1), credit("4111", 1)], memo="x" * 501),
        LedgerError,
        "memo dài quá 500",
    ),
    (
        "datetime as date",
        lambda: _post([debit("1121", 1), credit("4111", 1)], effective_date=datetime(2025, 3, 1)),
        LedgerError,
        "Ngày hạch toán phải là một ngày",
    ),
    (
        "union id not int",
        lambda: _post([debit("1121", 1, superior_union_id="7"), credit("4111", 1)]),
        LedgerError,
        "superior_union_id",
    ),
    ("not a leg", lambda: _post([("1121", 1), ("4111", -1)]), LedgerError, "không hợp lệ"),
]


@pytest.mark.parametrize(
    "call, error, words", [c[1:] for c in BAD_INPUT], ids=[c[0] for c in BAD_INPUT]
)
def test_bad_input_is_refused_by_name_and_nothing_is_written(call, error, words):
    with pytest.raises(error, match=words) as e:
        call()
    assert type(e.value) is error
    assert e.value.message
    assert ledger_rows() == (0, 0)


def test_posting_into_a_closed_period_is_refused_and_nothing_written():
    entry_post(on=date(2025, 1, 15))
    period_close(through=date(2025, 1, 31))
    with pytest.raises(PeriodClosed, match="khóa sổ đến ngày 31/01/2025") as e:
        entry_post(on=date(2025, 1, 31))
    assert e.value.field == "effective_date"
    assert ledger_rows() == (1, 2)
    entry_post(on=date(2025, 2, 1))
    assert ledger_rows() == (2, 4)


def test_retry_of_an_entry_posted_before_its_period_closed_returns_it():
    first = entry_post(on=date(2025, 1, 15), key="retry-after-close")
    period_close(through=date(2025, 1, 31))
    assert entry_post(on=date(2025, 1, 15), key="retry-after-close").pk == first.pk
    with pytest.raises(IdempotencyConflict):
        entry_post(7, on=date(2025, 1, 15), key="retry-after-close")


def test_account_added_to_the_chart_is_postable_and_its_parent_is_not():
    account_add("11211", parent="1121")  # 1121 had no postings, so it may become a parent
    entry_post(dr="11211")
    with pytest.raises(AccountNotPostable, match="1121"):
        entry_post(dr="1121")


def test_an_account_with_postings_cannot_become_a_parent():
    entry_post(dr="1121")
    with pytest.raises(AccountNotPostable, match="1121 đã có định khoản"):
        account_add("11211", parent="1121")
    assert not JournalEntry.objects.filter(postings__account__code="11211").exists()


def test_chart_load_is_idempotent():
    from accounting.models import Account

    before = list(Account.objects.values_list("code", "path", "parent__code", "normal_side"))
    chart_load()
    chart_load()
    after = list(Account.objects.values_list("code", "path", "parent__code", "normal_side"))
    assert after == before
    assert Account.objects.get(code="2293").normal_side == "credit"  # contra asset


def test_posted_rows_cannot_be_edited_or_deleted_through_the_orm():
    entry = entry_post()
    posting = entry.postings.first()
    posting.amount = Money(1, "VND")
    with pytest.raises(PostedRowImmutable):
        posting.save()
    with pytest.raises(PostedRowImmutable):
        entry.delete()
    with pytest.raises(PostedRowImmutable):
        Posting.objects.filter(entry=entry).update(subledger="x")
    with pytest.raises(PostedRowImmutable):
        JournalEntry.objects.all().delete()
    assert ledger_rows() == (1, 2)


# --------------------------------------------------------------------------------------------
# Reversal


def test_reversal_mirrors_the_legs_and_nets_to_zero():
    original = journal_entry_post(
        effective_date=DAY,
        legs=[
            debit(
                "1283", 10_000_000, superior_union_id=3, grassroots_union_id=30, subledger="loan:1"
            ),
            credit("1121", 10_000_000),
        ],
        memo="Giải ngân nhầm",
        idempotency_key="disburse-1",
        document_type="loan",
        document_id="1",
    )
    rev = journal_entry_reverse(entry=original, idempotency_key="reverse-1")
    assert rev.reversal_of_id == original.pk
    assert original.reversed_by == rev
    assert rev.effective_date == original.effective_date
    assert "Đảo bút toán" in rev.memo and (rev.document_type, rev.document_id) == ("loan", "1")
    mirror = [
        (p.account_id, -p.amount.amount, p.superior_union_id, p.grassroots_union_id, p.subledger)
        for p in original.postings.order_by("id")
    ]
    assert [
        (p.account_id, p.amount.amount, p.superior_union_id, p.grassroots_union_id, p.subledger)
        for p in rev.postings.order_by("id")
    ] == mirror
    assert account_balance(account="1283", as_of=DAY) == 0
    assert account_balance(account="1283", as_of=DAY, grassroots_union_id=30) == 0


def test_reversal_on_a_later_date_when_the_original_period_is_closed():
    original = entry_post(on=date(2025, 1, 10))
    period_close(through=date(2025, 1, 31))
    with pytest.raises(PeriodClosed):
        journal_entry_reverse(entry=original, idempotency_key="rev")
    rev = journal_entry_reverse(
        entry=original, idempotency_key="rev", effective_date=date(2025, 2, 3), memo="Điều chỉnh"
    )
    assert rev.effective_date == date(2025, 2, 3)
    assert account_balance(account="1121", as_of=date(2025, 2, 3)) == 0


def test_a_reversal_is_never_reversed():
    rev = journal_entry_reverse(entry=entry_post(), idempotency_key="rev-1")
    with pytest.raises(ReversalRefused, match="là bút toán đảo"):
        journal_entry_reverse(entry=rev, idempotency_key="rev-of-rev")
    with pytest.raises(ReversalRefused, match="là bút toán đảo"):
        journal_entry_post(
            effective_date=DAY,
            legs=[debit("4111", 1_000_000), credit("1121", 1_000_000)],
            memo="Đảo lần hai",
            idempotency_key="rev-of-rev-2",
            reversal_of=rev,
        )
    assert JournalEntry.objects.count() == 2


def test_an_entry_is_reversed_at_most_once():
    original = entry_post()
    first = journal_entry_reverse(entry=original, idempotency_key="rev-1")
    with pytest.raises(ReversalRefused, match=f"đã được đảo bởi bút toán #{first.pk}"):
        journal_entry_reverse(entry=original, idempotency_key="rev-2")
    assert JournalEntry.objects.count() == 2


def test_retrying_a_reversal_with_its_key_returns_the_same_reversal():
    original = entry_post()
    first = journal_entry_reverse(entry=original, idempotency_key="rev-1")
    again = journal_entry_reverse(entry=original, idempotency_key="rev-1")
    assert again.pk == first.pk
    assert ledger_rows() == (2, 4)


def test_a_reversal_key_reused_for_another_entry_is_refused():
    journal_entry_reverse(entry=entry_post(), idempotency_key="rev-1")
    with pytest.raises(IdempotencyConflict, match="rev-1"):
        journal_entry_reverse(entry=entry_post(), idempotency_key="rev-1")


# --------------------------------------------------------------------------------------------
# Bulk posting


def spec(n: int, amount=1_000, on: date = DAY, **kw) -> EntrySpec:
    return EntrySpec(
        effective_date=on,
        legs=[debit("13881", amount), credit("5151", amount)],
        memo=f"Dự thu lãi khoản vay {n}",
        idempotency_key=kw.pop("key", f"accrual-{n}"),
        document_type="loan",
        document_id=str(n),
        **kw,
    )


def test_bulk_posts_every_entry():
    assert journal_entries_post_bulk(entries=[spec(i, 1_000 + i) for i in range(50)]) == 50
    assert ledger_rows() == (50, 100)
    assert account_balance(account="5151", as_of=DAY) == -sum(1_000 + i for i in range(50))
    e = JournalEntry.objects.get(idempotency_key="accrual-7")
    assert [p.amount.amount for p in e.postings.order_by("id")] == [1_007, -1_007]
    assert e.document_id == "7"


def test_bulk_rerun_of_the_same_batch_posts_nothing():
    batch = [spec(i) for i in range(20)]
    assert journal_entries_post_bulk(entries=batch) == 20
    assert journal_entries_post_bulk(entries=[spec(i) for i in range(20)]) == 0
    assert journal_entries_post_bulk(entries=[spec(i) for i in range(25)]) == 5
    assert ledger_rows() == (25, 50)


@pytest.mark.parametrize(
    "bad, error, words",
    [
        (
            lambda: EntrySpec(
                effective_date=DAY,
                legs=[debit("13881", 5), credit("5151", 4)],
                memo="x",
                idempotency_key="accrual-99",
            ),
            UnbalancedEntry,
            "không cân",
        ),
        (
            lambda: EntrySpec(
                effective_date=DAY,
                legs=[debit("999", 5), credit("5151", 5)],
                memo="x",
                idempotency_key="accrual-99",
            ),
            UnknownAccount,
            "999",
        ),
        (
            lambda: EntrySpec(
                effective_date=DAY,
                legs=[Leg("13881", Decimal("2.5")), Leg("5151", Decimal("-2.5"))],
                memo="x",
                idempotency_key="accrual-99",
            ),
            InvalidAmount,
            "phần lẻ",
        ),
    ],
    ids=["unbalanced", "unknown account", "fraction"],
)
def test_bulk_is_all_or_nothing(bad, error, words):
    batch = [spec(i) for i in range(10)] + [bad()] + [spec(i) for i in range(10, 20)]
    with pytest.raises(error, match=f"Bút toán thứ 11 trong lô \\(khóa 'accrual-99'\\).*{words}"):
        journal_entries_post_bulk(entries=batch)
    assert ledger_rows() == (0, 0)


def test_bulk_key_reused_for_other_content_refuses_the_whole_batch():
    journal_entries_post_bulk(entries=[spec(1)])
    with pytest.raises(IdempotencyConflict, match="accrual-1"):
        journal_entries_post_bulk(entries=[spec(0), spec(1, amount=2_000), spec(2)])
    assert ledger_rows() == (1, 2)


def test_bulk_refuses_a_key_twice_in_one_batch():
    with pytest.raises(LedgerError, match="'accrual-1' lặp lại"):
        journal_entries_post_bulk(entries=[spec(1), spec(2), spec(1)])
    assert ledger_rows() == (0, 0)


def test_bulk_refuses_new_entries_in_a_closed_period_but_a_rerun_is_fine():
    journal_entries_post_bulk(entries=[spec(i, on=date(2025, 1, 20)) for i in range(3)])
    period_close(through=date(2025, 1, 31))
    assert journal_entries_post_bulk(entries=[spec(i, on=date(2025, 1, 20)) for i in range(3)]) == 0
    with pytest.raises(PeriodClosed, match="Bút toán thứ 4"):
        journal_entries_post_bulk(entries=[spec(i, on=date(2025, 1, 20)) for i in range(4)])
    assert ledger_rows() == (3, 6)


def test_bulk_reversals_follow_the_reversal_rules():
    a, b = entry_post(key="a"), entry_post(key="b")
    rev = EntrySpec(
        effective_date=DAY,
        legs=[debit("4111", 1_000_000), credit("1121", 1_000_000)],
        memo="Đảo a",
        idempotency_key="rev-a",
        reversal_of_id=a.pk,
    )
    assert journal_entries_post_bulk(entries=[rev]) == 1
    rev_again = EntrySpec(**{**rev.__dict__, "idempotency_key": "rev-a-2"})
    with pytest.raises(ReversalRefused, match="đã được đảo"):
        journal_entries_post_bulk(entries=[rev_again])
    rev_of_rev = EntrySpec(
        effective_date=DAY,
        legs=[debit("1121", 1_000_000), credit("4111", 1_000_000)],
        memo="Đảo của đảo",
        idempotency_key="rev-rev",
        reversal_of_id=JournalEntry.objects.get(idempotency_key="rev-a").pk,
    )
    with pytest.raises(ReversalRefused, match="là bút toán đảo"):
        journal_entries_post_bulk(entries=[rev_of_rev])
    twice = [
        EntrySpec(**{**rev.__dict__, "idempotency_key": k, "reversal_of_id": b.pk})
        for k in ("rb1", "rb2")
    ]
    with pytest.raises(ReversalRefused, match="hai lần"):
        journal_entries_post_bulk(entries=twice)
    assert JournalEntry.objects.count() == 3


@pytest.mark.postgres
def test_bulk_uses_copy_on_postgresql(monkeypatch):
    calls = []
    real = services._copy_entries
    monkeypatch.setattr(
        services, "_copy_entries", lambda specs, user: calls.append(len(specs)) or real(specs, user)
    )
    with CaptureQueriesContext(connection) as queries:
        assert journal_entries_post_bulk(entries=[spec(i) for i in range(30)]) == 30
    assert calls == [30]
    inserts = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("INSERT")]
    assert inserts == []  # the rows went in by COPY, not INSERT
    assert ledger_rows() == (30, 60)
    txids = set(JournalEntry.objects.values_list("txid", flat=True))
    assert len(txids) == 1 and None not in txids  # the triggers ran on the copied rows


def test_bulk_keeps_every_character_of_the_text_it_copies():
    """Tabs, newlines, backslashes and Vietnamese letters survive COPY's text format as sent."""
    memo = "Dự thu\tlãi\nkhoản vay \\N \\ cuối\r"
    user = UserFactory()
    batch = [
        EntrySpec(
            effective_date=DAY,
            legs=[
                debit("13881", 5, subledger="loan:\t1", fund_id=3, superior_union_id=7),
                credit("5151", 5, subledger="\\N"),
            ],
            memo=memo,
            idempotency_key="khóa\tđặc\\biệt",
            document_type="loan",
            document_id="a\nb",
        )
    ]
    assert journal_entries_post_bulk(entries=batch, posted_by=user) == 1
    e = JournalEntry.objects.get(idempotency_key="khóa\tđặc\\biệt")
    assert (e.memo, e.document_id, e.posted_by_id) == (memo, "a\nb", user.pk)
    legs = [
        (p.subledger, p.fund_id, p.superior_union_id, p.grassroots_union_id)
        for p in e.postings.order_by("id")
    ]
    assert legs == [("loan:\t1", 3, 7, None), ("\\N", None, None, None)]
    assert journal_entries_post_bulk(entries=batch) == 0  # the same request hash: a re-run


# --------------------------------------------------------------------------------------------
# Period close


def test_period_close_writes_checkpoints_and_closes_the_period():
    entry_post(1_000, on=date(2025, 1, 5), fund_id=1)
    entry_post(2_000, on=date(2025, 1, 6), fund_id=2)
    entry_post(4_000, on=date(2025, 2, 6), fund_id=1)
    user = UserFactory()
    pc = period_close(through=date(2025, 1, 31), closed_by=user, note="Khóa sổ tháng 1")
    assert pc.closed_by == user
    cps = {
        (c.account.code, c.fund_id): (c.balance, c.posting_count)
        for c in AccountCheckpoint.objects.filter(as_of=date(2025, 1, 31))
    }
    assert cps == {
        ("1121", 1): (1_000, 1),
        ("4111", 1): (-1_000, 1),
        ("1121", 2): (2_000, 1),
        ("4111", 2): (-2_000, 1),
    }
    period_close(through=date(2025, 2, 28))
    cps = {
        (c.account.code, c.fund_id): (c.balance, c.posting_count)
        for c in AccountCheckpoint.objects.filter(as_of=date(2025, 2, 28))
    }
    assert cps[("1121", 1)] == (5_000, 2)
    assert cps[("1121", 2)] == (2_000, 1)  # carried forward without new postings


def test_period_close_refuses_an_earlier_or_equal_date_and_the_future():
    period_close(through=date(2025, 1, 31))
    for d in (date(2025, 1, 31), date(2024, 12, 31)):
        with pytest.raises(PeriodClosed, match="31/01/2025"):
            period_close(through=d)
    with pytest.raises(PeriodClosed, match="chưa đến"):
        period_close(through=timezone.localdate() + timedelta(days=1))
    with pytest.raises(LedgerError, match="phải là một ngày"):
        period_close(through="2025-02-28")
    assert PeriodClose.objects.count() == 1


def test_period_close_can_be_today():
    today = timezone.localdate()
    entry_post(on=today)
    period_close(through=today)
    with pytest.raises(PeriodClosed):
        entry_post(on=today)


# --------------------------------------------------------------------------------------------
# Sealing


def test_ledger_seal_seals_in_order_in_batches():
    entries = [entry_post(1_000 + i) for i in range(5)]
    assert ledger_seal(batch_size=2, max_batches=1) == 2
    assert list(ChainLink.objects.values_list("seq", "entry_id")) == [
        (1, entries[0].pk),
        (2, entries[1].pk),
    ]
    assert ledger_seal(batch_size=2) == 3
    assert ledger_seal() == 0
    links = list(ChainLink.objects.order_by("seq"))
    assert [lk.entry_id for lk in links] == [e.pk for e in entries]
    prev = GENESIS_HASH
    for lk in links:
        assert lk.prev_hash == prev
        assert lk.link_hash == link_hash(prev, lk.entry_hash)
        prev = lk.link_hash
    entry_post(9)
    assert ledger_seal() == 1
    assert ChainLink.objects.order_by("-seq").first().prev_hash == links[-1].link_hash
