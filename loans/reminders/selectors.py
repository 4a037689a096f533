"""Reads of the reminders: deliveries that failed, for the officers to see and requeue."""

from __future__ import annotations

from django.db.models import QuerySet

from fund.scoping import Scope, scope_filter
from loans.models import (
    ReminderDelivery,
)


def reminder_deliveries_failed(*, scope: Scope) -> QuerySet:
    """Reminders an officer must see: failing and being retried, given up, or uncertain (a
    worker died while sending), newest first, within the officer's scope."""
    S = ReminderDelivery.Status
    return scope_filter(
        ReminderDelivery.objects.filter(status__in=[S.RETRY, S.FAILED, S.UNCERTAIN]), scope
    ).select_related("grassroots_union", "installment__loan__borrower", "officer")
