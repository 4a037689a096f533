"""A real worker runs a task end to end: it reads what the test committed and writes back."""

from datetime import date

import pytest

from accounting.models import ChainLink
from accounting.selectors import ledger_verify
from accounting.services import credit, debit, journal_entry_post
from accounting.tasks import ledger_seal_task

pytestmark = [pytest.mark.postgres]


def test_worker_seals_the_ledger(celery_worker_process):
    for i in range(5):
        journal_entry_post(
            effective_date=date(2026, 1, 2),
            legs=[debit("1121", 1_000_000 + i), credit("4111", 1_000_000 + i)],
            memo=f"Góp vốn {i}",
            idempotency_key=f"worker-test-{i}",
        )
    result = ledger_seal_task.delay()
    assert result.get(timeout=30) == 5
    assert ChainLink.objects.count() == 5
    report = ledger_verify()
    assert report.ok and report.links_checked == 5
