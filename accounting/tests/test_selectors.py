"""Ledger reads: balances with and without checkpoints, statements, chain and checkpoint checks."""

import calendar
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounting.models import Account, AccountCheckpoint, ChainLink, Posting
from accounting.selectors import (
    account_balance,
    balance_sheet,
    balances_by_account,
    checkpoints_verify,
    entries_for_document,
    general_ledger,
    income_statement,
    ledger_chain_head,
    ledger_verify,
    trial_balance,
    turnover_by_account,
)
from accounting.services import (
    GENESIS_HASH,
    credit,
    debit,
    journal_entry_post,
    ledger_seal,
    period_close,
)
from accounting.tests.factories import entry_post, new_key
from accounting.tests.helpers import tamper

pytestmark = pytest.mark.django_db


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


# --------------------------------------------------------------------------------------------
# Balances: checkpoints change nothing (property-based)

LEAVES = ["1111", "1121", "1283", "13881", "2293", "33881", "4111", "4112", "5151", "6421"]
SUBTREES = ["111", "112", "128", "138", "1388", "229", "338", "411", "515", "642"]
START = date(2024, 1, 1)
CLOSE_DATES = [month_end(2024, m) for m in range(1, 13)]

leg_pair = st.tuples(
    st.sampled_from(LEAVES),  # debit
    st.sampled_from(LEAVES),  # credit
    st.integers(min_value=1, max_value=10**12),
    st.sampled_from([None, 1, 2]),  # fund
)
entry_strategy = st.tuples(
    st.integers(min_value=0, max_value=420),  # day offset from START (into 2025)
    st.lists(leg_pair, min_size=1, max_size=3),
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    entries=st.lists(entry_strategy, min_size=1, max_size=10),
    closes=st.sets(st.sampled_from(CLOSE_DATES), max_size=4),
    probes=st.lists(st.integers(min_value=-5, max_value=430), min_size=1, max_size=4),
)
def test_checkpoint_balances_equal_raw_sums(entries, closes, probes):
    """Random balanced entries on random dates, some periods closed in between: every balance
    read through checkpoints equals the raw sum of the postings."""
    with transaction.atomic():
        raw: list[tuple[date, str, int, int | None]] = []  # (date, account, signed, fund)
        todo = sorted(
            ((START + timedelta(days=off), pairs) for off, pairs in entries), key=lambda e: e[0]
        )
        for close in sorted(closes) + [None]:
            while todo and (close is None or todo[0][0] <= close):
                day, pairs = todo.pop(0)
                legs = []
                for dr, cr, amount, fund in pairs:
                    legs += [debit(dr, amount, fund_id=fund), credit(cr, amount, fund_id=fund)]
                    raw += [(day, dr, amount, fund), (day, cr, -amount, fund)]
                journal_entry_post(
                    effective_date=day, legs=legs, memo="Thử", idempotency_key=new_key("hyp")
                )
            if close is not None:
                period_close(through=close)

        codes = dict(Account.objects.values_list("id", "code"))

        def expected(as_of, codes_in, fund="any"):
            return sum(
                (a for d, c, a, f in raw if d <= as_of and c in codes_in and fund in ("any", f)),
                Decimal(0),
            )

        for off in probes:
            as_of = START + timedelta(days=off)
            for code in LEAVES:
                assert account_balance(account=code, as_of=as_of) == expected(as_of, {code})
                assert account_balance(account=code, as_of=as_of, fund_id=1) == expected(
                    as_of, {code}, 1
                )
            for code in SUBTREES:
                in_tree = {c for c in LEAVES if c.startswith(code)}
                assert account_balance(account=code, as_of=as_of) == expected(as_of, in_tree)
            by_acc = {codes[k]: v for k, v in balances_by_account(as_of=as_of).items() if v}
            want = {c: expected(as_of, {c}) for c in LEAVES}
            assert by_acc == {c: v for c, v in want.items() if v}
            # And the database's own raw sum agrees (no checkpoint involved).
            for code in ("1121", "4111"):
                assert (
                    Posting.objects.filter(account__code=code, effective_date__lte=as_of).aggregate(
                        s=Sum("amount")
                    )["s"]
                    or 0
                ) == expected(as_of, {code})
            tb = trial_balance(as_of=as_of)
            assert tb.balanced
            assert tb.total_debit == sum((v for v in want.values() if v > 0), Decimal(0))
        assert checkpoints_verify().ok
        transaction.set_rollback(True)


def test_balances_are_the_same_before_and_after_a_close():
    entry_post(3_000_000, on=date(2025, 1, 10), fund_id=1)
    entry_post(500_000, dr="1283", cr="1121", on=date(2025, 1, 20), fund_id=1)
    entry_post(200_000, on=date(2025, 2, 5), fund_id=2)
    probes = [date(2025, 1, 9), date(2025, 1, 10), date(2025, 1, 31), date(2025, 2, 28)]
    before = [
        (account_balance(account=c, as_of=d, fund_id=f), trial_balance(as_of=d).total_debit)
        for c in ("1121", "112", "1283", "411")
        for d in probes
        for f in (None, 1, 2)
    ]
    period_close(through=date(2025, 1, 15))
    period_close(through=date(2025, 1, 31))
    after = [
        (account_balance(account=c, as_of=d, fund_id=f), trial_balance(as_of=d).total_debit)
        for c in ("1121", "112", "1283", "411")
        for d in probes
        for f in (None, 1, 2)
    ]
    assert after == before
    assert account_balance(account="1121", as_of=date(2025, 2, 28)) == 2_700_000


def test_balance_as_of_a_checkpoint_date_reads_no_postings(django_assert_max_num_queries):
    for i in range(5):
        entry_post(1_000 + i, on=date(2025, 1, 10 + i))
    period_close(through=date(2025, 1, 31))
    account = Account.objects.get(code="1121")
    with django_assert_max_num_queries(4):
        assert account_balance(account=account, as_of=date(2025, 1, 31)) == 5_010


# --------------------------------------------------------------------------------------------
# Dimensions


@pytest.fixture
def union_ledger():
    # Two superior unions; three grassroots unions; loans as sub-ledgers; two funds.
    for su, gu, loan, amount, fund in [
        (1, 10, "loan:1", 10_000_000, 1),
        (1, 11, "loan:2", 20_000_000, 1),
        (2, 20, "loan:3", 30_000_000, 2),
    ]:
        entry_post(
            amount,
            dr="1283",
            cr="1121",
            on=date(2025, 3, 1),
            fund_id=fund,
            superior_union_id=su,
            grassroots_union_id=gu,
            subledger=loan,
        )
    entry_post(
        4_000_000,
        dr="1121",
        cr="1283",
        on=date(2025, 4, 1),
        fund_id=1,
        superior_union_id=1,
        grassroots_union_id=11,
        subledger="loan:2",
    )


def test_balances_by_union_subledger_and_fund(union_ledger):
    as_of = date(2025, 4, 30)
    assert account_balance(account="1283", as_of=as_of) == 56_000_000
    assert account_balance(account="1283", as_of=as_of, superior_union_id=1) == 26_000_000
    assert account_balance(account="1283", as_of=as_of, superior_union_id=2) == 30_000_000
    assert account_balance(account="1283", as_of=as_of, grassroots_union_id=11) == 16_000_000
    assert account_balance(account="1283", as_of=as_of, subledger="loan:2") == 16_000_000
    assert account_balance(account="1283", as_of=date(2025, 3, 31), subledger="loan:2") == (
        20_000_000
    )
    assert account_balance(account="128", as_of=as_of, fund_id=2) == 30_000_000
    assert account_balance(account="1283", as_of=as_of, fund_id=1, superior_union_id=2) == 0
    # Union balances read the same after the period is closed (they sum their own postings).
    period_close(through=date(2025, 3, 31))
    assert account_balance(account="1283", as_of=as_of, superior_union_id=1) == 26_000_000
    assert account_balance(account="1283", as_of=as_of, fund_id=1) == 26_000_000


def test_trial_balance_per_union_and_fund_is_balanced(union_ledger):
    as_of = date(2025, 4, 30)
    for dims in ({}, {"superior_union_id": 1}, {"grassroots_union_id": 20}, {"fund_id": 1}):
        tb = trial_balance(as_of=as_of, **dims)
        assert tb.balanced, dims
    tb = trial_balance(as_of=as_of, superior_union_id=1)
    rows = {r.account.code: r for r in tb.rows}
    assert rows["1283"].debit == 26_000_000
    assert rows["128"].debit == 26_000_000 and not rows["128"].is_leaf
    assert rows["1121"].credit == 26_000_000
    assert tb.total_debit == tb.total_credit == 26_000_000


# --------------------------------------------------------------------------------------------
# Trial balance, general ledger, statements


def test_trial_balance_rolls_up_the_tree_and_balances():
    entry_post(60_000_000, dr="1121", cr="4111", on=date(2025, 1, 2))
    entry_post(15_000_000, dr="1283", cr="1121", on=date(2025, 1, 3))
    entry_post(300_000, dr="13881", cr="5151", on=date(2025, 1, 31))
    tb = trial_balance(as_of=date(2025, 1, 31))
    rows = {r.account.code: r for r in tb.rows}
    assert tb.balanced and tb.total_debit == 60_300_000
    assert rows["1121"].debit == 45_000_000
    assert rows["138"].debit == rows["1388"].debit == rows["13881"].debit == 300_000
    assert (rows["138"].depth, rows["1388"].depth, rows["13881"].depth) == (0, 1, 2)
    assert rows["4111"].credit == 60_000_000 and rows["411"].credit == 60_000_000
    assert trial_balance(as_of=date(2025, 1, 1)).total_debit == 0


def test_general_ledger_opening_plus_movements_is_closing():
    entry_post(10_000_000, on=date(2025, 1, 5), memo="Góp vốn tháng 1")
    entry_post(2_000_000, dr="1283", cr="1121", on=date(2025, 1, 25))
    period_close(through=date(2025, 1, 31))
    entry_post(5_000_000, on=date(2025, 2, 3))
    entry_post(1_000_000, dr="1283", cr="1121", on=date(2025, 2, 10))
    entry_post(700_000, dr="1121", cr="1283", on=date(2025, 2, 20))
    entry_post(999, on=date(2025, 3, 1))  # after the period

    gl = general_ledger(account="1121", start=date(2025, 1, 15), end=date(2025, 2, 28))
    assert gl.opening == 10_000_000
    assert [(ln.debit, ln.credit) for ln in gl.lines] == [
        (0, 2_000_000),
        (5_000_000, 0),
        (0, 1_000_000),
        (700_000, 0),
    ]
    assert gl.total_debit == 5_700_000 and gl.total_credit == 3_000_000
    assert gl.closing == gl.opening + gl.total_debit - gl.total_credit == 12_700_000
    assert gl.lines[-1].balance == gl.closing
    assert gl.closing == account_balance(account="1121", as_of=date(2025, 2, 28))
    # A credit-normal account reads on its credit side.
    cap = general_ledger(account="411", start=date(2025, 2, 1), end=date(2025, 2, 28))
    assert (cap.opening, cap.total_credit, cap.closing) == (10_000_000, 5_000_000, 15_000_000)
    assert cap.lines[0].memo == "Góp vốn"


def test_balance_sheet_balances_and_income_statement_gives_the_surplus():
    entry_post(100_000_000, dr="1121", cr="4111", on=date(2025, 1, 2))
    entry_post(30_000_000, dr="1283", cr="1121", on=date(2025, 1, 3))
    entry_post(2_000_000, dr="13881", cr="5151", on=date(2025, 1, 31))
    entry_post(1_000_000, dr="6422", cr="2293", on=date(2025, 1, 31))
    entry_post(500_000, dr="1121", cr="33881", on=date(2025, 1, 31))
    entry_post(50_000, dr="6421", cr="1111", on=date(2024, 12, 31))  # last year
    entry_post(50_000, dr="1111", cr="4112", on=date(2024, 12, 30))

    bs = balance_sheet(as_of=date(2025, 1, 31))
    assets = {ln.code: ln.amount for ln in bs["asset"]}
    assert assets == {
        "111": 0,
        "112": 70_500_000,
        "113": 0,
        "128": 30_000_000,
        "138": 2_000_000,
        "229": -1_000_000,
    }
    total_assets = sum(assets.values())
    liabilities = sum(ln.amount for ln in bs["liability"])
    equity = sum(ln.amount for ln in bs["equity"])
    assert liabilities == 500_000
    assert total_assets == liabilities + equity == 101_500_000
    assert bs["equity"][-1].amount == 2_000_000 - 1_000_000 - 50_000  # surplus not yet closed

    inc = income_statement(start=date(2025, 1, 1), end=date(2025, 1, 31))
    assert [(ln.code, ln.amount) for ln in inc["income"]] == [("5151", 2_000_000)]
    assert [(ln.code, ln.amount) for ln in inc["expense"]] == [("6422", 1_000_000)]
    assert inc["surplus"] == inc["total_income"] - inc["total_expense"] == 1_000_000


def test_entries_for_document():
    e = journal_entry_post(
        effective_date=date(2025, 1, 2),
        legs=[debit("1283", 5_000_000), credit("1121", 5_000_000)],
        memo="Giải ngân",
        idempotency_key="loan-5-disburse",
        document_type="loan",
        document_id=5,
    )
    entry_post()
    assert entries_for_document(document_type="loan", document_id=5) == [e]
    assert entries_for_document(document_type="loan", document_id="6") == []


# --------------------------------------------------------------------------------------------
# Chain verification


def test_ledger_verify_ok_and_counts_unsealed():
    for i in range(4):
        entry_post(1_000 + i)
    assert ledger_verify().ok and ledger_verify().links_checked == 0
    ledger_seal(batch_size=3)
    entry_post(5)
    r = ledger_verify(chunk=2)
    assert r.ok and r.links_checked == 4 and r.unsealed_entries == 1
    assert (r.head_seq, r.head_hash) == ledger_chain_head() != (0, GENESIS_HASH)


@pytest.fixture
def sealed():
    entries = [entry_post(1_000_000 + i, memo=f"Bút toán {i}") for i in range(6)]
    ledger_seal(batch_size=4)
    return entries


def test_verify_reports_a_changed_posting_amount(sealed):
    victim = sealed[3]
    p = victim.postings.order_by("id").first()
    tamper("UPDATE accounting_posting SET amount = amount + 1 WHERE id = %s", [p.pk])
    r = ledger_verify()
    assert not r.ok
    assert (r.first_broken_seq, r.first_broken_entry_id) == (4, victim.pk)
    assert r.links_checked == 3
    assert f"#{victim.pk} đã bị sửa" in r.problem


def test_verify_reports_the_first_of_several_changes(sealed):
    tamper("UPDATE accounting_journalentry SET memo = 'khác' WHERE id = %s", [sealed[4].pk])
    tamper("UPDATE accounting_journalentry SET memo = 'khác' WHERE id = %s", [sealed[1].pk])
    r = ledger_verify(chunk=2)
    assert r.first_broken_entry_id == sealed[1].pk and r.first_broken_seq == 2


def test_verify_reports_a_changed_link(sealed):
    tamper("UPDATE accounting_chainlink SET entry_hash = %s WHERE seq = 5", ["0" * 64])
    r = ledger_verify()
    assert (r.first_broken_seq, r.first_broken_entry_id) == (5, sealed[4].pk)
    assert "không nối" in r.problem


def test_verify_reports_a_posting_added_to_a_sealed_entry(sealed):
    p = sealed[2].postings.order_by("id").first()
    tamper(
        "INSERT INTO accounting_posting (entry_id, account_id, amount, amount_currency, "
        "effective_date, subledger) VALUES (%s, %s, 1, 'VND', %s, '')",
        [sealed[2].pk, p.account_id, p.effective_date],
    )
    assert ledger_verify().first_broken_entry_id == sealed[2].pk


@pytest.mark.postgres
def test_verify_reports_a_deleted_entry(sealed):
    victim = sealed[2]
    tamper("DELETE FROM accounting_posting WHERE entry_id = %s", [victim.pk])
    tamper("DELETE FROM accounting_journalentry WHERE id = %s", [victim.pk])
    r = ledger_verify()
    assert (r.first_broken_seq, r.first_broken_entry_id) == (3, victim.pk)
    assert f"#{victim.pk} đã bị xóa" in r.problem


@pytest.mark.postgres
def test_verify_reports_a_removed_link(sealed):
    tamper("DELETE FROM accounting_chainlink WHERE seq = 2")
    r = ledger_verify()
    assert r.first_broken_seq == 3 and "thiếu mắt xích số 2" in r.problem
    assert ChainLink.objects.count() == 5


# --------------------------------------------------------------------------------------------
# Checkpoint verification


def test_checkpoints_verify_ok_then_reports_a_tampered_checkpoint():
    entry_post(1_000, on=date(2025, 1, 5), fund_id=1)
    entry_post(2_000, on=date(2025, 2, 5))
    period_close(through=date(2025, 1, 31))
    period_close(through=date(2025, 2, 28))
    r = checkpoints_verify()
    assert r.ok and r.checkpoints_checked == 6 and r.closes == 2
    cp = AccountCheckpoint.objects.get(
        account__code="1121", as_of=date(2025, 2, 28), fund_id__isnull=True
    )
    tamper("UPDATE accounting_accountcheckpoint SET balance = balance + 7 WHERE id = %s", [cp.pk])
    r = checkpoints_verify()
    assert not r.ok
    [d] = r.differences
    assert (d.account_code, d.as_of, d.fund_id) == ("1121", date(2025, 2, 28), None)
    assert (d.checkpoint_balance, d.actual_balance) == (2_007, 2_000)
    assert "1121" in d.describe() and "28/02/2025" in d.describe()


def test_checkpoints_verify_reports_missing_checkpoints_and_backdated_postings():
    entry_post(1_000, on=date(2025, 1, 5))
    period_close(through=date(2025, 1, 31))
    cp = AccountCheckpoint.objects.get(account__code="4111")
    tamper("DELETE FROM accounting_accountcheckpoint WHERE id = %s", [cp.pk])
    # A posting slipped into the closed period behind the ledger's back.
    p = Posting.objects.get(account__code="1121")
    tamper(
        "INSERT INTO accounting_posting (entry_id, account_id, amount, amount_currency, "
        "effective_date, subledger) VALUES (%s, %s, 5, 'VND', %s, '')",
        [p.entry_id, p.account_id, date(2025, 1, 6)],
    )
    r = checkpoints_verify()
    found = {(d.account_code, d.checkpoint_balance, d.actual_balance) for d in r.differences}
    assert found == {("4111", None, -1_000), ("1121", 1_000, 1_005)}
    assert (
        "thiếu số dư chốt" in next(d for d in r.differences if d.account_code == "4111").describe()
    )


def test_checkpoints_verify_with_no_close():
    entry_post()
    r = checkpoints_verify()
    assert r.ok and r.checkpoints_checked == 0


def test_union_balance_dimension_values_are_frozen_as_posted():
    """A union that moves to another superior union keeps its past postings where they were."""
    entry_post(1_000, dr="1283", cr="1121", superior_union_id=1, grassroots_union_id=10)
    # later the grassroots union 10 belongs to superior union 2
    entry_post(
        2_000,
        dr="1283",
        cr="1121",
        superior_union_id=2,
        grassroots_union_id=10,
        on=date(2025, 6, 1),
    )
    assert account_balance(account="1283", as_of=date(2025, 5, 31), superior_union_id=1) == 1_000
    assert account_balance(account="1283", as_of=date(2025, 6, 30), superior_union_id=1) == 1_000
    assert account_balance(account="1283", as_of=date(2025, 6, 30), superior_union_id=2) == 2_000
    assert account_balance(account="1283", as_of=date(2025, 6, 30), grassroots_union_id=10) == (
        3_000
    )


def test_balances_by_account_income_since():
    entry_post(100, dr="13881", cr="5151", on=date(2024, 12, 31))
    entry_post(200, dr="13881", cr="5151", on=date(2025, 1, 1))
    code = {a.pk: a.code for a in Account.objects.all()}
    movement = balances_by_account(as_of=date(2025, 1, 31), since=date(2024, 12, 31))
    assert {code[k]: v for k, v in movement.items()} == {"13881": 200, "5151": -200}


def test_turnover_by_account_splits_debits_and_credits_in_the_period():
    entry_post(1_000, dr="1121", cr="4111", on=date(2024, 1, 5), fund_id=1)
    entry_post(300, dr="1283", cr="1121", on=date(2024, 2, 1), fund_id=1)
    entry_post(50, dr="1121", cr="1283", on=date(2024, 2, 20), fund_id=1)
    entry_post(7, dr="1121", cr="4111", on=date(2024, 2, 21), fund_id=2)
    ids = dict(Account.objects.values_list("code", "id"))
    got = turnover_by_account(start=date(2024, 2, 1), end=date(2024, 2, 29), fund_id=1)
    assert got == {
        ids["1121"]: (Decimal(50), Decimal(300)),
        ids["1283"]: (Decimal(300), Decimal(50)),
    }
    everyone = turnover_by_account(start=date(2024, 1, 1), end=date(2024, 12, 31))
    assert everyone[ids["4111"]] == (0, 1_007)
