"""The site's URL conf plus a stand-in for the officers' loan page (``loans:loan_detail``)."""

from django.http import HttpResponse
from django.urls import include, path

from config.urls import urlpatterns as site
from fund.access import FUND_OFFICERS, access


@access(FUND_OFFICERS)
def loan_detail(request, pk):  # pragma: no cover - only reversed
    return HttpResponse(pk)


loans = ([path("<int:pk>/", loan_detail, name="loan_detail")], "loans")
urlpatterns = [*site, path("loans/", include(loans))]
