"""Add VAS 113 "Tiền đang chuyển" and its VND account 1131 (unions' remittances in transit)."""

from django.db import migrations

from accounting.chart import load_chart

ROWS = [
    {
        "code": "113",
        "parent": "",
        "type": "asset",
        "contra": "0",
        "name": "Tiền đang chuyển",
        "name_en": "Cash in transit",
    },
    {
        "code": "1131",
        "parent": "113",
        "type": "asset",
        "contra": "0",
        "name": "Tiền Việt Nam đang chuyển",
        "name_en": "Cash in transit (VND)",
    },
]


def forward(apps, schema_editor):
    load_chart(apps.get_model("accounting", "Account"), ROWS)


class Migration(migrations.Migration):
    dependencies = [("accounting", "0006_account_turnover")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
