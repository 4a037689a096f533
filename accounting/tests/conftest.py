"""Fixtures of the ledger tests.

Most tests run inside the test transaction (``db``), on SQLite or PostgreSQL. Tests that need
real commits (parallel connections, a deferred trigger firing at COMMIT) use
``committed_ledger``: other connections commit for real and the ledger rows they leave are
deleted afterwards with the triggers off, so the chart of accounts loaded by the migration stays
for the tests that follow (a transactional test's flush would drop it).
"""

import psycopg
import pytest
from django.db import connection

from accounting.services import chart_cache_clear


@pytest.fixture(autouse=True)
def _fresh_chart_cache():
    """Each test sees the chart of its own transaction, not one cached by an earlier test."""
    chart_cache_clear()
    yield
    chart_cache_clear()


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def pg_connect(**kwargs) -> psycopg.Connection:
    """A separate psycopg connection to the test database (not Django's)."""
    s = connection.settings_dict
    return psycopg.connect(
        dbname=s["NAME"],
        user=s["USER"] or None,
        password=s["PASSWORD"] or None,
        host=s["HOST"] or None,
        port=s["PORT"] or None,
        **kwargs,
    )


LEDGER_TABLES = [
    "accounting_chainlink",
    "accounting_accountcheckpoint",
    "accounting_periodclose",
    "accounting_posting",
    "accounting_journalentry",
    "accounting_commandrecord",
    "accounting_accountturnover",
]


@pytest.fixture
def committed_ledger(db):
    """For tests whose other connections commit for real (PostgreSQL only)."""
    if not is_postgres():
        pytest.skip("needs PostgreSQL: real parallel connections")
    yield
    with pg_connect(autocommit=True) as c:
        c.execute("SET lock_timeout = '20s'")
        c.execute("SET session_replication_role = replica")
        for table in LEDGER_TABLES:
            c.execute(f"DELETE FROM {table}")


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
        if is_postgres():
            cur.execute("SET session_replication_role = replica")
        try:
            cur.execute(sql, params)
        finally:
            if is_postgres():
                cur.execute("SET session_replication_role = DEFAULT")
