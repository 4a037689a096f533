"""Log in, log out and password change: Django's views with our templates, behind django-axes.

Every door that checks a password counts its failures in django-axes (the database, shared by
every worker): the app's log-in page, the admin's log-in (both through ``authenticate``), the
API token endpoint (``fund.api.views.TokenObtainApi``) and the password change (its old password,
reported here). ``LOGIN_FAILURE_LIMIT`` failures for one user name, or from one client address
(``fund.signin.client_ip``: the trusted proxy's view only), lock that name or that address for
``LOGIN_FAILURE_WINDOW`` seconds, even with the right password; the refusal is a 429, the log-in
page with the reason, or the API's JSON error.
"""

from __future__ import annotations

from axes.handlers.proxy import AxesProxyHandler
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _

from config.navigation import start_page_for
from fund.access import ALL_ROLES, PUBLIC, access
from fund.signin import locked_message, lockout_minutes


def lockout_response(request, original_response=None, credentials=None):
    """django-axes' refusal of a locked-out attempt (AXES_LOCKOUT_CALLABLE): the API's JSON
    error under /api/, the log-in page with the reason elsewhere (the admin's log-in too)."""
    retry = str(lockout_minutes() * 60)
    if request.path_info.startswith("/api/"):
        response = JsonResponse(
            {"code": "locked_out", "field": None, "message": locked_message()}, status=429
        )
    else:
        if getattr(request, "user", None) is not None and request.user.is_authenticated:
            logout(request)  # a wrong old password too often: the session is not trusted
        form = AuthenticationForm(request)
        response = render(
            request,
            "registration/login.html",
            {"form": form, "locked_message": locked_message()},
            status=429,
        )
    response["Retry-After"] = retry
    return response


def signin_allowed(request, username: str) -> bool:
    """Whether the user name and the client may try a password now (not locked out)."""
    return AxesProxyHandler.is_allowed(request, {"username": username})


def signin_failed(request, username: str) -> None:
    """Count a wrong password typed outside ``authenticate`` (the password change's old one)."""
    user_login_failed.send(sender=__name__, credentials={"username": username}, request=request)


class SignInView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True
    access_roles = PUBLIC

    def get_default_redirect_url(self):
        return reverse_lazy("home")


login_view = access(PUBLIC)(SignInView.as_view())


@access(PUBLIC)
def logout_view(request):
    if request.method == "POST":
        auth_views.auth_logout(request)
        messages.info(request, _("Bạn đã đăng xuất."))
    return redirect("login")


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's password change; a wrong old password counts as a failed sign-in (axes), and a
    locked-out account is refused before the old password is checked."""

    template_name = "registration/password_change.html"
    success_url = reverse_lazy("password_change_done")

    def post(self, request, *args, **kwargs):
        if not signin_allowed(request, request.user.get_username()):
            request.axes_locked_out = True  # AxesMiddleware answers with lockout_response
            return self.get(request, *args, **kwargs)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        if "old_password" in form.errors:
            signin_failed(self.request, self.request.user.get_username())
        return super().form_invalid(form)


password_change_view = access(ALL_ROLES)(PasswordChangeView.as_view())
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
