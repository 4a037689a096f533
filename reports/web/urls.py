"""Mount with ``path("reports/", include("reports.web.urls"))``."""

from django.urls import path

from reports.web import lists, portfolio, union_pages, views

app_name = "reports"
urlpatterns = [
    path("", views.report_list, name="report_list"),
    path("portfolio-at-risk/", portfolio.portfolio_at_risk, name="portfolio_at_risk"),
    path("lists/loans/", lists.loans_export, name="loans_export"),
    path("lists/borrowers/", lists.borrowers_export, name="borrowers_export"),
    path("lists/overdue/", lists.overdue_export, name="overdue_export"),
    path("lists/collections/", lists.collection_history_export, name="collection_history_export"),
    path("quarterly/", union_pages.quarterly_web, name="quarterly_web"),
    path("unions/", union_pages.my_union, name="my_union"),
    path("unions/superior/", union_pages.superior_union_list, name="superior_union_list"),
    path(
        "unions/superior/<int:pk>/",
        union_pages.superior_union_page,
        name="superior_union_page",
    ),
    path("unions/<int:pk>/", union_pages.grassroots_union_page, name="grassroots_union_page"),
    path("<int:pk>/<str:kind>/", views.report_download, name="report_download"),
]
