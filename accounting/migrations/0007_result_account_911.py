"""Load the chart again: the result account 911 that the year-end closing runs through."""

from django.db import migrations

from accounting.chart import load_chart


def load(apps, schema_editor):
    load_chart(apps.get_model("accounting", "Account"))


class Migration(migrations.Migration):
    dependencies = [("accounting", "0006_account_turnover")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
