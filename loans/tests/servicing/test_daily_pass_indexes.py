"""The daily pass rewrites a few columns of every late loan and installment each night. On
PostgreSQL such an update stays in place (HOT, no new entry in any index) only while none of
those columns is in an index — as a key, an INCLUDE column or in a partial index's condition.
A new index over one of them would make every late row cost an entry in every index of its
table each night (what made the first day of the 1,000,000-loan benchmark miss its target)."""

import pytest
from django.db import connection

from accounting.tests.helpers import as_login_role

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

# What loans/servicing/arrears.py's UPDATE statements set.
REWRITTEN = {
    "loans_loan": {
        "overdue_principal",
        "overdue_interest",
        "penalty_outstanding",
        "days_past_due",
        "debt_group",
        "classified_on",
        "provision_held",
    },
    "loans_installment": {"overdue", "penalty_due", "penalty_accrued_through"},
}


def _indexed_columns(table: str) -> dict[str, set[str]]:
    """Each index of the table → the columns it names (keys, INCLUDE, expressions, condition)."""
    with connection.cursor() as c:
        c.execute(
            "SELECT ix.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i"
            " JOIN pg_class ix ON ix.oid = i.indexrelid WHERE i.indrelid = %s::regclass",
            [table],
        )
        rows = c.fetchall()
    out = {}
    for name, definition in rows:
        body = definition.split(" USING ", 1)[1]
        out[name] = {col for col in REWRITTEN[table] if col in body}
    return out


@pytest.mark.parametrize("table", sorted(REWRITTEN))
def test_no_index_names_a_column_the_daily_pass_rewrites(table):
    offending = {name: cols for name, cols in _indexed_columns(table).items() if cols}
    assert offending == {}


def test_the_check_sees_an_index_over_a_rewritten_column():
    with connection.cursor() as c, as_login_role(c):  # a migration's act: the owner's
        c.execute(
            "CREATE INDEX tmp_late ON loans_loan (fund_id) INCLUDE (overdue_principal)"
            " WHERE days_past_due > 0"
        )
    assert _indexed_columns("loans_loan")["tmp_late"] == {"overdue_principal", "days_past_due"}
