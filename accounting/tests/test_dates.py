"""Value dates in the ledger kernel: nothing dated after today in Hà Nội, no reversal dated
before what it reverses, a reason for a date before the open window (accounting/dates.py)."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from accounting.dates import (
    BACKDATE_REASON_MAX,
    backdate_reason_check,
    backdate_window_start,
    business_today,
    value_date_check,
)
from accounting.errors import ReversalRefused, ValueDateRefused
from accounting.models import JournalEntry, Posting
from accounting.services import journal_entry_reverse
from accounting.tests.factories import entry_post, new_key

pytestmark = pytest.mark.django_db


def test_today_is_the_day_in_hanoi_whatever_the_servers_clock():
    # 18:30 UTC on 6 December is 01:30 on 7 December in Hà Nội.
    with time_machine.travel(datetime(2026, 12, 6, 18, 30, tzinfo=UTC), tick=False):
        assert business_today() == date(2026, 12, 7)
        assert value_date_check(date(2026, 12, 7), field="d", label="Ngày") == date(2026, 12, 7)
        with pytest.raises(ValueDateRefused) as e:
            value_date_check(date(2026, 12, 8), field="d", label="Ngày")
        assert e.value.field == "d" and "08/12/2026" in str(e.value.message)


@pytest.mark.parametrize("bad", ["2026-12-07", datetime(2026, 12, 7), None, 20261207])
def test_only_a_date_is_a_value_date(bad):
    with pytest.raises(ValueDateRefused):
        value_date_check(bad, field="d", label="Ngày")


def test_an_entry_dated_tomorrow_is_refused_and_nothing_is_written():
    before = JournalEntry.objects.count(), Posting.objects.count()
    with pytest.raises(ValueDateRefused) as e:
        entry_post(on=business_today() + timedelta(days=1))
    assert e.value.field == "effective_date"
    assert (JournalEntry.objects.count(), Posting.objects.count()) == before
    assert entry_post(on=business_today()).effective_date == business_today()


def test_a_reversal_is_not_dated_before_the_entry_it_reverses():
    day = business_today() - timedelta(days=10)
    entry = entry_post(on=day)
    with pytest.raises(ReversalRefused) as e:
        journal_entry_reverse(
            entry=entry, idempotency_key=new_key(), effective_date=day - timedelta(days=1)
        )
    assert e.value.field == "effective_date"
    assert not JournalEntry.objects.filter(reversal_of=entry).exists()
    reversal = journal_entry_reverse(entry=entry, idempotency_key=new_key(), effective_date=day)
    assert reversal.effective_date == day


def test_a_bulk_reversal_is_not_dated_before_the_entry_it_reverses():
    from accounting.services import EntrySpec, credit, debit, journal_entries_post_bulk

    day = business_today() - timedelta(days=10)
    entry = entry_post(on=day)
    early = EntrySpec(
        effective_date=day - timedelta(days=1),
        legs=[debit("4111", 1_000_000), credit("1121", 1_000_000)],
        memo="Đảo",
        idempotency_key=new_key(),
        reversal_of_id=entry.pk,
    )
    with pytest.raises(ReversalRefused) as e:
        journal_entries_post_bulk(entries=[early])
    assert e.value.field == "entries"
    assert not JournalEntry.objects.filter(reversal_of=entry).exists()


# --------------------------------------------------------------------------------------------
# Back-dating beyond the fund's open window needs a reason (backdate_reason_check).


@pytest.mark.parametrize(
    ("now", "months", "start"),
    [
        # Mid-month: the window opens on the 1st of the current month.
        (datetime(2027, 6, 9, 3, 0, tzinfo=UTC), 0, date(2027, 6, 1)),
        # The 1st of a month at 00:30 in Hà Nội is still the 30th of the last month in UTC.
        (datetime(2027, 2, 28, 17, 30, tzinfo=UTC), 0, date(2027, 3, 1)),
        # 17:30 UTC on 31 December is 1 January in Hà Nội: the new year's January is open.
        (datetime(2027, 12, 31, 17, 30, tzinfo=UTC), 0, date(2028, 1, 1)),
        (datetime(2027, 12, 31, 16, 59, tzinfo=UTC), 0, date(2027, 12, 1)),
        # A fund that opens the previous month too, across the year's turn.
        (datetime(2027, 12, 31, 17, 30, tzinfo=UTC), 1, date(2027, 12, 1)),
        (datetime(2028, 2, 29, 3, 0, tzinfo=UTC), 2, date(2027, 12, 1)),
        (datetime(2027, 3, 1, 3, 0, tzinfo=UTC), 14, date(2026, 1, 1)),
    ],
)
def test_the_open_window_starts_on_the_first_of_a_month_in_hanoi(now, months, start):
    with time_machine.travel(now, tick=False):
        assert backdate_window_start(months) == start


def test_a_day_in_the_window_needs_no_reason_and_keeps_none():
    start = date(2027, 6, 1)
    for day in (start, date(2027, 6, 9)):
        assert backdate_reason_check(day, "", window_start=start, field="d", label="Ngày") == ""
        # A reason given for a day in the window is not kept: the entry is not back-dated.
        assert (
            backdate_reason_check(day, "vì sao", window_start=start, field="d", label="Ngày") == ""
        )


@pytest.mark.parametrize("reason", [None, "", "   \n "])
def test_a_day_before_the_window_without_a_reason_is_refused_naming_the_date_field(reason):
    with pytest.raises(ValueDateRefused) as e:
        backdate_reason_check(
            date(2027, 5, 31), reason, window_start=date(2027, 6, 1), field="paid_on", label="Ngày"
        )
    assert e.value.field == "paid_on" and e.value.code == "backdate_reason"
    text = str(e.value.message)
    assert "31/05/2027" in text and "01/06/2027" in text and "lý do" in text


def test_a_day_before_the_window_keeps_its_reason_spaces_collapsed():
    kept = backdate_reason_check(
        date(2025, 1, 15),
        "  Chuyển sổ   giấy\n năm 2025 ",
        window_start=date(2027, 6, 1),
        field="d",
        label="Ngày",
    )
    assert kept == "Chuyển sổ giấy năm 2025"


@pytest.mark.parametrize("reason", ["x" * (BACKDATE_REASON_MAX + 1), 12, ["a"]])
def test_a_reason_too_long_or_not_text_is_refused(reason):
    with pytest.raises(ValueDateRefused) as e:
        backdate_reason_check(
            date(2027, 5, 1), reason, window_start=date(2027, 6, 1), field="d", label="Ngày"
        )
    assert e.value.field == "d"


def test_a_backdated_entry_keeps_its_reason_under_its_hashes():
    """The reason is stored on the entry, changes the request (a retry with another reason is
    another request) and is covered by the entry hash; an entry without one hashes as before."""
    from accounting.errors import IdempotencyConflict
    from accounting.models import ChainLink
    from accounting.selectors import ledger_verify
    from accounting.services import (
        account_labels,
        credit,
        debit,
        entry_hash,
        journal_entry_post,
        ledger_seal,
    )

    day = business_today() - timedelta(days=70)
    key = new_key()

    def post(reason):
        return journal_entry_post(
            effective_date=day,
            legs=[debit("1121", 1000), credit("4111", 1000)],
            memo="Góp vốn chuyển sổ",
            idempotency_key=key,
            backdated_reason=reason,
        )

    entry = post("Chuyển sổ giấy")
    assert JournalEntry.objects.get(pk=entry.pk).backdated_reason == "Chuyển sổ giấy"
    assert post("Chuyển sổ giấy").pk == entry.pk
    with pytest.raises(IdempotencyConflict):
        post("Lý do khác")
    plain = entry_post(on=day)
    assert plain.backdated_reason == ""
    ledger_seal()
    labels = account_labels()
    stored = JournalEntry.objects.get(pk=entry.pk)
    link = ChainLink.objects.get(entry=stored)
    assert link.entry_hash == entry_hash(stored, list(stored.postings.all()), labels)
    stored.backdated_reason = ""
    assert link.entry_hash != entry_hash(stored, list(stored.postings.all()), labels)
    assert ledger_verify().ok


def test_a_bulk_batch_keeps_each_entrys_backdating_reason():
    from accounting.selectors import ledger_verify
    from accounting.services import EntrySpec, credit, debit, journal_entries_post_bulk, ledger_seal

    day = business_today() - timedelta(days=70)
    specs = [
        EntrySpec(
            effective_date=day,
            legs=[debit("1121", 100 + i), credit("4111", 100 + i)],
            memo=f"Chuyển sổ {i}",
            idempotency_key=f"bulk-backdated-{i}",
            backdated_reason="Chuyển\tsổ giấy\\" if i else "",
        )
        for i in range(3)
    ]
    assert journal_entries_post_bulk(entries=specs) == 3
    reasons = dict(
        JournalEntry.objects.filter(idempotency_key__startswith="bulk-backdated-").values_list(
            "idempotency_key", "backdated_reason"
        )
    )
    assert reasons == {
        "bulk-backdated-0": "",
        "bulk-backdated-1": "Chuyển\tsổ giấy\\",
        "bulk-backdated-2": "Chuyển\tsổ giấy\\",
    }
    ledger_seal()
    assert ledger_verify().ok
