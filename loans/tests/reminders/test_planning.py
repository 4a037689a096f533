"""Reminders: stages, at most once (reruns, crashes), templates, digests, retries, visibility."""

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from fund.models import OutboxMessage
from fund.scoping import scope_for
from loans.errors import LoanError
from loans.models import Installment, ReminderDelivery, ReminderStage, ReminderTemplate
from loans.reminders.channels import DeliveryError
from loans.reminders.planning import (
    reminder_deliveries_recover,
    reminder_deliveries_send,
    reminder_delivery_requeue,
    reminder_digests_prepare,
    reminders_prepare,
    reminders_retry_due,
    reminders_run,
    reminders_schedule,
)
from loans.reminders.selectors import reminder_deliveries_failed
from loans.servicing.repayments import repayment_post
from loans.tests.factories import new_key
from loans.tests.helpers import first, make_loan, staff

pytestmark = pytest.mark.django_db

S = ReminderDelivery.Status


@pytest.fixture
def sms_dir(settings, tmp_path):
    settings.SMS_BACKEND = "loans.reminders.channels.FileSmsBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    return tmp_path / "sms"


def sms_files(path):
    return sorted(path.glob("*.json")) if path.exists() else []


def pending_ids(**filters):
    return list(ReminderDelivery.objects.filter(**filters).values_list("pk", flat=True))


# --------------------------------------------------------------------------------------------
# Stages


def test_each_default_stage_is_recorded_once_over_forty_days(loan):
    inst = first(loan)
    for offset in range(-6, 41):
        reminders_prepare(fund_id=loan.fund_id, business_date=inst.due_date + timedelta(offset))
        # a rerun of the same day creates nothing more
        assert (
            reminders_prepare(fund_id=loan.fund_id, business_date=inst.due_date + timedelta(offset))
            == 0
            or offset == -6
        )
    rows = ReminderDelivery.objects.filter(installment=inst).order_by("business_date")
    assert [(r.stage, (r.business_date - inst.due_date).days) for r in rows] == [
        ("before_3", -3),
        ("due", 0),
        ("after_7", 7),
        ("after_30", 30),
    ]
    assert {(r.channel, r.audience, r.recipient) for r in rows} == {
        ("sms", "borrower", "0912345678")
    }
    assert {r.grassroots_union_id for r in rows} == {loan.borrower.grassroots_union_id}


def test_a_missed_day_is_caught_up_but_not_into_the_next_stage(loan):
    inst = first(loan)
    # Nothing ran on the due day; two days later the "due" reminder still goes out.
    assert reminders_prepare(fund_id=loan.fund_id, business_date=inst.due_date + timedelta(2))
    assert ReminderDelivery.objects.get(installment=inst).stage == "due"
    # Ten days late for the 7-day stage: past its catch-up window, so nothing for this one.
    reminders_prepare(fund_id=loan.fund_id, business_date=inst.due_date + timedelta(17))
    assert list(
        ReminderDelivery.objects.filter(installment=inst).values_list("stage", flat=True)
    ) == ["due"]


def test_paid_installments_and_borrowers_without_phone_get_nothing(chain, capital):
    paid = make_loan(chain)
    no_phone = make_loan(chain, phone="")
    inst = first(paid)
    repayment_post(
        loan=paid,
        amount=inst.principal_due.amount + inst.interest_due.amount,
        paid_on=inst.due_date - timedelta(days=5),
        idempotency_key=new_key("pay"),
    )
    assert Installment.objects.get(pk=inst.pk).status == "paid"
    created = reminders_prepare(fund_id=paid.fund_id, business_date=inst.due_date)
    assert created == 0
    assert not ReminderDelivery.objects.filter(installment__loan=no_phone).exists()


def test_a_fund_with_its_own_stages_uses_only_those(loan):
    ReminderStage.objects.create(
        fund=loan.fund, code="before_1", name="Trước 1 ngày", days_from_due=-1, catch_up_days=0
    )
    inst = first(loan)
    assert reminders_prepare(fund_id=loan.fund_id, business_date=inst.due_date - timedelta(3)) == 0
    assert reminders_prepare(fund_id=loan.fund_id, business_date=inst.due_date - timedelta(1)) == 1
    assert ReminderDelivery.objects.get().stage == "before_1"
    assert reminders_prepare(fund_id=loan.fund_id, business_date=inst.due_date + timedelta(7)) == 0


def test_only_the_schedule_in_force_is_reminded(loan):
    inst = first(loan)
    Installment.objects.filter(loan=loan).update(schedule_version=1)
    loan.__class__.objects.filter(pk=loan.pk).update(schedule_version=2)
    assert reminders_prepare(fund_id=loan.fund_id, business_date=inst.due_date) == 0


# --------------------------------------------------------------------------------------------
# Sending and templates


def test_sms_text_has_amount_due_date_and_the_unions_contact(loan, sms_dir):
    union = loan.borrower.grassroots_union
    union.contact_name, union.contact_phone = "Trần Văn Bình", "0243 8271 234"
    union.save()
    inst = first(loan)
    reminders_prepare(fund_id=loan.fund_id, business_date=inst.due_date + timedelta(7))
    report = reminder_deliveries_send(ids=pending_ids())
    assert report.sent == 1
    (file,) = sms_files(sms_dir)
    message = json.loads(file.read_text())
    left = inst.principal_due.amount + inst.interest_due.amount
    amount = f"{int(left):,}".replace(",", ".") + " ₫"
    assert message["to"] == "0912345678"
    assert loan.borrower.full_name in message["text"]
    assert f"{inst.due_date:%d/%m/%Y}" in message["text"]
    assert amount in message["text"]
    assert "quá hạn 7 ngày" in message["text"]
    assert "Trần Văn Bình" in message["text"] and "0243 8271 234" in message["text"]
    row = ReminderDelivery.objects.get()
    assert row.status == S.SENT and row.body == message["text"] and row.sent_at
    assert row.attempts == 1


def test_a_fund_officer_edits_the_template_of_their_fund(loan, sms_dir):
    ReminderTemplate.objects.create(
        fund=loan.fund, stage="due", channel="sms", body="Hôm nay đến hạn: {{ amount_due }}."
    )
    inst = first(loan)
    reminders_prepare(fund_id=loan.fund_id, business_date=inst.due_date)
    reminder_deliveries_send(ids=pending_ids())
    (file,) = sms_files(sms_dir)
    assert json.loads(file.read_text())["text"].startswith("Hôm nay đến hạn: ")


def test_a_broken_template_is_refused_when_edited():
    tpl = ReminderTemplate(stage="due", channel="sms", body="{% if %}")
    with pytest.raises(ValidationError) as e:
        tpl.full_clean()
    assert "body" in e.value.message_dict


def test_paid_between_record_and_send_is_skipped(loan, sms_dir):
    inst = first(loan)
    reminders_prepare(fund_id=loan.fund_id, business_date=inst.due_date)
    Installment.objects.filter(pk=inst.pk).update(status="paid")
    report = reminder_deliveries_send(ids=pending_ids())
    assert report.skipped == 1 and not sms_files(sms_dir)
    assert ReminderDelivery.objects.get().status == S.SKIPPED


# --------------------------------------------------------------------------------------------
# At most once


def test_sending_twice_sends_once(loan, sms_dir):
    inst = first(loan)
    reminders_prepare(fund_id=loan.fund_id, business_date=inst.due_date)
    ids = pending_ids()
    assert reminder_deliveries_send(ids=ids).sent == 1
    again = reminder_deliveries_send(ids=ids)
    assert again.sent == 0 and again.not_claimed == 1
    assert len(sms_files(sms_dir)) == 1


def test_crash_between_record_and_send_sends_once_later(loan, sms_dir):
    """The worker dies after recording (before any claim): the next run sends it, once."""
    inst = first(loan)
    reminders_prepare(fund_id=loan.fund_id, business_date=inst.due_date)
    # ... crash: nothing sent. The rerun of the day records nothing new, the sweep sends.
    assert reminders_prepare(fund_id=loan.fund_id, business_date=inst.due_date) == 0
    assert reminders_retry_due().sent == 1
    assert reminders_retry_due().sent == 0
    assert len(sms_files(sms_dir)) == 1


def test_crash_while_sending_email_is_not_resent_blindly(
    chain, capital, officers, settings, mailoutbox
):
    """Claimed, then the worker died: on e-mail it becomes 'uncertain' (at most once)."""
    officers.grassroots.email = "cdcs.lb1@example.vn"
    officers.grassroots.save()
    loan = make_loan(chain)
    on = first(loan).due_date + timedelta(days=1)
    reminder_digests_prepare(fund_id=loan.fund_id, business_date=on)
    row = ReminderDelivery.objects.get(kind="digest")
    start = timezone.now()
    ReminderDelivery.objects.filter(pk=row.pk).update(
        status=S.SENDING, claimed_at=start, attempts=1
    )  # the claim committed, then the process was killed
    assert reminder_deliveries_recover(now=start + timedelta(minutes=1)).uncertain == 0
    later = start + timedelta(seconds=settings.REMINDER_SENDING_LEASE_SECONDS + 1)
    report = reminders_retry_due(now=later)
    assert report.uncertain == 1 and report.sent == 0 and mailoutbox == []
    row.refresh_from_db()
    assert row.status == S.UNCERTAIN
    assert list(reminder_deliveries_failed(scope=scope_for(officers.grassroots))) == [row]
    # The officer checks and asks for it again: it goes out once.
    reminder_delivery_requeue(delivery=row, actor=officers.fund)
    assert reminders_retry_due().sent == 1
    assert len(mailoutbox) == 1
    with pytest.raises(LoanError):
        reminder_delivery_requeue(delivery=row, actor=officers.fund)


def test_crash_while_sending_on_an_idempotent_channel_is_retried(loan, sms_dir, settings):
    inst = first(loan)
    reminders_prepare(fund_id=loan.fund_id, business_date=inst.due_date)
    start = timezone.now()
    ReminderDelivery.objects.update(status=S.SENDING, claimed_at=start, attempts=1)
    later = start + timedelta(seconds=settings.REMINDER_SENDING_LEASE_SECONDS + 1)
    report = reminders_retry_due(now=later)
    assert report.recovered == 1 and report.sent == 1
    assert len(sms_files(sms_dir)) == 1


# --------------------------------------------------------------------------------------------
# Digests


def test_each_officer_gets_one_digest_listing_their_overdue_borrowers(
    chain, capital, officers, org, mailoutbox
):
    officers.grassroots.email = "cdcs.lb1@example.vn"
    officers.grassroots.save()
    officers.grassroots_lb2.email = "cdcs.lb2@example.vn"
    officers.grassroots_lb2.save()
    a = make_loan(chain, full_name="Phạm Thị Lan")
    b = make_loan(chain, full_name="Lê Văn Minh", phone="0987000111")
    on = first(a).due_date + timedelta(days=10)
    assert reminder_digests_prepare(fund_id=org.fund.pk, business_date=on) == 1
    assert reminder_digests_prepare(fund_id=org.fund.pk, business_date=on) == 0
    run = reminders_run(fund_id=org.fund.pk, business_date=on)
    assert run.send.sent >= 1
    digests = [m for m in mailoutbox if "Danh sách thành viên quá hạn" in m.subject]
    assert len(digests) == 1
    (message,) = digests
    assert message.to == ["cdcs.lb1@example.vn"]
    assert "Phạm Thị Lan" in message.body and "Lê Văn Minh" in message.body
    assert "0987000111" in message.body and "quá hạn 10 ngày" in message.body
    left = sum(
        i.principal_due.amount + i.interest_due.amount
        for i in Installment.objects.filter(loan__in=[a, b], due_date__lt=on)
    )
    assert f"{int(left):,}".replace(",", ".") + " ₫" in message.body
    assert f"{on:%d/%m/%Y}" in message.subject
    # The next day brings a new digest (one per day), not one per borrower.
    reminders_run(fund_id=org.fund.pk, business_date=on + timedelta(days=1))
    assert len([m for m in mailoutbox if "Danh sách" in m.subject]) == 2


# --------------------------------------------------------------------------------------------
# Retries


class BrokenSms:
    idempotent = False

    def send(self, *, to, text, key):
        raise DeliveryError("Cổng SMS không phản hồi.")


def test_failures_are_retried_with_backoff_then_kept_for_officers(loan, settings, officers):
    settings.SMS_BACKEND = "loans.tests.reminders.test_planning.BrokenSms"
    settings.REMINDER_MAX_ATTEMPTS = 3
    inst = first(loan)
    reminders_prepare(fund_id=loan.fund_id, business_date=inst.due_date)
    (pk,) = pending_ids()
    now = timezone.now()
    assert reminder_deliveries_send(ids=[pk], now=now).retry == 1
    row = ReminderDelivery.objects.get()
    assert (row.status, row.attempts) == (S.RETRY, 1)
    assert row.next_attempt_at == now + timedelta(seconds=300)
    assert "Cổng SMS không phản hồi" in row.last_error
    # Not before its time.
    assert reminder_deliveries_send(ids=[pk], now=now + timedelta(seconds=299)).not_claimed == 1
    second = now + timedelta(seconds=300)
    assert reminders_retry_due(now=second).retry == 1
    row.refresh_from_db()
    assert row.attempts == 2 and row.next_attempt_at == second + timedelta(seconds=600)
    assert reminders_retry_due(now=second + timedelta(seconds=600)).failed == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == (S.FAILED, 3)
    # Visible to the union's officers and the fund's, not to another union's.
    assert list(reminder_deliveries_failed(scope=scope_for(officers.grassroots))) == [row]
    assert list(reminder_deliveries_failed(scope=scope_for(officers.fund))) == [row]
    assert not reminder_deliveries_failed(scope=scope_for(officers.grassroots_lb2)).exists()
    assert not reminder_deliveries_failed(scope=scope_for(officers.other_fund)).exists()
    with pytest.raises(LoanError):
        reminder_delivery_requeue(delivery=row, actor=officers.grassroots_lb2)


# --------------------------------------------------------------------------------------------
# The jobs: the command and the scheduled path give the same result


def test_send_reminders_command(loan, sms_dir):
    inst = first(loan)
    call_command("send_reminders", "--date", f"{inst.due_date:%Y-%m-%d}", "--fund", "HN")
    call_command("send_reminders", "--date", f"{inst.due_date:%d/%m/%Y}", "--fund", "HN")
    assert ReminderDelivery.objects.get().status == S.SENT
    assert len(sms_files(sms_dir)) == 1


def test_schedule_records_and_queues_through_the_outbox(
    loan, sms_dir, django_capture_on_commit_callbacks
):
    inst = first(loan)
    with django_capture_on_commit_callbacks(execute=True):
        run = reminders_schedule(fund_id=loan.fund_id, business_date=inst.due_date)
    assert (run.prepared, run.batches) == (1, 1)
    message = OutboxMessage.objects.get()
    assert message.task_name == "loans.reminder_tasks.reminder_deliveries_send_task"
    assert message.status == OutboxMessage.Status.PUBLISHED and message.task_id
    assert ReminderDelivery.objects.get().status == S.SENT
    assert len(sms_files(sms_dir)) == 1
    # Rerunning the day queues nothing new and sends nothing new.
    with django_capture_on_commit_callbacks(execute=True):
        again = reminders_schedule(fund_id=loan.fund_id, business_date=inst.due_date)
    assert (again.prepared, again.batches) == (0, 0)
    assert OutboxMessage.objects.count() == 1 and len(sms_files(sms_dir)) == 1


def test_email_message_id_carries_the_delivery_key(loan):
    from loans.reminders.channels import message_send

    message_send(channel="email", to="a@example.vn", subject="Tiêu đề", body="Nội dung", key="k-1")
    (m,) = mail.outbox
    assert m.extra_headers["X-Trovon-Key"] == "k-1" and "k-1" in m.extra_headers["Message-ID"]


# --------------------------------------------------------------------------------------------
# Admin: the officers' list of reminders and the "send again" action


def test_officers_list_their_unions_reminders_and_resend_the_failed(
    client, loan, officers, settings, django_capture_on_commit_callbacks
):
    from django.contrib.auth.models import Permission

    settings.SMS_BACKEND = "loans.tests.reminders.test_planning.BrokenSms"
    settings.REMINDER_MAX_ATTEMPTS = 1
    reminders_run(fund_id=loan.fund_id, business_date=first(loan).due_date)
    row = ReminderDelivery.objects.get()
    assert row.status == S.FAILED
    url = "/admin/loans/reminderdelivery/"
    lb2 = staff(officers.grassroots_lb2)
    client.force_login(lb2)
    assert row.recipient not in client.get(f"{url}?status=failed").content.decode()
    officer = staff(officers.grassroots)
    officer.user_permissions.add(*Permission.objects.filter(codename="view_reminderdelivery"))
    client.force_login(officer)
    page = client.get(f"{url}?status=failed").content.decode()
    assert row.recipient in page and "Cổng SMS không phản hồi" in page
    settings.SMS_BACKEND = "loans.reminders.channels.ConsoleSmsBackend"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"action": "requeue", "_selected_action": [row.pk]})
    row.refresh_from_db()
    assert row.status == S.SENT


def test_the_daily_task_gives_the_same_result_as_the_command(
    loan, sms_dir, django_capture_on_commit_callbacks
):
    from loans.tasks import reminders_daily_task

    on = first(loan).due_date
    with django_capture_on_commit_callbacks(execute=True):
        (run,) = reminders_daily_task.apply(
            kwargs={"business_date": on.isoformat(), "fund_id": loan.fund_id}
        ).get()
    assert run["prepared"] == 1 and run["business_date"] == on.isoformat()
    assert ReminderDelivery.objects.get().status == S.SENT
    assert len(sms_files(sms_dir)) == 1


def test_sending_costs_the_same_queries_whatever_the_number_of_messages(
    chain, capital, sms_dir, django_assert_max_num_queries
):
    """One claim, one read of the rows with their loans, borrowers and unions, the templates
    once, then one write per message (its outcome, as soon as it went)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    loans = [make_loan(chain, phone=f"09123456{n:02d}") for n in range(4)]
    due = first(loans[0]).due_date
    reminders_prepare(fund_id=loans[0].fund_id, business_date=due)

    def send(ids):
        with CaptureQueriesContext(connection) as q:
            report = reminder_deliveries_send(ids=ids)
        writes = [x for x in q.captured_queries if x["sql"].startswith("UPDATE")]
        return report, len(q) - len(writes), len(writes)

    ids = pending_ids(business_date=due)
    assert len(ids) == 4
    report, reads, writes = send(ids[:1])
    assert report.sent == 1 and writes == 2  # the claim, the outcome
    report, more_reads, writes = send(ids[1:])
    assert report.sent == 3 and writes == 1 + 3
    assert more_reads == reads
    assert len(sms_files(sms_dir)) == 4
    row = ReminderDelivery.objects.get(pk=ids[1])
    assert row.status == S.SENT and row.sent_at is not None and row.recipient.startswith("091")
    assert row.body and row.provider_id


def test_a_fund_may_send_its_sms_without_diacritics_in_fewer_parts(loan, sms_dir):
    from accounting.formatting import sms_parts

    inst = first(loan)
    reminders_prepare(fund_id=loan.fund_id, business_date=inst.due_date + timedelta(7))
    loan.fund.sms_without_diacritics = True
    loan.fund.save()
    assert reminder_deliveries_send(ids=pending_ids()).sent == 1
    (file,) = sms_files(sms_dir)
    text = json.loads(file.read_text())["text"]
    assert "qua han 7 ngay" in text and "₫" not in text and text.isascii()
    assert ReminderDelivery.objects.get().body == text
    # GSM-7 parts of 153 characters instead of Unicode parts of 67: 2 parts, not 3 or more.
    assert sms_parts(text) <= 2, (len(text), text)
