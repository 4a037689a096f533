"""Real parallel connections on PostgreSQL: nothing lost, no key posted twice, the chain holds.

Each worker is a thread with its own Django connection (closed when it ends); they commit for
real, and ``committed_ledger`` removes what they wrote afterwards.
"""

import threading
from datetime import date

import pytest
from django.db import connections

from accounting.errors import IdempotencyConflict, PeriodClosed, ReversalRefused
from accounting.models import ChainLink, JournalEntry, Posting
from accounting.selectors import account_balance, checkpoints_verify, ledger_verify
from accounting.services import (
    credit,
    debit,
    journal_entry_post,
    journal_entry_reverse,
    ledger_seal,
    period_close,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

DAY = date(2025, 3, 10)


def in_parallel(n: int, work):
    """Run work(i) in n threads started together; return (results, errors) by worker."""
    barrier = threading.Barrier(n)
    results: list = [None] * n
    errors: list = [None] * n

    def run(i):
        try:
            barrier.wait(timeout=30)
            results[i] = work(i)
        except BaseException as e:  # noqa: BLE001 - reported to the test
            errors[i] = e
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a worker hung"
    return results, errors


def post(key: str, amount: int = 1_000_000, on: date = DAY):
    return journal_entry_post(
        effective_date=on,
        legs=[debit("1121", amount), credit("4111", amount)],
        memo=f"Góp vốn {key}",
        idempotency_key=key,
    )


def test_same_key_from_many_workers_posts_exactly_one_entry(committed_ledger):
    results, errors = in_parallel(8, lambda i: post("same-key").pk)
    assert errors == [None] * 8
    assert len(set(results)) == 1
    assert JournalEntry.objects.filter(idempotency_key="same-key").count() == 1
    assert Posting.objects.count() == 2
    assert account_balance(account="1121", as_of=DAY) == 1_000_000


def test_same_key_different_content_from_many_workers(committed_ledger):
    results, errors = in_parallel(6, lambda i: post("contested", amount=1_000 + i % 2).pk)
    assert JournalEntry.objects.filter(idempotency_key="contested").count() == 1
    winner = JournalEntry.objects.get(idempotency_key="contested")
    won = winner.postings.get(account__code="1121").amount.amount
    for r, e in zip(results, errors, strict=True):
        assert (r == winner.pk) or isinstance(e, IdempotencyConflict)
    assert all((e is None) == (1_000 + i % 2 == won) for i, e in enumerate(errors)), (
        "every request with the winner's content got the winner, every other one a conflict"
    )


def test_distinct_keys_from_many_workers_are_all_posted(committed_ledger):
    per_worker = 25

    def work(i):
        return [post(f"w{i}-{j}", amount=1_000 + j).pk for j in range(per_worker)]

    results, errors = in_parallel(6, work)
    assert errors == [None] * 6
    ids = [pk for r in results for pk in r]
    assert len(set(ids)) == 6 * per_worker
    assert JournalEntry.objects.count() == 6 * per_worker
    assert Posting.objects.count() == 2 * 6 * per_worker
    assert account_balance(account="1121", as_of=DAY) == 6 * sum(
        1_000 + j for j in range(per_worker)
    )


def committed(fn):
    """Run fn in a connection of its own, committed for real (the test's own connection stays
    inside the test transaction and must never write here: the close would wait on it)."""
    [result], [error] = in_parallel(1, lambda i: fn())
    if error is not None:
        raise error
    return result


def test_sealing_while_posting_keeps_the_chain_valid(committed_ledger):
    posters, per_poster = 4, 30
    done = threading.Event()
    remaining = [posters]
    lock = threading.Lock()
    sealed = []

    def work(i):
        if i == posters:  # the sealer, in small batches, while the others post
            while not done.is_set():
                sealed.append(ledger_seal(batch_size=7))
            return
        try:
            for j in range(per_poster):
                post(f"p{i}-{j}")
        finally:
            with lock:
                remaining[0] -= 1
                if remaining[0] == 0:
                    done.set()

    _, errors = in_parallel(posters + 1, work)
    assert errors == [None] * (posters + 1)
    assert sum(sealed) > 0
    committed(ledger_seal)
    report = ledger_verify()
    assert report.ok, report.problem
    assert report.links_checked == posters * per_poster == JournalEntry.objects.count()
    seqs = list(ChainLink.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, posters * per_poster + 1))


def test_two_sealers_never_fork_the_chain(committed_ledger):
    committed(lambda: [post(f"s-{j}") for j in range(40)])
    _, errors = in_parallel(3, lambda i: ledger_seal(batch_size=5))
    assert errors == [None] * 3
    committed(ledger_seal)
    assert ledger_verify().ok
    assert ChainLink.objects.count() == 40


def test_period_close_while_posting_loses_nothing_and_checkpoints_hold(committed_ledger):
    """Posters write into the month being closed: each entry lands before the close (and is in
    its checkpoints) or is refused with PeriodClosed; none lands in the closed period after."""
    posters, per_poster = 3, 20
    jan = date(2025, 1, 20)

    def work(i):
        if i == posters:
            return period_close(through=date(2025, 1, 31)).pk
        outcome = []
        for j in range(per_poster):
            try:
                post(f"c{i}-{j}", on=jan)
                outcome.append("posted")
            except PeriodClosed:
                outcome.append("refused")
        return outcome

    results, errors = in_parallel(posters + 1, work)
    assert errors == [None] * (posters + 1)
    posted = sum(r.count("posted") for r in results[:posters])
    assert JournalEntry.objects.count() == posted
    assert checkpoints_verify().ok
    assert account_balance(account="1121", as_of=date(2025, 1, 31)) == posted * 1_000_000


def test_concurrent_reversals_under_different_keys_reverse_once(committed_ledger):
    original = committed(lambda: post("to-reverse"))
    results, errors = in_parallel(
        5, lambda i: journal_entry_reverse(entry=original, idempotency_key=f"rev-{i}").pk
    )
    assert sum(e is None for e in errors) == 1
    assert all(isinstance(e, ReversalRefused) for e in errors if e is not None)
    assert JournalEntry.objects.filter(reversal_of=original).count() == 1
    assert account_balance(account="1121", as_of=DAY) == 0


def test_turnover_stays_exact_while_posters_and_compactions_race(committed_ledger):
    """Six posters on the same accounts and day, two compactions merging meanwhile: no poster
    waits on a turnover row (rows are only added), no row is lost or counted twice."""
    from accounting.selectors import turnover_verify
    from accounting.services import ledger_turnover_compact

    def work(i):
        if i >= 6:
            merged = 0
            for _ in range(15):
                merged += ledger_turnover_compact()
            return merged
        for n in range(15):
            post(f"race-{i}-{n}", amount=1_000 + i)
        return 0

    results, errors = in_parallel(8, work)
    assert errors == [None] * 8
    # The last merge on a connection of its own, which commits (this test's own connection
    # would keep the merged rows locked until the end of the test).
    _, errors = in_parallel(1, lambda i: ledger_turnover_compact())
    assert errors == [None]
    report = turnover_verify()
    assert report.ok, [d.describe() for d in report.differences]
    want = sum(15 * (1_000 + i) for i in range(6))
    assert account_balance(account="1121", as_of=DAY) == want
    from accounting.models import AccountTurnover

    assert AccountTurnover.objects.filter(account__code="1121").count() == 1
