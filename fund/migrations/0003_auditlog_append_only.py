"""PostgreSQL: the audit log is append-only — no UPDATE or DELETE of a row, even in raw SQL.

(TRUNCATE is left to the test runner's flush; nothing in trovon truncates.) On SQLite the admin
and the services never change a log row; this migration is a no-op there.
"""

from django.db import migrations

FORWARD = r"""
CREATE OR REPLACE FUNCTION fund_auditlog_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit log is append-only: % refused', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END $$ LANGUAGE plpgsql;

CREATE TRIGGER fund_auditlog_append_only
    BEFORE UPDATE OR DELETE ON fund_auditlog
    FOR EACH ROW EXECUTE FUNCTION fund_auditlog_refuse_change();
"""

BACKWARD = r"""
DROP TRIGGER IF EXISTS fund_auditlog_append_only ON fund_auditlog;
DROP FUNCTION IF EXISTS fund_auditlog_refuse_change();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("fund", "0002_capital_plans_audit")]

    operations = [migrations.RunPython(forward, backward)]
