"""The REST API, mounted at ``/api/v1/`` (see ``apicommon`` for its conventions).

Writes are POSTs to an operation's own URL (``…/create/``, ``…/<id>/approve/``), one view per
operation, so that each carries its own access rule and its own request and response schema.
"""

from django.conf import settings
from django.urls import path, re_path, register_converter
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from apicommon.fields import MAX_ID
from apicommon.permissions import AccessRolePermission
from apicommon.schema import operation_name
from apicommon.views import NotFoundApi
from fund.access import PUBLIC
from fund.api import officers as officers_api
from fund.api import views as fund_api
from loans.api import actions as loan_actions
from loans.api import documents as documents_api
from loans.api import remittances as remittances_api
from loans.api import views as loans_api


class IdConverter:
    """A positive id that fits the database's 64-bit keys (a larger one matches no route)."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 0 < number <= MAX_ID:
            raise ValueError(value)
        return number

    def to_url(self, value) -> str:
        return str(value)


register_converter(IdConverter, "id")


class SchemaApi(SpectacularAPIView):
    access_roles = PUBLIC
    permission_classes = [AccessRolePermission]


class DocsPolicy:
    """The looser Content Security Policy of the bundled docs UIs (inline styles, Redoc's
    worker); their scripts still come only from our static files."""

    access_roles = PUBLIC
    permission_classes = [AccessRolePermission]

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Content-Security-Policy"] = settings.CONTENT_SECURITY_POLICY_API_DOCS
        return response


class SwaggerApi(DocsPolicy, SpectacularSwaggerSplitView):
    """Swagger UI, its scripts and styles served from our static files (sidecar), no CDN; its
    start-up script is fetched from this same URL (?script), not written inline."""


class RedocApi(DocsPolicy, SpectacularRedocView):
    """Redoc from our static files, without the third-party fonts of the stock template."""

    template_name = "api/redoc.html"


def op(route: str, view: type, name: str | None = None):
    """The route of one API operation, named like its operation id (``LoanDetailApi`` →
    ``loan_detail``) unless `name` says otherwise."""
    return path(route, view.as_view(), name=name or operation_name(view))


app_name = "api"
urlpatterns = [
    op("schema/", SchemaApi),
    path("docs/", SwaggerApi.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", RedocApi.as_view(url_name="api:schema"), name="redoc"),
    op("auth/token/", fund_api.TokenObtainApi, name="token"),
    op("auth/logout/", fund_api.TokenRevokeApi, name="token_revoke"),
    op("auth/logout-all/", fund_api.TokenRevokeAllApi, name="token_revoke_all"),
    op("me/", fund_api.MeApi),
    # Unions, their file import and export, the audit log
    op("superior-unions/", fund_api.SuperiorUnionListApi),
    op("superior-unions/<id:pk>/", fund_api.SuperiorUnionDetailApi),
    op("superior-unions/<id:pk>/capital/set/", fund_api.SuperiorUnionCapitalSetApi),
    op("superior-unions/<id:pk>/capital/", fund_api.SuperiorUnionCapitalApi),
    op("grassroots-unions/", fund_api.GrassrootsUnionListApi),
    op("grassroots-unions/<id:pk>/", fund_api.GrassrootsUnionDetailApi),
    op("grassroots-unions/<id:pk>/update/", fund_api.GrassrootsUnionUpdateApi),
    op("grassroots-unions/<id:pk>/move/", fund_api.GrassrootsUnionMoveApi),
    op("unions/export/", fund_api.UnionExportApi),
    op("unions/import/", fund_api.UnionImportApi),
    op("audit-log/", fund_api.AuditLogListApi),
    # Officer accounts (the officers' pages' reads and writes)
    op("officers/", officers_api.OfficerListApi),
    op("officers/create/", officers_api.OfficerCreateApi),
    op("officers/<id:pk>/", officers_api.OfficerDetailApi),
    op("officers/<id:pk>/update/", officers_api.OfficerUpdateApi),
    op("officers/<id:pk>/deactivate/", officers_api.OfficerDeactivateApi),
    op("officers/<id:pk>/reactivate/", officers_api.OfficerReactivateApi),
    op("officers/<id:pk>/password-reset/", officers_api.OfficerPasswordResetApi),
    # Borrowers
    op("borrowers/", loans_api.BorrowerListApi),
    op("borrowers/create/", loans_api.BorrowerCreateApi),
    op("borrowers/import/", loans_api.BorrowerImportApi),
    op("borrowers/<id:pk>/", loans_api.BorrowerDetailApi),
    op("borrowers/<id:pk>/update/", loans_api.BorrowerUpdateApi),
    op("borrowers/<id:pk>/transfer/", loans_api.BorrowerTransferApi),
    # Products
    op("products/", loans_api.ProductListApi),
    op("products/<id:pk>/", loans_api.ProductDetailApi),
    # Applications and their transitions
    op("applications/", loans_api.ApplicationListApi),
    op("applications/create/", loans_api.ApplicationCreateApi),
    op("applications/<id:pk>/", loans_api.ApplicationDetailApi),
    op("applications/<id:pk>/update/", loans_api.ApplicationUpdateApi),
    op("applications/<id:pk>/submit/", loans_api.ApplicationSubmitApi),
    op("applications/<id:pk>/review/", loans_api.ApplicationReviewApi),
    op("applications/<id:pk>/approve/", loans_api.ApplicationApproveApi),
    op("applications/<id:pk>/reject/", loans_api.ApplicationRejectApi),
    op("applications/<id:pk>/cancel/", loans_api.ApplicationCancelApi),
    op("applications/<id:pk>/disburse/", loans_api.ApplicationDisburseApi),
    # Loans, schedules, repayments
    op("business-date/", loans_api.BusinessDateApi),
    op("loans/", loans_api.LoanListApi),
    op("loans/<id:pk>/", loans_api.LoanDetailApi),
    op("loans/<id:pk>/schedule/", loans_api.LoanScheduleApi),
    op("loans/<id:pk>/payoff-quote/", loans_api.LoanPayoffQuoteApi),
    op("loans/<id:pk>/follow-up-visits/", loans_api.LoanFollowUpVisitListApi),
    op("loans/<id:pk>/follow-up-visits/create/", loans_api.LoanFollowUpVisitCreateApi),
    # Members' documents (loans.api.documents)
    op("documents/", documents_api.DocumentListApi),
    op("documents/upload/", documents_api.DocumentUploadApi),
    op("documents/<id:pk>/download/", documents_api.DocumentDownloadApi),
    op("documents/<id:pk>/withdraw/", documents_api.DocumentWithdrawApi),
    # A loan's life after disbursement (loans.api.actions)
    op("loans/<id:pk>/reschedule-requests/", loan_actions.LoanRescheduleRequestApi),
    op("loans/<id:pk>/interest-waiver/", loan_actions.LoanInterestWaiveApi),
    op("loans/<id:pk>/write-off-requests/", loan_actions.LoanWriteOffRequestApi),
    op("loans/<id:pk>/write-off-recovery/", loan_actions.LoanWriteOffRecoveryApi),
    op("loans/<id:pk>/close/", loan_actions.LoanCloseApi),
    op("loans/<id:pk>/recall/", loan_actions.LoanRecallApi),
    op("change-requests/", loan_actions.ChangeRequestListApi),
    op("change-requests/<id:pk>/", loan_actions.ChangeRequestDetailApi),
    op("change-requests/<id:pk>/approve/", loan_actions.ChangeRequestApproveApi),
    op("change-requests/<id:pk>/reject/", loan_actions.ChangeRequestRejectApi),
    op("change-requests/<id:pk>/withdraw/", loan_actions.ChangeRequestWithdrawApi),
    op("repayments/", loans_api.RepaymentListApi),
    op("repayments/create/", loans_api.RepaymentCreateApi),
    op("repayments/<id:pk>/", loans_api.RepaymentDetailApi),
    op("repayments/<id:pk>/reverse/", loans_api.RepaymentReverseApi),
    op("repayment-batches/", loans_api.RepaymentBatchListApi),
    op("repayment-batches/create/", loans_api.RepaymentBatchCreateApi),
    op("repayment-batches/<id:pk>/", loans_api.RepaymentBatchDetailApi),
    op("repayment-batches/not-received/", remittances_api.RemittanceNotReceivedApi),
    op("bank-statements/import/", remittances_api.BankStatementImportApi),
    op("bank-statement-lines/", remittances_api.BankLineListApi),
    op("bank-statement-lines/<id:pk>/confirm/", remittances_api.BankLineConfirmApi),
    # Capital, plans, attainment
    op("capital/", fund_api.CapitalSummaryApi),
    op("capital/sources/", fund_api.CapitalSourceListApi),
    op("capital/movements/", fund_api.CapitalMovementListApi),
    op("capital/contributions/create/", fund_api.CapitalContributionCreateApi),
    op("capital/withdrawals/create/", fund_api.CapitalWithdrawalCreateApi),
    op("capital/transfers/create/", fund_api.CapitalTransferCreateApi),
    op("capital/requests/", fund_api.CapitalRequestListApi),
    op("capital/requests/<id:pk>/confirm/", fund_api.CapitalRequestConfirmApi),
    op("capital/requests/<id:pk>/reject/", fund_api.CapitalRequestRejectApi),
    op("fund/duties/", fund_api.FundDutiesApi),
    op("fund/duties/set/", fund_api.FundDutiesSetApi),
    op("year-closes/", fund_api.YearCloseListApi),
    op("year-closes/create/", fund_api.YearCloseCreateApi),
    op("plans/", fund_api.PlanListApi),
    op("plans/set/", fund_api.PlanSetApi),
    op("plans/<id:year>/", fund_api.PlanDetailApi),
    op("plans/<id:year>/splits/set/", fund_api.PlanSplitSetApi),
    op("attainment/", fund_api.AttainmentApi),
    # Ledger (read-only)
    op("ledger/trial-balance/", fund_api.TrialBalanceApi),
    op("ledger/general-ledger/", fund_api.GeneralLedgerApi),
    op("ledger/balance-sheet/", fund_api.BalanceSheetApi),
    op("ledger/income-statement/", fund_api.IncomeStatementApi),
    op("ledger/verify/", fund_api.LedgerVerifyApi),
    op("ledger/entries/<id:pk>/", fund_api.JournalEntryDetailApi, name="journal_entry"),
    # Anything else under /api/v1/: a JSON 404.
    # [\s\S]: any character, newlines too (the inline (?s) flag would break reverse()).
    re_path(r"^[\s\S]*$", NotFoundApi.as_view(), name="not_found"),
]
