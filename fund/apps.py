from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FundConfig(AppConfig):
    name = "fund"
    verbose_name = _("Quỹ trợ vốn")
    # The application's database role adds audit rows and reads them (accounting/roles.py).
    insert_only_tables = ("fund_auditlog", "fund_auditlink")

    def ready(self):
        # The audit log's hash chain, checked with the ledger's (published heads, signatures).
        from accounting.selectors import chain_register
        from fund.models import AuditLink
        from fund.signin import signin_log_connect

        chain_register("audit", AuditLink)
        signin_log_connect()
