"""Log in, log out and password change: Django's views with our templates and a throttle.

Throttle: after ``LOGIN_FAILURE_LIMIT`` failed attempts for one user name from one address
within ``LOGIN_FAILURE_WINDOW`` seconds, that pair is refused (even with the right password)
until the window has passed since the first failure. Counts live in the cache (Redis in
production, shared by every process), keyed by a hash of the user name and address.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.shortcuts import redirect
from django.urls import reverse_lazy
from django.utils.translation import gettext as _

from config.navigation import start_page_for
from fund.access import ALL_ROLES, PUBLIC, access


def _limit() -> int:
    return getattr(settings, "LOGIN_FAILURE_LIMIT", 5)


def _window() -> int:
    return getattr(settings, "LOGIN_FAILURE_WINDOW", 15 * 60)


def client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _key(username: str, ip: str) -> str:
    digest = hashlib.sha256(f"{username.strip().lower()}|{ip}".encode()).hexdigest()
    return f"trovon:login-failures:{digest}"


def login_failures(username: str, ip: str) -> int:
    return cache.get(_key(username, ip), 0)


def login_failure_record(username: str, ip: str) -> int:
    key = _key(username, ip)
    if cache.add(key, 1, timeout=_window()):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=_window())
        return 1


def login_failures_clear(username: str, ip: str) -> None:
    cache.delete(_key(username, ip))


def _locked_message() -> str:
    return _(
        "Đăng nhập sai quá %(n)s lần. Tài khoản này tạm bị khóa đăng nhập từ địa chỉ của bạn "
        "trong %(m)s phút; hãy thử lại sau hoặc liên hệ cán bộ quỹ."
    ) % {"n": _limit(), "m": _window() // 60}


class ThrottledLoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True
    access_roles = PUBLIC

    def post(self, request, *args, **kwargs):
        username = request.POST.get("username", "")
        if login_failures(username, client_ip(request)) >= _limit():
            form = self.get_form_class()(request, data=None)
            form.data = {"username": username}
            response = self.render_to_response(
                self.get_context_data(form=form, locked_message=_locked_message())
            )
            response.status_code = 429
            return response
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        n = login_failure_record(self.request.POST.get("username", ""), client_ip(self.request))
        if n >= _limit():
            response = self.render_to_response(
                self.get_context_data(form=form, locked_message=_locked_message())
            )
            response.status_code = 429
            return response
        return super().form_invalid(form)

    def form_valid(self, form):
        login_failures_clear(form.get_user().get_username(), client_ip(self.request))
        return super().form_valid(form)

    def get_default_redirect_url(self):
        return reverse_lazy("home")


login_view = access(PUBLIC)(ThrottledLoginView.as_view())


@access(PUBLIC)
def logout_view(request):
    if request.method == "POST":
        auth_views.auth_logout(request)
        messages.info(request, _("Bạn đã đăng xuất."))
    return redirect("login")


password_change_view = access(ALL_ROLES)(
    auth_views.PasswordChangeView.as_view(
        template_name="registration/password_change.html",
        success_url=reverse_lazy("password_change_done"),
    )
)
password_change_done_view = access(ALL_ROLES)(
    auth_views.PasswordChangeDoneView.as_view(
        template_name="registration/password_change_done.html"
    )
)


@access(PUBLIC)
def home(request):
    """The start page of the signed-in user's role; the log-in page for anyone else."""
    if not request.user.is_authenticated:
        return redirect("login")
    officer = getattr(request.user, "officer", None)
    if officer is None and request.user.is_staff:
        return redirect("admin:index")  # a technical administrator without a role in the fund
    return redirect(start_page_for(getattr(officer, "role", None)))
