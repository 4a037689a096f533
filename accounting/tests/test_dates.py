"""Value dates in the ledger kernel: nothing dated after today in Hà Nội, no reversal dated
before what it reverses (accounting/dates.py)."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from accounting.dates import business_today, value_date_check
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
