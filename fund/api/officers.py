"""REST API of the officer accounts (``/api/v1/officers/``): the list and one account for
those who read them, and the writes of the officers' pages for those who manage them.

The same selectors and services as the pages (``fund.selectors.officers_list``,
``fund.officers``), so the same rules: a fund officer manages every officer of the fund, a
superior-union officer the grassroots-union officers of their own unions; nobody gives a role
above their own, changes their own role or unit or deactivates themselves (403 naming the
field); auditors read only (403 on a write). Another fund's or union's officer is a 404. Every
change is in the audit log, written by the services.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from apicommon.fields import IdField
from apicommon.idempotency import idempotent_post
from apicommon.inputs import StrictInput
from apicommon.paging import paged
from apicommon.views import ApiView, check_id
from fund.access import OFFICER_MANAGERS, OFFICER_READERS
from fund.errors import FundError
from fund.models import Fund, GrassrootsUnion, Role, SuperiorUnion
from fund.officers import (
    officer_create,
    officer_deactivate,
    officer_password_reset,
    officer_reactivate,
    officer_update,
    site_url_of,
)
from fund.people import person_name
from fund.selectors import officer_get, officers_list


class OfficerFilter(serializers.Serializer):
    q = serializers.CharField(
        required=False,
        max_length=100,
        help_text="Tìm theo tên đăng nhập, họ tên, e-mail hoặc điện thoại",
    )


class OfficerOutput(serializers.Serializer):
    id = serializers.IntegerField()
    user_id = serializers.IntegerField()
    username = serializers.CharField(source="user.username")
    full_name = serializers.SerializerMethodField()
    email = serializers.CharField(source="user.email")
    phone = serializers.CharField()
    role = serializers.CharField()
    role_display = serializers.CharField(source="get_role_display")
    fund_id = serializers.IntegerField()
    superior_union_id = serializers.IntegerField(allow_null=True)
    grassroots_union_id = serializers.IntegerField(allow_null=True)
    is_active = serializers.BooleanField(source="user.is_active")
    last_login = serializers.DateTimeField(source="user.last_login", allow_null=True)
    two_factor = serializers.BooleanField(help_text="Đã xác nhận ứng dụng xác thực hai bước")

    def get_full_name(self, profile) -> str:
        return person_name(profile.user)


class OfficerUnitInput(StrictInput):
    role = serializers.ChoiceField(choices=Role.choices)
    superior_union = IdField(
        required=False, allow_null=True, help_text="Cho cán bộ công đoàn cấp trên"
    )
    grassroots_union = IdField(
        required=False, allow_null=True, help_text="Cho cán bộ công đoàn cơ sở"
    )
    full_name = serializers.CharField(
        max_length=300, help_text="Theo thứ tự họ, tên đệm, tên: Nguyễn Văn An"
    )
    email = serializers.CharField(max_length=254, help_text="Liên kết đặt mật khẩu gửi về đây")
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)


class OfficerCreateInput(OfficerUnitInput):
    username = serializers.CharField(max_length=150)


class OfficerUpdateInput(OfficerUnitInput):
    """The fields sent change; the others stay. `role` with its unit: sending any of `role`,
    `superior_union`, `grassroots_union` sets all three (a unit not sent is none)."""

    role = serializers.ChoiceField(choices=Role.choices, required=False)
    full_name = serializers.CharField(max_length=300, required=False)
    email = serializers.CharField(max_length=254, required=False)


def _unit(model, pk, *, fund_id: int, field: str):
    """The union `pk` of the fund, or a refusal naming `field` (whether the actor may give it
    is the service's rule)."""
    if pk is None:
        return None
    unit = model.objects.filter(pk=pk, fund_id=fund_id).first()
    if unit is None:
        raise FundError(_("Không tìm thấy đơn vị này."), field=field, code="unit_not_found")
    return unit


def _units(data: dict, *, fund_id: int) -> dict:
    return {
        "superior_union": _unit(
            SuperiorUnion, data.get("superior_union"), fund_id=fund_id, field="superior_union"
        ),
        "grassroots_union": _unit(
            GrassrootsUnion, data.get("grassroots_union"), fund_id=fund_id, field="grassroots_union"
        ),
    }


def _output(scope, pk: int) -> dict:
    """The account as the list shows it (with ``two_factor``)."""
    return OfficerOutput(officers_list(scope=scope).get(pk=pk)).data


class OfficerListApi(ApiView):
    access_roles = OFFICER_READERS

    @extend_schema(
        parameters=[OfficerFilter],
        responses=paged(OfficerOutput),
        summary="Tài khoản cán bộ trong phạm vi (tìm kiếm, phân trang)",
    )
    def get(self, request):
        f = self.query(OfficerFilter)
        return self.page(officers_list(scope=self.scope, q=f.get("q", "")), OfficerOutput)


class OfficerDetailApi(ApiView):
    access_roles = OFFICER_READERS

    @extend_schema(responses=OfficerOutput, summary="Một tài khoản cán bộ")
    def get(self, request, pk: int):
        profile = officer_get(scope=self.scope, pk=check_id(pk))
        return Response(_output(self.scope, profile.pk))


class OfficerCreateApi(ApiView):
    """Create an officer's account with a role and unit (never staff, no password yet); the
    link to set the password is e-mailed to them."""

    access_roles = OFFICER_MANAGERS

    @idempotent_post(
        required=False,
        request=OfficerCreateInput,
        responses={201: OfficerOutput},
        summary="Tạo tài khoản cán bộ và gửi liên kết đặt mật khẩu",
    )
    def post(self, request, key: str):
        data = dict(self.input(OfficerCreateInput))
        data.update(_units(data, fund_id=self.scope.fund_id))
        profile = officer_create(
            fund=Fund.objects.get(pk=self.scope.fund_id),
            site_url=site_url_of(request),
            idempotency_key=key,
            actor=request.user,
            **data,
        )
        return Response(_output(self.scope, profile.pk), status=status.HTTP_201_CREATED)


class OfficerUpdateApi(ApiView):
    """Change an officer's role and unit, name, e-mail or phone (the fields sent)."""

    access_roles = OFFICER_MANAGERS

    @extend_schema(
        request=OfficerUpdateInput,
        responses=OfficerOutput,
        summary="Đổi vai trò, đơn vị hoặc thông tin của một cán bộ (các trường gửi lên)",
    )
    def post(self, request, pk: int):
        profile = officer_get(scope=self.scope, pk=check_id(pk))
        data = dict(self.input(OfficerUpdateInput))
        if {"role", "superior_union", "grassroots_union"} & set(data):
            data.setdefault("role", profile.role)
            data.update(_units(data, fund_id=self.scope.fund_id))
        else:
            data.update(
                role=profile.role,
                superior_union=profile.superior_union,
                grassroots_union=profile.grassroots_union,
            )
        officer_update(profile=profile, actor=request.user, **data)
        return Response(_output(self.scope, profile.pk))


class _AccountActionApi(ApiView):
    access_roles = OFFICER_MANAGERS

    def act(self, request, profile) -> None:
        raise NotImplementedError

    def run(self, request, pk: int) -> Response:
        profile = officer_get(scope=self.scope, pk=check_id(pk))
        self.act(request, profile)
        return Response(_output(self.scope, profile.pk))


class OfficerDeactivateApi(_AccountActionApi):
    """Deactivate: no more sign-in; the officer's sessions and API tokens end at once."""

    def act(self, request, profile) -> None:
        officer_deactivate(profile=profile, actor=request.user)

    @extend_schema(request=None, responses=OfficerOutput, summary="Khóa tài khoản cán bộ")
    def post(self, request, pk: int):
        return self.run(request, pk)


class OfficerReactivateApi(_AccountActionApi):
    def act(self, request, profile) -> None:
        officer_reactivate(profile=profile, actor=request.user)

    @extend_schema(request=None, responses=OfficerOutput, summary="Mở lại tài khoản cán bộ")
    def post(self, request, pk: int):
        return self.run(request, pk)


class OfficerPasswordResetApi(_AccountActionApi):
    """E-mail the officer a one-time link to set a new password (their password keeps working
    until they do)."""

    def act(self, request, profile) -> None:
        officer_password_reset(profile=profile, site_url=site_url_of(request), actor=request.user)

    @extend_schema(
        request=None, responses=OfficerOutput, summary="Gửi liên kết đặt lại mật khẩu cho cán bộ"
    )
    def post(self, request, pk: int):
        return self.run(request, pk)
