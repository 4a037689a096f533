from celery import shared_task

from accounting.services import ledger_seal


@shared_task(name="accounting.tasks.ledger_seal_task", acks_late=True)
def ledger_seal_task() -> int:
    """Seal newly posted entries into the hash chain (beat runs it every minute)."""
    return ledger_seal()


@shared_task(name="accounting.tasks.ledger_turnover_compact_task", acks_late=True)
def ledger_turnover_compact_task() -> int:
    """Merge the day's new turnover rows (beat runs it every minute), keeping balances cheap."""
    from accounting.services import ledger_turnover_compact

    return ledger_turnover_compact()
