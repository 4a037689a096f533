"""The fund officer's reminder log: every send, the failed ones first, and "send again"."""

import pytest
from django.urls import reverse

from loans.models import ReminderChannel, ReminderDelivery
from loans.tests.factories import today

pytestmark = pytest.mark.django_db


def _delivery(loan, *, status, error=""):
    return ReminderDelivery.objects.create(
        fund=loan.fund,
        kind=ReminderDelivery.Kind.INSTALLMENT,
        installment=loan.installments.order_by("number").first(),
        grassroots_union=loan.grassroots_union,
        stage="overdue_7",
        channel=ReminderChannel.SMS,
        audience=ReminderDelivery.Audience.BORROWER,
        recipient="0912345678",
        business_date=today(),
        status=status,
        attempts=6 if status == ReminderDelivery.Status.FAILED else 1,
        last_error=error,
    )


def test_log_lists_sends_and_failures_and_requeues_once(as_user, officers, loan):
    failed = _delivery(loan, status=ReminderDelivery.Status.FAILED, error="gateway 503")
    c = as_user(officers.fund)
    r = c.get(reverse("loans:reminder_log"))
    body = r.content.decode()
    assert r.status_code == 200
    assert "gateway 503" in body and "0912345678" in body
    assert loan.borrower.full_name in body
    assert reverse("loans:reminder_requeue", args=[failed.pk]) in body

    r = c.post(reverse("loans:reminder_requeue", args=[failed.pk]), follow=True)
    assert r.status_code == 200
    failed.refresh_from_db()
    assert failed.status != ReminderDelivery.Status.FAILED  # queued again
    # A second click finds nothing left to send again: refused with a message, nothing changes.
    before = failed.status
    r = c.post(reverse("loans:reminder_requeue", args=[failed.pk]), follow=True)
    failed.refresh_from_db()
    assert failed.status == before


def test_status_filter_and_other_roles(as_user, officers, loan):
    _delivery(loan, status=ReminderDelivery.Status.SENT)
    c = as_user(officers.fund)
    r = c.get(reverse("loans:reminder_log"), {"status": "failed"})
    assert "Chưa có lượt nhắc nợ nào." in r.content.decode()
    assert as_user(officers.grassroots).get(reverse("loans:reminder_log")).status_code == 403
    assert as_user(officers.auditor).get(reverse("loans:reminder_log")).status_code == 403
