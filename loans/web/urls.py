"""The loan pages; mounted with ``path("loans/", include("loans.web.urls"))``."""

from django.urls import path

from loans.web import actions, change_requests, documents, inbox, remittances, union_pages, views

app_name = "loans"
urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("inbox/", inbox.inbox, name="inbox"),
    path("", views.loan_list_view, name="loan_list"),
    path("<int:pk>/", views.loan_detail, name="loan_detail"),
    path("<int:pk>/repay/", views.loan_repay, name="loan_repay"),
    # After disbursement (loans.web.actions)
    path("<int:pk>/visit/", actions.loan_visit, name="loan_visit"),
    path(
        "<int:pk>/repayments/reverse/",
        actions.loan_repayment_reverse,
        name="loan_repayment_reverse",
    ),
    path("<int:pk>/reschedule/", actions.loan_reschedule, name="loan_reschedule"),
    path("<int:pk>/waive/", actions.loan_interest_waive, name="loan_interest_waive"),
    path("<int:pk>/write-off/", actions.loan_write_off, name="loan_write_off"),
    path(
        "<int:pk>/write-off/recovery/",
        actions.loan_write_off_recovery,
        name="loan_write_off_recovery",
    ),
    path("<int:pk>/close/", actions.loan_close, name="loan_close"),
    path("<int:pk>/recall/", actions.loan_recall, name="loan_recall"),
    path("requests/", change_requests.change_request_list, name="change_request_list"),
    path("requests/<int:pk>/", change_requests.change_request_detail, name="change_request_detail"),
    path("borrowers/", views.borrower_list_view, name="borrower_list"),
    path("borrowers/import/", remittances.borrower_import, name="borrower_import"),
    path("borrowers/<int:pk>/", views.borrower_detail, name="borrower_detail"),
    path("borrowers/<int:pk>/apply/", views.borrower_apply, name="borrower_apply"),
    path("propose/", views.propose, name="propose"),
    path("applications/", views.application_list_view, name="application_list"),
    path("applications/<int:pk>/", views.application_detail, name="application_detail"),
    path("applications/<int:pk>/edit/", views.application_edit, name="application_edit"),
    path("applications/<int:pk>/review/", views.application_review, name="application_review"),
    path("applications/<int:pk>/approve/", views.application_approve, name="application_approve"),
    path("applications/<int:pk>/reject/", views.application_reject, name="application_reject"),
    path("applications/<int:pk>/cancel/", views.application_cancel, name="application_cancel"),
    path(
        "applications/<int:pk>/disburse/",
        views.application_disburse,
        name="application_disburse",
    ),
    path("approvals/", views.approvals, name="approvals"),
    path("reviews/", views.reviews, name="reviews"),
    path("disbursements/", views.disbursements, name="disbursements"),
    path("collections/", views.collections, name="collections"),
    path("remittance/", views.remittance, name="remittance"),
    path("bank/", remittances.bank_statements, name="bank_statements"),
    path("bank/import/", remittances.bank_statement_upload, name="bank_statement_upload"),
    path("bank/lines/<int:pk>/", remittances.bank_line, name="bank_line"),
    path(
        "remittance/<int:pk>/receipt/",
        remittances.remittance_receipt_view,
        name="remittance_receipt",
    ),
    path("remittance/pending/", remittances.remittances_pending, name="remittances_pending"),
    path("overdue/", views.overdue, name="overdue"),
    path("unions/", union_pages.unions, name="unions"),
    path("reminders/", views.reminder_log, name="reminder_log"),
    path("reminders/<int:pk>/requeue/", views.reminder_requeue, name="reminder_requeue"),
    # Members' documents (loans.web.documents)
    path("documents/<str:owner>/<int:pk>/", documents.documents_page, name="documents"),
    path(
        "documents/<str:owner>/<int:pk>/upload/",
        documents.document_upload,
        name="document_upload",
    ),
    path("documents/<int:pk>/download/", documents.document_download, name="document_download"),
    path(
        "documents/<int:pk>/withdraw/", documents.document_withdraw_view, name="document_withdraw"
    ),
]
