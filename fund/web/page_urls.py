"""The fund layer's web pages; mounted with ``path("fund/", include("fund.web.page_urls"))``."""

from django.urls import path

from fund.web import pages

app_name = "fundweb"
urlpatterns = [
    path("plans/", pages.plans, name="plans"),
    path("plans/set/", pages.plan_edit, name="plan_set"),
    path("plans/<int:year>/split/", pages.plan_split_edit, name="plan_split_set"),
    path("capital/", pages.capital, name="capital"),
    path("capital/withdraw/", pages.capital_withdraw, name="capital_withdraw"),
    path("capital/transfer/", pages.capital_transfer, name="capital_transfer"),
    path("capital/allocations/", pages.allocations, name="allocations"),
    path("calendar/", pages.working_calendar, name="calendar"),
    path("signin-failures/", pages.signin_failures, name="signin_failures"),
]
