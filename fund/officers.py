"""Officer accounts managed in the app: create an officer, change their role and unit, send a
password link, deactivate and reactivate (the writes; the list is ``fund.selectors``).

Who may (``fund.scoping``): a fund officer manages every officer of their fund and may give
any role; a superior-union officer manages the grassroots-union officers of their own
grassroots unions only; nobody gives a role above their own, changes their own role or unit,
or deactivates themselves; auditors read the list; grassroots-union officers manage nobody.

A new officer has no password: the creation e-mails a one-time link (Django's password-reset
token, valid ``PASSWORD_RESET_TIMEOUT`` seconds, spent once the password is set) to the page
where they choose it; "reset password" sends the same link again. Officers created here are
never staff. Deactivating ends the user's sessions and revokes their API tokens at once
(``fund.signin.tokens_revoke_on_change``). Every change is in the audit log.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounting.idempotency import command_once
from fund.audit import audit_record
from fund.errors import FundError, PermissionRefused
from fund.models import Fund, GrassrootsUnion, OfficerProfile, SuperiorUnion
from fund.people import person_name, person_name_split
from fund.scoping import (
    actor_scope,
    officer_require_grant,
    officer_require_managed,
    officer_require_manager,
    officer_require_not_self,
)
from fund.services import officer_profile_write
from fund.validation import clean_email, clean_text

USERNAME_MAX = 150
NAME_MAX = 150


def _scope_of(actor, fund: Fund):
    """The acting officer's scope, refused unless they manage officers of this fund; None for
    the system."""
    scope = actor_scope(actor)
    if scope is None:
        return None
    officer_require_manager(scope)
    if scope.fund_id != fund.pk:
        raise PermissionRefused(_("Bạn không thuộc quỹ này."), field="actor", code="other_fund")
    return scope


def _username(value) -> str:
    username = clean_text(
        value,
        error=FundError,
        field="username",
        label=_("Tên đăng nhập"),
        required=True,
        max_length=USERNAME_MAX,
    )
    try:
        UnicodeUsernameValidator()(username)
    except ValidationError:
        raise FundError(
            _("Tên đăng nhập chỉ gồm chữ, số và các ký tự @ . + - _ (không có dấu cách)."),
            field="username",
        ) from None
    # Sign-in failures are counted without case (fund.signin.axes_username): one account per
    # spelling.
    if get_user_model().objects.filter(username__iexact=username).exists():
        raise FundError(
            _("Tên đăng nhập '%(username)s' đã có người dùng."),
            field="username",
            code="username_taken",
            params={"username": username},
        )
    return username


def _name(value) -> tuple[str, str]:
    """(last_name, first_name) of a full name written in the Vietnamese order."""
    full = clean_text(
        value, error=FundError, field="full_name", label=_("Họ và tên"), required=True
    )
    family, given = person_name_split(full)
    if len(family) > NAME_MAX or len(given) > NAME_MAX:
        raise FundError(
            _("%(label)s dài quá %(max)s ký tự."),
            field="full_name",
            params={"label": _("Họ và tên"), "max": NAME_MAX},
        )
    return family, given


def _email(value) -> str:
    return clean_email(value, error=FundError, field="email", label=_("E-mail"), required=True)


def password_link(user, *, site_url: str) -> str:
    """The one-time link to the page where `user` sets a new password."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": token})
    return site_url.rstrip("/") + path


def site_url_of(request) -> str:
    """The site an e-mailed password link points to: the one the request came to (the page or
    the API call that asked for it)."""
    return request.build_absolute_uri("/")


def _password_link_send(user, *, site_url: str, new: bool) -> None:
    """E-mail the link, in Vietnamese (the recipient's language is not known). A mail server
    that refuses is a refusal by the e-mail field: the caller's transaction is undone."""
    hours = max(1, round(settings.PASSWORD_RESET_TIMEOUT / 3600))
    with translation.override(settings.LANGUAGE_CODE):
        if new:
            subject = gettext("Tài khoản của bạn ở Quỹ Trợ vốn")
            opening = gettext("Quỹ đã tạo cho bạn tài khoản với tên đăng nhập %(username)s.")
        else:
            subject = gettext("Đặt lại mật khẩu ở Quỹ Trợ vốn")
            opening = gettext(
                "Quỹ đã gửi cho bạn liên kết đặt lại mật khẩu của tài khoản %(username)s."
            )
        body = "\n\n".join(
            [
                gettext("Chào %(name)s,") % {"name": person_name(user)},
                opening % {"username": user.get_username()},
                gettext("Mở liên kết sau để đặt mật khẩu (dùng được một lần, trong %(hours)s giờ):")
                % {"hours": hours},
                password_link(user, site_url=site_url),
                gettext("Nếu bạn không chờ thư này, hãy báo cho cán bộ quỹ."),
            ]
        )
    try:
        send_mail(subject, body, None, [user.email])
    except OSError:
        raise FundError(
            _("Không gửi được thư đến %(email)s; hãy thử lại sau."),
            field="email",
            code="mail_failed",
            params={"email": user.email},
        ) from None


def officer_create(
    *,
    fund: Fund,
    username: str,
    full_name: str,
    email: str,
    role: str,
    superior_union: SuperiorUnion | None = None,
    grassroots_union: GrassrootsUnion | None = None,
    phone: str = "",
    site_url: str,
    idempotency_key: str,
    actor=None,
) -> OfficerProfile:
    """Create an officer's account (never staff, no password yet) with their role and unit, and
    e-mail them the link to set their password. Once per idempotency key."""
    scope = _scope_of(actor, fund)
    if scope is not None:
        officer_require_grant(
            scope, role=role, superior_union=superior_union, grassroots_union=grassroots_union
        )
    payload = {
        "fund": fund.pk,
        "username": username,
        "full_name": full_name,
        "email": email,
        "role": role,
        "superior_union": getattr(superior_union, "pk", None),
        "grassroots_union": getattr(grassroots_union, "pk", None),
        "phone": phone,
        "actor": getattr(actor, "pk", None),
    }

    def run() -> OfficerProfile:
        family, given = _name(full_name)
        address = _email(email)
        user = get_user_model()(
            username=_username(username),
            last_name=family,
            first_name=given,
            email=address,
            is_staff=False,
            is_superuser=False,
        )
        user.set_unusable_password()
        user.save()
        profile = officer_profile_write(
            user=user,
            fund=fund,
            role=role,
            superior_union=superior_union,
            grassroots_union=grassroots_union,
            phone=phone,
            actor=actor,
            more_changes={
                "username": [None, user.username],
                "full_name": [None, person_name(user)],
                "email": [None, address],
                "is_active": [None, True],
            },
        )
        _password_link_send(user, site_url=site_url, new=True)
        return profile

    return command_once(
        scope="officer_create",
        key=idempotency_key,
        payload=payload,
        run=run,
        load=lambda pk: OfficerProfile.objects.select_related("user").get(pk=pk),
    )


def officer_update(
    *,
    profile: OfficerProfile,
    role: str,
    superior_union: SuperiorUnion | None = None,
    grassroots_union: GrassrootsUnion | None = None,
    full_name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    actor=None,
) -> OfficerProfile:
    """Change an officer's role and unit (and their name, e-mail and phone); nothing written
    when nothing changes."""
    scope = _scope_of(actor, profile.fund)
    role_changes = (
        role != profile.role
        or getattr(superior_union, "pk", None) != profile.superior_union_id
        or getattr(grassroots_union, "pk", None) != profile.grassroots_union_id
    )
    if scope is not None:
        officer_require_managed(scope, profile)
        if role_changes:
            officer_require_not_self(scope, profile, field="role")
            officer_require_grant(
                scope, role=role, superior_union=superior_union, grassroots_union=grassroots_union
            )
    user = profile.user
    more = {}
    with transaction.atomic():
        if full_name is not None:
            family, given = _name(full_name)
            before = person_name(user)
            user.last_name, user.first_name = family, given
            if person_name(user) != before:
                more["full_name"] = [before, person_name(user)]
        if email is not None:
            address = _email(email)
            if address != user.email:
                more["email"] = [user.email, address]
                user.email = address
        if more:
            user.save(update_fields=["first_name", "last_name", "email"])
        return officer_profile_write(
            user=user,
            fund=profile.fund,
            role=role,
            superior_union=superior_union,
            grassroots_union=grassroots_union,
            phone=phone,
            actor=actor,
            more_changes=more,
        )


def _active_set(profile: OfficerProfile, active: bool, *, actor) -> OfficerProfile:
    scope = _scope_of(actor, profile.fund)
    if scope is not None:
        officer_require_managed(scope, profile)
        officer_require_not_self(scope, profile, field="officer")
    with transaction.atomic():
        user = get_user_model().objects.select_for_update().get(pk=profile.user_id)
        if user.is_active == active:
            profile.user = user
            return profile
        user.is_active = active
        # pre_save (fund.signin): a deactivation revokes the API tokens and ends the sessions.
        user.save(update_fields=["is_active"])
        audit_record(
            actor=actor,
            action="reactivate" if active else "deactivate",
            obj=profile,
            changes={"is_active": [not active, active]},
        )
    profile.user = user
    return profile


def officer_deactivate(*, profile: OfficerProfile, actor=None) -> OfficerProfile:
    """Deactivate an officer's account: they can no longer sign in, their open sessions end
    and their API tokens are revoked at once. Their name stays on everything they did."""
    return _active_set(profile, False, actor=actor)


def officer_reactivate(*, profile: OfficerProfile, actor=None) -> OfficerProfile:
    """Let a deactivated officer sign in again (with a new password link if they need one)."""
    return _active_set(profile, True, actor=actor)


def officer_password_reset(*, profile: OfficerProfile, site_url: str, actor=None) -> None:
    """E-mail the officer a one-time link to set a new password (their current password keeps
    working until they do)."""
    scope = _scope_of(actor, profile.fund)
    if scope is not None:
        officer_require_managed(scope, profile)
    user = profile.user
    if not user.is_active:
        raise FundError(
            _("Tài khoản đang bị khóa; hãy mở lại trước khi gửi liên kết đặt mật khẩu."),
            field="officer",
            code="officer_inactive",
        )
    if not user.email:
        raise FundError(
            _("Cán bộ chưa có e-mail; hãy nhập e-mail trước khi gửi liên kết."),
            field="email",
            code="email_missing",
        )
    with transaction.atomic():
        audit_record(
            actor=actor, action="password_reset", obj=profile, changes={"email": user.email}
        )
        _password_link_send(user, site_url=site_url, new=False)


__all__ = [
    "officer_create",
    "officer_deactivate",
    "officer_password_reset",
    "officer_reactivate",
    "officer_update",
    "password_link",
    "site_url_of",
]
