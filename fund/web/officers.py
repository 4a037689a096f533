"""The officer accounts' pages (``/fund/officers/``): the list of the actor's scope, a new
officer, an officer's page (role, unit, name, e-mail, phone) with "send a password link",
"deactivate" and "reactivate".

Thin views: the list from ``fund.selectors.officers_list``, every write through
``fund.officers`` (which checks who may, ``fund.scoping``); another fund's or union's officer is
a 404, a refusal of the service is shown by its field (400) or above the page (403).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_POST

from accounting.errors import ApplicationError
from fund.access import OFFICER_MANAGERS, OFFICER_READERS, access
from fund.errors import PermissionRefused
from fund.models import GrassrootsUnion, Role, SuperiorUnion
from fund.officers import (
    officer_create,
    officer_deactivate,
    officer_password_reset,
    officer_reactivate,
    officer_update,
    site_url_of,
)
from fund.people import person_name
from fund.scoping import (
    officer_roles_grantable,
    scope_filter,
    superior_union_scope_filter,
)
from fund.selectors import officer_get, officers_list
from fund.validation import phone_display
from fund.web.forms import IdempotentForm, form_error_apply

PAGE_SIZE = 25


class OfficerForm(IdempotentForm):
    """An officer's account: who they are, their role and their unit (the unit the role needs:
    a superior union or a grassroots union). The choices are the actor's scope only."""

    username = forms.CharField(label=_l("Tên đăng nhập"), max_length=150)
    full_name = forms.CharField(
        label=_l("Họ và tên"),
        max_length=300,
        help_text=_l("Viết theo thứ tự họ, tên đệm, tên: Nguyễn Văn An."),
    )
    email = forms.CharField(
        label=_l("E-mail"),
        max_length=254,
        help_text=_l("Liên kết đặt mật khẩu được gửi đến địa chỉ này."),
    )
    phone = forms.CharField(label=_l("Điện thoại"), max_length=32, required=False)
    role = forms.ChoiceField(label=_l("Vai trò"))
    superior_union = forms.ModelChoiceField(
        label=_l("Công đoàn cấp trên"),
        queryset=SuperiorUnion.objects.none(),
        required=False,
        help_text=_l("Cho cán bộ công đoàn cấp trên."),
    )
    grassroots_union = forms.ModelChoiceField(
        label=_l("Công đoàn cơ sở"),
        queryset=GrassrootsUnion.objects.none(),
        required=False,
        help_text=_l("Cho cán bộ công đoàn cơ sở."),
    )

    def __init__(self, *args, scope, new: bool, **kwargs):
        super().__init__(*args, **kwargs)
        grantable = officer_roles_grantable(scope)
        self.fields["role"].choices = [(r, label) for r, label in Role.choices if r in grantable]
        self.fields["grassroots_union"].queryset = scope_filter(
            GrassrootsUnion.objects.order_by("code"), scope, grassroots_field=""
        )
        superiors = superior_union_scope_filter(SuperiorUnion.objects.order_by("code"), scope)
        self.fields["superior_union"].queryset = (
            superiors if Role.SUPERIOR_OFFICER in grantable else superiors.none()
        )
        if Role.SUPERIOR_OFFICER not in grantable:
            del self.fields["superior_union"]
        if not new:
            del self.fields["username"]

    def values(self) -> dict:
        d = self.cleaned_data
        return {
            "role": d["role"],
            "superior_union": d.get("superior_union"),
            "grassroots_union": d.get("grassroots_union"),
            "full_name": d["full_name"],
            "email": d["email"],
            "phone": d.get("phone", ""),
        }


def _refusal_status(error: ApplicationError) -> int:
    return 403 if isinstance(error, PermissionRefused) else 400


@access(OFFICER_READERS)
def officers(request):
    """The officers of the actor's scope: role, unit, active, last sign-in, two-factor; a
    search box and pages."""
    q = (request.GET.get("q") or "").strip()[:100]
    page = Paginator(officers_list(scope=request.scope, q=q), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    for row in page:
        row.name = person_name(row.user)
        row.phone_text = phone_display(row.phone)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "fund/officers.html",
        {
            "page": page,
            "q": q,
            "query": query.urlencode(),
            "may_manage": bool(officer_roles_grantable(request.scope)),
        },
    )


@access(OFFICER_MANAGERS)
def officer_new(request):
    """A new officer: their account is created without a password, and the link to set it is
    e-mailed to them."""
    scope = request.scope
    form = OfficerForm(request.POST or None, user=request.user, scope=scope, new=True)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                profile = officer_create(
                    fund=request.user.officer.fund,
                    username=form.cleaned_data["username"],
                    site_url=site_url_of(request),
                    idempotency_key=form.cleaned_data["idempotency_key"],
                    actor=request.user,
                    **form.values(),
                )
            except ApplicationError as e:
                form_error_apply(form, e, field_map={"actor": None, "officer": None})
                status = _refusal_status(e)
            else:
                messages.success(
                    request,
                    _("Đã tạo tài khoản %(username)s và gửi liên kết đặt mật khẩu đến %(email)s.")
                    % {"username": profile.user.username, "email": profile.user.email},
                )
                return redirect("fundweb:officer", pk=profile.pk)
    return render(request, "fund/officer_form.html", {"form": form}, status=status)


@access(OFFICER_MANAGERS)
def officer(request, pk: int):
    """An officer's page: their account, the form to change their role, unit, name, e-mail and
    phone, and the account's actions."""
    profile = officer_get(scope=request.scope, pk=pk)
    user = profile.user
    initial = {
        "full_name": person_name(user) if (user.first_name or user.last_name) else "",
        "email": user.email,
        "phone": phone_display(profile.phone),
        "role": profile.role,
        "superior_union": profile.superior_union_id,
        "grassroots_union": profile.grassroots_union_id,
    }
    form = OfficerForm(
        request.POST or None, user=request.user, scope=request.scope, new=False, initial=initial
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                officer_update(profile=profile, actor=request.user, **form.values())
            except ApplicationError as e:
                form_error_apply(form, e, field_map={"actor": None, "officer": None})
                status = _refusal_status(e)
            else:
                messages.success(request, _("Đã lưu thay đổi của cán bộ."))
                return redirect("fundweb:officer", pk=profile.pk)
    return _officer_page(request, profile, form, status)


def _officer_page(request, profile, form, status: int):
    return render(
        request,
        "fund/officer.html",
        {
            "profile": profile,
            "name": person_name(profile.user),
            "is_self": profile.user_id == request.user.pk,
            "form": form,
        },
        status=status,
    )


def _account_action(request, pk: int, act, done: str):
    """POST: one action on the account through the service, then the officer's page; a refusal
    is shown on that page (403 for who may, 400 otherwise)."""
    profile = officer_get(scope=request.scope, pk=pk)
    try:
        act(profile)
    except ApplicationError as e:
        messages.error(request, str(e.message))
        form = OfficerForm(user=request.user, scope=request.scope, new=False)
        return _officer_page(request, profile, form, _refusal_status(e))
    messages.success(request, done % {"username": profile.user.username})
    return redirect(reverse("fundweb:officer", kwargs={"pk": profile.pk}))


@require_POST
@access(OFFICER_MANAGERS)
def officer_password_reset_view(request, pk: int):
    """E-mail the officer a one-time link to set a new password."""
    return _account_action(
        request,
        pk,
        lambda p: officer_password_reset(
            profile=p, site_url=site_url_of(request), actor=request.user
        ),
        _("Đã gửi liên kết đặt mật khẩu cho %(username)s."),
    )


@require_POST
@access(OFFICER_MANAGERS)
def officer_deactivate_view(request, pk: int):
    """Deactivate: no more sign-in; open sessions and API tokens end at once."""
    return _account_action(
        request,
        pk,
        lambda p: officer_deactivate(profile=p, actor=request.user),
        _("Đã khóa tài khoản %(username)s; các phiên đăng nhập của tài khoản đã kết thúc."),
    )


@require_POST
@access(OFFICER_MANAGERS)
def officer_reactivate_view(request, pk: int):
    return _account_action(
        request,
        pk,
        lambda p: officer_reactivate(profile=p, actor=request.user),
        _("Đã mở lại tài khoản %(username)s."),
    )
