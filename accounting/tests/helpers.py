"""Helpers of the ledger tests: a connection of their own, the deferred checks run now, rows
altered behind the ledger's back."""

from contextlib import contextmanager

import psycopg
from django.db import connection

from accounting.models import JournalEntry, Posting


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def pg_connect(**kwargs) -> psycopg.Connection:
    """A separate psycopg connection to the test database (not Django's)."""
    s = connection.settings_dict
    params = {
        "dbname": s["NAME"],
        "user": s["USER"] or None,
        "password": s["PASSWORD"] or None,
        "host": s["HOST"] or None,
        "port": s["PORT"] or None,
    }
    return psycopg.connect(**{**params, **kwargs})


@contextmanager
def as_login_role(cur):
    """Act as the role the tests log in with (the server's superuser) for a moment: when the
    suite runs as the application role (conftest.py, ``TROVON_TEST_AS_APP_ROLE``), the session
    has switched to it with ``SET ROLE``; this switches back and then returns to it."""
    cur.execute("SELECT current_user, session_user")
    current, login = cur.fetchone()
    if current != login:
        cur.execute("RESET ROLE")
    try:
        yield
    finally:
        if current != login:
            cur.execute(f'SET ROLE "{current}"')


def run_deferred_checks() -> None:
    """Fire the deferred constraint triggers queued so far (PostgreSQL), as COMMIT would."""
    if is_postgres():
        with connection.cursor() as cur:
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cur.execute("SET CONSTRAINTS ALL DEFERRED")


def tamper(sql: str, params=()) -> None:
    """Alter posted rows behind the ledger's back, as an attacker with database access would.

    On PostgreSQL the triggers are switched off for the statement (superuser:
    ``session_replication_role = replica``); the pending deferred checks of entries posted so far
    are run first, so that they do not fire on the tampered rows when the test ends.
    """
    run_deferred_checks()
    with connection.cursor() as cur:
        if not is_postgres():
            cur.execute(sql, params)
            return
        with as_login_role(cur):
            cur.execute("SET session_replication_role = replica")
            try:
                cur.execute(sql, params)
            finally:
                cur.execute("SET session_replication_role = DEFAULT")


def ledger_rows() -> tuple[int, int]:
    """Journal entries and postings in the ledger: unchanged after a refused posting."""
    return JournalEntry.objects.count(), Posting.objects.count()
