"""REST API of a loan's life after disbursement: interest waiver, recovery after write-off,
closure and recall (``/api/v1/loans/<id>/…/``) — the decisions the loan page offers a fund
officer (``loans.action_views``), through the same services (``loans.restructuring``) — and the
requests for a rescheduling or a write-off (``loans.change_requests``): any officer in charge of
the loan asks (``…/reschedule-requests/``, ``…/write-off-requests/``), another fund officer
approves or rejects (``/api/v1/change-requests/<id>/…``), the requester may withdraw.

Every POST that moves money or the schedule needs an ``Idempotency-Key`` header (a retry answers
with the first result). Loans and requests outside the caller's scope answer 404.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from fund.access import ALL_ROLES, FUND_OFFICERS, WRITERS
from fund.api_base import ApiView, get_in_scope, idempotent_post, paged
from fund.scoping import scope_filter

from . import api_serializers as s
from . import change_requests, restructuring
from .errors import LoanError
from .models import Loan, LoanChangeRequest


def _loan(view: ApiView, pk: int) -> Loan:
    return get_in_scope(Loan.objects.select_related("borrower"), view.scope, pk)


def _created(serializer, row) -> Response:
    return Response(serializer(row).data, status=status.HTTP_201_CREATED)


class LoanRescheduleRequestApi(ApiView):
    access_roles = WRITERS

    @idempotent_post(
        request=s.RescheduleInput,
        responses={201: s.ChangeRequestOutput},
        summary="Đề nghị cơ cấu lại thời hạn trả nợ (một cán bộ quỹ khác duyệt)",
    )
    def post(self, request, pk: int, key: str):
        loan = _loan(self, pk)
        data = self.input(s.RescheduleInput)
        req = change_requests.change_request_file(
            loan=loan,
            kind=LoanChangeRequest.Kind.RESCHEDULE,
            idempotency_key=key,
            actor=request.user,
            **data,
        )
        return _created(s.ChangeRequestOutput, req)


class LoanInterestWaiveApi(ApiView):
    access_roles = FUND_OFFICERS

    @idempotent_post(
        request=s.InterestWaiveInput,
        responses={201: s.InterestWaiverOutput},
        summary="Miễn giảm lãi, lãi phạt đến hạn chưa trả",
    )
    def post(self, request, pk: int, key: str):
        loan = _loan(self, pk)
        data = self.input(s.InterestWaiveInput)
        waiver = restructuring.loan_interest_waive(
            loan=loan, idempotency_key=key, actor=request.user, **data
        )
        return _created(s.InterestWaiverOutput, waiver)


class LoanWriteOffRequestApi(ApiView):
    access_roles = WRITERS

    @idempotent_post(
        request=s.WriteOffInput,
        responses={201: s.ChangeRequestOutput},
        summary="Đề nghị xử lý rủi ro (một cán bộ quỹ khác duyệt)",
    )
    def post(self, request, pk: int, key: str):
        loan = _loan(self, pk)
        data = self.input(s.WriteOffInput)
        req = change_requests.change_request_file(
            loan=loan,
            kind=LoanChangeRequest.Kind.WRITE_OFF,
            idempotency_key=key,
            actor=request.user,
            **data,
        )
        return _created(s.ChangeRequestOutput, req)


class LoanWriteOffRecoveryApi(ApiView):
    access_roles = FUND_OFFICERS

    @idempotent_post(
        request=s.RecoveryInput,
        responses={201: s.RecoveryOutput},
        summary="Thu hồi nợ đã xử lý rủi ro (thu nhập khác)",
    )
    def post(self, request, pk: int, key: str):
        loan = _loan(self, pk)
        data = self.input(s.RecoveryInput)
        recovery = restructuring.write_off_recovery_post(
            loan=loan, idempotency_key=key, actor=request.user, **data
        )
        return _created(s.RecoveryOutput, recovery)


class LoanCloseApi(ApiView):
    access_roles = FUND_OFFICERS

    @idempotent_post(
        request=s.CloseInput,
        responses={201: s.ClosureOutput},
        summary="Tất toán: tiết kiệm bắt buộc trừ vào nợ hoặc hoàn trả thành viên",
    )
    def post(self, request, pk: int, key: str):
        loan = _loan(self, pk)
        data = self.input(s.CloseInput)
        closure = restructuring.loan_close(
            loan=loan, idempotency_key=key, actor=request.user, **data
        )
        return _created(s.ClosureOutput, closure)


class LoanRecallApi(ApiView):
    access_roles = FUND_OFFICERS

    @idempotent_post(
        request=s.RecallInput,
        responses={201: s.ScheduleRevisionOutput},
        summary="Thu hồi trước hạn khi vốn dùng sai mục đích (mọi khoản còn nợ đến hạn)",
    )
    def post(self, request, pk: int, key: str):
        loan = _loan(self, pk)
        data = self.input(s.RecallInput)
        visit = None
        if data.get("visit") is not None:
            visit = loan.visits.filter(pk=data["visit"]).first()
            if visit is None:
                raise LoanError(_("Không có lần kiểm tra này của khoản vay."), field="visit")
        revision = restructuring.loan_recall(
            loan=loan,
            recalled_on=data["recalled_on"],
            reason=data["reason"],
            visit=visit,
            idempotency_key=key,
            actor=request.user,
        )
        return _created(s.ScheduleRevisionOutput, revision)


# --------------------------------------------------------------------------------------------
# Requests to change a loan's terms: the list, one request, its decision


def _change_request(view: ApiView, pk: int) -> LoanChangeRequest:
    return get_in_scope(
        LoanChangeRequest.objects.select_related("loan"),
        view.scope,
        pk,
        grassroots_field="loan__grassroots_union",
    )


class ChangeRequestListApi(ApiView):
    access_roles = ALL_ROLES

    @extend_schema(
        parameters=[s.ChangeRequestFilter],
        responses=paged(s.ChangeRequestOutput),
        summary="Đề nghị cơ cấu lại, xử lý rủi ro trong phạm vi (lọc theo trạng thái, loại)",
    )
    def get(self, request):
        f = self.query(s.ChangeRequestFilter)
        qs = scope_filter(
            LoanChangeRequest.objects.all(), self.scope, grassroots_field="loan__grassroots_union"
        )
        for name in ("status", "kind"):
            if name in f:
                qs = qs.filter(**{name: f[name]})
        if "loan" in f:
            qs = qs.filter(loan_id=f["loan"])
        return self.page(qs.order_by("-requested_at", "-pk"), s.ChangeRequestOutput)


class ChangeRequestDetailApi(ApiView):
    access_roles = ALL_ROLES

    @extend_schema(responses=s.ChangeRequestOutput, summary="Một đề nghị thay đổi khoản vay")
    def get(self, request, pk: int):
        return Response(s.ChangeRequestOutput(_change_request(self, pk)).data)


class ChangeRequestApproveApi(ApiView):
    access_roles = FUND_OFFICERS

    @idempotent_post(
        request=None,
        responses={200: s.ChangeRequestOutput},
        summary="Duyệt đề nghị (cán bộ quỹ khác người đề nghị): quyết định có hiệu lực",
    )
    def post(self, request, pk: int, key: str):
        req = change_requests.change_request_approve(
            request=_change_request(self, pk),
            actor=request.user,
            idempotency_key=key,
        )
        return Response(s.ChangeRequestOutput(req).data)


class ChangeRequestRejectApi(ApiView):
    access_roles = FUND_OFFICERS

    @extend_schema(
        request=s.NoteInput,
        responses={200: s.ChangeRequestOutput},
        summary="Từ chối đề nghị, ghi lý do",
    )
    def post(self, request, pk: int):
        req = _change_request(self, pk)
        data = self.input(s.NoteInput)
        req = change_requests.change_request_reject(
            request=req, actor=request.user, note=data["note"]
        )
        return Response(s.ChangeRequestOutput(req).data)


class ChangeRequestWithdrawApi(ApiView):
    access_roles = WRITERS

    @extend_schema(
        request=None, responses={200: s.ChangeRequestOutput}, summary="Rút đề nghị của mình"
    )
    def post(self, request, pk: int):
        req = change_requests.change_request_withdraw(
            request=_change_request(self, pk), actor=request.user
        )
        return Response(s.ChangeRequestOutput(req).data)
