"""REST API of the loan book (``/api/v1/``): borrowers, products, applications and their
transitions, loans, schedules, repayments (single, reversal, batch remittance).

One view per operation, input and output serializers separate (``loans.api.serializers``),
views thin: they resolve rows within the user's scope (``fund.scoping``: other units' ids → 404)
and call one domain service each (``loans.origination``: borrowers, applications,
disbursement, the member import; ``loans.servicing``: repayments, visits) or a selector. Every
POST that moves money (disbursement, repayment, reversal, remittance) needs an
``Idempotency-Key`` header; the chain's other moves accept one (a retry then returns the first
result).
"""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from accounting.dates import business_today
from apicommon.errors import ImportRejectedOutput
from apicommon.fields import BusinessDateField, TableFileField, table_format
from apicommon.idempotency import idempotent_post
from apicommon.paging import paged
from apicommon.parsers import UploadParser
from apicommon.views import ApiView, check_id, get_in_scope
from fund.access import ALL_ROLES, FUND_OFFICERS, WRITERS
from fund.models import Fund, GrassrootsUnion, Role
from fund.scoping import scope_filter
from loans.api import serializers as s
from loans.models import (
    Borrower,
    FollowUpVisit,
    Installment,
    Loan,
    LoanApplication,
    LoanProduct,
    Repayment,
    RepaymentBatch,
)
from loans.origination.applications import (
    application_approve,
    application_cancel,
    application_create,
    application_reject,
    application_review,
    application_submit,
    application_update,
)
from loans.origination.borrowers import borrower_create, borrower_transfer, borrower_update
from loans.origination.disbursement import loan_disburse
from loans.origination.eligibility import borrower_outstanding
from loans.origination.member_import import members_import
from loans.origination.selectors import application_list, borrower_list
from loans.policy import loan_action_roles
from loans.servicing import repayments
from loans.servicing.selectors import business_date, in_arrears, loan_list
from loans.servicing.visits import followup_visit_record

REVIEWERS = (Role.FUND_OFFICER, Role.SUPERIOR_OFFICER)


def _gu(scope, pk) -> GrassrootsUnion:
    return get_in_scope(GrassrootsUnion.objects.all(), scope, pk, grassroots_field="")


def _search_people(qs, q: str | None, prefix: str = ""):
    """Name (contains) or CCCD (starts with) — the two ways officers look a member up."""
    if q:
        q = q.strip()
        qs = qs.filter(
            Q(**{f"{prefix}full_name__icontains": q}) | Q(**{f"{prefix}national_id__startswith": q})
        )
    return qs


def _units(qs, f: dict):
    if "grassroots_union" in f:
        qs = qs.filter(grassroots_union_id=f["grassroots_union"])
    if "superior_union" in f:
        qs = qs.filter(grassroots_union__superior_union_id=f["superior_union"])
    return qs


# --------------------------------------------------------------------------------------------
# Borrowers


class BorrowerListApi(ApiView):
    access_roles = ALL_ROLES

    @extend_schema(
        parameters=[s.BorrowerFilter],
        responses=paged(s.BorrowerOutput),
        summary="Thành viên vay trong phạm vi (tìm theo tên, CCCD)",
    )
    def get(self, request):
        f = self.query(s.BorrowerFilter)
        qs = _units(borrower_list(scope=self.scope), f)
        if "household_status" in f:
            qs = qs.filter(household_status=f["household_status"])
        qs = _search_people(qs, f.get("q"))
        return self.page(qs.order_by("name_key", "pk"), s.BorrowerOutput)


class BorrowerDetailApi(ApiView):
    access_roles = ALL_ROLES

    @extend_schema(responses=s.BorrowerDetailOutput, summary="Một thành viên vay")
    def get(self, request, pk: int):
        b = get_in_scope(Borrower.objects.all(), self.scope, pk)
        b.outstanding = borrower_outstanding(borrower=b)
        return Response(s.BorrowerDetailOutput(b).data)


class BorrowerCreateApi(ApiView):
    access_roles = WRITERS

    @extend_schema(
        request=s.BorrowerCreateInput,
        responses={201: s.BorrowerDetailOutput},
        summary="Đăng ký thành viên vay của một CĐCS",
    )
    def post(self, request):
        data = dict(self.input(s.BorrowerCreateInput))
        gu = _gu(self.scope, data.pop("grassroots_union"))
        b = borrower_create(
            fund=Fund.objects.get(pk=gu.fund_id), grassroots_union=gu, actor=request.user, **data
        )
        b.outstanding = borrower_outstanding(borrower=b)
        return Response(s.BorrowerDetailOutput(b).data, status=status.HTTP_201_CREATED)


class BorrowerUpdateApi(ApiView):
    access_roles = WRITERS

    @extend_schema(
        request=s.BorrowerUpdateInput,
        responses=s.BorrowerDetailOutput,
        summary="Sửa thông tin thành viên vay (các trường gửi lên)",
    )
    def post(self, request, pk: int):
        b = get_in_scope(Borrower.objects.all(), self.scope, pk)
        data = self.input(s.BorrowerUpdateInput)
        b = borrower_update(borrower=b, actor=request.user, **data)
        b.outstanding = borrower_outstanding(borrower=b)
        return Response(s.BorrowerDetailOutput(b).data)


class BorrowerTransferApi(ApiView):
    """Move a member to another grassroots union from a date on (both unions in the scope)."""

    access_roles = WRITERS

    @extend_schema(
        request=s.BorrowerTransferInput,
        responses=s.BorrowerDetailOutput,
        summary="Chuyển thành viên sang CĐCS khác từ một ngày",
    )
    def post(self, request, pk: int):
        b = get_in_scope(Borrower.objects.all(), self.scope, pk)
        data = self.input(s.BorrowerTransferInput)
        b = borrower_transfer(
            borrower=b,
            grassroots_union=_gu(self.scope, data["grassroots_union"]),
            effective_date=data["effective_date"],
            actor=request.user,
        )
        b.outstanding = borrower_outstanding(borrower=b)
        return Response(s.BorrowerDetailOutput(b).data)


# --------------------------------------------------------------------------------------------
# Products


class ProductListApi(ApiView):
    access_roles = ALL_ROLES

    @extend_schema(
        parameters=[s.ProductFilter],
        responses=paged(s.ProductOutput),
        summary="Sản phẩm cho vay của quỹ",
    )
    def get(self, request):
        f = self.query(s.ProductFilter)
        qs = LoanProduct.objects.filter(fund_id=self.scope.fund_id)
        if "active" in f:
            qs = qs.filter(active=f["active"])
        return self.page(qs.order_by("code", "pk"), s.ProductOutput)


class ProductDetailApi(ApiView):
    access_roles = ALL_ROLES

    @extend_schema(responses=s.ProductOutput, summary="Một sản phẩm cho vay")
    def get(self, request, pk: int):
        product = _product(self.scope, pk)
        return Response(s.ProductOutput(product).data)


def _product(scope, pk) -> LoanProduct:
    product = LoanProduct.objects.filter(fund_id=scope.fund_id, pk=check_id(pk)).first()
    if product is None:
        raise Http404()
    return product


# --------------------------------------------------------------------------------------------
# Applications


def _application(scope, pk) -> LoanApplication:
    return get_in_scope(
        LoanApplication.objects.select_related("borrower", "product", "grassroots_union"),
        scope,
        pk,
    )


def _application_out(app: LoanApplication) -> dict:
    app = (
        LoanApplication.objects.select_related("borrower", "loan")
        .prefetch_related("events")
        .get(pk=app.pk)
    )
    return s.ApplicationDetailOutput(app).data


class ApplicationListApi(ApiView):
    access_roles = ALL_ROLES

    @extend_schema(
        parameters=[s.ApplicationFilter],
        responses=paged(s.ApplicationOutput),
        summary="Hồ sơ vay trong phạm vi (lọc theo trạng thái, đơn vị, người vay)",
    )
    def get(self, request):
        f = self.query(s.ApplicationFilter)
        qs = _units(application_list(scope=self.scope, status=f.get("status")), f)
        if "borrower" in f:
            qs = qs.filter(borrower_id=f["borrower"])
        qs = _search_people(qs, f.get("q"), "borrower__")
        return self.page(
            qs.select_related("loan").order_by("-created_at", "-pk"), s.ApplicationOutput
        )


class ApplicationDetailApi(ApiView):
    access_roles = ALL_ROLES

    @extend_schema(responses=s.ApplicationDetailOutput, summary="Một hồ sơ vay và diễn biến")
    def get(self, request, pk: int):
        return Response(_application_out(_application(self.scope, pk)))


class ApplicationCreateApi(ApiView):
    access_roles = WRITERS

    @extend_schema(
        request=s.ApplicationCreateInput,
        responses={201: s.ApplicationDetailOutput},
        summary="Lập hồ sơ vay (bản nháp) cho một thành viên",
    )
    def post(self, request):
        data = dict(self.input(s.ApplicationCreateInput))
        borrower = get_in_scope(Borrower.objects.all(), self.scope, data.pop("borrower"))
        product = _product(self.scope, data.pop("product"))
        app = application_create(borrower=borrower, product=product, actor=request.user, **data)
        return Response(_application_out(app), status=status.HTTP_201_CREATED)


class ApplicationUpdateApi(ApiView):
    access_roles = WRITERS

    @extend_schema(
        request=s.ApplicationUpdateInput,
        responses=s.ApplicationDetailOutput,
        summary="Sửa hồ sơ đang lập hoặc bị trả lại",
    )
    def post(self, request, pk: int):
        app = _application(self.scope, pk)
        data = dict(self.input(s.ApplicationUpdateInput))
        if "product" in data:
            data["product"] = _product(self.scope, data["product"])
        app = application_update(application=app, actor=request.user, **data)
        return Response(_application_out(app))


# One move of an application along the chain, through the move's `service`. (A comment: a
# docstring would become the description of each operation in the schema.)
class _TransitionApi(ApiView):
    service = None

    def transition_post(self, request, pk: int, key: str, input_class) -> Response:
        app = _application(self.scope, pk)
        data = self.input(input_class) if input_class else {}
        app = self.service(application=app, idempotency_key=key, actor=request.user, **data)
        return Response(_application_out(app))


def _transition_post(summary: str, input_class=None):
    @idempotent_post(
        required=False, request=input_class, responses=s.ApplicationDetailOutput, summary=summary
    )
    def post(self, request, pk: int, key: str):
        return self.transition_post(request, pk, key, input_class)

    return post


class ApplicationSubmitApi(_TransitionApi):
    access_roles = WRITERS
    service = staticmethod(application_submit)
    post = _transition_post("Gửi hồ sơ lên công đoàn cấp trên")


class ApplicationReviewApi(_TransitionApi):
    access_roles = REVIEWERS
    service = staticmethod(application_review)
    post = _transition_post(
        "Thẩm định của cấp trên: chuyển quỹ, trả lại hoặc từ chối", s.ReviewInput
    )


class ApplicationApproveApi(_TransitionApi):
    access_roles = FUND_OFFICERS
    service = staticmethod(application_approve)
    post = _transition_post(
        "Quỹ phê duyệt (người duyệt khác người lập, gửi, thẩm định)", s.ApproveInput
    )


class ApplicationRejectApi(_TransitionApi):
    access_roles = REVIEWERS
    service = staticmethod(application_reject)
    post = _transition_post("Từ chối hồ sơ (kèm lý do)", s.DecisionReasonInput)


class ApplicationCancelApi(_TransitionApi):
    access_roles = WRITERS
    service = staticmethod(application_cancel)
    post = _transition_post("Hủy hồ sơ trước khi giải ngân (kèm lý do)", s.DecisionReasonInput)


class ApplicationDisburseApi(ApiView):
    access_roles = FUND_OFFICERS

    @idempotent_post(
        request=s.DisburseInput,
        responses={201: s.LoanOutput},
        summary="Giải ngân hồ sơ đã phê duyệt (tạo khoản vay, lịch trả nợ, bút toán)",
    )
    def post(self, request, pk: int, key: str):
        app = _application(self.scope, pk)
        data = self.input(s.DisburseInput)
        loan = loan_disburse(
            application=app,
            disbursed_on=data.get("disbursed_on") or business_today(),
            cash_account=data["cash_account"],
            idempotency_key=key,
            actor=request.user,
            backdate_reason=data["backdate_reason"],
        )
        return Response(s.LoanOutput(_loan_row(loan.pk)).data, status=status.HTTP_201_CREATED)


# --------------------------------------------------------------------------------------------
# Loans and schedules


def _loan_row(pk: int) -> Loan:
    return Loan.objects.select_related("borrower").get(pk=pk)


def _loan(scope, pk) -> Loan:
    return get_in_scope(Loan.objects.select_related("borrower"), scope, pk)


class LoanListApi(ApiView):
    access_roles = ALL_ROLES

    @extend_schema(
        parameters=[s.LoanFilter],
        responses=paged(s.LoanOutput),
        summary="Khoản vay trong phạm vi (lọc theo trạng thái, nhóm nợ, đơn vị, người vay)",
    )
    def get(self, request):
        f = self.query(s.LoanFilter)
        qs = loan_list(scope=self.scope, status=f.get("status"))
        if "grassroots_union" in f:
            qs = qs.filter(grassroots_union_id=f["grassroots_union"])
        if "superior_union" in f:
            qs = qs.filter(superior_union_id=f["superior_union"])
        if "debt_group" in f:
            qs = qs.filter(debt_group=f["debt_group"])
        if "borrower" in f:
            qs = qs.filter(borrower_id=f["borrower"])
        if f.get("overdue"):
            qs = in_arrears(qs)
        qs = _search_people(qs, f.get("q"), "borrower__")
        return self.page(qs.order_by("-disbursed_on", "-pk"), s.LoanOutput)


class BusinessDateApi(ApiView):
    access_roles = ALL_ROLES

    @extend_schema(
        responses=s.BusinessDateOutput,
        summary="Ngày nghiệp vụ của quỹ (số liệu nợ quá hạn tính đến ngày này)",
    )
    def get(self, request):
        return Response(
            s.BusinessDateOutput({"business_date": business_date(fund_id=self.scope.fund_id)}).data
        )


class LoanDetailApi(ApiView):
    access_roles = ALL_ROLES

    @extend_schema(responses=s.LoanOutput, summary="Một khoản vay")
    def get(self, request, pk: int):
        return Response(s.LoanOutput(_loan(self.scope, pk)).data)


class LoanScheduleApi(ApiView):
    access_roles = ALL_ROLES

    @extend_schema(
        responses=s.InstallmentOutput(many=True),
        summary="Lịch trả nợ hiện hành của khoản vay (đã trả, còn nợ từng kỳ)",
    )
    def get(self, request, pk: int):
        loan = _loan(self.scope, pk)
        rows = Installment.objects.filter(loan=loan, schedule_version=loan.schedule_version)
        return Response(s.InstallmentOutput(rows.order_by("number"), many=True).data)


class LoanPayoffQuoteApi(ApiView):
    access_roles = ALL_ROLES

    @extend_schema(
        parameters=[s.PayoffQuoteFilter],
        responses=s.PayoffQuoteOutput,
        summary="Số tiền tất toán khoản vay vào một ngày",
    )
    def get(self, request, pk: int):
        loan = _loan(self.scope, pk)
        f = self.query(s.PayoffQuoteFilter)
        quote = repayments.full_payoff_quote(loan=loan, on=f.get("on") or business_today())
        return Response(s.PayoffQuoteOutput(quote).data)


class LoanFollowUpVisitListApi(ApiView):
    access_roles = ALL_ROLES

    @extend_schema(
        responses=s.FollowUpVisitOutput(many=True),
        summary="Các lần kiểm tra sau cho vay (mục đích, việc làm xác nhận)",
    )
    def get(self, request, pk: int):
        loan = _loan(self.scope, pk)
        visits = FollowUpVisit.objects.filter(loan=loan).order_by("visited_on", "pk")
        return Response(s.FollowUpVisitOutput(visits, many=True).data)


class LoanFollowUpVisitCreateApi(ApiView):
    access_roles = loan_action_roles("visit")

    @extend_schema(
        request=s.FollowUpVisitInput,
        responses={201: s.FollowUpVisitOutput},
        summary="Ghi một lần kiểm tra sau cho vay",
    )
    def post(self, request, pk: int):
        loan = _loan(self.scope, pk)
        data = self.input(s.FollowUpVisitInput)
        visit = followup_visit_record(loan=loan, actor=request.user, **data)
        return Response(s.FollowUpVisitOutput(visit).data, status=status.HTTP_201_CREATED)


# --------------------------------------------------------------------------------------------
# Repayments


def _repayments(scope):
    return scope_filter(
        Repayment.objects.all(), scope, grassroots_field="loan__grassroots_union"
    ).prefetch_related("allocations__installment")


class RepaymentListApi(ApiView):
    access_roles = ALL_ROLES

    @extend_schema(
        parameters=[s.RepaymentFilter],
        responses=paged(s.RepaymentOutput),
        summary="Các lần trả nợ trong phạm vi",
    )
    def get(self, request):
        f = self.query(s.RepaymentFilter)
        qs = _repayments(self.scope)
        for name in ("loan", "batch"):
            if name in f:
                qs = qs.filter(**{f"{name}_id": f[name]})
        if "paid_from" in f:
            qs = qs.filter(paid_on__gte=f["paid_from"])
        if "paid_to" in f:
            qs = qs.filter(paid_on__lte=f["paid_to"])
        return self.page(qs.order_by("-paid_on", "-pk"), s.RepaymentOutput)


class RepaymentDetailApi(ApiView):
    access_roles = ALL_ROLES

    @extend_schema(responses=s.RepaymentOutput, summary="Một lần trả nợ và phân bổ")
    def get(self, request, pk: int):
        rep = get_in_scope(
            Repayment.objects.prefetch_related("allocations__installment"),
            self.scope,
            pk,
            grassroots_field="loan__grassroots_union",
        )
        return Response(s.RepaymentOutput(rep).data)


def _repayment_out(pk: int) -> dict:
    rep = Repayment.objects.prefetch_related("allocations__installment").get(pk=pk)
    return s.RepaymentOutput(rep).data


class RepaymentCreateApi(ApiView):
    access_roles = WRITERS

    @idempotent_post(
        request=s.RepaymentInput,
        responses={201: s.RepaymentOutput},
        summary="Ghi một lần trả nợ (phân bổ theo thứ tự của khoản vay, một bút toán)",
    )
    def post(self, request, key: str):
        data = dict(self.input(s.RepaymentInput))
        loan = _loan(self.scope, data.pop("loan"))
        gu_id = data.pop("collected_by_grassroots_union", None)
        rep = repayments.repayment_post(
            loan=loan,
            collected_by_grassroots_union=_gu(self.scope, gu_id) if gu_id else None,
            idempotency_key=key,
            actor=request.user,
            **data,
        )
        return Response(_repayment_out(rep.pk), status=status.HTTP_201_CREATED)


class RepaymentReverseApi(ApiView):
    access_roles = loan_action_roles("reverse")

    @idempotent_post(
        request=s.ReverseInput,
        responses={201: s.RepaymentOutput},
        summary="Hủy một lần trả nợ (bút toán đảo, trả lại từng kỳ)",
    )
    def post(self, request, pk: int, key: str):
        rep = get_in_scope(
            Repayment.objects.all(), self.scope, pk, grassroots_field="loan__grassroots_union"
        )
        data = self.input(s.ReverseInput)
        rep = repayments.repayment_reverse(
            repayment=rep,
            reason=data["reason"],
            idempotency_key=key,
            actor=request.user,
            backdate_reason=data["backdate_reason"],
        )
        return Response(_repayment_out(rep.pk), status=status.HTTP_201_CREATED)


# --------------------------------------------------------------------------------------------
# Batch remittances of a grassroots union


def _batches(scope):
    return scope_filter(RepaymentBatch.objects.all(), scope)


class RepaymentBatchListApi(ApiView):
    access_roles = ALL_ROLES

    @extend_schema(
        parameters=[s.BatchFilter],
        responses=paged(s.RepaymentBatchOutput),
        summary="Các đợt nộp tiền thu nợ của CĐCS",
    )
    def get(self, request):
        f = self.query(s.BatchFilter)
        qs = _batches(self.scope)
        if "grassroots_union" in f:
            qs = qs.filter(grassroots_union_id=f["grassroots_union"])
        return self.page(qs.order_by("-paid_on", "-pk"), s.RepaymentBatchOutput)


class RepaymentBatchDetailApi(ApiView):
    access_roles = ALL_ROLES

    @extend_schema(responses=s.RepaymentBatchDetailOutput, summary="Một đợt nộp và các dòng")
    def get(self, request, pk: int):
        batch = get_in_scope(_batches(self.scope), self.scope, pk)
        return Response(_batch_out(batch.pk))


def _batch_out(pk: int) -> dict:
    batch = RepaymentBatch.objects.prefetch_related("repayments__allocations__installment").get(
        pk=pk
    )
    return s.RepaymentBatchDetailOutput(batch).data


class RepaymentBatchCreateApi(ApiView):
    access_roles = WRITERS

    @idempotent_post(
        request=s.RepaymentBatchInput,
        responses={201: s.RepaymentBatchDetailOutput},
        summary="Ghi một đợt nộp của CĐCS: nhiều người vay, một chứng từ, tất cả hoặc không",
    )
    def post(self, request, key: str):
        data = self.input(s.RepaymentBatchInput)
        gu = _gu(self.scope, data["grassroots_union"])
        loans = {
            x.pk: x
            for x in scope_filter(Loan.objects.all(), self.scope).filter(
                pk__in=[line["loan"] for line in data["lines"]]
            )
        }
        lines = []
        for line in data["lines"]:
            if line["loan"] not in loans:
                raise Http404()
            lines.append((loans[line["loan"]], line["amount"]))
        batch = repayments.repayment_batch_post(
            grassroots_union=gu,
            receipt_number=data["receipt_number"],
            paid_on=data["paid_on"],
            lines=lines,
            overpayment=data["overpayment"],
            idempotency_key=key,
            actor=request.user,
            backdate_reason=data["backdate_reason"],
        )
        return Response(_batch_out(batch.pk), status=status.HTTP_201_CREATED)


# --------------------------------------------------------------------------------------------
# Member file import


class BorrowerImportInput(serializers.Serializer):
    file = TableFileField(help_text="Tệp CSV hoặc XLSX (XLSX nhận theo đuôi .xlsx)")
    effective_date = BusinessDateField(
        required=False,
        help_text="Ngày bắt đầu sinh hoạt của thành viên mới, ngày chuyển CĐCS (mặc định: hôm nay)",
    )


class BorrowerImportOutput(serializers.Serializer):
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    transferred = serializers.IntegerField()
    unchanged = serializers.IntegerField()


class BorrowerImportApi(ApiView):
    """Import a member file (one row per member, matched by CCCD), all or nothing: one wrong row,
    or a row of a grassroots union outside the caller's scope, refuses the file (400, every wrong
    row in ``errors``) and nothing is written. Importing the same file again changes nothing."""

    access_roles = WRITERS
    parser_classes = [UploadParser]

    @extend_schema(
        request=BorrowerImportInput,
        responses={200: BorrowerImportOutput, 400: ImportRejectedOutput},
        summary="Nhập danh sách thành viên từ tệp (CSV, XLSX)",
    )
    def post(self, request):
        data = self.input(BorrowerImportInput)
        upload = data["file"]
        result = members_import(
            fund=Fund.objects.get(pk=self.scope.fund_id),
            data=upload.read(),
            format=table_format(upload),
            actor=request.user,
            effective_date=data.get("effective_date"),
        )
        return Response(BorrowerImportOutput(result).data)
