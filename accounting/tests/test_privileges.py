"""The application's database role (``trovon_app``, accounting/roles.py) against the ledger:
every act below is refused by PostgreSQL itself, and what the application must do still works.

Each act runs on a connection of its own as the application role, in a transaction rolled back
afterwards. The roles and grants are those the test set-up gives the test database
(conftest.py ``django_db_setup``), the same as ``manage.py db_roles`` and ``migrate`` give a
production one.
"""

from datetime import date

import psycopg
import pytest

from accounting.models import Account, AccountCheckpoint, PeriodClose
from accounting.roles import app_role, owner_role
from accounting.selectors import checkpoints_verify, turnover_verify
from accounting.tests.factories import entry_post
from accounting.tests.helpers import pg_connect

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def as_app(**kwargs) -> psycopg.Connection:
    return pg_connect(user=app_role(), password=None, **kwargs)


REFUSED = [
    ("update a posting", "UPDATE accounting_posting SET amount = amount * 2", "permission denied"),
    ("delete an entry", "DELETE FROM accounting_journalentry", "permission denied"),
    ("delete a chain link", "DELETE FROM accounting_chainlink", "permission denied"),
    ("truncate postings", "TRUNCATE accounting_posting", "permission denied"),
    ("update turnover", "UPDATE accounting_accountturnover SET debit = 0", "permission denied"),
    ("delete turnover", "DELETE FROM accounting_accountturnover", "permission denied"),
    (
        "insert turnover",
        "INSERT INTO accounting_accountturnover (account_id, currency, effective_date, debit, "
        "credit, postings, compacted) VALUES (1, 'VND', '2025-03-10', 1, 0, 1, false)",
        "permission denied",
    ),
    (
        "insert a checkpoint",
        "INSERT INTO accounting_accountcheckpoint (account_id, as_of, currency, balance, "
        "posting_count) VALUES (1, '2025-02-28', 'VND', 1, 1)",
        "permission denied",
    ),
    (
        "insert a close",
        "INSERT INTO accounting_periodclose (closed_through, closed_at, note) "
        "VALUES ('2025-02-28', now(), '')",
        "permission denied",
    ),
    ("update an audit row", "UPDATE fund_auditlog SET action = 'x'", "permission denied"),
    ("delete audit rows", "DELETE FROM fund_auditlog", "permission denied"),
    ("replica mode", "SET session_replication_role = replica", "permission denied"),
    (
        "disable triggers",
        "ALTER TABLE accounting_posting DISABLE TRIGGER ALL",
        "must be owner",
    ),
    ("drop a trigger", "DROP TRIGGER postings_inserted ON accounting_posting", "must be owner"),
    (
        "replace a trigger function",
        "CREATE OR REPLACE FUNCTION accounting_postings_inserted() RETURNS trigger "
        "AS $$ BEGIN RETURN NULL; END $$ LANGUAGE plpgsql",
        "permission denied for schema public",
    ),
    ("drop the table", "DROP TABLE accounting_posting", "must be owner"),
    ("create a table", "CREATE TABLE public.x (id int)", "permission denied"),
    ("become the owner", f"SET ROLE {owner_role()}", "permission denied"),
    ("become superuser", f"ALTER ROLE {app_role()} SUPERUSER", "must be superuser"),
]


@pytest.mark.parametrize("sql, match", [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_the_application_role_is_refused(sql, match):
    entry_post(1_000_000, on=date(2025, 3, 10))  # something to attack (uncommitted: unseen)
    with as_app() as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match=match):
            conn.execute(sql)
        conn.rollback()


def test_the_application_role_owns_nothing_and_is_no_superuser():
    with as_app() as conn:
        (super_, create_role, create_db, bypass_rls) = conn.execute(
            "SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls FROM pg_roles "
            "WHERE rolname = current_user"
        ).fetchone()
        owned = conn.execute(
            "SELECT count(*) FROM pg_class WHERE relowner = "
            "(SELECT oid FROM pg_roles WHERE rolname = current_user)"
        ).fetchone()[0]
        functions = conn.execute(
            "SELECT count(*) FROM pg_proc WHERE proowner = "
            "(SELECT oid FROM pg_roles WHERE rolname = current_user)"
        ).fetchone()[0]
    assert (super_, create_role, create_db, bypass_rls, owned, functions) == (
        False,
        False,
        False,
        False,
        0,
        0,
    )


def test_the_application_role_posts_closes_and_compacts(committed_ledger):
    """What the application must do, it can: post (the triggers write turnover as the owner),
    compact turnover and close a period (the ledger's functions write the guarded tables)."""
    cash, capital = (Account.objects.get(code=c).pk for c in ("1121", "4111"))
    with as_app() as conn:
        entry_id = conn.execute(
            "INSERT INTO accounting_journalentry (effective_date, recorded_at, memo, "
            "document_type, document_id, idempotency_key, request_hash) "
            "VALUES ('2025-03-10', now(), 'app', '', '', 'app-role-1', '') RETURNING id"
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO accounting_posting (entry_id, account_id, amount, amount_currency, "
            "effective_date, subledger) VALUES (%s, %s, 100, 'VND', '2025-03-10', ''), "
            "(%s, %s, -100, 'VND', '2025-03-10', '')",
            [entry_id, cash, entry_id, capital],
        )
        conn.commit()
        conn.execute("SELECT accounting_turnover_compact()")
        conn.execute("SELECT accounting_period_close('2025-03-31', now(), NULL, 'app')")
        conn.commit()
    assert PeriodClose.objects.filter(closed_through=date(2025, 3, 31)).exists()
    assert AccountCheckpoint.objects.filter(as_of=date(2025, 3, 31), account_id=cash).exists()
    assert turnover_verify().ok and checkpoints_verify().ok


def test_the_application_role_stores_a_backdating_reason_and_cannot_change_it():
    """A back-dated entry posted by the service as the application role keeps its reason
    (written by the entry's own INSERT), and the role cannot change or clear it afterwards."""
    from datetime import timedelta

    from django.db import DatabaseError, connection, transaction

    from accounting.dates import backdate_window_start
    from accounting.models import JournalEntry
    from accounting.services import credit, debit, journal_entry_post

    day = backdate_window_start(0) - timedelta(days=3)
    with connection.cursor() as cur:
        cur.execute(f'SET LOCAL ROLE "{app_role()}"')
        cur.execute("SELECT current_user")
        assert cur.fetchone()[0] == app_role()
    entry = journal_entry_post(
        effective_date=day,
        legs=[debit("1121", 1000), credit("4111", 1000)],
        memo="Chuyển sổ",
        idempotency_key="app-role-backdated",
        backdated_reason="Chuyển sổ giấy",
    )
    assert JournalEntry.objects.get(pk=entry.pk).backdated_reason == "Chuyển sổ giấy"
    with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
        with connection.cursor() as cur:
            cur.execute(
                "UPDATE accounting_journalentry SET backdated_reason = '' WHERE id = %s",
                [entry.pk],
            )
    assert JournalEntry.objects.get(pk=entry.pk).backdated_reason == "Chuyển sổ giấy"
