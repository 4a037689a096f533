from celery import shared_task

from fund.outbox import outbox_relay


@shared_task(name="fund.tasks.outbox_relay_task", acks_late=True)
def outbox_relay_task() -> int:
    """Publish outbox rows left pending while the broker was down (beat, every minute)."""
    return outbox_relay()


@shared_task(name="fund.tasks.audit_seal_task", acks_late=True)
def audit_seal_task() -> int:
    """Seal the audit log's new rows into its hash chain (beat, every minute)."""
    from fund.audit import audit_seal

    return audit_seal()
