"""Load the chart of accounts from accounting/data/chart_of_accounts.csv (data, not code)."""

from django.db import migrations

from accounting.chart import load_chart


def load(apps, schema_editor):
    load_chart(apps.get_model("accounting", "Account"))


class Migration(migrations.Migration):
    dependencies = [("accounting", "0002_ledger_triggers")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
