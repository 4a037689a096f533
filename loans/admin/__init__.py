"""The Django admin of the loan book, in Vietnamese.

Borrowers, products and applications are entered and changed through the services (so they are
validated, scoped and audited); applications move along the chain by admin actions that call the
chain's services, each with its own idempotency key. Loans are read-only: their schedule, their
loan-book transactions, their follow-up visits and every ledger posting of their sub-ledger
(``loan:<id>``) are shown on the loan's page.
"""

import uuid

from django import forms
from django.contrib import admin, messages
from django.db.models import Sum
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from accounting.dates import business_today
from accounting.errors import ApplicationError
from accounting.formatting import format_vnd
from accounting.forms import VndField
from accounting.money import amount_of
from fund.admin import DATE_INPUT_FORMATS, AuditedAdmin, ReadOnlyAdmin, ServiceAdmin
from loans.models import (
    ApplicationEvent,
    ApplicationStatus,
    Borrower,
    BorrowerMembership,
    CloseOfBusinessRun,
    DocumentKind,
    FollowUpVisit,
    Installment,
    InterestWaiver,
    Loan,
    LoanApplication,
    LoanChangeRequest,
    LoanClosure,
    LoanProduct,
    LoanStatus,
    LoanTransaction,
    LoanWriteOff,
    ReminderDelivery,
    ReminderStage,
    ReminderTemplate,
    Repayment,
    ScheduleRevision,
    WriteOffRecovery,
)
from loans.origination.applications import (
    APPLICATION_FIELDS,
    application_approve,
    application_create,
    application_review,
    application_submit,
    application_update,
)
from loans.origination.borrowers import BORROWER_FIELDS, borrower_create, borrower_update
from loans.origination.disbursement import loan_disburse
from loans.origination.eligibility import borrower_eligibility
from loans.origination.products import PRODUCT_FIELDS, loan_product_create, loan_product_update
from loans.reminders.planning import reminder_delivery_requeue
from loans.servicing.selectors import loan_postings


def _vnd(value) -> str:
    return format_vnd(amount_of(value))


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --------------------------------------------------------------------------------------------
# Borrowers


class MembershipInline(ReadOnlyInline):
    model = BorrowerMembership
    fields = ["grassroots_union", "valid_from", "valid_to"]
    readonly_fields = fields
    verbose_name_plural = _("quá trình sinh hoạt công đoàn")


class BorrowerLoanInline(ReadOnlyInline):
    model = Loan
    fk_name = "borrower"
    fields = ["loan_link", "disbursed_on", "shown_principal", "shown_outstanding", "status"]
    readonly_fields = fields
    verbose_name_plural = _("các khoản vay")

    @admin.display(description=_("khoản vay"))
    def loan_link(self, obj):
        return format_html(
            '<a href="{}">#{}</a>', reverse("admin:loans_loan_change", args=[obj.pk]), obj.pk
        )

    @admin.display(description=_("số tiền vay"))
    def shown_principal(self, obj):
        return _vnd(obj.principal)

    @admin.display(description=_("dư nợ gốc"))
    def shown_outstanding(self, obj):
        return _vnd(obj.outstanding_principal)


class BorrowerForm(forms.ModelForm):
    date_of_birth = forms.DateField(label=_("ngày sinh"), input_formats=DATE_INPUT_FORMATS)
    certificate_date = forms.DateField(
        label=_("ngày cấp giấy chứng nhận"), required=False, input_formats=DATE_INPUT_FORMATS
    )
    certificate_valid_to = forms.DateField(
        label=_("giấy chứng nhận có hiệu lực đến"),
        required=False,
        input_formats=DATE_INPUT_FORMATS,
    )

    class Meta:
        model = Borrower
        fields = ["fund", "grassroots_union", *BORROWER_FIELDS]


@admin.register(Borrower)
class BorrowerAdmin(ServiceAdmin):
    scope_kind, scope_field = "grassroots", "grassroots_union"
    form = BorrowerForm
    list_display = [
        "full_name",
        "national_id",
        "date_of_birth",
        "sex",
        "grassroots_union",
        "household_status",
        "outstanding",
    ]
    list_filter = ["household_status", "sex", "fund"]
    list_select_related = ["grassroots_union"]
    search_fields = ["full_name", "national_id", "phone"]
    autocomplete_fields = ["grassroots_union"]
    inlines = [MembershipInline, BorrowerLoanInline]
    list_per_page = 100

    def get_readonly_fields(self, request, obj=None):
        # The union changes by a transfer (history kept), never by editing the field.
        return ["fund", "grassroots_union"] if obj else []

    @admin.display(description=_("dư nợ gốc"))
    def outstanding(self, obj):
        total = obj.loans.filter(status=LoanStatus.ACTIVE).aggregate(
            s=Sum("outstanding_principal")
        )["s"]
        return format_vnd(total or 0)

    def save_model(self, request, obj, form, change):
        data = {f: form.cleaned_data[f] for f in BORROWER_FIELDS if f in form.cleaned_data}
        for f in ("phone", "address", "certificate_number", "notes"):
            data[f] = data.get(f) or ""
        if change:
            saved = borrower_update(
                borrower=Borrower.objects.get(pk=obj.pk), actor=request.user, **data
            )
        else:
            saved = borrower_create(
                fund=form.cleaned_data["fund"],
                grassroots_union=form.cleaned_data["grassroots_union"],
                actor=request.user,
                **data,
            )
        obj.pk = saved.pk


# --------------------------------------------------------------------------------------------
# Products


class LoanProductForm(forms.ModelForm):
    min_amount = VndField(label=_("số tiền vay tối thiểu (đồng)"))
    max_amount = VndField(label=_("số tiền vay tối đa (đồng)"))
    savings_amount = VndField(label=_("tiết kiệm bắt buộc mỗi kỳ (đồng)"), initial=0)
    # Tick boxes rather than the model's JSON list.
    required_document_kinds = forms.MultipleChoiceField(
        label=_("tài liệu bắt buộc trước thẩm định"),
        choices=DocumentKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = LoanProduct
        fields = ["fund", "code", *PRODUCT_FIELDS]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            for f in ("min_amount", "max_amount", "savings_amount"):
                self.initial[f] = amount_of(getattr(self.instance, f))

    def _post_clean(self):
        # The service validates (and names the field); the form only reads the input.
        pass


@admin.register(LoanProduct)
class LoanProductAdmin(ServiceAdmin):
    form = LoanProductForm
    list_display = [
        "code",
        "name",
        "active",
        "amount_range",
        "term_range",
        "rate",
        "rate_period",
        "method",
        "frequency",
    ]
    list_filter = ["active", "method", "frequency", "fund"]
    search_fields = ["code", "name"]

    def get_readonly_fields(self, request, obj=None):
        return ["fund", "code"] if obj else []

    @admin.display(description=_("số tiền vay"))
    def amount_range(self, obj):
        return f"{_vnd(obj.min_amount)} – {_vnd(obj.max_amount)}"

    @admin.display(description=_("thời hạn (kỳ)"))
    def term_range(self, obj):
        return f"{obj.min_term} – {obj.max_term}"

    def save_model(self, request, obj, form, change):
        data = {f: form.cleaned_data[f] for f in PRODUCT_FIELDS if f in form.cleaned_data}
        data["description"] = data.get("description") or ""
        if change:
            saved = loan_product_update(
                product=LoanProduct.objects.get(pk=obj.pk), actor=request.user, **data
            )
        else:
            saved = loan_product_create(
                fund=form.cleaned_data["fund"],
                code=form.cleaned_data["code"],
                name=data.pop("name"),
                actor=request.user,
                **data,
            )
        obj.pk = saved.pk


# --------------------------------------------------------------------------------------------
# Applications


class ApplicationEventInline(ReadOnlyInline):
    model = ApplicationEvent
    fields = ["at", "action", "from_status", "to_status", "actor", "note"]
    readonly_fields = fields
    verbose_name_plural = _("diễn biến hồ sơ")


class ApplicationForm(forms.ModelForm):
    amount = VndField(label=_("số tiền đề nghị vay (đồng)"))

    class Meta:
        model = LoanApplication
        fields = ["borrower", *APPLICATION_FIELDS]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["amount"] = amount_of(self.instance.amount)

    def _post_clean(self):
        pass  # validated by the services


def _key() -> str:
    return f"admin-{uuid.uuid4()}"


@admin.register(LoanApplication)
class LoanApplicationAdmin(ServiceAdmin):
    scope_kind, scope_field = "grassroots", "grassroots_union"
    form = ApplicationForm
    list_display = [
        "id",
        "borrower",
        "grassroots_union",
        "shown_amount",
        "term",
        "planned_jobs",
        "status",
        "created_at",
    ]
    list_filter = ["status", "purpose_kind", "superior_union", "fund"]
    list_select_related = ["borrower", "grassroots_union"]
    search_fields = ["borrower__full_name", "borrower__national_id", "purpose"]
    autocomplete_fields = ["borrower"]
    date_hierarchy = "created_at"
    inlines = [ApplicationEventInline]
    actions = ["submit", "review_approve", "approve", "disburse_today"]
    DECISION_FIELDS = [
        "status",
        "eligibility",
        "grassroots_union",
        "superior_union",
        "terms",
        "created_by",
        "submitted_by",
        "submitted_at",
        "reviewed_by",
        "reviewed_at",
        "review_note",
        "approved_by",
        "approved_at",
        "decided_by",
        "decided_at",
        "decision_reason",
        "loan_link",
    ]

    def get_fields(self, request, obj=None):
        fields = ["borrower", *APPLICATION_FIELDS]
        return fields if obj is None else [*fields, *self.DECISION_FIELDS]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        if obj.status in (ApplicationStatus.DRAFT, ApplicationStatus.RETURNED):
            return ["borrower", *self.DECISION_FIELDS]
        return ["borrower", *APPLICATION_FIELDS, *self.DECISION_FIELDS]

    @admin.display(description=_("số tiền"))
    def shown_amount(self, obj):
        return _vnd(obj.amount)

    @admin.display(description=_("điều kiện vay"))
    def eligibility(self, obj):
        if obj.status not in LoanApplication.OPEN_STATUSES:
            return "—"
        result = borrower_eligibility(
            borrower=obj.borrower,
            product=obj.product,
            amount=amount_of(obj.amount),
            term=obj.term,
            application=obj,
        )
        if result.eligible:
            return "Đủ điều kiện"
        return format_html(
            "<ul>{}</ul>",
            format_html_join("", "<li>{}</li>", ((r.message,) for r in result.reasons)),
        )

    @admin.display(description=_("khoản vay"))
    def loan_link(self, obj):
        loan = Loan.objects.filter(application=obj).first()
        if loan is None:
            return "—"
        return format_html(
            '<a href="{}">#{}</a>', reverse("admin:loans_loan_change", args=[loan.pk]), loan.pk
        )

    def save_model(self, request, obj, form, change):
        d = form.cleaned_data
        data = {f: d[f] for f in APPLICATION_FIELDS if f in d}
        for f in ("guarantor_name", "guarantor_national_id", "guarantor_phone"):
            data[f] = data.get(f) or ""
        data["guarantor_relationship"] = data.get("guarantor_relationship") or ""
        data["group_name"] = data.get("group_name") or ""
        if change:
            saved = application_update(
                application=LoanApplication.objects.get(pk=obj.pk), actor=request.user, **data
            )
        else:
            saved = application_create(borrower=d["borrower"], actor=request.user, **data)
        obj.pk = saved.pk

    def _run(self, request, queryset, label, call):
        done = 0
        for app in queryset.order_by("pk"):
            try:
                call(app)
                done += 1
            except ApplicationError as e:
                self.message_user(request, f"Hồ sơ #{app.pk}: {e.message}", messages.ERROR)
        if done:
            self.message_user(request, f"Đã {label} {done} hồ sơ.", messages.SUCCESS)

    @admin.action(description=_("Gửi đề nghị lên công đoàn cấp trên"))
    def submit(self, request, queryset):
        self._run(
            request,
            queryset,
            "gửi đề nghị",
            lambda app: application_submit(
                application=app, idempotency_key=_key(), actor=request.user
            ),
        )

    @admin.action(description=_("Cấp trên thẩm định: đồng ý"))
    def review_approve(self, request, queryset):
        self._run(
            request,
            queryset,
            "thẩm định",
            lambda app: application_review(
                application=app, decision="approve", idempotency_key=_key(), actor=request.user
            ),
        )

    @admin.action(description=_("Quỹ phê duyệt"))
    def approve(self, request, queryset):
        self._run(
            request,
            queryset,
            "phê duyệt",
            lambda app: application_approve(
                application=app, idempotency_key=_key(), actor=request.user
            ),
        )

    @admin.action(description=_("Giải ngân hôm nay"))
    def disburse_today(self, request, queryset):
        self._run(
            request,
            queryset,
            "giải ngân",
            lambda app: loan_disburse(
                application=app,
                disbursed_on=business_today(),
                idempotency_key=_key(),
                actor=request.user,
            ),
        )


# --------------------------------------------------------------------------------------------
# Loans


class InstallmentInline(ReadOnlyInline):
    model = Installment
    fields = [
        "number",
        "due_date",
        "principal",
        "interest",
        "total",
        "savings",
        "balance",
        "paid",
        "status",
    ]
    readonly_fields = fields
    verbose_name_plural = _("lịch trả nợ")

    @admin.display(description=_("gốc"))
    def principal(self, obj):
        return _vnd(obj.principal_due)

    @admin.display(description=_("lãi"))
    def interest(self, obj):
        return _vnd(obj.interest_due)

    @admin.display(description=_("tổng phải trả"))
    def total(self, obj):
        return format_vnd(amount_of(obj.principal_due) + amount_of(obj.interest_due))

    @admin.display(description=_("tiết kiệm"))
    def savings(self, obj):
        return _vnd(obj.savings_due) if amount_of(obj.savings_due) else ""

    @admin.display(description=_("dư nợ gốc sau kỳ"))
    def balance(self, obj):
        return _vnd(obj.balance_after)

    @admin.display(description=_("đã trả (gốc + lãi)"))
    def paid(self, obj):
        return format_vnd(amount_of(obj.principal_paid) + amount_of(obj.interest_paid))


class LoanTransactionInline(ReadOnlyInline):
    model = LoanTransaction
    fields = ["effective_date", "kind", "change", "journal_entry", "created_by"]
    readonly_fields = fields
    verbose_name_plural = _("nghiệp vụ trên sổ cho vay")

    @admin.display(description=_("thay đổi dư nợ gốc"))
    def change(self, obj):
        return _vnd(obj.principal_change)


class RepaymentInline(ReadOnlyInline):
    model = Repayment
    fields = [
        "paid_on",
        "shown_amount",
        "shown_parts",
        "batch",
        "collected_by_grassroots_union",
        "journal_entry",
        "reversal_entry",
        "reversal_reason",
    ]
    readonly_fields = fields
    verbose_name_plural = _("các lần trả nợ")

    @admin.display(description=_("số tiền trả"))
    def shown_amount(self, obj):
        return _vnd(obj.amount)

    @admin.display(description=_("gốc / lãi / phạt / tiết kiệm / trả thừa"))
    def shown_parts(self, obj):
        parts = (obj.principal, obj.interest, obj.penalty, obj.savings, obj.overpayment_savings)
        return " / ".join(format_vnd(amount_of(p), symbol=False) for p in parts)


class FollowUpVisitInline(ReadOnlyInline):
    model = FollowUpVisit
    fields = ["visited_on", "purpose_verified", "jobs_confirmed", "note", "visited_by"]
    readonly_fields = fields


class ScheduleRevisionInline(ReadOnlyInline):
    model = ScheduleRevision
    fields = [
        "kind",
        "effective_date",
        "from_version",
        "to_version",
        "principal",
        "term",
        "method",
        "first_due_date",
        "interest_carried",
        "penalty_carried",
        "reason",
        "requested_by",
        "approved_by",
    ]
    readonly_fields = fields


class InterestWaiverInline(ReadOnlyInline):
    model = InterestWaiver
    fields = ["waived_on", "interest", "penalty", "reason", "created_by"]
    readonly_fields = fields


class LoanWriteOffInline(ReadOnlyInline):
    model = LoanWriteOff
    fields = [
        "written_off_on",
        "cause",
        "note",
        "principal",
        "provision_used",
        "expense",
        "interest_unpaid",
        "penalty_unpaid",
        "journal_entry",
        "requested_by",
        "approved_by",
    ]
    readonly_fields = fields


class WriteOffRecoveryInline(ReadOnlyInline):
    model = WriteOffRecovery
    fk_name = "loan"
    fields = ["received_on", "amount", "journal_entry", "created_by"]
    readonly_fields = fields


class LoanClosureInline(ReadOnlyInline):
    model = LoanClosure
    fields = ["closed_on", "savings_applied", "savings_returned", "repayment", "refund_entry"]
    readonly_fields = fields


@admin.register(Loan)
class LoanAdmin(ReadOnlyAdmin):
    scope_kind, scope_field = "grassroots", "grassroots_union"

    class Media:
        css = {"all": ["css/admin.css"]}  # a class, not a style attribute: the CSP forbids those

    list_display = [
        "id",
        "borrower",
        "grassroots_union",
        "disbursed_on",
        "shown_principal",
        "shown_outstanding",
        "status",
        "days_past_due",
        "debt_group",
    ]
    list_filter = ["status", "debt_group", "method", "superior_union", "fund"]
    list_select_related = ["borrower", "grassroots_union"]
    search_fields = ["borrower__full_name", "borrower__national_id"]
    date_hierarchy = "disbursed_on"
    inlines = [
        InstallmentInline,
        LoanTransactionInline,
        RepaymentInline,
        FollowUpVisitInline,
        ScheduleRevisionInline,
        InterestWaiverInline,
        LoanWriteOffInline,
        WriteOffRecoveryInline,
        LoanClosureInline,
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "borrower",
                    "application",
                    "product",
                    "grassroots_union",
                    "superior_union",
                    "shown_principal",
                    "disbursed_on",
                    "maturity_date",
                    "status",
                    "shown_outstanding",
                    "days_past_due",
                    "debt_group",
                ]
            },
        ),
        (
            _("Điều kiện vay đã được cấp"),
            {
                "fields": [
                    "term",
                    "rate",
                    "rate_period",
                    "method",
                    "frequency",
                    "principal_grace",
                    "interest_grace",
                    "penalty_rate",
                    "penalty_rate_period",
                    "savings_kind",
                    "savings_percent",
                    "shown_savings_withheld",
                    "allocation_order",
                    "debt_groups",
                    "purpose_kind",
                    "planned_jobs",
                ]
            },
        ),
        (_("Sổ cái"), {"fields": ["disbursement_entry", "ledger_postings"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        return [f for _, opts in self.fieldsets for f in opts["fields"]]

    @admin.display(description=_("số tiền vay"))
    def shown_principal(self, obj):
        return _vnd(obj.principal)

    @admin.display(description=_("dư nợ gốc"))
    def shown_outstanding(self, obj):
        return _vnd(obj.outstanding_principal)

    @admin.display(description=_("tiết kiệm giữ lại khi giải ngân"))
    def shown_savings_withheld(self, obj):
        return _vnd(obj.savings_withheld)

    @admin.display(description=_("định khoản trên sổ chi tiết của khoản vay"))
    def ledger_postings(self, obj):
        rows = [
            (
                reverse("admin:accounting_journalentry_change", args=[p.entry_id]),
                p.entry_id,
                p.effective_date.strftime("%d/%m/%Y"),
                p.account.code,
                p.entry.memo,
                format_vnd(p.debit, symbol=False) if p.debit else "",
                format_vnd(p.credit, symbol=False) if p.credit else "",
            )
            for p in loan_postings(loan=obj)
        ]
        if not rows:
            return "—"
        body = format_html_join(
            "",
            '<tr><td><a href="{}">#{}</a></td><td>{}</td><td>{}</td><td>{}</td>'
            '<td class="trovon-num">{}</td><td class="trovon-num">{}</td></tr>',
            rows,
        )
        return format_html(
            "<table><thead><tr><th>Bút toán</th><th>Ngày</th><th>TK</th><th>Diễn giải</th>"
            "<th>Nợ</th><th>Có</th></tr></thead><tbody>{}</tbody></table>"
            '<p><a href="{}?subledger={}">Xem trong sổ cái</a></p>',
            body,
            reverse("admin:accounting_posting_changelist"),
            obj.subledger,
        )


# --------------------------------------------------------------------------------------------
# Reminders


@admin.register(ReminderStage)
class ReminderStageAdmin(AuditedAdmin):
    list_display = ["name", "code", "days_from_due", "catch_up_days", "active", "fund"]
    list_filter = ["active", "fund"]


@admin.register(ReminderTemplate)
class ReminderTemplateAdmin(AuditedAdmin):
    """Fund officers edit their fund's texts; the rows with no fund are the defaults."""

    list_display = ["stage", "channel", "fund", "subject", "updated_at"]
    list_filter = ["channel", "stage", "fund"]
    search_fields = ["subject", "body"]
    fieldsets = [
        (None, {"fields": ["fund", "stage", "channel", "subject", "body"]}),
        (
            _("Các biến dùng được"),
            {
                "description": _(
                    "Nhắc kỳ trả nợ: {{ borrower_name }}, {{ amount_due }}, {{ due_date }}, "
                    "{{ installment_number }}, {{ loan_id }}, {{ days_overdue }}, "
                    "{{ days_to_due }}, {{ union_name }}, {{ union_contact_name }}, "
                    "{{ union_contact_phone }}, {{ fund_name }}. Bản tổng hợp (digest): "
                    "{{ officer_name }}, {{ union_name }}, {{ date }}, {{ count }}, {{ total }}, "
                    "{% for b in borrowers %}{{ b.name }} {{ b.phone }} {{ b.amount }} "
                    "{{ b.due_date }} {{ b.days_overdue }}{% endfor %}."
                ),
                "fields": [],
            },
        ),
    ]


@admin.register(ReminderDelivery)
class ReminderDeliveryAdmin(ReadOnlyAdmin):
    """Every reminder, sent or not; failures stay here (filter by status) and can be resent."""

    scope_kind = "grassroots"
    scope_field = "grassroots_union"
    list_display = [
        "business_date",
        "kind",
        "stage",
        "channel",
        "recipient",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "grassroots_union",
    ]
    list_filter = ["status", "kind", "stage", "channel", "business_date"]
    search_fields = ["recipient", "installment__loan__borrower__full_name"]
    list_select_related = ["grassroots_union"]
    date_hierarchy = "business_date"
    actions = ["requeue"]

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Gửi lại các lượt nhắc đã chọn (gửi lỗi hoặc chưa rõ kết quả)"))
    def requeue(self, request, queryset):
        done = 0
        for delivery in queryset:
            try:
                reminder_delivery_requeue(delivery=delivery, actor=request.user)
                done += 1
            except ApplicationError as e:
                self.message_user(request, f"{delivery}: {e.message}", messages.WARNING)
        if done:
            self.message_user(request, _("Đã xếp lịch gửi lại %(n)d lượt nhắc.") % {"n": done})


@admin.register(LoanChangeRequest)
class LoanChangeRequestAdmin(ReadOnlyAdmin):
    """Requests for a rescheduling or a write-off and their decisions
    (loans.restructuring.change_requests):
    read only; they are asked for and decided on the loan pages."""

    scope_kind, scope_field = "grassroots", "loan__grassroots_union"
    list_display = ["id", "loan", "kind", "status", "requested_by", "requested_at", "decided_by"]
    list_filter = ["status", "kind"]
    list_select_related = ["loan", "requested_by", "decided_by"]
    date_hierarchy = "requested_at"
    readonly_fields = [
        "loan",
        "kind",
        "status",
        "terms",
        "requested_by",
        "requested_at",
        "decided_by",
        "decided_at",
        "decision_note",
        "revision",
        "write_off",
    ]


@admin.register(CloseOfBusinessRun)
class CloseOfBusinessRunAdmin(ReadOnlyAdmin):
    """The daily runs (loans.servicing.close_of_business): read only; a run is started by the job
    or the command."""

    list_display = ["business_date", "fund", "status", "started_at", "finished_at", "loans"]
    list_filter = ["status", "fund"]
    date_hierarchy = "business_date"
    readonly_fields = [
        "fund",
        "business_date",
        "status",
        "started_at",
        "finished_at",
        "triggered_by",
        "summary",
        "log",
        "error",
    ]

    @admin.display(description=_("số khoản vay"))
    def loans(self, obj):
        return obj.summary.get("loans_processed", "—")
