"""PostgreSQL guards of the ledger's rules, so that not even raw SQL can break them.

* An entry must have at least two postings summing to zero per currency when its transaction
  commits: a deferred constraint trigger on the entry, so each entry is checked once, not once
  per leg.
* Postings may be added only in the transaction that created their entry, on leaf accounts, in
  the account's currency, on the entry's date, after the last closed period.
* Posted rows (entries, postings, chain links, period closes, checkpoints) cannot be updated,
  deleted or truncated.
* An account that has postings cannot be given children (it would stop being a leaf).

On SQLite the services enforce the same rules; this migration is a no-op there.
"""

from django.db import migrations

APPEND_ONLY = [
    "accounting_journalentry",
    "accounting_posting",
    "accounting_chainlink",
    "accounting_periodclose",
    "accounting_accountcheckpoint",
]

FORWARD = r"""
CREATE OR REPLACE FUNCTION accounting_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION accounting_entry_before_insert() RETURNS trigger AS $$
DECLARE closed date;
BEGIN
    NEW.txid := txid_current();
    SELECT max(closed_through) INTO closed FROM accounting_periodclose;
    IF closed IS NOT NULL AND NEW.effective_date <= closed THEN
        RAISE EXCEPTION 'period closed through %: entry dated % refused', closed, NEW.effective_date
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION accounting_posting_before_insert() RETURNS trigger AS $$
DECLARE e_txid bigint; e_date date; a_currency varchar; closed date;
BEGIN
    SELECT txid, effective_date INTO e_txid, e_date
      FROM accounting_journalentry WHERE id = NEW.entry_id;
    IF e_txid IS DISTINCT FROM txid_current() THEN
        RAISE EXCEPTION 'posting to entry % refused: it was posted by an earlier transaction',
            NEW.entry_id USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.effective_date <> e_date THEN
        RAISE EXCEPTION 'posting date % differs from its entry''s date %', NEW.effective_date, e_date
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    SELECT currency INTO a_currency FROM accounting_account WHERE id = NEW.account_id;
    IF NEW.amount_currency <> a_currency THEN
        RAISE EXCEPTION 'posting in % to an account kept in %', NEW.amount_currency, a_currency
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF EXISTS (SELECT 1 FROM accounting_account WHERE parent_id = NEW.account_id) THEN
        RAISE EXCEPTION 'account % is not a leaf: postings refused', NEW.account_id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    SELECT max(closed_through) INTO closed FROM accounting_periodclose;
    IF closed IS NOT NULL AND NEW.effective_date <= closed THEN
        RAISE EXCEPTION 'period closed through %: posting dated % refused', closed,
            NEW.effective_date USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION accounting_entry_balanced() RETURNS trigger AS $$
DECLARE n bigint; worst numeric;
BEGIN
    SELECT coalesce(sum(c), 0), coalesce(max(abs(s)), 0) INTO n, worst
      FROM (SELECT count(*) AS c, sum(amount) AS s FROM accounting_posting
             WHERE entry_id = NEW.id GROUP BY amount_currency) t;
    IF n < 2 THEN
        RAISE EXCEPTION 'entry % has % postings: at least 2 required', NEW.id, n
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF worst <> 0 THEN
        RAISE EXCEPTION 'entry % is unbalanced by %', NEW.id, worst
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION accounting_account_parent_check() RETURNS trigger AS $$
BEGIN
    IF NEW.parent_id IS NOT NULL
       AND EXISTS (SELECT 1 FROM accounting_posting WHERE account_id = NEW.parent_id) THEN
        RAISE EXCEPTION 'account % has postings: it cannot become a parent', NEW.parent_id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER entry_before_insert BEFORE INSERT ON accounting_journalentry
    FOR EACH ROW EXECUTE FUNCTION accounting_entry_before_insert();
CREATE CONSTRAINT TRIGGER entry_balanced AFTER INSERT ON accounting_journalentry
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION accounting_entry_balanced();
CREATE TRIGGER posting_before_insert BEFORE INSERT ON accounting_posting
    FOR EACH ROW EXECUTE FUNCTION accounting_posting_before_insert();
CREATE TRIGGER account_parent_check BEFORE INSERT OR UPDATE OF parent_id ON accounting_account
    FOR EACH ROW EXECUTE FUNCTION accounting_account_parent_check();
"""

for table in APPEND_ONLY:
    FORWARD += f"""
CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION accounting_refuse_change();
CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION accounting_refuse_change();
"""

BACKWARD = "".join(
    f"DROP TRIGGER IF EXISTS {t}_no_change ON {t}; DROP TRIGGER IF EXISTS {t}_no_truncate ON {t};"
    for t in APPEND_ONLY
) + """
DROP TRIGGER IF EXISTS entry_before_insert ON accounting_journalentry;
DROP TRIGGER IF EXISTS entry_balanced ON accounting_journalentry;
DROP TRIGGER IF EXISTS posting_before_insert ON accounting_posting;
DROP TRIGGER IF EXISTS account_parent_check ON accounting_account;
DROP FUNCTION IF EXISTS accounting_refuse_change, accounting_entry_before_insert,
    accounting_posting_before_insert, accounting_entry_balanced, accounting_account_parent_check;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("accounting", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
