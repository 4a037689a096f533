from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _chart_after_migrate(sender, using="default", **kwargs):
    """Keep the chart of accounts present after `migrate` and after `flush`.

    The chart is reference data loaded by migration 0003; `flush` (run at the end of every
    transactional test) empties every table and then sends ``post_migrate``, the way Django
    recreates content types and permissions. Reload the chart then, and drop the per-process
    chart cache, whose account ids may no longer exist.
    """
    from django.db import connections, transaction

    from accounting.chart import load_chart
    from accounting.models import Account
    from accounting.services import chart_cache_clear

    chart_cache_clear()
    connection = connections[using]
    if Account._meta.db_table not in connection.introspection.table_names():
        return  # migrated backwards
    with transaction.atomic(using=using):
        if not Account.objects.using(using).exists():
            load_chart(Account)  # the project has one database
    chart_cache_clear()


class AccountingConfig(AppConfig):
    name = "accounting"
    verbose_name = _("Sổ cái kế toán")
    # The application's database role may add rows here and read them, never change them
    # (accounting/roles.py).
    insert_only_tables = (
        "accounting_journalentry",
        "accounting_posting",
        "accounting_chainlink",
        "accounting_chainhead",
    )
    # Written only by the ledger's own functions (migration 0009): the application reads them.
    read_only_tables = (
        "accounting_accountturnover",
        "accounting_accountcheckpoint",
        "accounting_periodclose",
        "accounting_balancecheck",
    )

    def ready(self):
        from accounting.roles import grants_after_migrate

        post_migrate.connect(_chart_after_migrate, sender=self, dispatch_uid="accounting.chart")
        post_migrate.connect(grants_after_migrate, sender=self, dispatch_uid="accounting.grants")
