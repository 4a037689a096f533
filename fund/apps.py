from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FundConfig(AppConfig):
    name = "fund"
    verbose_name = _("Quỹ trợ vốn")

    def ready(self):
        from fund.signin import signin_log_connect

        signin_log_connect()
