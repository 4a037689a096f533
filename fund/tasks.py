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


@shared_task(name="fund.tasks.integrity_check_task", acks_late=True)
def integrity_check_task() -> bool:
    """Every verification of the books, stored; a failure e-mailed at once (beat, nightly)."""
    from fund.integrity import integrity_check_run

    return integrity_check_run().ok


@shared_task(name="fund.tasks.chain_heads_email_task", acks_late=True)
def chain_heads_email_task() -> int:
    """The signed chain heads e-mailed to the fund officers and auditors (beat, weekly)."""
    from fund.integrity import chain_heads_email

    return len(chain_heads_email())
