"""The general ledger a page at a time: every page's running balance is the unpaged figure,
and the number of queries does not grow with the period's size."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounting.selectors import general_ledger, general_ledger_page, general_ledger_rows
from accounting.services import period_close
from accounting.tests.factories import entry_post

pytestmark = pytest.mark.django_db


def _books(n: int, *, first: bool = True) -> None:
    if first:
        entry_post(50_000_000, on=date(2025, 1, 2))  # before the period: the opening balance
        period_close(through=date(2025, 1, 31))
    for i in range(n):
        day = date(2025, 2 + i % 2, 1 + i % 27)
        if i % 3 == 2:
            entry_post(1_000_000 + i * 1_000, dr="1283", cr="1121", on=day, memo=f"Cho vay {i}")
        else:
            entry_post(300_000 + i * 7_000, on=day, memo=f"Góp vốn {i}")


def _page(n: int, per_page: int = 5):
    return general_ledger_page(
        account="1121",
        start=date(2025, 2, 1),
        end=date(2025, 3, 31),
        page=n,
        per_page=per_page,
    )


def test_every_page_continues_the_unpaged_running_balance():
    _books(23)
    whole = general_ledger(account="1121", start=date(2025, 2, 1), end=date(2025, 3, 31))
    assert len(whole.lines) == 23 and whole.opening == 50_000_000
    pages = [_page(n) for n in range(1, 6)]
    assert [p.pages for p in pages] == [5] * 5 and [len(p.lines) for p in pages] == [5] * 4 + [3]
    assert [ln for p in pages for ln in p.lines] == whole.lines
    for n, p in enumerate(pages, start=1):
        before = whole.lines[(n - 1) * 5 - 1].balance if n > 1 else whole.opening
        assert p.page_opening == before  # the balance brought forward at the page boundary
        assert p.page_closing == p.lines[-1].balance
        assert (p.opening, p.total_debit, p.total_credit, p.closing) == (
            whole.opening,
            whole.total_debit,
            whole.total_credit,
            whole.closing,
        )
        assert (p.first_number, p.last_number) == ((n - 1) * 5 + 1, (n - 1) * 5 + len(p.lines))
    assert _page(99).page == 5 and _page(0).page == 1
    # A credit-normal account reads on its credit side, paged too.
    cap = general_ledger_page(
        account="411", start=date(2025, 2, 1), end=date(2025, 3, 31), page=2, per_page=4
    )
    unpaged = general_ledger(account="411", start=date(2025, 2, 1), end=date(2025, 3, 31))
    assert cap.page_opening == unpaged.lines[3].balance and cap.lines == unpaged.lines[4:8]


def test_an_empty_period_is_one_empty_page():
    _books(0)
    p = _page(3)
    assert (p.page, p.pages, p.count, p.lines) == (1, 1, 0, [])
    assert p.page_opening == p.closing == p.opening == 50_000_000
    assert (p.first_number, p.last_number) == (0, 0)


def test_the_stream_for_exports_matches_the_unpaged_ledger():
    _books(11)
    whole = general_ledger(account="1121", start=date(2025, 2, 1), end=date(2025, 3, 31))
    account, opening, lines = general_ledger_rows(
        account="1121", start=date(2025, 2, 1), end=date(2025, 3, 31)
    )
    assert account.code == "1121" and opening == whole.opening
    assert list(lines) == whole.lines


def test_queries_are_bounded_whatever_the_size_and_the_page():
    _books(6)

    def count(n):
        with CaptureQueriesContext(connection) as ctx:
            _page(n, per_page=2)
        return len(ctx.captured_queries)

    small_first, small_last = count(1), count(3)
    _books(30, first=False)
    big_first, big_last = count(1), count(18)
    assert small_first == big_first and small_last == big_last
    assert big_last <= big_first + 1 <= 10  # the pages before: one more sum
