"""The default reminder stages and Vietnamese templates (fund officers override them per fund)."""

from django.db import migrations

from loans.reminders.defaults import STAGES, TEMPLATES


def seed(apps, schema_editor):
    ReminderStage = apps.get_model("loans", "ReminderStage")
    ReminderTemplate = apps.get_model("loans", "ReminderTemplate")
    for code, name, days, catch_up in STAGES:
        ReminderStage.objects.get_or_create(
            fund=None,
            code=code,
            defaults={"name": name, "days_from_due": days, "catch_up_days": catch_up},
        )
    for stage, channel, subject, body in TEMPLATES:
        ReminderTemplate.objects.get_or_create(
            fund=None, stage=stage, channel=channel, defaults={"subject": subject, "body": body}
        )


def unseed(apps, schema_editor):
    apps.get_model("loans", "ReminderTemplate").objects.filter(fund=None).delete()
    apps.get_model("loans", "ReminderStage").objects.filter(fund=None).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("loans", "0005_reminders"),
    ]

    operations = [migrations.RunPython(seed, unseed)]
