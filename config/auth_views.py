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

from base64 import b32encode

from axes.handlers.proxy import AxesProxyHandler
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from config.navigation import start_page_for
from fund.access import ALL_ROLES, PUBLIC, access
from fund.signin import locked_message, lockout_minutes
from fund.two_factor import (
    second_factor_match,
    totp_device_confirm,
    totp_device_new,
    two_factor_enabled,
)


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


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """The page a one-time link opens (a new officer's, or a reset sent from the officers'
    pages): Django's token (valid ``PASSWORD_RESET_TIMEOUT``, spent once the password is set),
    then a new password. A deactivated account's link is no link. Setting the password revokes
    the user's API tokens (``fund.signin.tokens_revoke_on_change``)."""

    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")
    access_roles = PUBLIC

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        return user if user is not None and user.is_active else None


password_reset_confirm_view = access(PUBLIC)(PasswordResetConfirmView.as_view())
password_reset_complete_view = access(PUBLIC)(
    auth_views.PasswordResetCompleteView.as_view(
        template_name="registration/password_reset_complete.html"
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


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse_lazy("home")


@access(ALL_ROLES)
def two_factor_verify_view(request):
    """The second step of the sign-in: a code from the authenticator app, or a recovery code.
    Wrong codes count as failed sign-ins (django-axes), like wrong passwords."""
    if request.user.is_verified():
        return redirect(_next_url(request))
    error = ""
    if request.method == "POST":
        if not signin_allowed(request, request.user.get_username()):
            request.axes_locked_out = True
            return redirect("login")
        device = second_factor_match(request.user, request.POST.get("code", ""))
        if device is not None:
            otp_login(request, device)
            return redirect(_next_url(request))
        signin_failed(request, request.user.get_username())
        error = _("Mã không đúng hoặc đã hết hạn.")
    return render(
        request,
        "registration/two_factor_verify.html",
        {"error": error, "next": _next_url(request)},
    )


@access(ALL_ROLES)
def two_factor_setup_view(request):
    """Set up an authenticator: the key (and its otpauth:// link) to add to the app, then a
    first code to confirm; the recovery codes are shown once."""
    if two_factor_enabled(request.user) and not request.user.is_verified():
        return redirect("two_factor_verify")
    error = ""
    device = None
    device_id = request.session.get("trovon_totp_setup")
    if device_id:
        device = TOTPDevice.objects.filter(pk=device_id, user=request.user, confirmed=False).first()
    if request.method == "POST" and device is not None:
        codes = totp_device_confirm(device, request.POST.get("code", ""))
        if codes is not None:
            otp_login(request, device)
            del request.session["trovon_totp_setup"]
            request.session.pop("trovon_no_second_factor", None)
            return render(
                request,
                "registration/two_factor_codes.html",
                {"codes": codes, "next": _next_url(request)},
            )
        error = _("Mã không đúng; hãy kiểm tra giờ của điện thoại và thử lại.")
    if device is None:
        device = totp_device_new(request.user)
        request.session["trovon_totp_setup"] = device.pk
    key = b32encode(device.bin_key).decode()
    return render(
        request,
        "registration/two_factor_setup.html",
        {
            "key": " ".join(key[i : i + 4] for i in range(0, len(key), 4)),
            "uri": device.config_url,
            "error": error,
            "next": _next_url(request),
        },
    )
