from django.urls import include, path

urlpatterns = [path("api/fund/", include("fund.web.urls"))]
