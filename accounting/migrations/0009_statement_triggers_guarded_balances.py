"""PostgreSQL: the ledger's checks once per statement, and the balance tables written by the
database alone.

* The per-row triggers of migrations 0002, 0005 and 0006 become statement-level triggers over
  transition tables (``REFERENCING NEW TABLE``): a COPY of 20,000 entries runs each check once,
  as one set-based query, instead of 60,000 times. Only the stamp of the entry's transaction id
  stays per row (an assignment, no query).
* The balance check (≥ 2 postings, zero per currency) runs once per *transaction* at commit: the
  first entry of a transaction adds a marker row to ``accounting_balancecheck``, whose deferred
  constraint trigger checks every entry of the transaction with one query and removes the
  marker. A later entry in the same transaction, after ``SET CONSTRAINTS … IMMEDIATE``, adds the
  marker again, so it is checked too.
* Turnover rows, period closes and checkpoints — every table a balance is read from besides the
  postings — are written only by the ledger's own functions: the posting trigger (turnover),
  ``accounting_turnover_compact()`` and ``accounting_period_close()``. These run as the owner of
  the tables (SECURITY DEFINER); any other INSERT, UPDATE or DELETE of those tables is refused
  by a trigger, whoever sends it, and the application's role has no privilege to send it.
* An account whose subtree has postings keeps its code, parent, path, type, normal side,
  contra flag and currency (``account_frozen``).

On SQLite the checkpoints of a close are written by an SQLite trigger from the same query; the
other guards are the services' (see docs/ledger.md §9).
"""

from django.db import migrations

# The checkpoints of a close: the previous close's checkpoints plus the postings since it, per
# account, currency and fund. One home for both databases; `{through}` is the new close's date.
CHECKPOINTS = """
INSERT INTO accounting_accountcheckpoint
    (account_id, currency, fund_id, as_of, balance, posting_count)
SELECT account_id, currency, fund_id, {through}, sum(balance), sum(n)
  FROM (SELECT account_id, currency, fund_id, balance, posting_count AS n
          FROM accounting_accountcheckpoint
         WHERE as_of = (SELECT max(closed_through) FROM accounting_periodclose
                         WHERE closed_through < {through})
        UNION ALL
        SELECT account_id, amount_currency, fund_id, sum(amount), count(*)
          FROM accounting_posting
         WHERE effective_date <= {through}
           AND effective_date > coalesce((SELECT max(closed_through) FROM accounting_periodclose
                                           WHERE closed_through < {through}), '0001-01-01')
         GROUP BY account_id, amount_currency, fund_id) t
 GROUP BY account_id, currency, fund_id
"""

# Functions that write the guarded tables run as their owner, with a fixed search path, and
# say so through `trovon.ledger_writer` (set for the call only, reset when it returns).
DEFINER = "SECURITY DEFINER SET search_path = pg_catalog, public SET trovon.ledger_writer = 'on'"

PG_FORWARD = rf"""
CREATE TABLE accounting_balancecheck (txid bigint PRIMARY KEY);
CREATE INDEX accounting_journalentry_txid ON accounting_journalentry (txid);

-- Entries --------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION accounting_entry_stamp() RETURNS trigger AS $$
BEGIN
    NEW.txid := txid_current();
    RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION accounting_entries_inserted() RETURNS trigger AS $$
DECLARE closed date; bad record;
BEGIN
    SELECT max(closed_through) INTO closed FROM accounting_periodclose;
    IF closed IS NOT NULL THEN
        SELECT effective_date INTO bad FROM new_entries WHERE effective_date <= closed LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'period closed through %: entry dated % refused', closed,
                bad.effective_date USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    END IF;
    SELECT n.reversal_of_id INTO bad FROM new_entries n
      JOIN accounting_journalentry r ON r.id = n.reversal_of_id
     WHERE r.reversal_of_id IS NOT NULL LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'entry % is a reversal: a reversal is never reversed', bad.reversal_of_id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    INSERT INTO accounting_balancecheck (txid) VALUES (txid_current()) ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$ LANGUAGE plpgsql {DEFINER};

CREATE OR REPLACE FUNCTION accounting_transaction_balanced() RETURNS trigger AS $$
DECLARE bad record;
BEGIN
    WITH mine AS (
        SELECT id FROM accounting_journalentry WHERE txid = NEW.txid
    ), legs AS (
        SELECT p.entry_id, count(*) AS c, sum(p.amount) AS s
          FROM accounting_posting p JOIN mine m ON m.id = p.entry_id
         GROUP BY p.entry_id, p.amount_currency
    )
    SELECT m.id, coalesce(sum(l.c), 0) AS n, coalesce(max(abs(l.s)), 0) AS worst INTO bad
      FROM mine m LEFT JOIN legs l ON l.entry_id = m.id
     GROUP BY m.id
    HAVING coalesce(sum(l.c), 0) < 2 OR coalesce(max(abs(l.s)), 0) <> 0
     ORDER BY m.id LIMIT 1;
    IF FOUND THEN
        IF bad.n < 2 THEN
            RAISE EXCEPTION 'entry % has % postings: at least 2 required', bad.id, bad.n
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RAISE EXCEPTION 'entry % is unbalanced by %', bad.id, bad.worst
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    DELETE FROM accounting_balancecheck WHERE txid = NEW.txid;
    RETURN NULL;
END $$ LANGUAGE plpgsql {DEFINER};

-- Postings (and the turnover they add) ----------------------------------------------------
CREATE OR REPLACE FUNCTION accounting_postings_inserted() RETURNS trigger AS $$
DECLARE closed date; bad record;
BEGIN
    SELECT p.entry_id, p.effective_date, e.effective_date AS entry_date, e.txid INTO bad
      FROM new_postings p LEFT JOIN accounting_journalentry e ON e.id = p.entry_id
     WHERE e.txid IS DISTINCT FROM txid_current() OR p.effective_date <> e.effective_date
     LIMIT 1;
    IF FOUND THEN
        IF bad.txid IS DISTINCT FROM txid_current() THEN
            RAISE EXCEPTION 'posting to entry % refused: it was posted by an earlier transaction',
                bad.entry_id USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RAISE EXCEPTION 'posting date % differs from its entry''s date %', bad.effective_date,
            bad.entry_date USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    SELECT p.amount_currency, a.currency INTO bad
      FROM new_postings p JOIN accounting_account a ON a.id = p.account_id
     WHERE p.amount_currency <> a.currency LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'posting in % to an account kept in %', bad.amount_currency, bad.currency
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    SELECT p.account_id INTO bad FROM new_postings p
     WHERE EXISTS (SELECT 1 FROM accounting_account c WHERE c.parent_id = p.account_id) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'account % is not a leaf: postings refused', bad.account_id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    SELECT max(closed_through) INTO closed FROM accounting_periodclose;
    IF closed IS NOT NULL THEN
        SELECT effective_date INTO bad FROM new_postings WHERE effective_date <= closed LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'period closed through %: posting dated % refused', closed,
                bad.effective_date USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    END IF;
    INSERT INTO accounting_accountturnover
        (account_id, currency, fund_id, effective_date, debit, credit, postings, compacted)
    SELECT account_id, amount_currency, fund_id, effective_date,
           sum(greatest(amount, 0)), sum(greatest(-amount, 0)), count(*), false
      FROM new_postings GROUP BY account_id, amount_currency, fund_id, effective_date;
    RETURN NULL;
END $$ LANGUAGE plpgsql {DEFINER};

-- The guarded tables: written by the functions above and below only ------------------------
CREATE OR REPLACE FUNCTION accounting_ledger_writes_only() RETURNS trigger AS $$
BEGIN
    IF current_setting('trovon.ledger_writer', true) IS DISTINCT FROM 'on' THEN
        RAISE EXCEPTION '% is written by the ledger''s own functions only: % refused',
            TG_TABLE_NAME, TG_OP USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION accounting_turnover_compact() RETURNS bigint AS $$
DECLARE before bigint; after bigint;
BEGIN
    -- One compaction at a time (0x74726F77, 'trow'); posters never take this lock.
    IF NOT pg_try_advisory_xact_lock(1953656695) THEN
        RETURN 0;
    END IF;
    SELECT count(*) INTO before FROM accounting_accountturnover;
    WITH keys AS (
        SELECT DISTINCT account_id, currency, fund_id, effective_date
          FROM accounting_accountturnover WHERE NOT compacted
    ), merged AS (
        DELETE FROM accounting_accountturnover t USING keys k
         WHERE t.account_id = k.account_id AND t.currency = k.currency
           AND t.fund_id IS NOT DISTINCT FROM k.fund_id AND t.effective_date = k.effective_date
        RETURNING t.*
    )
    INSERT INTO accounting_accountturnover
        (account_id, currency, fund_id, effective_date, debit, credit, postings, compacted)
    SELECT account_id, currency, fund_id, effective_date, sum(debit), sum(credit),
           sum(postings), true
      FROM merged GROUP BY account_id, currency, fund_id, effective_date;
    SELECT count(*) INTO after FROM accounting_accountturnover;
    RETURN before - after;
END $$ LANGUAGE plpgsql {DEFINER};

CREATE OR REPLACE FUNCTION accounting_period_close(
    through date, closed_at timestamptz, closed_by bigint, note text) RETURNS bigint AS $$
DECLARE last date; close_id bigint;
BEGIN
    -- One closer at a time (posters only read this table, which EXCLUSIVE allows); wait for
    -- the transactions already posting and keep new ones out until this one commits.
    LOCK TABLE accounting_periodclose IN EXCLUSIVE MODE;
    LOCK TABLE accounting_journalentry, accounting_posting IN SHARE MODE;
    SELECT max(closed_through) INTO last FROM accounting_periodclose;
    IF last IS NOT NULL AND through <= last THEN
        RAISE EXCEPTION 'period closed through %: a new close must come after it', last
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    INSERT INTO accounting_periodclose (closed_through, closed_at, closed_by_id, note)
    VALUES (through, closed_at, closed_by, note) RETURNING id INTO close_id;
    {CHECKPOINTS.format(through="through")};
    RETURN close_id;
END $$ LANGUAGE plpgsql {DEFINER};

-- The chart: what a posted account is cannot change ---------------------------------------
CREATE OR REPLACE FUNCTION accounting_account_frozen() RETURNS trigger AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM accounting_posting p
                 JOIN accounting_account a ON a.id = p.account_id
                WHERE a.path LIKE OLD.path || '%') THEN
        RAISE EXCEPTION 'account % has postings: its code, parent, type, normal side and '
            'currency cannot change', OLD.code USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;

-- The triggers ------------------------------------------------------------------------------
DROP TRIGGER IF EXISTS entry_before_insert ON accounting_journalentry;
DROP TRIGGER IF EXISTS entry_balanced ON accounting_journalentry;
DROP TRIGGER IF EXISTS posting_before_insert ON accounting_posting;
DROP TRIGGER IF EXISTS posting_turnover ON accounting_posting;

CREATE TRIGGER entry_stamp BEFORE INSERT ON accounting_journalentry
    FOR EACH ROW EXECUTE FUNCTION accounting_entry_stamp();
CREATE TRIGGER entries_inserted AFTER INSERT ON accounting_journalentry
    REFERENCING NEW TABLE AS new_entries
    FOR EACH STATEMENT EXECUTE FUNCTION accounting_entries_inserted();
CREATE CONSTRAINT TRIGGER transaction_balanced AFTER INSERT ON accounting_balancecheck
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION accounting_transaction_balanced();
CREATE TRIGGER postings_inserted AFTER INSERT ON accounting_posting
    REFERENCING NEW TABLE AS new_postings
    FOR EACH STATEMENT EXECUTE FUNCTION accounting_postings_inserted();
CREATE TRIGGER account_frozen BEFORE UPDATE ON accounting_account FOR EACH ROW
    WHEN (OLD.code IS DISTINCT FROM NEW.code OR OLD.parent_id IS DISTINCT FROM NEW.parent_id
          OR OLD.path IS DISTINCT FROM NEW.path OR OLD.account_type IS DISTINCT FROM NEW.account_type
          OR OLD.normal_side IS DISTINCT FROM NEW.normal_side
          OR OLD.is_contra IS DISTINCT FROM NEW.is_contra
          OR OLD.currency IS DISTINCT FROM NEW.currency)
    EXECUTE FUNCTION accounting_account_frozen();
"""

GUARDED = {
    "accounting_accountturnover": "INSERT OR UPDATE OR DELETE",
    "accounting_accountcheckpoint": "INSERT",  # UPDATE, DELETE: append-only (0002)
    "accounting_periodclose": "INSERT",
    "accounting_balancecheck": "INSERT OR UPDATE OR DELETE",
}
for _table, _ops in GUARDED.items():
    PG_FORWARD += f"""
CREATE TRIGGER {_table}_ledger_writes_only BEFORE {_ops} ON {_table}
    FOR EACH STATEMENT EXECUTE FUNCTION accounting_ledger_writes_only();
CREATE TRIGGER {_table}_ledger_no_truncate BEFORE TRUNCATE ON {_table}
    FOR EACH STATEMENT EXECUTE FUNCTION accounting_ledger_writes_only();
"""
# Checkpoints and closes already refuse TRUNCATE (0002).
PG_FORWARD = PG_FORWARD.replace(
    """CREATE TRIGGER accounting_accountcheckpoint_ledger_no_truncate BEFORE TRUNCATE ON accounting_accountcheckpoint
    FOR EACH STATEMENT EXECUTE FUNCTION accounting_ledger_writes_only();
""",
    "",
).replace(
    """CREATE TRIGGER accounting_periodclose_ledger_no_truncate BEFORE TRUNCATE ON accounting_periodclose
    FOR EACH STATEMENT EXECUTE FUNCTION accounting_ledger_writes_only();
""",
    "",
)

PG_BACKWARD = (
    "".join(
        f"DROP TRIGGER IF EXISTS {t}_ledger_writes_only ON {t};"
        f"DROP TRIGGER IF EXISTS {t}_ledger_no_truncate ON {t};"
        for t in GUARDED
    )
    + """
DROP TRIGGER IF EXISTS entry_stamp ON accounting_journalentry;
DROP TRIGGER IF EXISTS entries_inserted ON accounting_journalentry;
DROP TRIGGER IF EXISTS postings_inserted ON accounting_posting;
DROP TRIGGER IF EXISTS account_frozen ON accounting_account;
DROP TABLE accounting_balancecheck;
DROP INDEX accounting_journalentry_txid;
DROP FUNCTION accounting_entry_stamp, accounting_entries_inserted,
    accounting_transaction_balanced, accounting_postings_inserted,
    accounting_ledger_writes_only, accounting_turnover_compact, accounting_period_close,
    accounting_account_frozen;
CREATE TRIGGER entry_before_insert BEFORE INSERT ON accounting_journalentry
    FOR EACH ROW EXECUTE FUNCTION accounting_entry_before_insert();
CREATE CONSTRAINT TRIGGER entry_balanced AFTER INSERT ON accounting_journalentry
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION accounting_entry_balanced();
CREATE TRIGGER posting_before_insert BEFORE INSERT ON accounting_posting
    FOR EACH ROW EXECUTE FUNCTION accounting_posting_before_insert();
CREATE TRIGGER posting_turnover AFTER INSERT ON accounting_posting
    REFERENCING NEW TABLE AS new_postings
    FOR EACH STATEMENT EXECUTE FUNCTION accounting_posting_turnover();
"""
)

SQLITE_FORWARD = f"""
CREATE TRIGGER periodclose_checkpoints AFTER INSERT ON accounting_periodclose
BEGIN
    {CHECKPOINTS.format(through="NEW.closed_through")};
END;
"""


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_FORWARD, params=None)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD, params=None)
    elif vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS periodclose_checkpoints", params=None)


class Migration(migrations.Migration):
    dependencies = [("accounting", "0008_signed_heads")]
    operations = [migrations.RunPython(forward, backward)]
