"""PostgreSQL: a reversal is never reversed (the service's rule, now held by the database too).

An entry is reversed at most once already (``reversal_of`` is one-to-one).
"""

from django.db import migrations

ENTRY_BEFORE_INSERT = r"""
CREATE OR REPLACE FUNCTION accounting_entry_before_insert() RETURNS trigger AS $$
DECLARE closed date;
BEGIN
    NEW.txid := txid_current();
    SELECT max(closed_through) INTO closed FROM accounting_periodclose;
    IF closed IS NOT NULL AND NEW.effective_date <= closed THEN
        RAISE EXCEPTION 'period closed through %: entry dated % refused', closed, NEW.effective_date
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    {reversal_check}
    RETURN NEW;
END $$ LANGUAGE plpgsql;
"""

REVERSAL_CHECK = r"""IF NEW.reversal_of_id IS NOT NULL AND EXISTS (
        SELECT 1 FROM accounting_journalentry
         WHERE id = NEW.reversal_of_id AND reversal_of_id IS NOT NULL) THEN
        RAISE EXCEPTION 'entry % is a reversal: a reversal is never reversed', NEW.reversal_of_id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            ENTRY_BEFORE_INSERT.replace("{reversal_check}", REVERSAL_CHECK), params=None
        )


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ENTRY_BEFORE_INSERT.replace("{reversal_check}", ""), params=None)


class Migration(migrations.Migration):
    dependencies = [("accounting", "0004_admin_names_checkpoint_unique_date_index")]
    operations = [migrations.RunPython(forward, backward)]
