"""The ledger's rules held by PostgreSQL itself, attacked with raw SQL; the same attempts made
through the services are refused by the service layer on every database.

In the test transaction a deferred check fires at ``SET CONSTRAINTS ALL IMMEDIATE`` (as it would
at COMMIT), inside a savepoint that the refusal rolls back. The tests that need a real COMMIT use
a separate connection.
"""

from datetime import date

import psycopg
import pytest
from django.db import IntegrityError, ProgrammingError, connection, transaction
from djmoney.money import Money

from accounting.errors import (
    AccountNotPostable,
    PeriodClosed,
    PostedRowImmutable,
    TooFewPostings,
    UnbalancedEntry,
    WrongCurrency,
)
from accounting.models import (
    Account,
    AccountCheckpoint,
    ChainLink,
    JournalEntry,
    PeriodClose,
    Posting,
)
from accounting.services import credit, debit, journal_entry_post, ledger_seal, period_close
from accounting.tests.factories import account_add, entry_post, new_key
from accounting.tests.helpers import (
    as_login_role,
    ledger_rows,
    pg_connect,
    run_deferred_checks,
)

pytestmark = pytest.mark.django_db

DAY = date(2025, 3, 10)
CLOSED_DAY = date(2025, 1, 15)


@pytest.fixture
def world():
    """A sealed entry in a closed period (January 2025) and an open one after it."""
    old = entry_post(1_000_000, on=CLOSED_DAY, key="old")
    period_close(through=date(2025, 1, 31))
    new = entry_post(2_000_000, on=DAY, key="new")
    ledger_seal()
    return {"old": old, "new": new}


def acc(code: str) -> int:
    return Account.objects.get(code=code).pk


def raw_entry(cur, *, day=DAY, key=None, txid=None, reversal_of=None) -> int:
    cur.execute(
        "INSERT INTO accounting_journalentry (effective_date, recorded_at, memo, document_type, "
        "document_id, idempotency_key, request_hash, txid, reversal_of_id) "
        "VALUES (%s, now(), 'raw', '', '', %s, '', %s, %s) RETURNING id",
        [day, key or new_key("raw"), txid, reversal_of],
    )
    return cur.fetchone()[0]


def raw_posting(cur, entry_id, code, amount, *, day=DAY, currency="VND", account_id=None):
    cur.execute(
        "INSERT INTO accounting_posting (entry_id, account_id, amount, amount_currency, "
        "effective_date, subledger) VALUES (%s, %s, %s, %s, %s, '')",
        [entry_id, account_id or acc(code), amount, currency, day],
    )


def refused_by_database(sql_fn, match: str):
    """Run raw SQL in a savepoint, fire the deferred checks, expect the database to refuse."""
    try:
        # Refused by a trigger, or — when the suite runs as the application role — for want of
        # the privilege (ProgrammingError); `match` says which.
        with pytest.raises((IntegrityError, ProgrammingError), match=match):
            with transaction.atomic():
                with connection.cursor() as cur:
                    sql_fn(cur)
                    cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
    finally:
        with connection.cursor() as cur:
            cur.execute("SET CONSTRAINTS ALL DEFERRED")


# --------------------------------------------------------------------------------------------
# Each scenario: what raw SQL tries (PostgreSQL refuses) and the same through the services.


def _sql_unbalanced(cur, world):
    e = raw_entry(cur)
    raw_posting(cur, e, "1121", 100)
    raw_posting(cur, e, "4111", -90)


def _sql_unbalanced_in_second_currency(cur, world):
    usd = world["usd"]
    e = raw_entry(cur)
    raw_posting(cur, e, "1121", 100)
    raw_posting(cur, e, "4111", -100)
    raw_posting(cur, e, None, 5, currency="USD", account_id=usd)
    raw_posting(cur, e, None, -4, currency="USD", account_id=usd)


def _sql_one_leg(cur, world):
    e = raw_entry(cur)
    raw_posting(cur, e, "1121", 100)


def _sql_no_leg(cur, world):
    raw_entry(cur)


def _sql_non_leaf(cur, world):
    e = raw_entry(cur)
    raw_posting(cur, e, "112", 100)
    raw_posting(cur, e, "4111", -100)


def _sql_other_currency(cur, world):
    e = raw_entry(cur)
    raw_posting(cur, e, "1121", 100, currency="USD")
    raw_posting(cur, e, "4111", -100, currency="USD")


def _sql_closed_entry(cur, world):
    e = raw_entry(cur, day=CLOSED_DAY)
    raw_posting(cur, e, "1121", 100, day=CLOSED_DAY)
    raw_posting(cur, e, "4111", -100, day=CLOSED_DAY)


def _sql_closed_posting(cur, world):
    # The entry goes in while its date is open; the period closes before its postings arrive.
    e = raw_entry(cur, day=date(2025, 2, 10))
    cur.execute("SELECT accounting_period_close('2025-02-28', now(), NULL, '')")
    raw_posting(cur, e, "1121", 100, day=date(2025, 2, 10))


def _sql_reversal_of_a_reversal(cur, world):
    reversal = raw_entry(cur, reversal_of=world["new"].pk)
    raw_posting(cur, reversal, "1121", -2_000_000)
    raw_posting(cur, reversal, "4111", 2_000_000)
    raw_entry(cur, reversal_of=reversal)


def _sql_posting_date_differs(cur, world):
    e = raw_entry(cur)
    raw_posting(cur, e, "1121", 100, day=date(2025, 3, 11))


def _svc(legs, day=DAY):
    return lambda world: journal_entry_post(
        effective_date=day, legs=legs(), memo="Thử", idempotency_key=new_key()
    )


SCENARIOS = [
    (
        "unbalanced",
        _sql_unbalanced,
        "is unbalanced by 10",
        _svc(lambda: [debit("1121", 100), credit("4111", 90)]),
        UnbalancedEntry,
    ),
    (
        "unbalanced in one of two currencies",
        _sql_unbalanced_in_second_currency,
        "is unbalanced by 1",
        _svc(
            lambda: [
                debit("1121", 100),
                credit("4111", 100),
                debit("1122", 5, currency="USD"),
                credit("1122", 4, currency="USD"),
            ]
        ),
        UnbalancedEntry,
    ),
    (
        "one leg",
        _sql_one_leg,
        "has 1 postings: at least 2",
        _svc(lambda: [debit("1121", 100)]),
        TooFewPostings,
    ),
    ("no leg", _sql_no_leg, "has 0 postings: at least 2", _svc(lambda: []), TooFewPostings),
    (
        "non-leaf account",
        _sql_non_leaf,
        "is not a leaf",
        _svc(lambda: [debit("112", 100), credit("4111", 100)]),
        AccountNotPostable,
    ),
    (
        "other currency",
        _sql_other_currency,
        "posting in USD to an account kept in VND",
        _svc(lambda: [debit("1121", 100, currency="USD"), credit("4111", 100, currency="USD")]),
        WrongCurrency,
    ),
    (
        "entry in a closed period",
        _sql_closed_entry,
        "period closed through 2025-01-31",
        _svc(lambda: [debit("1121", 100), credit("4111", 100)], day=CLOSED_DAY),
        PeriodClosed,
    ),
    (
        "posting in a closed period",
        _sql_closed_posting,
        "period closed through 2025-02-28: posting",
        None,
        None,
    ),
    (
        "reversal of a reversal",
        _sql_reversal_of_a_reversal,
        "is a reversal: a reversal is never reversed",
        None,
        None,
    ),
    (
        "posting date differs from the entry's",
        _sql_posting_date_differs,
        "differs from its entry",
        None,
        None,
    ),
]


@pytest.fixture
def world_usd(world):
    # A USD account so that currency-per-entry balancing can be exercised.
    world["usd"] = account_add("1122", parent="112", currency="USD").pk
    return world


@pytest.mark.postgres
@pytest.mark.parametrize("sql, match", [s[1:3] for s in SCENARIOS], ids=[s[0] for s in SCENARIOS])
def test_database_refuses(world_usd, sql, match):
    before = ledger_rows()
    refused_by_database(lambda cur: sql(cur, world_usd), match)
    assert ledger_rows() == before


SERVICE_SCENARIOS = [s for s in SCENARIOS if s[3] is not None]


@pytest.mark.parametrize(
    "call, error", [s[3:] for s in SERVICE_SCENARIOS], ids=[s[0] for s in SERVICE_SCENARIOS]
)
def test_services_refuse(world_usd, call, error):
    before = ledger_rows()
    with pytest.raises(error):
        call(world_usd)
    assert ledger_rows() == before


# --------------------------------------------------------------------------------------------
# Posted rows are append-only

APPEND_ONLY = [
    ("accounting_journalentry", "memo = 'sửa'", JournalEntry),
    ("accounting_posting", "amount = amount + 1", Posting),
    ("accounting_chainlink", "link_hash = 'x'", ChainLink),
    ("accounting_periodclose", "note = 'x'", PeriodClose),
    ("accounting_accountcheckpoint", "balance = 0", AccountCheckpoint),
]


@pytest.mark.postgres
@pytest.mark.parametrize("table, change, model", APPEND_ONLY, ids=[t[0] for t in APPEND_ONLY])
def test_database_refuses_update_delete_truncate(world, table, change, model):
    """Whoever connects: as the login role (a superuser) the triggers refuse; the application's
    role lacks the privilege even before them (test_privileges.py)."""
    assert model.objects.exists()
    with connection.cursor() as cur, as_login_role(cur):
        _refused_update_delete_truncate(table, change)
    assert model.objects.exists()


def _refused_update_delete_truncate(table, change):
    refused_by_database(
        lambda cur: cur.execute(f"UPDATE {table} SET {change}"), f"append-only: UPDATE on {table}"
    )
    refused_by_database(
        lambda cur: cur.execute(f"DELETE FROM {table}"), f"append-only: DELETE on {table}"
    )
    run_deferred_checks()  # TRUNCATE waits for no pending trigger events
    refused_by_database(
        lambda cur: cur.execute(f"TRUNCATE {table} CASCADE"), "append-only: TRUNCATE"
    )


@pytest.mark.parametrize("table, change, model", APPEND_ONLY, ids=[t[0] for t in APPEND_ONLY])
def test_orm_refuses_update_and_delete(world, table, change, model):
    row = model.objects.first()
    with pytest.raises(PostedRowImmutable):
        row.save()
    with pytest.raises(PostedRowImmutable):
        row.delete()
    with pytest.raises(PostedRowImmutable):
        model.objects.all().update(**{"pk": row.pk})
    with pytest.raises(PostedRowImmutable):
        model.objects.all().delete()


def test_orm_refuses_changing_a_posting_amount(world):
    p = world["new"].postings.first()
    p.amount = Money(p.amount.amount + 1, "VND")
    with pytest.raises(PostedRowImmutable, match="bút toán đảo"):
        p.save()
    p.refresh_from_db()
    assert p.amount.amount in (2_000_000, -2_000_000)


# --------------------------------------------------------------------------------------------
# The txid guard: postings only in the transaction that created the entry


@pytest.mark.postgres
def test_database_refuses_a_posting_added_to_an_entry_of_an_earlier_transaction(
    committed_ledger,
):
    a, b = acc("1121"), acc("4111")
    with pg_connect() as first:
        with first.cursor() as cur:
            cur.execute(
                "INSERT INTO accounting_journalentry (effective_date, recorded_at, memo, "
                "document_type, document_id, idempotency_key, request_hash) "
                "VALUES (%s, now(), 'raw', '', '', 'committed-raw', '') RETURNING id",
                [DAY],
            )
            entry_id = cur.fetchone()[0]
            for account, amount in ((a, 100), (b, -100)):
                cur.execute(
                    "INSERT INTO accounting_posting (entry_id, account_id, amount, "
                    "amount_currency, effective_date, subledger) "
                    "VALUES (%s, %s, %s, 'VND', %s, '')",
                    [entry_id, account, amount, DAY],
                )
        first.commit()
    with pg_connect() as later:
        # Adding a balanced pair would keep the entry balanced: only the txid guard stops it.
        with pytest.raises(
            psycopg.errors.IntegrityConstraintViolation, match="posted by an earlier transaction"
        ):
            with later.cursor() as cur:
                for account, amount in ((a, 7), (b, -7)):
                    cur.execute(
                        "INSERT INTO accounting_posting (entry_id, account_id, amount, "
                        "amount_currency, effective_date, subledger) "
                        "VALUES (%s, %s, %s, 'VND', %s, '')",
                        [entry_id, account, amount, DAY],
                    )
    assert Posting.objects.filter(entry_id=entry_id).count() == 2


@pytest.mark.postgres
def test_a_client_supplied_txid_is_overwritten(world):
    with connection.cursor() as cur:
        e = raw_entry(cur, txid=12345)
        raw_posting(cur, e, "1121", 1)
        raw_posting(cur, e, "4111", -1)
        cur.execute("SELECT txid = txid_current() FROM accounting_journalentry WHERE id = %s", [e])
        assert cur.fetchone()[0] is True


@pytest.mark.postgres
def test_an_unbalanced_entry_cannot_commit(committed_ledger):
    """For real: the deferred trigger fires at COMMIT, and nothing is written."""
    with pg_connect() as conn:
        with conn.cursor() as cur:
            cur.execute(
                "INSERT INTO accounting_journalentry (effective_date, recorded_at, memo, "
                "document_type, document_id, idempotency_key, request_hash) "
                "VALUES (%s, now(), 'raw', '', '', 'unbalanced-commit', '') RETURNING id",
                [DAY],
            )
            entry_id = cur.fetchone()[0]
            for code, amount in (("1121", 100), ("4111", -99)):
                cur.execute(
                    "INSERT INTO accounting_posting (entry_id, account_id, amount, "
                    "amount_currency, effective_date, subledger) "
                    "VALUES (%s, %s, %s, 'VND', %s, '')",
                    [entry_id, acc(code), amount, DAY],
                )
        with pytest.raises(psycopg.errors.IntegrityConstraintViolation, match="unbalanced by 1"):
            conn.commit()
    assert not JournalEntry.objects.filter(idempotency_key="unbalanced-commit").exists()
    assert not Posting.objects.filter(entry_id=entry_id).exists()


# --------------------------------------------------------------------------------------------
# Leaf accounts stay leaves


@pytest.mark.postgres
def test_database_refuses_making_an_account_with_postings_a_parent(world):
    parent = acc("1121")  # has postings

    def insert_child(cur):
        cur.execute(
            "INSERT INTO accounting_account (code, name, name_en, parent_id, path, account_type, "
            "normal_side, is_contra, currency) "
            "VALUES ('11219', 'con', '', %s, '/112/1121/11219/', 'asset', 'debit', false, 'VND')",
            [parent],
        )

    refused_by_database(insert_child, "has postings: it cannot become a parent")

    def reparent(cur):
        cur.execute("UPDATE accounting_account SET parent_id = %s WHERE code = '1111'", [parent])

    refused_by_database(reparent, "has postings: it cannot become a parent")
    assert not Account.objects.filter(parent_id=parent).exists()


def test_services_refuse_making_an_account_with_postings_a_parent(world):
    with pytest.raises(AccountNotPostable, match="1121"):
        account_add("11219", parent="1121")
    assert not Account.objects.filter(code="11219").exists()


# --------------------------------------------------------------------------------------------
# A chart changed by another process: this process's cached chart is stale, the database is not


def _stale_cache_says_postable(code: str) -> None:
    from accounting import services

    services._accounts_by_code([code])  # the whole chart, as it is now
    a = Account.objects.get(code=code)
    services._chart_cache[code] = services._AccountInfo(a.pk, code, a.currency, True)
    services._chart_loaded_at[0] = float("inf")  # and fresh, as far as this process knows


@pytest.mark.postgres
def test_database_refuses_a_non_leaf_the_cached_chart_thought_postable(world):
    account_add("11119", parent="1111")
    _stale_cache_says_postable("1111")
    before = ledger_rows()
    with pytest.raises(AccountNotPostable, match="vừa trở thành tài khoản tổng hợp"):
        entry_post(dr="1111")
    assert ledger_rows() == before


@pytest.mark.postgres
def test_outside_a_transaction_a_refused_posting_leaves_no_entry(committed_ledger):
    """The one-round-trip insert (entry and postings in one implicit transaction) is atomic."""
    import threading

    from django.db import connections

    with pg_connect(autocommit=True) as c:
        c.execute(
            "INSERT INTO accounting_account (code, name, name_en, parent_id, path, account_type, "
            "normal_side, is_contra, currency) SELECT '11119', 'con', '', id, path || '11119/', "
            "'asset', 'debit', false, 'VND' FROM accounting_account WHERE code = '1111'"
        )
    outcome = {}

    def work():
        try:
            _stale_cache_says_postable("1111")
            entry_post(dr="1111", key="stale-outside")
        except Exception as e:  # noqa: BLE001
            outcome["error"] = e
        finally:
            connections.close_all()

    try:
        t = threading.Thread(target=work)
        t.start()
        t.join(60)
        assert isinstance(outcome.get("error"), AccountNotPostable)
        assert not JournalEntry.objects.filter(idempotency_key="stale-outside").exists()
    finally:
        with pg_connect(autocommit=True) as c:
            c.execute("DELETE FROM accounting_account WHERE code = '11119'")
