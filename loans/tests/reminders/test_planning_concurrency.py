"""Reminders under real parallel PostgreSQL connections: recorded once, sent once."""

import json
from datetime import timedelta

import pytest

from loans.models import ReminderDelivery
from loans.reminders.planning import reminder_deliveries_send, reminders_prepare
from loans.tests.factories import fund_capital
from loans.tests.helpers import first, make_loan, race

pytestmark = pytest.mark.postgres


@pytest.fixture
def loans(purge_ledger_after, org, chain, settings, tmp_path):
    settings.SMS_BACKEND = "loans.reminders.channels.FileSmsBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    fund_capital(org.fund)
    return [make_loan(chain, phone=f"09120000{i:02d}") for i in range(3)]


def test_concurrent_prepares_record_each_reminder_once(loans, org):
    on = first(loans[0]).due_date
    created = race(lambda i: reminders_prepare(fund_id=org.fund.pk, business_date=on), n=6)
    assert all(isinstance(c, int) for c in created), created
    assert sum(created) == 3
    assert ReminderDelivery.objects.count() == 3


def test_concurrent_sends_of_the_same_deliveries_send_each_once(loans, org, tmp_path):
    reminders_prepare(fund_id=org.fund.pk, business_date=first(loans[0]).due_date)
    ids = list(ReminderDelivery.objects.values_list("pk", flat=True))
    reports = race(lambda i: reminder_deliveries_send(ids=ids), n=6)
    assert sum(r.sent for r in reports) == 3, reports
    assert sum(r.not_claimed for r in reports) == 3 * 5
    files = list((tmp_path / "sms").glob("*.json"))
    assert sorted(json.loads(f.read_text())["to"] for f in files) == [
        "0912000000",
        "0912000001",
        "0912000002",
    ]
    assert set(ReminderDelivery.objects.values_list("status", "attempts")) == {("sent", 1)}


def test_prepare_is_fast_enough_to_be_set_based(loans, org, django_assert_max_num_queries):
    on = first(loans[0]).due_date + timedelta(days=7)
    with django_assert_max_num_queries(4):
        assert reminders_prepare(fund_id=org.fund.pk, business_date=on) == 3
