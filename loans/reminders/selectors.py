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


def reminder_status_counts() -> dict[str, int]:
    """How many deliveries are in each status, every status present (the metrics)."""
    from django.db.models import Count

    counts = dict.fromkeys(ReminderDelivery.Status.values, 0)
    for row in ReminderDelivery.objects.values("status").annotate(n=Count("id")).order_by():
        counts[row["status"]] = row["n"]
    return counts
