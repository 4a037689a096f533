"""Turnover per account and day (``AccountTurnover``): kept by the database trigger, merged by
``ledger_turnover_compact``, always equal to the sum of the postings it stands for."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import Case, DecimalField, Q, Sum, Value, When
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounting.models import Account, AccountTurnover, JournalEntry, Posting
from accounting.selectors import (
    account_balance,
    balances_by_account,
    trial_balance,
    turnover_by_account,
    turnover_verify,
)
from accounting.services import (
    EntrySpec,
    credit,
    debit,
    journal_entries_post_bulk,
    journal_entry_post,
    journal_entry_reverse,
    ledger_turnover_compact,
    period_close,
)
from accounting.tests.factories import entry_post, new_key
from accounting.tests.helpers import tamper

pytestmark = pytest.mark.django_db

LEAVES = ["1111", "1121", "1283", "2293", "4111", "4112", "5151", "6421"]
START = date(2024, 1, 1)


def raw_balance(code_prefix: str, as_of: date, fund_id="any") -> Decimal:
    """The slow exact figure: every posting of the subtree up to `as_of`."""
    qs = Posting.objects.filter(
        account__path__contains=f"/{code_prefix}", effective_date__lte=as_of
    )
    qs = qs.filter(account__path__startswith=Account.objects.get(code=code_prefix).path)
    if fund_id != "any":
        qs = qs.filter(fund_id=fund_id)
    return qs.aggregate(s=Sum("amount"))["s"] or Decimal(0)


def raw_turnover(start: date, end: date, fund_id=None) -> dict[int, tuple[Decimal, Decimal]]:
    zero = Value(Decimal(0), output_field=DecimalField(max_digits=20, decimal_places=0))
    qs = Posting.objects.filter(effective_date__gte=start, effective_date__lte=end)
    if fund_id is not None:
        qs = qs.filter(fund_id=fund_id)
    rows = (
        qs.order_by()
        .values("account_id")
        .annotate(
            d=Sum(Case(When(Q(amount__gt=0), then="amount"), default=zero)),
            c=Sum(Case(When(Q(amount__lt=0), then="amount"), default=zero)),
        )
    )
    return {r["account_id"]: (r["d"], -r["c"]) for r in rows}


op = st.one_of(
    # post one entry: day offset, [(debit leaf, credit leaf, amount, fund)]
    st.tuples(
        st.just("post"),
        st.integers(0, 90),
        st.lists(
            st.tuples(
                st.sampled_from(LEAVES),
                st.sampled_from(LEAVES),
                st.integers(1, 10**12),
                st.sampled_from([None, 1, 2]),
            ),
            min_size=1,
            max_size=3,
        ),
    ),
    st.tuples(st.just("reverse"), st.integers(0, 50), st.integers(0, 90)),
    st.tuples(st.just("bulk"), st.integers(0, 90), st.integers(1, 4)),
    st.tuples(st.just("compact"), st.just(0), st.just(0)),
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(op, min_size=1, max_size=14), probes=st.lists(st.integers(-3, 95), max_size=3))
def test_turnover_equals_the_postings_after_any_series(ops, probes):
    """Entries, reversals, bulk batches and compactions in any order: the turnover kept by the
    trigger equals the postings' sums, and every balance read through it equals the raw sum."""
    with transaction.atomic():
        posted: list[JournalEntry] = []
        reversed_ids: set[int] = set()
        for kind, a, b in ops:
            if kind == "post":
                legs = []
                for dr, cr, amount, fund in b:
                    legs += [debit(dr, amount, fund_id=fund), credit(cr, amount, fund_id=fund)]
                posted.append(
                    journal_entry_post(
                        effective_date=START + timedelta(days=a),
                        legs=legs,
                        memo="Thử",
                        idempotency_key=new_key("t"),
                    )
                )
            elif kind == "reverse":
                open_ = [e for e in posted if e.reversal_of_id is None and e.pk not in reversed_ids]
                if open_:
                    target = open_[a % len(open_)]
                    day = max(target.effective_date, START + timedelta(days=b))
                    posted.append(
                        journal_entry_reverse(
                            entry=target, idempotency_key=new_key("r"), effective_date=day
                        )
                    )
                    reversed_ids.add(target.pk)
            elif kind == "bulk":
                day = START + timedelta(days=a)
                journal_entries_post_bulk(
                    entries=[
                        EntrySpec(
                            effective_date=day,
                            legs=[
                                debit("1283", 1000 + i, fund_id=1),
                                credit("1121", 1000 + i, fund_id=1),
                            ],
                            memo="Lô",
                            idempotency_key=new_key("b"),
                        )
                        for i in range(b)
                    ]
                )
            else:
                ledger_turnover_compact()
        report = turnover_verify()
        assert report.ok, [d.describe() for d in report.differences]
        for off in probes:
            as_of = START + timedelta(days=off)
            for code in ("1121", "1283", "411", "515", "642"):
                assert account_balance(account=code, as_of=as_of) == raw_balance(code, as_of)
                assert account_balance(account=code, as_of=as_of, fund_id=1) == raw_balance(
                    code, as_of, 1
                )
            codes = dict(Account.objects.values_list("id", "code"))
            got = {codes[k]: v for k, v in balances_by_account(as_of=as_of, fund_id=2).items() if v}
            want = {c: raw_balance(c, as_of, 2) for c in LEAVES}
            assert got == {c: v for c, v in want.items() if v}
            start = as_of - timedelta(days=20)
            assert turnover_by_account(start=start, end=as_of) == raw_turnover(start, as_of)
            assert turnover_by_account(start=start, end=as_of, fund_id=1) == raw_turnover(
                start, as_of, 1
            )
            assert trial_balance(as_of=as_of).balanced
        transaction.set_rollback(True)


def test_compaction_merges_a_days_rows_and_keeps_the_sums():
    for i in range(5):
        entry_post(1_000_000 + i, dr="1283", cr="1121", on=date(2025, 3, 10), fund_id=1)
    entry_post(7, dr="1283", cr="1121", on=date(2025, 3, 11), fund_id=1)
    loans = Account.objects.get(code="1283")
    assert AccountTurnover.objects.filter(account=loans).count() == 6
    before = account_balance(account="1283", as_of=date(2025, 3, 31))
    assert ledger_turnover_compact() == 8  # 5 + 1 rows on 1283 and on 1121 -> 2 each
    rows = AccountTurnover.objects.filter(account=loans).order_by("effective_date")
    assert [(r.effective_date.day, r.debit, r.postings, r.compacted) for r in rows] == [
        (10, Decimal(5_000_010), 5, True),
        (11, Decimal(7), 1, True),
    ]
    assert account_balance(account="1283", as_of=date(2025, 3, 31)) == before == 5_000_017
    # A later posting on a compacted day adds a row; the next compaction merges it in.
    entry_post(3, dr="1283", cr="1121", on=date(2025, 3, 10), fund_id=1)
    assert AccountTurnover.objects.filter(account=loans).count() == 3
    assert ledger_turnover_compact() == 2
    assert AccountTurnover.objects.get(account=loans, effective_date=date(2025, 3, 10)).debit == (
        5_000_013
    )
    assert turnover_verify().ok


def test_turnover_is_written_for_bulk_postings_and_with_a_null_fund():
    journal_entries_post_bulk(
        entries=[
            EntrySpec(
                effective_date=date(2025, 3, 10),
                legs=[debit("1283", 500), credit("1121", 500)],
                memo="Lô",
                idempotency_key=new_key("b"),
            )
            for _ in range(3)
        ]
    )
    row = AccountTurnover.objects.filter(account__code="1121").aggregate(
        c=Sum("credit"), n=Sum("postings")
    )
    assert row == {"c": Decimal(1500), "n": 3}
    ledger_turnover_compact()
    assert AccountTurnover.objects.filter(account__code="1121").get().fund_id is None
    assert account_balance(account="1121", as_of=date(2025, 3, 10)) == -1500


def test_balances_after_a_period_close_start_from_the_checkpoint_and_add_the_turnover():
    entry_post(3_000_000, on=date(2025, 1, 10), fund_id=1)
    period_close(through=date(2025, 1, 31))
    entry_post(500_000, dr="1283", cr="1121", on=date(2025, 2, 20), fund_id=1)
    assert account_balance(account="1121", as_of=date(2025, 2, 28)) == 2_500_000
    assert account_balance(account="1121", as_of=date(2025, 2, 28), fund_id=1) == 2_500_000
    assert account_balance(account="1121", as_of=date(2025, 2, 28), fund_id=2) == 0
    assert turnover_by_account(start=date(2025, 2, 1), end=date(2025, 2, 28)) == raw_turnover(
        date(2025, 2, 1), date(2025, 2, 28)
    )


def test_verify_reports_a_turnover_row_that_differs_from_the_postings():
    entry_post(1_000_000, on=date(2025, 3, 10), fund_id=1)
    assert turnover_verify().ok
    call_command("verify_turnover", "--compact")
    tamper(
        "UPDATE accounting_accountturnover SET debit = debit + 1 WHERE account_id = "
        "(SELECT id FROM accounting_account WHERE code = '1121')"
    )
    report = turnover_verify()
    assert not report.ok
    assert [d.account_code for d in report.differences] == ["1121"]
    assert "1121" in report.differences[0].describe()
    with pytest.raises(CommandError):
        call_command("verify_turnover")


def test_verify_reports_a_missing_turnover_row():
    entry_post(1_000_000, on=date(2025, 3, 10), fund_id=1)
    tamper("DELETE FROM accounting_accountturnover")
    assert {d.account_code for d in turnover_verify().differences} == {"1121", "4111"}
