"""Mount with ``path("reports/", include("reports.web.urls"))``."""

from django.urls import path

from reports.web import lists, portfolio, views

app_name = "reports"
urlpatterns = [
    path("", views.report_list, name="report_list"),
    path("portfolio-at-risk/", portfolio.portfolio_at_risk, name="portfolio_at_risk"),
    path("lists/loans/", lists.loans_export, name="loans_export"),
    path("lists/borrowers/", lists.borrowers_export, name="borrowers_export"),
    path("lists/overdue/", lists.overdue_export, name="overdue_export"),
    path("<int:pk>/<str:kind>/", views.report_download, name="report_download"),
]
