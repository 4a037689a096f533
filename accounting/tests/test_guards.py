"""The tables balances are read from, and the chart, guarded by PostgreSQL (migration 0009).

Whoever connects — even the owner of the tables — cannot write turnover, checkpoints or closes
except through the ledger's own functions, and cannot change what a posted account is.
"""

from datetime import date

import pytest
from django.db import connection

from accounting.models import Account, AccountCheckpoint, AccountTurnover, PeriodClose
from accounting.selectors import checkpoints_verify, trial_balance, turnover_verify
from accounting.services import ledger_turnover_compact, period_close
from accounting.tests.factories import account_add, entry_post
from accounting.tests.helpers import as_login_role, run_deferred_checks
from accounting.tests.test_triggers import refused_by_database

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

DAY = date(2025, 3, 10)


@pytest.fixture
def posted():
    entry_post(1_000_000, on=date(2025, 1, 15), key="jan")
    period_close(through=date(2025, 1, 31))
    entry_post(2_000_000, on=DAY, key="mar")
    return Account.objects.get(code="1121")


WRITES = [
    (
        "turnover insert",
        "INSERT INTO accounting_accountturnover (account_id, currency, effective_date, debit, "
        "credit, postings, compacted) SELECT id, 'VND', '2025-03-10', 7, 0, 1, false "
        "FROM accounting_account WHERE code = '1121'",
        "accounting_accountturnover is written by the ledger's own functions only: INSERT",
    ),
    (
        "turnover update",
        "UPDATE accounting_accountturnover SET debit = debit + 1",
        "accounting_accountturnover is written by the ledger's own functions only: UPDATE",
    ),
    (
        "turnover delete",
        "DELETE FROM accounting_accountturnover",
        "accounting_accountturnover is written by the ledger's own functions only: DELETE",
    ),
    (
        "turnover truncate",
        "TRUNCATE accounting_accountturnover",
        "accounting_accountturnover is written by the ledger's own functions only: TRUNCATE",
    ),
    (
        "checkpoint insert",
        "INSERT INTO accounting_accountcheckpoint (account_id, as_of, currency, balance, "
        "posting_count) SELECT id, '2025-02-28', 'VND', 5, 1 FROM accounting_account "
        "WHERE code = '1121'",
        "accounting_accountcheckpoint is written by the ledger's own functions only: INSERT",
    ),
    (
        "checkpoint update",
        "UPDATE accounting_accountcheckpoint SET balance = 0",
        "append-only: UPDATE",
    ),
    (
        "close without checkpoints",
        "INSERT INTO accounting_periodclose (closed_through, closed_at, note) "
        "VALUES ('2025-02-28', now(), '')",
        "accounting_periodclose is written by the ledger's own functions only: INSERT",
    ),
    (
        "the balance check's marker",
        "DELETE FROM accounting_balancecheck",
        "accounting_balancecheck is written by the ledger's own functions only: DELETE",
    ),
]


@pytest.mark.parametrize("sql, match", [w[1:] for w in WRITES], ids=[w[0] for w in WRITES])
def test_balance_tables_are_written_by_the_ledger_only(posted, sql, match):
    before = (AccountTurnover.objects.count(), AccountCheckpoint.objects.count())
    run_deferred_checks()  # TRUNCATE waits for no pending trigger events
    with connection.cursor() as cur, as_login_role(cur):  # even the owner, even a superuser
        refused_by_database(lambda cur: cur.execute(sql), match)
    assert (AccountTurnover.objects.count(), AccountCheckpoint.objects.count()) == before
    assert turnover_verify().ok and checkpoints_verify().ok


def test_the_ledgers_own_functions_still_write_them(posted):
    """Posting adds turnover, compaction merges it, a close writes its checkpoints."""
    entry_post(500_000, on=DAY, key="mar-2")
    assert ledger_turnover_compact() > 0
    close = period_close(through=date(2025, 3, 31))
    assert AccountCheckpoint.objects.filter(as_of=close.closed_through).exists()
    assert turnover_verify().ok and checkpoints_verify().ok
    assert trial_balance(as_of=DAY).balanced


CHART_CHANGES = [
    ("code", "UPDATE accounting_account SET code = '1129' WHERE code = '1121'", "1121"),
    (
        "parent",
        "UPDATE accounting_account SET parent_id = (SELECT id FROM accounting_account "
        "WHERE code = '411') WHERE code = '1121'",
        "1121",
    ),
    ("type", "UPDATE accounting_account SET account_type = 'equity' WHERE code = '1121'", "1121"),
    ("side", "UPDATE accounting_account SET normal_side = 'credit' WHERE code = '1121'", "1121"),
    # An ancestor of a posted account moved: the subtree's postings would move with it.
    (
        "ancestor moved",
        "UPDATE accounting_account SET parent_id = (SELECT id FROM accounting_account "
        "WHERE code = '411') WHERE code = '112'",
        "112",
    ),
]


@pytest.mark.parametrize(
    "sql, code", [c[1:] for c in CHART_CHANGES], ids=[c[0] for c in CHART_CHANGES]
)
def test_a_posted_account_keeps_what_it_is(posted, sql, code):
    refused_by_database(
        lambda cur: cur.execute(sql),
        f"account {code} has postings: its code, parent, type, normal side and currency",
    )
    assert Account.objects.get(pk=posted.pk).path == posted.path


def test_an_account_without_postings_may_still_change(posted):
    account_add("11291", parent="112")
    with connection.cursor() as cur:
        cur.execute("UPDATE accounting_account SET name = 'Tên mới' WHERE code = '1121'")
        cur.execute("UPDATE accounting_account SET code = '11292' WHERE code = '11291'")
    assert Account.objects.filter(code="11292").exists()
    assert PeriodClose.objects.count() == 1


def test_an_entry_after_the_balance_check_fired_is_checked_again(posted):
    """The balance check runs once per transaction; an entry added after it fired early
    (SET CONSTRAINTS … IMMEDIATE) queues it again."""
    run_deferred_checks()  # fires (and clears) the check of the fixture's entries

    def unbalanced_later(cur):
        cur.execute(
            "INSERT INTO accounting_journalentry (effective_date, recorded_at, memo, "
            "document_type, document_id, idempotency_key, request_hash) "
            "VALUES ('2025-03-10', now(), 'raw', '', '', 'late-unbalanced', '') RETURNING id"
        )
        entry_id = cur.fetchone()[0]
        cur.execute(
            "INSERT INTO accounting_posting (entry_id, account_id, amount, amount_currency, "
            "effective_date, subledger) SELECT %s, id, 5, 'VND', '2025-03-10', '' "
            "FROM accounting_account WHERE code IN ('1121', '4111')",
            [entry_id],
        )

    refused_by_database(unbalanced_later, "is unbalanced by 10")
