"""REST API of the fund (``/api/v1/``): who am I, unions (and their file import and export),
the audit log, capital, plans, attainment, ledger.

One view per operation; input and output serializers are separate; views only resolve rows
within the user's scope (``fund.scoping``: other units' ids → 404) and call the services and
selectors. Conventions (errors, money, Idempotency-Key) in ``apicommon``.
"""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from knox.auth import TokenAuthentication
from knox.models import AuthToken
from rest_framework import exceptions, serializers, status
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.response import Response

from accounting.dates import business_today
from accounting.errors import ApplicationError
from accounting.models import Account, JournalEntry
from accounting.selectors import (
    balance_sheet,
    general_ledger_page,
    income_statement,
    ledger_signed_head,
    ledger_verify,
    trial_balance,
)
from apicommon.errors import ImportRejectedOutput
from apicommon.fields import (
    BackdateReasonField,
    BusinessDateField,
    IdField,
    MoneyField,
    TableFileField,
    table_format,
)
from apicommon.idempotency import idempotent_post
from apicommon.inputs import StrictInput
from apicommon.paging import ApiPagination, paged
from apicommon.parsers import UploadParser
from apicommon.permissions import AccessRolePermission
from apicommon.throttling import ClientScopedRateThrottle
from apicommon.views import ApiView, check_id, get_in_scope
from fund import services
from fund.access import ALL_ROLES, FUND_OFFICERS, PUBLIC, READERS_FUND_WIDE, WRITERS
from fund.accounts import BANK, CASH_ACCOUNTS
from fund.attainment import INDICATORS, PERIODS, attainment
from fund.audit import audit_log_list
from fund.closing import year_close
from fund.integrity import integrity_check_latest, integrity_verify
from fund.models import (
    AnnualPlan,
    AuditLog,
    CapitalMovement,
    CapitalMoveRequest,
    CapitalSource,
    Fund,
    GrassrootsUnion,
    SuperiorUnion,
    YearClose,
)
from fund.people import person_name
from fund.scoping import scope_filter, superior_union_scope_filter
from fund.selectors import (
    capital_available,
    capital_by_source,
    capital_committed,
    capital_source_balance,
    capital_total,
    lending_allocation_in_force,
    loans_outstanding,
    plan_split_summary,
)
from fund.signin import locked_message, lockout_minutes
from fund.two_factor import second_factor_match, two_factor_required
from fund.union_io import FORMATS, GRASSROOTS, LEVELS, unions_export, unions_import

MAX_COUNT = 2_000_000_000


def _fund(scope) -> Fund:
    return Fund.objects.get(pk=scope.fund_id)


# --------------------------------------------------------------------------------------------
# Sign-in and the user's role


class TokenOutput(serializers.Serializer):
    token = serializers.CharField()
    expiry = serializers.DateTimeField(allow_null=True)


class TokenInput(AuthTokenSerializer):
    otp = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="Mã xác thực hai bước (ứng dụng xác thực, hoặc mã khôi phục) khi tài khoản cần",
    )


class TokenObtainApi(ApiView):
    """Exchange a username and password for an API token that expires (``expiry``; sign out
    with ``auth/logout/``). Throttled (`login`, per client address); failures counted by
    django-axes like the log-in page's: a locked-out user name or client gets 429 even with the
    right password. A password change or a deactivation revokes every token of the user."""

    access_roles = PUBLIC
    authentication_classes: list = []
    permission_classes = [AccessRolePermission]
    throttle_scope = "login"
    throttle_classes = [ClientScopedRateThrottle]

    @extend_schema(request=TokenInput, responses=TokenOutput, summary="Lấy mã truy cập")
    def post(self, request):
        s = TokenInput(data=request.data, context={"request": request})
        if not s.is_valid():
            if getattr(request, "axes_locked_out", False):
                body = {"code": "locked_out", "field": None, "message": locked_message()}
                headers = {"Retry-After": str(lockout_minutes() * 60)}
                return Response(body, status=429, headers=headers)
            raise exceptions.ValidationError(s.errors)
        user = s.validated_data["user"]
        if two_factor_required(user):
            # The second factor: a code of the user's authenticator, or a recovery code.
            if second_factor_match(user, str(request.data.get("otp") or "")) is None:
                user_login_failed.send(
                    sender=__name__, credentials={"username": user.get_username()}, request=request
                )
                raise ApplicationError(
                    _("Cần mã xác thực hai bước hợp lệ (trường otp)."),
                    code="otp_required",
                    field="otp",
                )
        instance, token = AuthToken.objects.create(user)
        user_logged_in.send(sender=user.__class__, request=request, user=user)
        return Response(TokenOutput({"token": token, "expiry": instance.expiry}).data)


class TokenRevokeApi(ApiView):
    """Sign out: the token of this request is revoked."""

    access_roles = ALL_ROLES
    authentication_classes = [TokenAuthentication]

    @extend_schema(request=None, responses={204: None}, summary="Thu hồi mã truy cập này")
    def post(self, request):
        request._auth.delete()
        user_logged_out.send(sender=request.user.__class__, request=request, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenRevokeAllApi(ApiView):
    """Sign out everywhere: every token of the user is revoked."""

    access_roles = ALL_ROLES
    authentication_classes = [TokenAuthentication]

    @extend_schema(request=None, responses={204: None}, summary="Thu hồi mọi mã truy cập")
    def post(self, request):
        AuthToken.objects.filter(user=request.user).delete()
        user_logged_out.send(sender=request.user.__class__, request=request, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeOutput(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    full_name = serializers.CharField()
    role = serializers.CharField()
    role_display = serializers.CharField()
    fund_id = serializers.IntegerField()
    superior_union_id = serializers.IntegerField(allow_null=True)
    grassroots_union_id = serializers.IntegerField(allow_null=True)


class MeApi(ApiView):
    access_roles = ALL_ROLES

    @extend_schema(responses=MeOutput, summary="Người dùng hiện tại, vai trò và đơn vị")
    def get(self, request):
        s = self.scope
        user = request.user
        return Response(
            MeOutput(
                {
                    "id": user.pk,
                    "username": user.get_username(),
                    "full_name": person_name(user),
                    "role": s.role,
                    "role_display": str(user.officer.get_role_display()),
                    "fund_id": s.fund_id,
                    "superior_union_id": s.superior_union_id,
                    "grassroots_union_id": s.grassroots_union_id,
                }
            ).data
        )


# --------------------------------------------------------------------------------------------
# Unions


class UnionFilter(serializers.Serializer):
    q = serializers.CharField(required=False, max_length=100, help_text="Tìm theo mã hoặc tên")


class GrassrootsUnionFilter(UnionFilter):
    superior_union = IdField(required=False)
    kind = serializers.ChoiceField(choices=GrassrootsUnion.Kind.choices, required=False)


class SuperiorUnionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()
    kind_display = serializers.CharField(source="get_kind_display")
    address = serializers.CharField()
    contact_name = serializers.CharField()
    contact_phone = serializers.CharField()
    contact_email = serializers.CharField()
    active_from = serializers.DateField(allow_null=True)
    active_to = serializers.DateField(allow_null=True)


class GrassrootsUnionOutput(SuperiorUnionOutput):
    superior_union_id = serializers.IntegerField()


def _search(qs, q: str | None):
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(code__icontains=q))
    return qs


class SuperiorUnionListApi(ApiView):
    access_roles = ALL_ROLES

    @extend_schema(
        parameters=[UnionFilter],
        responses=paged(SuperiorUnionOutput),
        summary="Công đoàn cấp trên trong phạm vi",
    )
    def get(self, request):
        f = self.query(UnionFilter)
        qs = superior_union_scope_filter(SuperiorUnion.objects.all(), self.scope)
        return self.page(_search(qs, f.get("q")).order_by("code", "pk"), SuperiorUnionOutput)


class SuperiorUnionDetailApi(ApiView):
    access_roles = ALL_ROLES

    @extend_schema(responses=SuperiorUnionOutput, summary="Một công đoàn cấp trên")
    def get(self, request, pk: int):
        qs = superior_union_scope_filter(SuperiorUnion.objects.all(), self.scope)
        su = qs.filter(pk=check_id(pk)).first()
        if su is None:
            raise Http404()
        return Response(SuperiorUnionOutput(su).data)


class GrassrootsUnionListApi(ApiView):
    access_roles = ALL_ROLES

    @extend_schema(
        parameters=[GrassrootsUnionFilter],
        responses=paged(GrassrootsUnionOutput),
        summary="Công đoàn cơ sở trong phạm vi",
    )
    def get(self, request):
        f = self.query(GrassrootsUnionFilter)
        qs = scope_filter(GrassrootsUnion.objects.all(), self.scope, grassroots_field="")
        if "superior_union" in f:
            qs = qs.filter(superior_union_id=f["superior_union"])
        if "kind" in f:
            qs = qs.filter(kind=f["kind"])
        return self.page(_search(qs, f.get("q")).order_by("code", "pk"), GrassrootsUnionOutput)


class GrassrootsUnionDetailApi(ApiView):
    access_roles = ALL_ROLES

    @extend_schema(responses=GrassrootsUnionOutput, summary="Một công đoàn cơ sở")
    def get(self, request, pk: int):
        gu = get_in_scope(GrassrootsUnion.objects.all(), self.scope, pk, grassroots_field="")
        return Response(GrassrootsUnionOutput(gu).data)


class GrassrootsUnionUpdateInput(StrictInput):
    code = serializers.CharField(max_length=32, required=False)
    name = serializers.CharField(max_length=255, required=False)
    kind = serializers.ChoiceField(choices=GrassrootsUnion.Kind.choices, required=False)
    address = serializers.CharField(max_length=255, required=False, allow_blank=True)
    contact_name = serializers.CharField(max_length=255, required=False, allow_blank=True)
    contact_phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    contact_email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    active_from = BusinessDateField(required=False, allow_null=True)
    active_to = BusinessDateField(required=False, allow_null=True)


class GrassrootsUnionUpdateApi(ApiView):
    """Change a grassroots union's details: the fields sent, each within what the caller's role
    may change (fund officers anything, superior-union officers name, kind, dates and contacts,
    the union's own officer its address and contacts; another field answers 403)."""

    access_roles = WRITERS

    @extend_schema(
        request=GrassrootsUnionUpdateInput,
        responses=GrassrootsUnionOutput,
        summary="Sửa thông tin một công đoàn cơ sở (các trường gửi lên)",
    )
    def post(self, request, pk: int):
        gu = get_in_scope(GrassrootsUnion.objects.all(), self.scope, pk, grassroots_field="")
        data = self.input(GrassrootsUnionUpdateInput)
        gu = services.grassroots_union_update(grassroots_union=gu, actor=request.user, **data)
        return Response(GrassrootsUnionOutput(gu).data)


class GrassrootsUnionMoveInput(serializers.Serializer):
    superior_union = IdField(help_text="Công đoàn cấp trên mới")
    effective_date = BusinessDateField(help_text="Ngày bắt đầu trực thuộc cấp trên mới")


class GrassrootsUnionMoveApi(ApiView):
    """Move a grassroots union to another superior union of the fund from a date on (history
    kept: reports for earlier dates still find the old one)."""

    access_roles = FUND_OFFICERS

    @extend_schema(
        request=GrassrootsUnionMoveInput,
        responses=GrassrootsUnionOutput,
        summary="Chuyển công đoàn cơ sở sang cấp trên khác từ một ngày",
    )
    def post(self, request, pk: int):
        gu = get_in_scope(GrassrootsUnion.objects.all(), self.scope, pk, grassroots_field="")
        data = self.input(GrassrootsUnionMoveInput)
        target = SuperiorUnion.objects.filter(
            pk=data["superior_union"], fund_id=self.scope.fund_id
        ).first()
        if target is None:
            raise Http404()
        gu = services.grassroots_union_move(
            grassroots_union=gu,
            superior_union=target,
            effective_date=data["effective_date"],
            actor=request.user,
        )
        return Response(GrassrootsUnionOutput(gu).data)


# --------------------------------------------------------------------------------------------
# The union register as a file (CSV or XLSX; the layout in ``fund.union_io``)


CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class FileNegotiation(BaseContentNegotiation):
    """The answer is a file whose kind the ``format`` parameter names: the client's Accept
    header and DRF's own ``?format=`` renderer switch do not choose it (errors stay JSON)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None


class UnionExportFilter(serializers.Serializer):
    level = serializers.ChoiceField(choices=LEVELS, default=GRASSROOTS)
    format = serializers.ChoiceField(choices=FORMATS, default="csv")


class UnionExportApi(ApiView):
    """The unions the caller may see, in the import's layout (re-importable as is)."""

    access_roles = ALL_ROLES
    content_negotiation_class = FileNegotiation

    @extend_schema(
        parameters=[UnionExportFilter],
        responses={
            (200, CONTENT_TYPES["csv"].split(";")[0]): OpenApiTypes.BINARY,
            (200, CONTENT_TYPES["xlsx"]): OpenApiTypes.BINARY,
        },
        summary="Tải danh sách công đoàn (CSV hoặc XLSX)",
    )
    def get(self, request):
        f = self.query(UnionExportFilter)
        data = unions_export(scope=self.scope, level=f["level"], format=f["format"])
        response = HttpResponse(data, content_type=CONTENT_TYPES[f["format"]])
        name = "cong-doan-cap-tren" if f["level"] == "superior" else "cong-doan-co-so"
        response["Content-Disposition"] = f'attachment; filename="{name}.{f["format"]}"'
        return response


class UnionImportInput(serializers.Serializer):
    file = TableFileField(help_text="Tệp CSV hoặc XLSX (XLSX nhận theo đuôi .xlsx)")
    level = serializers.ChoiceField(choices=LEVELS, default=GRASSROOTS)
    effective_date = BusinessDateField(
        required=False, help_text="Ngày chuyển cấp trên của các dòng đổi cấp (mặc định: hôm nay)"
    )


class UnionImportOutput(serializers.Serializer):
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    moved = serializers.IntegerField()
    unchanged = serializers.IntegerField()


class UnionImportApi(ApiView):
    """Import a file of superior or grassroots unions, all or nothing: one wrong row refuses the
    file (400, every wrong row in ``errors``) and nothing is written. Importing the same file
    again changes nothing."""

    access_roles = FUND_OFFICERS
    parser_classes = [UploadParser]

    @extend_schema(
        request=UnionImportInput,
        responses={200: UnionImportOutput, 400: ImportRejectedOutput},
        summary="Nhập danh sách công đoàn từ tệp (CSV, XLSX)",
    )
    def post(self, request):
        data = self.input(UnionImportInput)
        upload = data["file"]
        result = unions_import(
            fund=_fund(self.scope),
            data=upload.read(),
            format=table_format(upload),
            level=data["level"],
            actor=request.user,
            effective_date=data.get("effective_date"),
        )
        return Response(UnionImportOutput(result).data)


# --------------------------------------------------------------------------------------------
# Audit log


class AuditLogFilter(serializers.Serializer):
    model = serializers.RegexField(
        r"^[A-Za-z_]+\.[A-Za-z_]+$",
        max_length=200,
        required=False,
        help_text="Loại đối tượng, dạng app.model (ví dụ fund.grassrootsunion)",
    )
    actor = IdField(required=False, help_text="Người thực hiện (id)")
    start = BusinessDateField(required=False)
    end = BusinessDateField(required=False)
    object_id = serializers.CharField(max_length=64, required=False)
    action = serializers.CharField(max_length=32, required=False)


class AuditLogOutput(serializers.Serializer):
    at = serializers.DateTimeField()
    actor = serializers.CharField(source="actor_name", allow_blank=True)
    action = serializers.CharField()
    model = serializers.SerializerMethodField()
    object_id = serializers.CharField()
    object = serializers.CharField(source="object_repr")
    changes = serializers.JSONField()

    def get_model(self, entry) -> str:
        return f"{entry.content_type.app_label}.{entry.content_type.model}"


class AuditLogListApi(ApiView):
    """The audit log entries the caller may read, newest first: the fund's for fund officers and
    auditors, their own unions' for union officers."""

    access_roles = ALL_ROLES

    @extend_schema(
        parameters=[AuditLogFilter],
        responses=paged(AuditLogOutput),
        summary="Nhật ký thay đổi trong phạm vi",
    )
    def get(self, request):
        f = dict(self.query(AuditLogFilter))
        model = f.pop("model", None)
        if model is not None:
            app_label, _, name = model.lower().partition(".")
            if not ContentType.objects.filter(app_label=app_label, model=name).exists():
                return self.page(AuditLog.objects.none(), AuditLogOutput)
        actor = f.pop("actor", None)
        qs = audit_log_list(scope=self.scope, model=model, **f)
        if actor is not None:
            qs = qs.filter(actor_id=actor)
        return self.page(qs, AuditLogOutput)


# --------------------------------------------------------------------------------------------
# Capital


class CapitalSummaryOutput(serializers.Serializer):
    total = MoneyField()
    available = MoneyField(allow_negative=True)
    outstanding = MoneyField()
    committed = MoneyField()
    by_source = serializers.DictField(child=MoneyField(allow_negative=True))


class CapitalSummaryApi(ApiView):
    access_roles = READERS_FUND_WIDE

    @extend_schema(responses=CapitalSummaryOutput, summary="Nguồn vốn: tổng, khả dụng, dư nợ")
    def get(self, request):
        fund = _fund(self.scope)
        return Response(
            CapitalSummaryOutput(
                {
                    "total": capital_total(fund=fund),
                    "available": capital_available(fund=fund),
                    "outstanding": loans_outstanding(fund=fund),
                    "committed": capital_committed(fund=fund),
                    "by_source": {s.code: v for s, v in capital_by_source(fund=fund).items()},
                }
            ).data
        )


class CapitalSourceOutput(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()
    kind_display = serializers.CharField(source="get_kind_display")
    account_code = serializers.CharField()
    balance = MoneyField(allow_negative=True)


class CapitalSourceListApi(ApiView):
    access_roles = READERS_FUND_WIDE

    @extend_schema(responses=CapitalSourceOutput(many=True), summary="Các nguồn vốn và số dư")
    def get(self, request):
        sources = CapitalSource.objects.filter(fund_id=self.scope.fund_id).order_by("code")
        for s in sources:
            s.balance = capital_source_balance(source=s)
        return Response(CapitalSourceOutput(sources, many=True).data)


class CapitalMovementOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    kind_display = serializers.CharField(source="get_kind_display")
    source_id = serializers.IntegerField()
    target_source_id = serializers.IntegerField(allow_null=True)
    amount = MoneyField()
    effective_date = serializers.DateField()
    memo = serializers.CharField()
    journal_entry_id = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class CapitalMovementFilter(serializers.Serializer):
    kind = serializers.ChoiceField(choices=CapitalMovement.Kind.choices, required=False)
    source = IdField(required=False)


class CapitalMovementListApi(ApiView):
    access_roles = READERS_FUND_WIDE

    @extend_schema(
        parameters=[CapitalMovementFilter],
        responses=paged(CapitalMovementOutput),
        summary="Nghiệp vụ vốn (tiếp nhận, hoàn trả, điều chuyển)",
    )
    def get(self, request):
        f = self.query(CapitalMovementFilter)
        qs = CapitalMovement.objects.filter(fund_id=self.scope.fund_id)
        if "kind" in f:
            qs = qs.filter(kind=f["kind"])
        if "source" in f:
            qs = qs.filter(source_id=f["source"])
        return self.page(qs.order_by("-effective_date", "-pk"), CapitalMovementOutput)


class CapitalMovementInput(serializers.Serializer):
    source = IdField()
    amount = MoneyField()
    effective_date = BusinessDateField()
    backdate_reason = BackdateReasonField()
    memo = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")
    cash_account = serializers.ChoiceField(choices=CASH_ACCOUNTS, default=BANK)


class CapitalTransferInput(serializers.Serializer):
    source = IdField(help_text="Nguồn chuyển đi")
    target_source = IdField(help_text="Nguồn nhận")
    amount = MoneyField()
    effective_date = BusinessDateField()
    backdate_reason = BackdateReasonField()
    memo = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class CapitalRequestOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    kind_display = serializers.CharField(source="get_kind_display")
    status = serializers.CharField()
    status_display = serializers.CharField(source="get_status_display")
    source_id = serializers.IntegerField()
    target_source_id = serializers.IntegerField(allow_null=True)
    amount = MoneyField()
    effective_date = serializers.DateField()
    memo = serializers.CharField()
    requested_by = serializers.CharField(source="requested_by.username")
    requested_at = serializers.DateTimeField()
    decided_by = serializers.CharField(source="decided_by.username", allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    reason = serializers.CharField()
    backdated_reason = serializers.CharField()
    movement_id = serializers.IntegerField(allow_null=True)


# One capital movement of the kind `kind`, through ``fund.services.capital_move_enter``: posted
# at once (201, the movement) or, above the fund's threshold, waiting for a second fund officer
# (202, the pending request); the capital sources named by `source_fields` must be the fund's
# (404 otherwise). (A comment, not a docstring: the schema would show it as the description of
# each operation.)
class _CapitalMovementApi(ApiView):
    access_roles = FUND_OFFICERS
    kind = None
    source_fields: tuple[str, ...] = ("source",)

    def movement_post(self, request, key: str, input_class) -> Response:
        data = dict(self.input(input_class))
        fund = _fund(self.scope)
        sources = CapitalSource.objects.filter(fund=fund)
        for name in self.source_fields:
            data[name] = sources.filter(pk=data[name]).first()
        if any(data[name] is None for name in self.source_fields):
            raise Http404()
        entered = services.capital_move_enter(
            kind=self.kind, fund=fund, idempotency_key=key, actor=request.user, **data
        )
        if isinstance(entered, CapitalMoveRequest):
            return Response(CapitalRequestOutput(entered).data, status=status.HTTP_202_ACCEPTED)
        return Response(CapitalMovementOutput(entered).data, status=status.HTTP_201_CREATED)


def _movement_post(summary: str, input_class=CapitalMovementInput):
    @idempotent_post(
        request=input_class,
        responses={201: CapitalMovementOutput, 202: CapitalRequestOutput},
        summary=summary,
    )
    def post(self, request, key):
        return self.movement_post(request, key, input_class)

    return post


class CapitalContributionCreateApi(_CapitalMovementApi):
    kind = CapitalMovement.Kind.CONTRIBUTION
    post = _movement_post("Tiếp nhận vốn từ một nguồn")


class CapitalWithdrawalCreateApi(_CapitalMovementApi):
    kind = CapitalMovement.Kind.WITHDRAWAL
    post = _movement_post("Hoàn trả vốn cho một nguồn")


class CapitalTransferCreateApi(_CapitalMovementApi):
    kind = CapitalMovement.Kind.TRANSFER
    source_fields = ("source", "target_source")
    post = _movement_post("Điều chuyển vốn giữa hai nguồn", CapitalTransferInput)


class CapitalRequestFilter(serializers.Serializer):
    status = serializers.ChoiceField(choices=CapitalMoveRequest.Status.choices, required=False)


def _capital_request(view, pk) -> CapitalMoveRequest:
    req = CapitalMoveRequest.objects.filter(fund_id=view.scope.fund_id, pk=check_id(pk)).first()
    if req is None:
        raise Http404()
    return req


class CapitalRequestListApi(ApiView):
    access_roles = READERS_FUND_WIDE

    @extend_schema(
        parameters=[CapitalRequestFilter],
        responses=paged(CapitalRequestOutput),
        summary="Nghiệp vụ vốn trên ngưỡng: chờ xác nhận và đã quyết định",
    )
    def get(self, request):
        f = self.query(CapitalRequestFilter)
        qs = CapitalMoveRequest.objects.filter(fund_id=self.scope.fund_id).select_related(
            "requested_by", "decided_by"
        )
        if "status" in f:
            qs = qs.filter(status=f["status"])
        return self.page(qs.order_by("-requested_at", "-pk"), CapitalRequestOutput)


class CapitalConfirmInput(serializers.Serializer):
    backdate_reason = BackdateReasonField(
        help_text=(
            "Lý do ghi sổ lùi ngày của người xác nhận: bắt buộc khi ngày hạch toán nay đã trước "
            "đầu kỳ đang mở của quỹ và nghiệp vụ chưa có lý do; lưu trên bút toán và nhật ký."
        )
    )


class CapitalRequestConfirmApi(ApiView):
    access_roles = FUND_OFFICERS

    @idempotent_post(
        request=CapitalConfirmInput,
        responses={200: CapitalRequestOutput},
        summary="Xác nhận nghiệp vụ vốn (cán bộ quỹ khác người lập): hạch toán",
    )
    def post(self, request, pk: int, key: str):
        req = _capital_request(self, pk)
        data = self.input(CapitalConfirmInput)
        req = services.capital_move_confirm(
            request=req, actor=request.user, backdate_reason=data["backdate_reason"]
        )
        return Response(CapitalRequestOutput(req).data)


class CapitalRejectInput(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class CapitalRequestRejectApi(ApiView):
    access_roles = FUND_OFFICERS

    @idempotent_post(
        request=CapitalRejectInput,
        responses={200: CapitalRequestOutput},
        summary="Từ chối (hoặc rút lại) nghiệp vụ vốn chờ xác nhận, ghi lý do",
    )
    def post(self, request, pk: int, key: str):
        req = _capital_request(self, pk)
        data = self.input(CapitalRejectInput)
        req = services.capital_move_reject(request=req, reason=data["reason"], actor=request.user)
        return Response(CapitalRequestOutput(req).data)


class FundDutiesOutput(serializers.Serializer):
    duty_approver_not_disburser = serializers.BooleanField()
    duty_recorder_not_reverser = serializers.BooleanField()
    capital_confirmation_threshold = MoneyField(allow_null=True, allow_zero=True)


class FundDutiesInput(serializers.Serializer):
    duty_approver_not_disburser = serializers.BooleanField(required=False)
    duty_recorder_not_reverser = serializers.BooleanField(required=False)
    capital_confirmation_threshold = MoneyField(allow_null=True, allow_zero=True, required=False)


class FundDutiesApi(ApiView):
    access_roles = READERS_FUND_WIDE

    @extend_schema(responses=FundDutiesOutput, summary="Quy định tách bạch nhiệm vụ của quỹ")
    def get(self, request):
        return Response(FundDutiesOutput(_fund(self.scope)).data)


class FundDutiesSetApi(ApiView):
    access_roles = FUND_OFFICERS

    @idempotent_post(
        required=False,
        request=FundDutiesInput,
        responses={200: FundDutiesOutput},
        summary="Đổi quy định tách bạch nhiệm vụ (ghi nhật ký kiểm toán)",
    )
    def post(self, request, key: str):
        data = self.input(FundDutiesInput)
        fund = services.fund_duties_set(fund=_fund(self.scope), actor=request.user, **data)
        return Response(FundDutiesOutput(fund).data)


class YearCloseOutput(serializers.Serializer):
    year = serializers.IntegerField()
    total_income = MoneyField(allow_zero=True, allow_negative=True)
    total_expense = MoneyField(allow_zero=True, allow_negative=True)
    surplus = MoneyField(allow_zero=True, allow_negative=True)
    closing_entry_id = serializers.IntegerField(allow_null=True)
    carry_entry_id = serializers.IntegerField(allow_null=True)
    closed_by = serializers.CharField(source="closed_by.username", allow_null=True)
    closed_at = serializers.DateTimeField()


class YearCloseListApi(ApiView):
    access_roles = READERS_FUND_WIDE

    @extend_schema(
        responses=YearCloseOutput(many=True), summary="Các năm đã khóa sổ và bút toán kết chuyển"
    )
    def get(self, request):
        closes = YearClose.objects.filter(fund_id=self.scope.fund_id).select_related("closed_by")
        return Response(YearCloseOutput(closes.order_by("-year"), many=True).data)


class YearCloseInput(serializers.Serializer):
    year = serializers.IntegerField(min_value=1901, max_value=9999)


class YearCloseCreateApi(ApiView):
    access_roles = FUND_OFFICERS

    @idempotent_post(
        request=YearCloseInput,
        responses={201: YearCloseOutput},
        summary="Khóa sổ cuối năm: kết chuyển 911 → 4212, chuyển 4211 ngày 01/01",
    )
    def post(self, request, key: str):
        data = self.input(YearCloseInput)
        closed = year_close(
            fund=_fund(self.scope), year=data["year"], idempotency_key=key, actor=request.user
        )
        return Response(YearCloseOutput(closed).data, status=status.HTTP_201_CREATED)


class LendingAllocationOutput(serializers.Serializer):
    superior_union_id = serializers.IntegerField()
    allocation = MoneyField(allow_null=True, allow_zero=True)
    available = MoneyField(allow_negative=True)
    outstanding = MoneyField()


class SuperiorUnionCapitalApi(ApiView):
    access_roles = (*READERS_FUND_WIDE, "superior_officer")

    @extend_schema(responses=LendingAllocationOutput, summary="Hạn mức và dư nợ của cấp trên")
    def get(self, request, pk: int):
        su = superior_union_scope_filter(SuperiorUnion.objects.all(), self.scope)
        su = su.filter(pk=check_id(pk)).first()
        if su is None:
            raise Http404()
        fund = _fund(self.scope)
        return Response(
            LendingAllocationOutput(
                {
                    "superior_union_id": su.pk,
                    "allocation": lending_allocation_in_force(superior_union=su),
                    "available": capital_available(fund=fund, superior_union=su),
                    "outstanding": loans_outstanding(fund=fund, superior_union=su),
                }
            ).data
        )


class LendingAllocationSetInput(serializers.Serializer):
    amount = MoneyField(
        allow_null=True, allow_zero=True, help_text="Hạn mức; null: bỏ hạn mức từ ngày này."
    )
    valid_from = BusinessDateField()
    note = serializers.CharField(required=False, allow_blank=True, max_length=255, default="")


class SuperiorUnionCapitalSetApi(ApiView):
    access_roles = FUND_OFFICERS

    @extend_schema(
        request=LendingAllocationSetInput,
        responses=LendingAllocationOutput,
        summary="Đặt hạn mức cho vay của cấp trên từ một ngày",
    )
    def post(self, request, pk: int):
        su = SuperiorUnion.objects.filter(fund_id=self.scope.fund_id, pk=check_id(pk)).first()
        if su is None:
            raise Http404()
        data = self.input(LendingAllocationSetInput)
        services.lending_allocation_set(
            superior_union=su,
            amount=data["amount"],
            valid_from=data["valid_from"],
            note=data["note"],
            actor=request.user,
        )
        fund = _fund(self.scope)
        return Response(
            LendingAllocationOutput(
                {
                    "superior_union_id": su.pk,
                    "allocation": lending_allocation_in_force(superior_union=su),
                    "available": capital_available(fund=fund, superior_union=su),
                    "outstanding": loans_outstanding(fund=fund, superior_union=su),
                }
            ).data
        )


# --------------------------------------------------------------------------------------------
# Plans


class PlanFiguresInput(serializers.Serializer):
    disbursed_amount = MoneyField(required=False, allow_zero=True)
    borrowers = serializers.IntegerField(required=False, min_value=0, max_value=MAX_COUNT)
    loans = serializers.IntegerField(required=False, min_value=0, max_value=MAX_COUNT)
    grassroots_unions = serializers.IntegerField(required=False, min_value=0, max_value=MAX_COUNT)
    jobs = serializers.IntegerField(required=False, min_value=0, max_value=MAX_COUNT)


class PlanFiguresOutput(serializers.Serializer):
    disbursed_amount = MoneyField(allow_zero=True)
    borrowers = serializers.IntegerField()
    loans = serializers.IntegerField()
    grassroots_unions = serializers.IntegerField()
    jobs = serializers.IntegerField()


class PlanSplitOutput(PlanFiguresOutput):
    id = serializers.IntegerField()
    quarter = serializers.IntegerField()
    superior_union_id = serializers.IntegerField(allow_null=True)
    grassroots_union_id = serializers.IntegerField(allow_null=True)


class SplitGapOutput(serializers.Serializer):
    label = serializers.CharField()
    kind = serializers.CharField()
    superior_union_id = serializers.IntegerField(allow_null=True)
    grassroots_union_id = serializers.IntegerField(allow_null=True)
    adds_up = serializers.BooleanField()
    unallocated_amount = MoneyField(allow_negative=True)


class PlanOutput(PlanFiguresOutput):
    id = serializers.IntegerField()
    year = serializers.IntegerField()
    note = serializers.CharField()


class PlanDetailOutput(PlanOutput):
    splits = PlanSplitOutput(many=True, source="split_rows")
    gaps = SplitGapOutput(many=True, source="gap_rows")


def _plan_detail(plan: AnnualPlan) -> dict:
    plan.gap_rows = [
        {
            "label": g.label,
            "kind": g.kind,
            "superior_union_id": getattr(g.superior_union, "pk", None),
            "grassroots_union_id": getattr(g.grassroots_union, "pk", None),
            "adds_up": g.adds_up,
            "unallocated_amount": g.unallocated["disbursed_amount"],
        }
        for g in plan_split_summary(plan=plan)
    ]
    plan.split_rows = plan.splits.order_by(
        "quarter", "superior_union_id", "grassroots_union_id", "pk"
    )
    return PlanDetailOutput(plan).data


class PlanListApi(ApiView):
    access_roles = READERS_FUND_WIDE

    @extend_schema(responses=paged(PlanOutput), summary="Kế hoạch các năm")
    def get(self, request):
        qs = AnnualPlan.objects.filter(fund_id=self.scope.fund_id).order_by("-year")
        return self.page(qs, PlanOutput)


def _plan_of(scope, year: int) -> AnnualPlan:
    plan = AnnualPlan.objects.filter(fund_id=scope.fund_id, year=check_id(year)).first()
    if plan is None:
        raise Http404()
    return plan


class PlanDetailApi(ApiView):
    access_roles = READERS_FUND_WIDE

    @extend_schema(responses=PlanDetailOutput, summary="Kế hoạch một năm, phân bổ và phần dư")
    def get(self, request, year: int):
        return Response(_plan_detail(_plan_of(self.scope, year)))


class PlanReasonInput(serializers.Serializer):
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=500,
        help_text="Lý do điều chỉnh; bắt buộc khi thay đổi kế hoạch đã có (ghi vào nhật ký).",
    )


class PlanSetInput(PlanFiguresInput, PlanReasonInput):
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    note = serializers.CharField(required=False, allow_blank=True, max_length=255)


class PlanSetApi(ApiView):
    access_roles = FUND_OFFICERS

    @extend_schema(
        request=PlanSetInput, responses=PlanDetailOutput, summary="Đặt kế hoạch năm của quỹ"
    )
    def post(self, request):
        data = dict(self.input(PlanSetInput))
        plan = services.annual_plan_set(
            fund=_fund(self.scope),
            year=data.pop("year"),
            note=data.pop("note", None),
            reason=data.pop("reason", None) or None,
            require_reason=True,
            actor=request.user,
            **data,
        )
        return Response(_plan_detail(plan))


class PlanSplitSetInput(PlanFiguresInput, PlanReasonInput):
    quarter = serializers.IntegerField(min_value=0, max_value=4, default=0)
    superior_union = IdField(required=False, allow_null=True)
    grassroots_union = IdField(required=False, allow_null=True)


class PlanSplitSetApi(ApiView):
    access_roles = FUND_OFFICERS

    @extend_schema(
        request=PlanSplitSetInput,
        responses=PlanDetailOutput,
        summary="Đặt một phần phân bổ của kế hoạch (quý, cấp trên, cơ sở)",
    )
    def post(self, request, year: int):
        plan = _plan_of(self.scope, year)
        data = dict(self.input(PlanSplitSetInput))
        su = gu = None
        if su_id := data.pop("superior_union", None):
            su = SuperiorUnion.objects.filter(fund_id=plan.fund_id, pk=su_id).first()
            if su is None:
                raise Http404()
        if gu_id := data.pop("grassroots_union", None):
            gu = get_in_scope(GrassrootsUnion.objects.all(), self.scope, gu_id, grassroots_field="")
        services.plan_split_set(
            plan=plan,
            superior_union=su,
            grassroots_union=gu,
            reason=data.pop("reason", None) or None,
            require_reason=True,
            actor=request.user,
            **data,
        )
        return Response(_plan_detail(plan))


# --------------------------------------------------------------------------------------------
# Attainment


class AttainmentFilter(serializers.Serializer):
    indicator = serializers.ChoiceField(choices=INDICATORS, default="disbursed_amount")
    year = serializers.IntegerField(min_value=2000, max_value=2100, required=False)
    quarter = serializers.IntegerField(min_value=1, max_value=4, required=False)
    period = serializers.ChoiceField(choices=PERIODS, default="quarter")
    superior_union = IdField(required=False)
    grassroots_union = IdField(required=False)


class AttainmentOutput(serializers.Serializer):
    indicator = serializers.CharField()
    period = serializers.CharField()
    year = serializers.IntegerField()
    quarter = serializers.IntegerField(allow_null=True)
    start = serializers.DateField()
    end = serializers.DateField()
    planned = serializers.DecimalField(max_digits=24, decimal_places=0)
    achieved = serializers.DecimalField(max_digits=24, decimal_places=0)
    percent = serializers.DecimalField(max_digits=24, decimal_places=2, allow_null=True)
    percent_display = serializers.CharField()
    previous = serializers.DecimalField(max_digits=24, decimal_places=0)
    growth_percent = serializers.DecimalField(max_digits=24, decimal_places=2, allow_null=True)
    growth_display = serializers.CharField()
    year_planned = serializers.DecimalField(max_digits=24, decimal_places=0)
    percent_of_year = serializers.DecimalField(max_digits=24, decimal_places=2, allow_null=True)
    percent_of_year_display = serializers.CharField()


class AttainmentApi(ApiView):
    """Planned against achieved; ``quarter`` defaults to the current one for quarter and
    year-to-date periods. Without a unit the figures are the reader's own: the fund's for fund
    officers and auditors, their superior union's or grassroots union's for those officers."""

    access_roles = ALL_ROLES

    @extend_schema(
        parameters=[AttainmentFilter],
        responses=AttainmentOutput,
        summary="Kết quả thực hiện kế hoạch (so kế hoạch, so cùng kỳ)",
    )
    def get(self, request):
        f = self.query(AttainmentFilter)
        scope = self.scope
        su = gu = None
        if "grassroots_union" in f:
            gu = get_in_scope(
                GrassrootsUnion.objects.all(), scope, f["grassroots_union"], grassroots_field=""
            )
        elif "superior_union" in f:
            su = superior_union_scope_filter(SuperiorUnion.objects.all(), scope)
            su = su.filter(pk=f["superior_union"]).first()
            if su is None:
                raise Http404()
        elif scope.superior_union_id is not None:
            # A superior union's officer without a unit asked: their own superior union.
            su = SuperiorUnion.objects.get(pk=scope.superior_union_id)
        elif scope.grassroots_union_id is not None:
            gu = GrassrootsUnion.objects.get(pk=scope.grassroots_union_id)
        today = business_today()
        a = attainment(
            fund=_fund(scope),
            indicator=f["indicator"],
            year=f.get("year", today.year),
            quarter=f.get("quarter", (today.month - 1) // 3 + 1),
            period=f["period"],
            superior_union=su,
            grassroots_union=gu,
        )
        return Response(AttainmentOutput(a).data)


# --------------------------------------------------------------------------------------------
# Ledger (read-only, fund-wide: fund officers and auditors)


class AsOfFilter(serializers.Serializer):
    as_of = BusinessDateField(required=False, help_text="Mặc định: hôm nay")


class PeriodFilter(serializers.Serializer):
    start = BusinessDateField(required=False, help_text="Mặc định: đầu năm")
    end = BusinessDateField(required=False, help_text="Mặc định: hôm nay")

    def validate(self, attrs):
        today = business_today()
        attrs.setdefault("end", today)
        attrs.setdefault("start", attrs["end"].replace(month=1, day=1))
        if attrs["start"] > attrs["end"]:
            raise serializers.ValidationError(
                {"start": "Ngày bắt đầu phải trước hoặc bằng ngày kết thúc."}
            )
        return attrs


class GeneralLedgerFilter(PeriodFilter):
    account = serializers.CharField(max_length=32, help_text="Số hiệu tài khoản, ví dụ 1283")


class TrialBalanceRowOutput(serializers.Serializer):
    code = serializers.CharField(source="account.code")
    name = serializers.CharField(source="account.name")
    account_type = serializers.CharField(source="account.account_type")
    depth = serializers.IntegerField()
    is_leaf = serializers.BooleanField()
    debit = MoneyField(allow_zero=True)
    credit = MoneyField(allow_zero=True)


class TrialBalanceOutput(serializers.Serializer):
    as_of = serializers.DateField()
    balanced = serializers.BooleanField()
    total_debit = MoneyField(allow_zero=True)
    total_credit = MoneyField(allow_zero=True)
    rows = TrialBalanceRowOutput(many=True)


class TrialBalanceApi(ApiView):
    access_roles = READERS_FUND_WIDE

    @extend_schema(
        parameters=[AsOfFilter], responses=TrialBalanceOutput, summary="Bảng cân đối tài khoản"
    )
    def get(self, request):
        f = self.query(AsOfFilter)
        tb = trial_balance(as_of=f.get("as_of") or business_today(), fund_id=self.scope.fund_id)
        return Response(TrialBalanceOutput(tb).data)


class LedgerLineOutput(serializers.Serializer):
    entry_id = serializers.IntegerField()
    effective_date = serializers.DateField()
    memo = serializers.CharField()
    document_type = serializers.CharField()
    document_id = serializers.CharField()
    debit = MoneyField(allow_zero=True)
    credit = MoneyField(allow_zero=True)
    balance = MoneyField(allow_negative=True)


class GeneralLedgerOutput(serializers.Serializer):
    account = serializers.CharField(source="account.code")
    account_name = serializers.CharField(source="account.name")
    start = serializers.DateField()
    end = serializers.DateField()
    opening = MoneyField(allow_negative=True, help_text="Số dư đầu kỳ")
    total_debit = MoneyField(allow_zero=True, help_text="Phát sinh nợ cả kỳ")
    total_credit = MoneyField(allow_zero=True, help_text="Phát sinh có cả kỳ")
    closing = MoneyField(allow_negative=True, help_text="Số dư cuối kỳ")
    count = serializers.IntegerField(help_text="Số dòng cả kỳ")
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    page_opening = MoneyField(allow_negative=True, help_text="Số dư mang sang trang này")
    page_closing = MoneyField(allow_negative=True, help_text="Số dư sau dòng cuối của trang")
    lines = LedgerLineOutput(many=True, help_text="Các dòng của trang (limit, offset)")


class GeneralLedgerApi(ApiView):
    access_roles = READERS_FUND_WIDE

    @extend_schema(
        parameters=[GeneralLedgerFilter],
        responses=GeneralLedgerOutput,
        summary="Sổ cái một tài khoản trong kỳ",
    )
    def get(self, request):
        f = self.query(GeneralLedgerFilter)
        account = Account.objects.filter(code=f["account"]).first()
        if account is None:
            raise Http404()
        paginator = ApiPagination()
        limit, offset = paginator.window(request)
        gl = general_ledger_page(
            account=account,
            start=f["start"],
            end=f["end"],
            per_page=limit,
            offset=offset,
            fund_id=self.scope.fund_id,
        )
        if offset and offset >= gl.count:
            raise serializers.ValidationError(
                {"offset": _("Sổ cái kỳ này chỉ có %(count)d dòng.") % {"count": gl.count}}
            )
        data = GeneralLedgerOutput(gl).data
        data.update(paginator.links(gl.count))
        return Response(data)


class StatementLineOutput(serializers.Serializer):
    code = serializers.CharField(allow_blank=True)
    name = serializers.CharField()
    amount = MoneyField(allow_negative=True)


class BalanceSheetOutput(serializers.Serializer):
    as_of = serializers.DateField()
    asset = StatementLineOutput(many=True)
    liability = StatementLineOutput(many=True)
    equity = StatementLineOutput(many=True)


class BalanceSheetApi(ApiView):
    access_roles = READERS_FUND_WIDE

    @extend_schema(parameters=[AsOfFilter], responses=BalanceSheetOutput, summary="Bảng cân đối")
    def get(self, request):
        f = self.query(AsOfFilter)
        as_of = f.get("as_of") or business_today()
        bs = balance_sheet(as_of=as_of, fund_id=self.scope.fund_id)
        return Response(BalanceSheetOutput({"as_of": as_of, **bs}).data)


class IncomeStatementOutput(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    income = StatementLineOutput(many=True)
    expense = StatementLineOutput(many=True)
    total_income = MoneyField(allow_negative=True)
    total_expense = MoneyField(allow_negative=True)
    surplus = MoneyField(allow_negative=True)


class IncomeStatementApi(ApiView):
    access_roles = READERS_FUND_WIDE

    @extend_schema(
        parameters=[PeriodFilter], responses=IncomeStatementOutput, summary="Báo cáo thu chi"
    )
    def get(self, request):
        f = self.query(PeriodFilter)
        result = income_statement(start=f["start"], end=f["end"], fund_id=self.scope.fund_id)
        return Response(
            IncomeStatementOutput({"start": f["start"], "end": f["end"], **result}).data
        )


class IntegrityCheckResultOutput(serializers.Serializer):
    check = serializers.ChoiceField(choices=["ledger", "turnover", "checkpoints", "audit"])
    label = serializers.CharField()
    ok = serializers.BooleanField()
    checked = serializers.IntegerField(help_text="mắt xích, khóa phát sinh hoặc số dư chốt")
    problem = serializers.CharField(allow_blank=True)


class ScheduledCheckOutput(serializers.Serializer):
    at = serializers.DateTimeField()
    ok = serializers.BooleanField()


class LedgerVerifyOutput(serializers.Serializer):
    ok = serializers.BooleanField(help_text="cả bốn phép kiểm tra đều khớp")
    checks = IntegrityCheckResultOutput(many=True)
    links_checked = serializers.IntegerField()
    unsealed_entries = serializers.IntegerField()
    head_seq = serializers.IntegerField()
    head_hash = serializers.CharField()
    first_broken_seq = serializers.IntegerField(allow_null=True)
    first_broken_entry_id = serializers.IntegerField(allow_null=True)
    problem = serializers.CharField(allow_blank=True)
    signed_head = serializers.CharField(
        allow_null=True, help_text="dòng 'trovon-head' của đầu chuỗi đã ký gần nhất"
    )
    last_scheduled = ScheduledCheckOutput(
        allow_null=True, help_text="lần kiểm tra tự động gần nhất"
    )


class LedgerVerifyApi(ApiView):
    access_roles = READERS_FUND_WIDE

    @extend_schema(
        responses=LedgerVerifyOutput,
        summary="Kiểm tra toàn vẹn sổ sách: chuỗi sổ cái, phát sinh, số dư chốt, nhật ký",
    )
    def get(self, request):
        chain = ledger_verify()
        checks = integrity_verify(chain=chain)
        head = ledger_signed_head()
        last = integrity_check_latest()
        data = {
            **vars(chain),
            "ok": all(c.ok for c in checks),
            "checks": [{**vars(c), "label": c.label} for c in checks],
            "signed_head": head.line() if head else None,
            "last_scheduled": {"at": last.at, "ok": last.ok} if last else None,
        }
        return Response(LedgerVerifyOutput(data).data)


class PostingOutput(serializers.Serializer):
    account = serializers.CharField(source="account.code")
    account_name = serializers.CharField(source="account.name")
    amount = MoneyField(allow_negative=True)
    subledger = serializers.CharField(allow_blank=True)
    superior_union_id = serializers.IntegerField(allow_null=True)
    grassroots_union_id = serializers.IntegerField(allow_null=True)


class JournalEntryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    effective_date = serializers.DateField()
    recorded_at = serializers.DateTimeField()
    memo = serializers.CharField()
    document_type = serializers.CharField(allow_blank=True)
    document_id = serializers.CharField(allow_blank=True)
    reversal_of_id = serializers.IntegerField(allow_null=True)
    postings = PostingOutput(many=True)


class JournalEntryDetailApi(ApiView):
    """One entry of the fund with its postings (the drill-down from the general ledger)."""

    access_roles = READERS_FUND_WIDE

    @extend_schema(responses=JournalEntryOutput, summary="Một bút toán và các dòng định khoản")
    def get(self, request, pk: int):
        entry = JournalEntry.objects.filter(
            pk=check_id(pk), postings__fund_id=self.scope.fund_id
        ).first()
        if entry is None:
            raise Http404()
        entry.postings_list = list(entry.postings.select_related("account").order_by("pk"))
        return Response(
            JournalEntryOutput(
                {
                    "id": entry.pk,
                    "effective_date": entry.effective_date,
                    "recorded_at": entry.recorded_at,
                    "memo": entry.memo,
                    "document_type": entry.document_type,
                    "document_id": entry.document_id,
                    "reversal_of_id": entry.reversal_of_id,
                    "postings": entry.postings_list,
                }
            ).data
        )
