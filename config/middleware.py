"""Project middleware: the language rule, the Content Security Policy, no-store caching and
the session's idle and absolute limits."""

import time
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext_lazy as _

from fund.two_factor import two_factor_enabled, two_factor_required_by_role


def otp_message():
    return _("Cần xác thực hai bước: nhập mã từ ứng dụng xác thực.")


class IgnoreAcceptLanguageMiddleware:
    """Vietnamese unless the user chose otherwise.

    The fund's officers expect Vietnamese whatever their browser or phone is set to (many phones
    ship set to English), so on the pages the browser's Accept-Language is not consulted: the
    language is the one chosen with the switch in the header (Django's language cookie),
    Vietnamese by default. The REST API (``/api/``) is called by programs, whose Accept-Language
    is a choice made on purpose: there it chooses the language of the messages (the codes never
    change).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path_info.startswith("/api/"):
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    """Sends the Content-Security-Policy of settings.CONTENT_SECURITY_POLICY on every response
    that does not carry its own (the API docs pages set a looser one for their bundled UIs).

    The app's pages load scripts, styles, fonts and images from our own origin only, and hold no
    inline script or style, so an injected ``<script>`` or ``style=`` would not run."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = settings.CONTENT_SECURITY_POLICY
        if policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy
        return response


class NoStoreMiddleware:
    """``Cache-Control: no-store`` (Django's never-cache headers) on every page and API answer
    that does not set its own caching: the pages and the API show members' names, debts and
    citizen-id numbers, which no browser cache or shared proxy may keep. (Static files are
    answered by WhiteNoise before this middleware and keep their long cache.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Cache-Control" not in response:
            add_never_cache_headers(response)
        return response


SESSION_STARTED = "trovon_session_started"
SESSION_SEEN = "trovon_session_seen"


class SessionLimitsMiddleware:
    """A signed-in session ends after ``SESSION_IDLE_TIMEOUT`` seconds without a request, and
    after ``SESSION_ABSOLUTE_TIMEOUT`` seconds whatever happens (the cookie's own age,
    ``SESSION_COOKIE_AGE``, is the same absolute limit). The last activity is written at most
    once a minute, so reading a page does not write the session each time."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = int(time.time())
            started = request.session.get(SESSION_STARTED)
            seen = request.session.get(SESSION_SEEN, started)
            if started is None:
                request.session[SESSION_STARTED] = request.session[SESSION_SEEN] = now
            elif (
                now - started > settings.SESSION_ABSOLUTE_TIMEOUT
                or now - (seen or started) > settings.SESSION_IDLE_TIMEOUT
            ):
                logout(request)
                if request.path_info.startswith("/api/"):
                    return self.get_response(request)  # anonymous now: the API's 401/403
                return redirect_to_login(request.get_full_path())
            elif now - (seen or started) >= 60:
                request.session[SESSION_SEEN] = now
        return self.get_response(request)


# In the session: the user (whose role does not require it) has no second factor set up.
NO_SECOND_FACTOR = "trovon_no_second_factor"
# Paths open to a signed-in user who has not passed the second factor yet.
TWO_FACTOR_OPEN = ("/accounts/2fa/", "/accounts/logout/", "/i18n/", "/static/")


class TwoFactorMiddleware:
    """A signed-in user who must pass a second factor (``fund.two_factor``) and has not in this
    session is sent to it: the code page when an authenticator is set up, the set-up page
    otherwise; under ``/api/`` (a session) the answer is a JSON 403 ``otp_required``. (API
    tokens are issued only after the second factor: ``fund.api.views.TokenObtainApi``.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path_info.startswith(TWO_FACTOR_OPEN)
            and not user.is_verified()
            and self.required(request, user)
        ):
            if request.path_info.startswith("/api/"):
                body = {"code": "otp_required", "field": None, "message": str(otp_message())}
                return JsonResponse(body, status=403)
            target = "two_factor_verify" if two_factor_enabled(user) else "two_factor_setup"
            return redirect(f"{reverse(target)}?next={quote(request.get_full_path())}")
        return self.get_response(request)

    @staticmethod
    def required(request, user) -> bool:
        """``fund.two_factor.two_factor_required``, remembering in the session that a user
        whose role does not require it has no device (no device query on every page)."""
        if two_factor_required_by_role(user):
            return True
        if request.session.get(NO_SECOND_FACTOR):
            return False
        enabled = two_factor_enabled(user)
        if not enabled:
            request.session[NO_SECOND_FACTOR] = True
        return enabled
