"""Mount with ``path("api/fund/", include("fund.web.urls"))``."""

from django.urls import path

from fund.web import views

app_name = "fund"
urlpatterns = [
    path("grassroots-unions/", views.grassroots_union_list, name="grassroots_union_list"),
    path(
        "grassroots-unions/<str:pk>/",
        views.grassroots_union_detail,
        name="grassroots_union_detail",
    ),
    path(
        "grassroots-unions/<str:pk>/move/",
        views.grassroots_union_move,
        name="grassroots_union_move",
    ),
    path("superior-unions/<str:pk>/", views.superior_union_detail, name="superior_union_detail"),
    path("unions/export/", views.unions_export_view, name="unions_export"),
    path("unions/import/", views.unions_import_view, name="unions_import"),
    path("audit-log/", views.audit_log_view, name="audit_log"),
    path("capital/", views.capital_view, name="capital"),
    path("attainment/", views.attainment_view, name="attainment"),
]
