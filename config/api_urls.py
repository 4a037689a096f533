"""The REST API, mounted at ``/api/v1/`` (see ``fund.api_base`` for its conventions).

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

from fund import api as fund_api
from fund.access import PUBLIC
from fund.api_base import MAX_ID, NotFoundApi
from fund.api_permissions import AccessRolePermission
from loans import api as loans_api
from loans import api_actions as loan_actions


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


app_name = "api"
urlpatterns = [
    path("schema/", SchemaApi.as_view(), name="schema"),
    path("docs/", SwaggerApi.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", RedocApi.as_view(url_name="api:schema"), name="redoc"),
    path("auth/token/", fund_api.TokenObtainApi.as_view(), name="token"),
    path("me/", fund_api.MeApi.as_view(), name="me"),
    # Unions
    path("superior-unions/", fund_api.SuperiorUnionListApi.as_view(), name="superior_union_list"),
    path(
        "superior-unions/<id:pk>/",
        fund_api.SuperiorUnionDetailApi.as_view(),
        name="superior_union_detail",
    ),
    path(
        "superior-unions/<id:pk>/capital/set/",
        fund_api.SuperiorUnionCapitalSetApi.as_view(),
        name="superior_union_capital_set",
    ),
    path(
        "superior-unions/<id:pk>/capital/",
        fund_api.SuperiorUnionCapitalApi.as_view(),
        name="superior_union_capital",
    ),
    path(
        "grassroots-unions/",
        fund_api.GrassrootsUnionListApi.as_view(),
        name="grassroots_union_list",
    ),
    path(
        "grassroots-unions/<id:pk>/",
        fund_api.GrassrootsUnionDetailApi.as_view(),
        name="grassroots_union_detail",
    ),
    # Borrowers
    path("borrowers/", loans_api.BorrowerListApi.as_view(), name="borrower_list"),
    path("borrowers/create/", loans_api.BorrowerCreateApi.as_view(), name="borrower_create"),
    path("borrowers/<id:pk>/", loans_api.BorrowerDetailApi.as_view(), name="borrower_detail"),
    path(
        "borrowers/<id:pk>/update/", loans_api.BorrowerUpdateApi.as_view(), name="borrower_update"
    ),
    path(
        "borrowers/<id:pk>/transfer/",
        loans_api.BorrowerTransferApi.as_view(),
        name="borrower_transfer",
    ),
    # Products
    path("products/", loans_api.ProductListApi.as_view(), name="product_list"),
    path("products/<id:pk>/", loans_api.ProductDetailApi.as_view(), name="product_detail"),
    # Applications and their transitions
    path("applications/", loans_api.ApplicationListApi.as_view(), name="application_list"),
    path(
        "applications/create/",
        loans_api.ApplicationCreateApi.as_view(),
        name="application_create",
    ),
    path(
        "applications/<id:pk>/",
        loans_api.ApplicationDetailApi.as_view(),
        name="application_detail",
    ),
    path(
        "applications/<id:pk>/update/",
        loans_api.ApplicationUpdateApi.as_view(),
        name="application_update",
    ),
    path(
        "applications/<id:pk>/submit/",
        loans_api.ApplicationSubmitApi.as_view(),
        name="application_submit",
    ),
    path(
        "applications/<id:pk>/review/",
        loans_api.ApplicationReviewApi.as_view(),
        name="application_review",
    ),
    path(
        "applications/<id:pk>/approve/",
        loans_api.ApplicationApproveApi.as_view(),
        name="application_approve",
    ),
    path(
        "applications/<id:pk>/reject/",
        loans_api.ApplicationRejectApi.as_view(),
        name="application_reject",
    ),
    path(
        "applications/<id:pk>/cancel/",
        loans_api.ApplicationCancelApi.as_view(),
        name="application_cancel",
    ),
    path(
        "applications/<id:pk>/disburse/",
        loans_api.ApplicationDisburseApi.as_view(),
        name="application_disburse",
    ),
    # Loans, schedules, repayments
    path("loans/", loans_api.LoanListApi.as_view(), name="loan_list"),
    path("loans/<id:pk>/", loans_api.LoanDetailApi.as_view(), name="loan_detail"),
    path("loans/<id:pk>/schedule/", loans_api.LoanScheduleApi.as_view(), name="loan_schedule"),
    path(
        "loans/<id:pk>/payoff-quote/",
        loans_api.LoanPayoffQuoteApi.as_view(),
        name="loan_payoff_quote",
    ),
    path(
        "loans/<id:pk>/follow-up-visits/",
        loans_api.LoanFollowUpVisitListApi.as_view(),
        name="loan_follow_up_visit_list",
    ),
    path(
        "loans/<id:pk>/follow-up-visits/create/",
        loans_api.LoanFollowUpVisitCreateApi.as_view(),
        name="loan_follow_up_visit_create",
    ),
    # A loan's life after disbursement (loans.api_actions)
    *[
        path(f"loans/<id:pk>/{route}/", view.as_view(), name=name)
        for route, view, name in [
            ("reschedule-requests", loan_actions.LoanRescheduleRequestApi, "loan_reschedule"),
            ("interest-waiver", loan_actions.LoanInterestWaiveApi, "loan_interest_waive"),
            ("write-off-requests", loan_actions.LoanWriteOffRequestApi, "loan_write_off"),
            ("write-off-recovery", loan_actions.LoanWriteOffRecoveryApi, "loan_write_off_recovery"),
            ("close", loan_actions.LoanCloseApi, "loan_close"),
            ("recall", loan_actions.LoanRecallApi, "loan_recall"),
        ]
    ],
    path(
        "change-requests/",
        loan_actions.ChangeRequestListApi.as_view(),
        name="change_request_list",
    ),
    *[
        path(f"change-requests/<id:pk>/{route}", view.as_view(), name=name)
        for route, view, name in [
            ("", loan_actions.ChangeRequestDetailApi, "change_request_detail"),
            ("approve/", loan_actions.ChangeRequestApproveApi, "change_request_approve"),
            ("reject/", loan_actions.ChangeRequestRejectApi, "change_request_reject"),
            ("withdraw/", loan_actions.ChangeRequestWithdrawApi, "change_request_withdraw"),
        ]
    ],
    path("repayments/", loans_api.RepaymentListApi.as_view(), name="repayment_list"),
    path("repayments/create/", loans_api.RepaymentCreateApi.as_view(), name="repayment_create"),
    path("repayments/<id:pk>/", loans_api.RepaymentDetailApi.as_view(), name="repayment_detail"),
    path(
        "repayments/<id:pk>/reverse/",
        loans_api.RepaymentReverseApi.as_view(),
        name="repayment_reverse",
    ),
    path(
        "repayment-batches/", loans_api.RepaymentBatchListApi.as_view(), name="repayment_batch_list"
    ),
    path(
        "repayment-batches/create/",
        loans_api.RepaymentBatchCreateApi.as_view(),
        name="repayment_batch_create",
    ),
    path(
        "repayment-batches/<id:pk>/",
        loans_api.RepaymentBatchDetailApi.as_view(),
        name="repayment_batch_detail",
    ),
    # Capital, plans, attainment
    path("capital/", fund_api.CapitalSummaryApi.as_view(), name="capital_summary"),
    path("capital/sources/", fund_api.CapitalSourceListApi.as_view(), name="capital_source_list"),
    path(
        "capital/movements/",
        fund_api.CapitalMovementListApi.as_view(),
        name="capital_movement_list",
    ),
    path(
        "capital/contributions/create/",
        fund_api.CapitalContributionCreateApi.as_view(),
        name="capital_contribution_create",
    ),
    path(
        "capital/withdrawals/create/",
        fund_api.CapitalWithdrawalCreateApi.as_view(),
        name="capital_withdrawal_create",
    ),
    path(
        "capital/transfers/create/",
        fund_api.CapitalTransferCreateApi.as_view(),
        name="capital_transfer_create",
    ),
    path("plans/", fund_api.PlanListApi.as_view(), name="plan_list"),
    path("plans/set/", fund_api.PlanSetApi.as_view(), name="plan_set"),
    path("plans/<id:year>/", fund_api.PlanDetailApi.as_view(), name="plan_detail"),
    path("plans/<id:year>/splits/set/", fund_api.PlanSplitSetApi.as_view(), name="plan_split_set"),
    path("attainment/", fund_api.AttainmentApi.as_view(), name="attainment"),
    # Ledger (read-only)
    path("ledger/trial-balance/", fund_api.TrialBalanceApi.as_view(), name="trial_balance"),
    path("ledger/general-ledger/", fund_api.GeneralLedgerApi.as_view(), name="general_ledger"),
    path("ledger/balance-sheet/", fund_api.BalanceSheetApi.as_view(), name="balance_sheet"),
    path(
        "ledger/income-statement/", fund_api.IncomeStatementApi.as_view(), name="income_statement"
    ),
    path("ledger/verify/", fund_api.LedgerVerifyApi.as_view(), name="ledger_verify"),
    path("ledger/entries/<id:pk>/", fund_api.JournalEntryDetailApi.as_view(), name="journal_entry"),
    # Anything else under /api/v1/: a JSON 404.
    # [\s\S]: any character, newlines too (the inline (?s) flag would break reverse()).
    re_path(r"^[\s\S]*$", NotFoundApi.as_view(), name="not_found"),
]
