"""The fund layer's web pages; mounted with ``path("fund/", include("fund.web.page_urls"))``."""

from django.urls import path

from fund.web import imports, officers, pages

app_name = "fundweb"
urlpatterns = [
    path("unions/import/", imports.union_import, name="union_import"),
    path("plans/", pages.plans, name="plans"),
    path("plans/set/", pages.plan_edit, name="plan_set"),
    path("plans/<int:year>/split/", pages.plan_split_edit, name="plan_split_set"),
    path("capital/", pages.capital, name="capital"),
    path("capital/withdraw/", pages.capital_withdraw, name="capital_withdraw"),
    path("capital/transfer/", pages.capital_transfer, name="capital_transfer"),
    path("capital/requests/", pages.capital_requests, name="capital_requests"),
    path(
        "capital/requests/<int:pk>/confirm/",
        pages.capital_request_confirm,
        name="capital_request_confirm",
    ),
    path(
        "capital/requests/<int:pk>/reject/",
        pages.capital_request_reject,
        name="capital_request_reject",
    ),
    path("duties/", pages.duties, name="duties"),
    path("year-closes/", pages.year_closes, name="year_closes"),
    path("capital/allocations/", pages.allocations, name="allocations"),
    path("calendar/", pages.working_calendar, name="calendar"),
    path("signin-failures/", pages.signin_failures, name="signin_failures"),
    path("officers/", officers.officers, name="officers"),
    path("officers/new/", officers.officer_new, name="officer_new"),
    path("officers/<int:pk>/", officers.officer, name="officer"),
    path(
        "officers/<int:pk>/password-link/",
        officers.officer_password_reset_view,
        name="officer_password_reset",
    ),
    path(
        "officers/<int:pk>/deactivate/",
        officers.officer_deactivate_view,
        name="officer_deactivate",
    ),
    path(
        "officers/<int:pk>/reactivate/",
        officers.officer_reactivate_view,
        name="officer_reactivate",
    ),
]
