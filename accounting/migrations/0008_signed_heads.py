"""Signed chain heads, and the entry hash's version.

Links sealed before this migration keep their hash (version 1: the account by id); new links are
version 2 (the account's code and path too). Re-deriving the old links would rewrite the chain
that auditors may already hold heads of, so they are tagged instead; the column is added with a
default of 1 (no row is updated, no trigger fires) and new rows get 2 from the model.
"""

from django.db import migrations, models

APPEND_ONLY = """
CREATE TRIGGER accounting_chainhead_no_change BEFORE UPDATE OR DELETE ON accounting_chainhead
    FOR EACH ROW EXECUTE FUNCTION accounting_refuse_change();
CREATE TRIGGER accounting_chainhead_no_truncate BEFORE TRUNCATE ON accounting_chainhead
    FOR EACH STATEMENT EXECUTE FUNCTION accounting_refuse_change();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "DROP TRIGGER IF EXISTS accounting_chainhead_no_change ON accounting_chainhead;"
            "DROP TRIGGER IF EXISTS accounting_chainhead_no_truncate ON accounting_chainhead;",
            params=None,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounting", "0007_chart_cash_in_transit"),
    ]

    operations = [
        migrations.AddField(
            model_name="chainlink",
            name="hash_version",
            field=models.PositiveSmallIntegerField(default=1, verbose_name="phiên bản mã băm"),
        ),
        migrations.AlterField(
            model_name="chainlink",
            name="hash_version",
            field=models.PositiveSmallIntegerField(default=2, verbose_name="phiên bản mã băm"),
        ),
        migrations.CreateModel(
            name="ChainHead",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("chain", models.CharField(max_length=16, verbose_name="chuỗi")),
                ("seq", models.BigIntegerField(verbose_name="số mắt xích")),
                ("link_hash", models.CharField(max_length=64, verbose_name="mã băm đầu chuỗi")),
                ("signed_at", models.DateTimeField(verbose_name="thời điểm ký")),
                ("key_id", models.CharField(max_length=16, verbose_name="mã khóa ký")),
                ("signature", models.CharField(max_length=128, verbose_name="chữ ký")),
            ],
            options={
                "verbose_name": "đầu chuỗi đã ký",
                "verbose_name_plural": "đầu chuỗi đã ký",
                "ordering": ["chain", "seq"],
                "constraints": [
                    models.UniqueConstraint(fields=("chain", "seq"), name="chainhead_unique")
                ],
            },
        ),
        migrations.RunPython(forward, backward),
    ]
