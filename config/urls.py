from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

from config import auth_views
from fund.access import PUBLIC, access
from reports import sheets

urlpatterns = [
    path("", auth_views.home, name="home"),
    path("accounts/login/", auth_views.login_view, name="login"),
    path("accounts/logout/", auth_views.logout_view, name="logout"),
    path("accounts/2fa/", auth_views.two_factor_verify_view, name="two_factor_verify"),
    path("accounts/2fa/setup/", auth_views.two_factor_setup_view, name="two_factor_setup"),
    path("accounts/password/", auth_views.password_change_view, name="password_change"),
    path(
        "accounts/password/done/",
        auth_views.password_change_done_view,
        name="password_change_done",
    ),
    # The one-time link of a new officer or a password reset (fund.officers) and its end.
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.password_reset_confirm_view,
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.password_reset_complete_view,
        name="password_reset_complete",
    ),
    # The language switch (vi/en) in the header; a plain form post, open to everyone.
    path("i18n/setlang/", access(PUBLIC)(set_language), name="set_language"),
    path("admin/", admin.site.urls),
    path("audit/", include("reports.web.audit_urls")),
    path("reports/", include("reports.web.urls")),
    path("fund/", include("fund.web.page_urls")),
    path("loans/", include("loans.web.urls")),
    # The month's collection sheet (PDF) of a grassroots union: the reports layer builds it.
    path(
        "collections/sheet.pdf",
        sheets.collection_sheet_pdf_view,
        name="collection_sheet_pdf",
    ),
    path("api/v1/", include("config.api_urls")),
]

# Our own error pages, in the site's layout and the user's language (config/error_views.py).
handler400 = "config.error_views.bad_request"
handler403 = "config.error_views.forbidden"
handler404 = "config.error_views.not_found"
handler500 = "config.error_views.server_error"
