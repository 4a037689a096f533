"""The auditor's pages. Mount with ``path("audit/", include("reports.web.audit_urls"))``."""

from django.urls import path

from reports.web import audit as views
from reports.web import backdated

app_name = "audit"
urlpatterns = [
    path("", views.audit_index_view, name="index"),
    path("trial-balance/", views.trial_balance_view, name="trial_balance"),
    path("balance-sheet/", views.balance_sheet_view, name="balance_sheet"),
    path("income-statement/", views.income_statement_view, name="income_statement"),
    path("ledger/", views.general_ledger_view, name="general_ledger"),
    path("entries/<int:pk>/", views.entry_detail_view, name="entry_detail"),
    path("chain/", views.chain_verify_view, name="chain"),
    path("log/", views.audit_log_view, name="audit_log"),
    path("backdated/", backdated.backdated_list_view, name="backdated"),
]
