"""REST API of a loan's life after disbursement: interest waiver, recovery after write-off,
closure and recall (``/api/v1/loans/<id>/…/``) — the decisions the loan page offers a fund
officer (``loans.web.actions``), through the same services (``loans.restructuring.decisions``) —
and the requests for a rescheduling or a write-off (``loans.restructuring.change_requests``):
any officer in charge of the loan asks (``…/reschedule-requests/``, ``…/write-off-requests/``),
another fund officer approves or rejects (``/api/v1/change-requests/<id>/…``), the requester
may withdraw. Who may call each endpoint is the action's roles in ``loans.policy``'s table.

Every POST that moves money or the schedule needs an ``Idempotency-Key`` header (a retry answers
with the first result). Loans and requests outside the caller's scope answer 404.
"""

from __future__ import annotations

from functools import partial

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from apicommon.idempotency import idempotent_post
from apicommon.paging import paged
from apicommon.views import ApiView, get_in_scope
from fund.access import ALL_ROLES
from loans.api import serializers as s
from loans.errors import LoanError
from loans.models import Loan, LoanChangeRequest
from loans.policy import LOAN_DECIDERS, LOAN_SERVICERS, loan_action_roles
from loans.restructuring import change_requests
from loans.restructuring import decisions as restructuring
from loans.restructuring.selectors import change_request_list


def _loan(view: ApiView, pk: int) -> Loan:
    return get_in_scope(Loan.objects.select_related("borrower"), view.scope, pk)


def _created(serializer, row) -> Response:
    return Response(serializer(row).data, status=status.HTTP_201_CREATED)


def _loan_post(service, input_class, output_class, summary: str):
    """The POST of one decision on a loan: its input checked, `service` run on the loan in
    scope under the caller's Idempotency-Key, the row it made answered with 201."""

    @idempotent_post(request=input_class, responses={201: output_class}, summary=summary)
    def post(self, request, pk: int, key: str):
        loan = _loan(self, pk)
        arguments = self.arguments(loan, self.input(input_class))
        row = service(loan=loan, idempotency_key=key, actor=request.user, **arguments)
        return _created(output_class, row)

    return post


class _LoanPostApi(ApiView):
    def arguments(self, loan: Loan, data: dict) -> dict:
        """The service's arguments from the checked input (ids resolved on the loan)."""
        return data


class LoanRescheduleRequestApi(_LoanPostApi):
    access_roles = loan_action_roles("reschedule")
    post = _loan_post(
        partial(change_requests.change_request_file, kind=LoanChangeRequest.Kind.RESCHEDULE),
        s.RescheduleInput,
        s.ChangeRequestOutput,
        "Đề nghị cơ cấu lại thời hạn trả nợ (một cán bộ quỹ khác duyệt)",
    )


class LoanWriteOffRequestApi(_LoanPostApi):
    access_roles = loan_action_roles("write_off")
    post = _loan_post(
        partial(change_requests.change_request_file, kind=LoanChangeRequest.Kind.WRITE_OFF),
        s.WriteOffInput,
        s.ChangeRequestOutput,
        "Đề nghị xử lý rủi ro (một cán bộ quỹ khác duyệt)",
    )


class LoanInterestWaiveApi(_LoanPostApi):
    access_roles = loan_action_roles("waive")
    post = _loan_post(
        restructuring.loan_interest_waive,
        s.InterestWaiveInput,
        s.InterestWaiverOutput,
        "Miễn giảm lãi, lãi phạt đến hạn chưa trả",
    )


class LoanWriteOffRecoveryApi(_LoanPostApi):
    access_roles = loan_action_roles("recovery")
    post = _loan_post(
        restructuring.write_off_recovery_post,
        s.RecoveryInput,
        s.RecoveryOutput,
        "Thu hồi nợ đã xử lý rủi ro (thu nhập khác)",
    )


class LoanCloseApi(_LoanPostApi):
    access_roles = loan_action_roles("close")
    post = _loan_post(
        restructuring.loan_close,
        s.CloseInput,
        s.ClosureOutput,
        "Tất toán: tiết kiệm bắt buộc trừ vào nợ hoặc hoàn trả thành viên",
    )


class LoanRecallApi(_LoanPostApi):
    access_roles = loan_action_roles("recall")
    post = _loan_post(
        restructuring.loan_recall,
        s.RecallInput,
        s.ScheduleRevisionOutput,
        "Thu hồi trước hạn khi vốn dùng sai mục đích (mọi khoản còn nợ đến hạn)",
    )

    def arguments(self, loan: Loan, data: dict) -> dict:
        visit = None
        if data.get("visit") is not None:
            visit = loan.visits.filter(pk=data["visit"]).first()
            if visit is None:
                raise LoanError(_("Không có lần kiểm tra này của khoản vay."), field="visit")
        return {**data, "visit": visit}


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
        qs = change_request_list(scope=self.scope, status=f.get("status"))
        if "kind" in f:
            qs = qs.filter(kind=f["kind"])
        if "loan" in f:
            qs = qs.filter(loan_id=f["loan"])
        return self.page(qs.order_by("-requested_at", "-pk"), s.ChangeRequestOutput)


class ChangeRequestDetailApi(ApiView):
    access_roles = ALL_ROLES

    @extend_schema(responses=s.ChangeRequestOutput, summary="Một đề nghị thay đổi khoản vay")
    def get(self, request, pk: int):
        return Response(s.ChangeRequestOutput(_change_request(self, pk)).data)


class ChangeRequestApproveApi(ApiView):
    access_roles = LOAN_DECIDERS

    @idempotent_post(
        request=s.ChangeRequestApproveInput,
        responses={200: s.ChangeRequestOutput},
        summary="Duyệt đề nghị (cán bộ quỹ khác người đề nghị): quyết định có hiệu lực",
    )
    def post(self, request, pk: int, key: str):
        req = _change_request(self, pk)  # another unit's request: 404 before the body is read
        data = self.input(s.ChangeRequestApproveInput)
        req = change_requests.change_request_approve(
            request=req,
            actor=request.user,
            idempotency_key=key,
            backdate_reason=data["backdate_reason"],
        )
        return Response(s.ChangeRequestOutput(req).data)


class ChangeRequestRejectApi(ApiView):
    access_roles = LOAN_DECIDERS

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
    access_roles = LOAN_SERVICERS

    @extend_schema(
        request=None, responses={200: s.ChangeRequestOutput}, summary="Rút đề nghị của mình"
    )
    def post(self, request, pk: int):
        req = change_requests.change_request_withdraw(
            request=_change_request(self, pk), actor=request.user
        )
        return Response(s.ChangeRequestOutput(req).data)
