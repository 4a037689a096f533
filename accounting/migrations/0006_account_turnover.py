"""Turnover per account, currency, fund and effective date, kept by the database.

A trigger on ``accounting_posting`` adds, in the statement that inserts postings, their debit and
credit sums per (account, currency, fund, date) to ``accounting_accountturnover``: on PostgreSQL
once per statement from its transition table (a multi-row INSERT or a COPY gives one row per
key), on SQLite once per posting. Existing postings are summed into it here.
"""

import django.db.models.deletion
from django.db import migrations, models


PG_FORWARD = r"""
CREATE OR REPLACE FUNCTION accounting_posting_turnover() RETURNS trigger AS $$
BEGIN
    INSERT INTO accounting_accountturnover
        (account_id, currency, fund_id, effective_date, debit, credit, postings, compacted)
    SELECT account_id, amount_currency, fund_id, effective_date,
           sum(greatest(amount, 0)), sum(greatest(-amount, 0)), count(*), false
      FROM new_postings GROUP BY account_id, amount_currency, fund_id, effective_date;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER posting_turnover AFTER INSERT ON accounting_posting
    REFERENCING NEW TABLE AS new_postings
    FOR EACH STATEMENT EXECUTE FUNCTION accounting_posting_turnover();
"""

PG_BACKWARD = r"""
DROP TRIGGER IF EXISTS posting_turnover ON accounting_posting;
DROP FUNCTION IF EXISTS accounting_posting_turnover();
"""

SQLITE_FORWARD = r"""
CREATE TRIGGER posting_turnover AFTER INSERT ON accounting_posting
BEGIN
    INSERT INTO accounting_accountturnover
        (account_id, currency, fund_id, effective_date, debit, credit, postings, compacted)
    VALUES (NEW.account_id, NEW.amount_currency, NEW.fund_id, NEW.effective_date,
            max(NEW.amount, 0), max(-NEW.amount, 0), 1, 0);
END;
"""

BACKFILL = """
INSERT INTO accounting_accountturnover
    (account_id, currency, fund_id, effective_date, debit, credit, postings, compacted)
SELECT account_id, amount_currency, fund_id, effective_date,
       sum(CASE WHEN amount > 0 THEN amount ELSE 0 END),
       sum(CASE WHEN amount < 0 THEN -amount ELSE 0 END), count(*), %s
  FROM accounting_posting GROUP BY account_id, amount_currency, fund_id, effective_date
"""


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_FORWARD, params=None)
    schema_editor.execute(BACKFILL, params=[True])


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD, params=None)
    elif vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS posting_turnover", params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("accounting", "0005_reversal_trigger"),
    ]

    operations = [
        migrations.CreateModel(
            name="AccountTurnover",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("currency", models.CharField(max_length=3, verbose_name="tiền tệ")),
                ("fund_id", models.BigIntegerField(blank=True, null=True, verbose_name="quỹ")),
                ("effective_date", models.DateField(verbose_name="ngày hạch toán")),
                (
                    "debit",
                    models.DecimalField(
                        decimal_places=0, max_digits=20, verbose_name="phát sinh Nợ"
                    ),
                ),
                (
                    "credit",
                    models.DecimalField(
                        decimal_places=0, max_digits=20, verbose_name="phát sinh Có"
                    ),
                ),
                ("postings", models.BigIntegerField(verbose_name="số định khoản")),
                ("compacted", models.BooleanField(default=False, verbose_name="đã gộp")),
                (
                    "account",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="accounting.account",
                        verbose_name="tài khoản",
                    ),
                ),
            ],
            options={
                "verbose_name": "phát sinh theo ngày",
                "verbose_name_plural": "phát sinh theo ngày",
                "indexes": [
                    models.Index(fields=["account", "effective_date"], name="turnover_acct_date"),
                    models.Index(fields=["effective_date"], name="turnover_date"),
                    models.Index(
                        condition=models.Q(("compacted", False)),
                        fields=["account", "effective_date"],
                        name="turnover_to_compact",
                    ),
                ],
            },
        ),
        migrations.RunPython(forward, backward),
    ]
