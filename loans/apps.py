from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoansConfig(AppConfig):
    name = "loans"
    verbose_name = _("Cho vay")

    def ready(self):
        # The fund's plan attainment reads its achieved figures from the loan book.
        from fund.attainment import register_indicator_source
        from loans.origination.indicators import INDICATOR_SOURCES

        for indicator, fn in INDICATOR_SOURCES.items():
            register_indicator_source(indicator, fn)
