"""Reminders end to end on a real worker (separate process, real Redis, PostgreSQL).

The worker writes mail with Django's file backend and SMS with the file SMS backend into a
temporary directory this test reads; the environment is set before the worker starts.
"""

import email
import json
import time
from datetime import timedelta

import pytest

from fund.models import OutboxMessage
from fund.outbox import outbox_relay
from loans.models import ReminderDelivery
from loans.reminders.planning import reminders_prepare, reminders_schedule
from loans.tasks import reminder_deliveries_send_task
from loans.tests.helpers import first, make_loan
from tests.helpers import celery_reconfigure

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def notify_files(tmp_path, monkeypatch, settings):
    """Mail and SMS to files, for this process and for the worker it is about to start."""
    env = {
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(tmp_path / "mail"),
        "SMS_BACKEND": "loans.reminders.channels.FileSmsBackend",
        "SMS_FILE_PATH": str(tmp_path / "sms"),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
        setattr(settings, name, value)
    return tmp_path


def wait_until(predicate, timeout=45.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return False


def all_sent():
    statuses = set(ReminderDelivery.objects.values_list("status", flat=True))
    return statuses == {"sent"}


def sms(tmp_path):
    return [json.loads(f.read_text()) for f in sorted((tmp_path / "sms").glob("*.json"))]


def mails(tmp_path):
    found = []
    for f in (tmp_path / "mail").glob("*.log"):
        for chunk in f.read_bytes().split(b"-" * 79):
            if chunk.strip():
                message = email.message_from_bytes(chunk.strip())
                body = message.get_payload(decode=True).decode(message.get_content_charset())
                found.append(
                    (
                        str(
                            email.header.make_header(email.header.decode_header(message["Subject"]))
                        ),
                        message["To"],
                        body,
                    )
                )
    return found


@pytest.fixture
def overdue_loans(chain, capital, officers):
    officers.grassroots.email = "cdcs.lb1@example.vn"
    officers.grassroots.save()
    return [
        make_loan(chain, full_name="Phạm Thị Lan", phone="0912000001"),
        make_loan(chain, full_name="Lê Văn Minh", phone="0912000002"),
    ]


def test_reminders_prepared_and_sent_by_the_worker(
    notify_files, celery_worker_process, overdue_loans
):
    loan = overdue_loans[0]
    on = first(loan).due_date + timedelta(days=7)
    run = reminders_schedule(fund_id=loan.fund_id, business_date=on)
    assert (run.prepared, run.digests, run.batches) == (2, 1, 1)
    assert wait_until(all_sent), list(ReminderDelivery.objects.values_list("status", "last_error"))
    texts = sms(notify_files)
    assert sorted(m["to"] for m in texts) == ["0912000001", "0912000002"]
    assert all("quá hạn 7 ngày" in m["text"] and " ₫" in m["text"] for m in texts)
    (digest,) = mails(notify_files)
    subject, to, body = digest
    assert to == "cdcs.lb1@example.vn" and f"{on:%d/%m/%Y}" in subject
    assert "Phạm Thị Lan" in body and "Lê Văn Minh" in body
    assert OutboxMessage.objects.get().status == OutboxMessage.Status.PUBLISHED


def test_two_concurrent_sends_of_the_same_deliveries_send_each_once(
    notify_files, celery_worker_process, overdue_loans
):
    loan = overdue_loans[0]
    reminders_prepare(fund_id=loan.fund_id, business_date=first(loan).due_date)
    ids = list(ReminderDelivery.objects.values_list("pk", flat=True))
    results = [reminder_deliveries_send_task.delay(ids) for _ in range(2)]
    reports = [r.get(timeout=45) for r in results]
    assert sum(r["sent"] for r in reports) == 2 and sum(r["not_claimed"] for r in reports) == 2
    assert sorted(m["to"] for m in sms(notify_files)) == ["0912000001", "0912000002"]
    assert set(ReminderDelivery.objects.values_list("status", "attempts")) == {("sent", 1)}


def test_redis_down_the_work_waits_in_the_outbox_then_the_worker_sends_it(
    notify_files, celery_worker_process, overdue_loans
):
    from config.celery import app

    url = app.conf.broker_url
    loan = overdue_loans[0]
    celery_reconfigure(app, CELERY_BROKER_URL="redis://127.0.0.1:1/0")
    try:
        started = time.monotonic()
        run = reminders_schedule(fund_id=loan.fund_id, business_date=first(loan).due_date)
        assert time.monotonic() - started < 10  # the request is not held by the dead broker
    finally:
        celery_reconfigure(app, CELERY_BROKER_URL=url)
    assert run.prepared == 2
    message = OutboxMessage.objects.get()
    assert message.status == OutboxMessage.Status.PENDING and message.last_error
    time.sleep(2)
    assert set(ReminderDelivery.objects.values_list("status", flat=True)) == {"pending"}
    assert sms(notify_files) == []
    # Redis is back: the relay publishes, the worker sends.
    OutboxMessage.objects.update(available_at=message.created_at)
    assert outbox_relay() == 1
    assert wait_until(all_sent)
    assert sorted(m["to"] for m in sms(notify_files)) == ["0912000001", "0912000002"]
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.PUBLISHED and message.task_id
