"""The fund layer's web pages; mounted with ``path("fund/", include("fund.page_urls"))``."""

from django.urls import path

from . import pages

app_name = "fundweb"
urlpatterns = [
    path("plans/", pages.plans, name="plans"),
    path("capital/", pages.capital, name="capital"),
]
