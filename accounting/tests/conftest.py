"""Fixtures of the ledger tests.

Most tests run inside the test transaction (``db``), on SQLite or PostgreSQL. Tests that need
real commits (parallel connections, a deferred trigger firing at COMMIT) use
``committed_ledger``: other connections commit for real and the ledger rows they leave are
deleted afterwards with the triggers off, so the chart of accounts loaded by the migration stays
for the tests that follow (a transactional test's flush would drop it).
"""

import pytest

from accounting.tests.helpers import is_postgres, pg_connect

LEDGER_TABLES = [
    "accounting_chainlink",
    "accounting_chainhead",
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
