"""REST API of a loan's life after disbursement (``/api/v1/loans/<id>/…/``): rescheduling,
interest waiver, write-off, recovery after write-off, closure and recall — the decisions the
loan page offers a fund officer (``loans.action_views``), through the same services
(``loans.restructuring``).

Each is a POST that moves money or the schedule, so each needs an ``Idempotency-Key`` header (a
retry answers with the first result). Rescheduling and write-off are four-eyes decisions: the
caller approves, and ``requested_by`` names the officer who asked (another officer in charge of
the loan). Loans outside the caller's scope answer 404.
"""

from __future__ import annotations

from contextlib import contextmanager

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.response import Response

from accounting.errors import ApplicationError
from fund.access import FUND_OFFICERS
from fund.api_base import ApiView, get_in_scope, idempotency_key, money_post
from fund.errors import PermissionRefused

from . import api_serializers as s
from . import restructuring
from .errors import LoanError
from .models import Loan


def _loan(view: ApiView, pk: int) -> Loan:
    return get_in_scope(Loan.objects.select_related("borrower"), view.scope, pk)


def _requester(loan: Loan, pk: int):
    """The officer of the loan's fund named as the one who asked; the service checks that they
    are in charge of the loan and are not the caller."""
    user = (
        get_user_model()
        .objects.filter(pk=pk, is_active=True, officer__fund_id=loan.fund_id)
        .select_related("officer")
        .first()
    )
    if user is None:
        raise LoanError(_("Không có cán bộ này trong quỹ."), field="requested_by")
    return user


@contextmanager
def _four_eyes_on_requested_by():
    """Refusals about the requester as bad input on ``requested_by`` (400): the services blame
    ``actor`` when the caller would approve their own request (the caller is implicit here),
    and refuse a requester not in charge of the loan as a permission matter, in words meant for
    the signed-in user."""
    try:
        yield
    except PermissionRefused as e:
        if e.field != "requested_by":
            raise
        raise LoanError(
            _("Người đề nghị không phụ trách khoản vay này."),
            field="requested_by",
            code="requester_not_in_charge",
        ) from e
    except ApplicationError as e:
        if e.field == "actor" and e.code == "maker_checker":
            e.field = "requested_by"
        raise


def _created(serializer, row) -> Response:
    return Response(serializer(row).data, status=status.HTTP_201_CREATED)


class LoanRescheduleApi(ApiView):
    access_roles = FUND_OFFICERS

    @money_post(
        request=s.RescheduleInput,
        responses={201: s.ScheduleRevisionOutput},
        summary="Cơ cấu lại thời hạn trả nợ (lịch mới, lịch cũ giữ lại; bốn mắt)",
    )
    def post(self, request, pk: int):
        loan = _loan(self, pk)
        data = self.input(s.RescheduleInput)
        with _four_eyes_on_requested_by():
            revision = restructuring.loan_reschedule(
                loan=loan,
                effective_date=data["effective_date"],
                term=data["term"],
                method=data.get("method"),
                first_due_date=data.get("first_due_date"),
                reason=data["reason"],
                requested_by=_requester(loan, data["requested_by"]),
                idempotency_key=idempotency_key(request),
                actor=request.user,
            )
        return _created(s.ScheduleRevisionOutput, revision)


class LoanInterestWaiveApi(ApiView):
    access_roles = FUND_OFFICERS

    @money_post(
        request=s.InterestWaiveInput,
        responses={201: s.InterestWaiverOutput},
        summary="Miễn giảm lãi, lãi phạt đến hạn chưa trả",
    )
    def post(self, request, pk: int):
        loan = _loan(self, pk)
        data = self.input(s.InterestWaiveInput)
        waiver = restructuring.loan_interest_waive(
            loan=loan, idempotency_key=idempotency_key(request), actor=request.user, **data
        )
        return _created(s.InterestWaiverOutput, waiver)


class LoanWriteOffApi(ApiView):
    access_roles = FUND_OFFICERS

    @money_post(
        request=s.WriteOffInput,
        responses={201: s.WriteOffOutput},
        summary="Xử lý rủi ro: xóa gốc còn nợ bằng dự phòng (bốn mắt)",
    )
    def post(self, request, pk: int):
        loan = _loan(self, pk)
        data = self.input(s.WriteOffInput)
        with _four_eyes_on_requested_by():
            write_off = restructuring.loan_write_off(
                loan=loan,
                written_off_on=data["written_off_on"],
                cause=data["cause"],
                note=data["note"],
                requested_by=_requester(loan, data["requested_by"]),
                idempotency_key=idempotency_key(request),
                actor=request.user,
            )
        return _created(s.WriteOffOutput, write_off)


class LoanWriteOffRecoveryApi(ApiView):
    access_roles = FUND_OFFICERS

    @money_post(
        request=s.RecoveryInput,
        responses={201: s.RecoveryOutput},
        summary="Thu hồi nợ đã xử lý rủi ro (thu nhập khác)",
    )
    def post(self, request, pk: int):
        loan = _loan(self, pk)
        data = self.input(s.RecoveryInput)
        recovery = restructuring.write_off_recovery_post(
            loan=loan, idempotency_key=idempotency_key(request), actor=request.user, **data
        )
        return _created(s.RecoveryOutput, recovery)


class LoanCloseApi(ApiView):
    access_roles = FUND_OFFICERS

    @money_post(
        request=s.CloseInput,
        responses={201: s.ClosureOutput},
        summary="Tất toán: tiết kiệm bắt buộc trừ vào nợ hoặc hoàn trả thành viên",
    )
    def post(self, request, pk: int):
        loan = _loan(self, pk)
        data = self.input(s.CloseInput)
        closure = restructuring.loan_close(
            loan=loan, idempotency_key=idempotency_key(request), actor=request.user, **data
        )
        return _created(s.ClosureOutput, closure)


class LoanRecallApi(ApiView):
    access_roles = FUND_OFFICERS

    @money_post(
        request=s.RecallInput,
        responses={201: s.ScheduleRevisionOutput},
        summary="Thu hồi trước hạn khi vốn dùng sai mục đích (mọi khoản còn nợ đến hạn)",
    )
    def post(self, request, pk: int):
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
            idempotency_key=idempotency_key(request),
            actor=request.user,
        )
        return _created(s.ScheduleRevisionOutput, revision)
