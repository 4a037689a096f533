"""The API of the bank's side of the unions' remittances: statement import, the receipts and
their candidate remittances, confirming a receipt, the remittances not received.

The import checks the caller's role and the request's declared size before the body is read
(DRF's session authentication parses the body for its CSRF check, so the check runs first, on
the session's user)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from accounting.dates import business_today
from apicommon.errors import ImportRejectedOutput
from apicommon.fields import BackdateReasonField, IdField, MoneyField, TableFileField, table_format
from apicommon.idempotency import idempotent_post
from apicommon.paging import ApiPagination, paged
from apicommon.views import ApiView, check_id
from fund.access import FUND_OFFICERS, READERS_FUND_WIDE
from fund.models import Fund
from fund.scoping import scope_for
from loans.errors import LoanError
from loans.models import BankStatementLine, RepaymentBatch
from loans.policy import REMITTANCE_WATCHERS
from loans.servicing.remittances import (
    STATEMENT_MAX_BYTES,
    bank_statement_import,
    receipt_candidates,
    receipts_unmatched,
    remittance_expected,
    remittance_receipt_confirm,
    remittances_not_received,
    remittances_open,
)


class StatementImportInput(serializers.Serializer):
    file = TableFileField(
        help_text="Sao kê CSV hoặc XLSX (cột Ngày giao dịch, Số tiền, Số tham chiếu, Nội dung)"
    )


class StatementImportOutput(serializers.Serializer):
    statement = serializers.IntegerField(allow_null=True, source="statement.pk", default=None)
    read = serializers.IntegerField(help_text="Số giao dịch nhận tiền trong tệp")
    added = serializers.IntegerField(help_text="Số giao dịch mới được lưu")
    already = serializers.IntegerField(help_text="Số giao dịch đã nhập trước (cùng số tham chiếu)")
    outgoing = serializers.IntegerField(help_text="Số khoản chi (bỏ qua)")


class CandidateOutput(serializers.Serializer):
    batch = serializers.IntegerField(source="batch.pk")
    receipt_number = serializers.CharField(source="batch.receipt_number")
    grassroots_union = serializers.IntegerField(source="batch.grassroots_union_id")
    paid_on = serializers.DateField(source="batch.paid_on")
    expected = MoneyField()
    exact = serializers.BooleanField()
    reasons = serializers.ListField(child=serializers.CharField())


class BankLineOutput(serializers.Serializer):
    id = serializers.IntegerField()
    booked_on = serializers.DateField()
    amount = MoneyField()
    bank_reference = serializers.CharField()
    description = serializers.CharField()
    batch = serializers.IntegerField(source="batch_id", allow_null=True)
    confirmed_at = serializers.DateTimeField(allow_null=True)
    candidates = serializers.SerializerMethodField()

    @extend_schema_field(CandidateOutput(many=True))
    def get_candidates(self, line) -> list[dict]:
        found = self.context.get("candidates", {}).get(line.pk, [])
        return CandidateOutput(found, many=True).data


class ConfirmInput(serializers.Serializer):
    batch = IdField(help_text="Đợt nộp (id) mà giao dịch này là")
    backdate_reason = BackdateReasonField()


class PendingOutput(serializers.Serializer):
    id = serializers.IntegerField()
    receipt_number = serializers.CharField()
    grassroots_union = serializers.IntegerField(source="grassroots_union_id")
    paid_on = serializers.DateField()
    expected = MoneyField()
    days = serializers.IntegerField()


class BankStatementImportApi(ApiView):
    """Import a bank statement, all or nothing (400 with every wrong row); the receipts already
    stored (same bank reference) are not stored again."""

    access_roles = FUND_OFFICERS
    parser_classes = [MultiPartParser]

    def initial(self, request, *args, **kwargs):
        # Before DRF authenticates (its CSRF check parses the body): the session's role, then
        # the declared size.
        user = getattr(request._request, "user", None)
        if user is not None and user.is_authenticated:
            try:
                role = scope_for(user).role
            except DjangoPermissionDenied:
                role = None
            if role not in self.access_roles:
                raise exceptions.PermissionDenied(
                    _("Vai trò của bạn không được dùng chức năng này.")
                )
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > STATEMENT_MAX_BYTES + 64 * 1024:
            raise LoanError(
                _("Tệp sao kê lớn quá %(size)s MB."),
                field="file",
                params={"size": STATEMENT_MAX_BYTES // (1024 * 1024)},
            )
        super().initial(request, *args, **kwargs)

    @extend_schema(
        request={"multipart/form-data": StatementImportInput},
        responses={200: StatementImportOutput, 400: ImportRejectedOutput},
        summary="Nhập sao kê ngân hàng (CSV, XLSX)",
    )
    def post(self, request):
        data = self.input(StatementImportInput)
        upload = data["file"]
        result = bank_statement_import(
            fund=Fund.objects.get(pk=self.scope.fund_id),
            data=upload.read(),
            format=table_format(upload),
            file_name=upload.name,
            actor=request.user,
        )
        return Response(StatementImportOutput(result).data)


class BankLineListApi(ApiView):
    """The fund's bank receipts not yet confirmed as a remittance, each with its candidates
    (exact first), oldest first."""

    access_roles = READERS_FUND_WIDE

    @extend_schema(responses=paged(BankLineOutput), summary="Giao dịch ngân hàng chưa đối chiếu")
    def get(self, request):
        paginator = ApiPagination()
        rows = paginator.paginate_queryset(receipts_unmatched(scope=self.scope), request, view=self)
        open_batches = list(remittances_open(fund_id=self.scope.fund_id))
        candidates = {x.pk: receipt_candidates(x, open_batches=open_batches) for x in rows}
        out = BankLineOutput(rows, many=True, context={"candidates": candidates}).data
        return paginator.get_paginated_response(out)


class BankLineConfirmApi(ApiView):
    """Confirm that a bank receipt is a remittance: Dr 1121 / Cr 1131, once."""

    access_roles = FUND_OFFICERS

    @idempotent_post(
        request=ConfirmInput,
        responses={201: BankLineOutput},
        summary="Xác nhận giao dịch ngân hàng là một đợt nộp",
    )
    def post(self, request, pk: int, key: str):
        line = _line(self.scope, pk)
        data = self.input(ConfirmInput)
        batch = RepaymentBatch.objects.filter(pk=data["batch"], fund_id=self.scope.fund_id).first()
        if batch is None:
            raise Http404()
        done = remittance_receipt_confirm(
            line=line,
            batch=batch,
            idempotency_key=key,
            actor=request.user,
            backdate_reason=data["backdate_reason"],
        )
        return Response(BankLineOutput(done).data, status=status.HTTP_201_CREATED)


def _line(scope, pk) -> BankStatementLine:
    line = BankStatementLine.objects.filter(pk=check_id(pk), fund_id=scope.fund_id).first()
    if line is None:
        raise Http404()
    return line


class RemittanceNotReceivedApi(ApiView):
    """Remittances still not on the bank's statement after the fund's number of days: the
    fund's, or a superior union's own unions'."""

    access_roles = REMITTANCE_WATCHERS

    @extend_schema(responses=PendingOutput(many=True), summary="Đợt nộp chưa về tài khoản")
    def get(self, request):
        today = business_today()
        rows = [
            {
                "id": b.pk,
                "receipt_number": b.receipt_number,
                "grassroots_union_id": b.grassroots_union_id,
                "paid_on": b.paid_on,
                "expected": remittance_expected(b),
                "days": (today - b.paid_on).days,
            }
            for b in remittances_not_received(scope=self.scope, on=today)
        ]
        return Response(PendingOutput(rows, many=True).data)
