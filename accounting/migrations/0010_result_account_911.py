"""Add VAS 911 "Xác định kết quả hoạt động", the result account the year-end closing runs
income and expenses through (``fund.closing``)."""

from django.db import migrations

from accounting.chart import load_chart

ROWS = [
    {
        "code": "911",
        "parent": "",
        "type": "income",
        "contra": "0",
        "name": "Xác định kết quả hoạt động",
        "name_en": "Result of the year (closed to 421 at year end)",
    },
]


def forward(apps, schema_editor):
    load_chart(apps.get_model("accounting", "Account"), ROWS)


class Migration(migrations.Migration):
    dependencies = [("accounting", "0009_statement_triggers_guarded_balances")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
