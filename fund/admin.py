"""The Django admin of the fund, in Vietnamese.

Changes go through the services (so they are validated and audited); where money moves — capital
movements, commitments — the admin never edits a row: a capital movement is added through its
service (which posts the ledger entry) and is read-only afterwards.
"""

import uuid

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpResponseRedirect
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from accounting.dates import business_today
from accounting.errors import ApplicationError
from accounting.formatting import format_vnd
from accounting.forms import VndField
from fund import services
from fund.audit import audit_changes, audit_record, audit_scope_filter, audit_snapshot
from fund.models import (
    AnnualPlan,
    AuditLog,
    CapitalCommitment,
    CapitalMovement,
    CapitalSource,
    Fund,
    GrassrootsUnion,
    GrassrootsUnionAffiliation,
    LendingAllocation,
    OfficerProfile,
    OutboxMessage,
    PlanSplit,
    SuperiorUnion,
)
from fund.scoping import scope_filter, scope_for, superior_union_scope_filter
from fund.selectors import capital_available, capital_source_balance, plan_split_summary

if admin.site.site_header == "Django administration":
    admin.site.site_header = "Quỹ Trợ vốn CNVCLĐ nghèo"
    admin.site.site_title = "Quỹ Trợ vốn"
    admin.site.index_title = "Quản trị"


class ScopedAdminMixin:
    """Officers who use the admin see it through their scope, like every other view.

    `scope_kind`: "grassroots" (rows reached through `scope_field`, "" for the unions
    themselves), "superior" (likewise for superior unions), "fund" (fund-level rows, seen by fund
    officers and auditors only; `scope_field` names the fund id) or "audit". Site administrators
    without an officer profile see everything.
    """

    scope_kind = "fund"
    scope_field = "fund_id"

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        user = request.user
        if user.is_superuser and not hasattr(user, "officer"):
            return qs
        try:
            scope = scope_for(user)
        except PermissionDenied:
            return qs.none()
        if self.scope_kind == "grassroots":
            return scope_filter(qs, scope, grassroots_field=self.scope_field)
        if self.scope_kind == "superior":
            return superior_union_scope_filter(qs, scope, superior_field=self.scope_field)
        if self.scope_kind == "audit":
            return audit_scope_filter(qs, scope)
        if not scope.is_fund_wide:
            return qs.none()
        return qs.filter(**{self.scope_field: scope.fund_id})


# Django's "vi" locale defines no input formats, so a date typed the Vietnamese way (01/06/2024)
# would be read month first. Day first here, ISO also accepted.
DATE_INPUT_FORMATS = ["%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d"]


class ServiceAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """A refusal by a service is shown as a message, and nothing is saved."""

    formfield_overrides = {models.DateField: {"input_formats": DATE_INPUT_FORMATS}}

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ApplicationError as e:
            self.message_user(request, e.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def has_delete_permission(self, request, obj=None):
        return False


class AuditedAdmin(ServiceAdmin):
    """Plain records (no money, no history of their own): saved as edited, and audited."""

    def save_model(self, request, obj, form, change):
        fields = [f.attname for f in obj._meta.concrete_fields if f.attname != "id"]
        before = (
            audit_snapshot(type(obj).objects.get(pk=obj.pk), fields)
            if change
            else dict.fromkeys(fields)
        )
        super().save_model(request, obj, form, change)
        changes = audit_changes(before, obj)
        if changes:
            audit_record(
                actor=request.user,
                action="update" if change else "create",
                obj=obj,
                changes=changes,
            )


class ReadOnlyAdmin(ScopedAdminMixin, admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --------------------------------------------------------------------------------------------
# Organisation


@admin.register(Fund)
class FundAdmin(AuditedAdmin):
    scope_field = "pk"
    list_display = ["code", "name", "federation_name", "available"]
    search_fields = ["code", "name"]

    @admin.display(description=_("vốn khả dụng để cho vay"))
    def available(self, obj):
        return format_vnd(capital_available(fund=obj))


UNION_FIELDS = services.UNION_FIELDS


class LendingAllocationInline(admin.TabularInline):
    model = LendingAllocation
    fields = ["valid_from", "amount", "note", "created_by", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("hạn mức cho vay (thêm mới ở mục Hạn mức cho vay)")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(SuperiorUnion)
class SuperiorUnionAdmin(ServiceAdmin):
    scope_kind, scope_field = "superior", ""
    list_display = ["code", "name", "kind", "contact_name", "contact_phone", "active_to"]
    list_filter = ["fund", "kind"]
    search_fields = ["code", "name"]
    fields = ["fund", *UNION_FIELDS]
    inlines = [LendingAllocationInline]

    def get_readonly_fields(self, request, obj=None):
        return ["fund"] if obj else []

    def save_model(self, request, obj, form, change):
        data = {f: form.cleaned_data[f] for f in UNION_FIELDS if f in form.cleaned_data}
        if change:
            saved = services.superior_union_update(superior_union=obj, actor=request.user, **data)
        else:
            saved = services.superior_union_create(
                fund=form.cleaned_data["fund"], actor=request.user, **data
            )
        obj.pk = saved.pk


class AffiliationInline(admin.TabularInline):
    model = GrassrootsUnionAffiliation
    fields = ["superior_union", "valid_from", "valid_to"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class GrassrootsUnionForm(forms.ModelForm):
    move_date = forms.DateField(
        label=_("ngày chuyển công đoàn cấp trên"),
        required=False,
        input_formats=DATE_INPUT_FORMATS,
        help_text=_(
            "Khi đổi công đoàn cấp trên: ngày bắt đầu trực thuộc đơn vị mới (mặc định "
            "hôm nay). Lịch sử trực thuộc được giữ lại."
        ),
    )

    class Meta:
        model = GrassrootsUnion
        fields = ["fund", "superior_union", *UNION_FIELDS]


@admin.register(GrassrootsUnion)
class GrassrootsUnionAdmin(ServiceAdmin):
    scope_kind, scope_field = "grassroots", ""
    form = GrassrootsUnionForm
    list_display = ["code", "name", "kind", "superior_union", "contact_name", "active_to"]
    list_filter = ["fund", "kind", "superior_union"]
    list_select_related = ["superior_union"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["superior_union"]
    inlines = [AffiliationInline]
    list_per_page = 100

    def get_fields(self, request, obj=None):
        return ["fund", "superior_union", "move_date", *UNION_FIELDS]

    def get_readonly_fields(self, request, obj=None):
        return ["fund"] if obj else []

    def save_model(self, request, obj, form, change):
        data = {f: form.cleaned_data[f] for f in UNION_FIELDS}
        su = form.cleaned_data["superior_union"]
        if not change:
            saved = services.grassroots_union_create(superior_union=su, actor=request.user, **data)
            obj.pk = saved.pk
            return
        current = GrassrootsUnion.objects.get(pk=obj.pk)
        services.grassroots_union_update(grassroots_union=current, actor=request.user, **data)
        if su.pk != current.superior_union_id:
            services.grassroots_union_move(
                grassroots_union=current,
                superior_union=su,
                effective_date=form.cleaned_data.get("move_date") or business_today(),
                actor=request.user,
            )


@admin.register(GrassrootsUnionAffiliation)
class AffiliationAdmin(ReadOnlyAdmin):
    scope_kind, scope_field = "grassroots", "grassroots_union"
    list_display = ["grassroots_union", "superior_union", "valid_from", "valid_to"]
    list_filter = ["superior_union"]
    search_fields = ["grassroots_union__code", "grassroots_union__name"]
    list_select_related = ["grassroots_union", "superior_union"]


@admin.register(OfficerProfile)
class OfficerProfileAdmin(ServiceAdmin):
    list_display = ["user", "role", "fund", "superior_union", "grassroots_union"]
    list_filter = ["role", "fund"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    autocomplete_fields = ["superior_union", "grassroots_union"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        """A staff officer's user and fund choices are their own fund's (no other fund's user
        names); the site administrator (superuser) sees every user."""
        if db_field.name in ("user", "fund") and not request.user.is_superuser:
            officer = getattr(request.user, "officer", None)
            fund_id = officer.fund_id if officer is not None else None
            if db_field.name == "user":
                kwargs["queryset"] = get_user_model().objects.filter(officer__fund_id=fund_id)
            else:
                kwargs["queryset"] = Fund.objects.filter(pk=fund_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        d = form.cleaned_data
        saved = services.officer_profile_set(
            user=d.get("user") or obj.user,
            fund=d["fund"],
            role=d["role"],
            superior_union=d.get("superior_union"),
            grassroots_union=d.get("grassroots_union"),
            phone=d.get("phone") or "",
            actor=request.user,
        )
        obj.pk = saved.pk


# --------------------------------------------------------------------------------------------
# Capital


@admin.register(CapitalSource)
class CapitalSourceAdmin(AuditedAdmin):
    list_display = ["code", "name", "kind", "account", "balance", "fund"]
    list_filter = ["fund", "kind"]

    def get_readonly_fields(self, request, obj=None):
        # The kind decides the capital account; changing it would orphan the postings made.
        return ["fund", "kind"] if obj else []

    @admin.display(description=_("tài khoản"))
    def account(self, obj):
        return obj.account_code

    @admin.display(description=_("số dư vốn"))
    def balance(self, obj):
        return format_vnd(capital_source_balance(source=obj))


class CapitalMovementForm(forms.ModelForm):
    idempotency_key = forms.CharField(
        label=_("khóa chống trùng"),
        max_length=180,
        help_text=_("Gửi lại cùng khóa không ghi sổ hai lần."),
    )
    # Whole đồng in one box (VND only), checked again by the service.
    amount = VndField(label=_("số tiền (đồng)"), min_value=1)

    class Meta:
        model = CapitalMovement
        fields = [
            "fund",
            "kind",
            "source",
            "target_source",
            "amount",
            "effective_date",
            "memo",
            "idempotency_key",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "idempotency_key" in self.fields:  # the add form (the change view is read-only)
            self.fields["idempotency_key"].initial = f"admin:{uuid.uuid4()}"
            self.fields["memo"].required = False

    def validate_unique(self):
        # A key already used is the service's business: the same request is answered with the
        # movement already posted (a double submit posts nothing), another one is refused.
        pass


@admin.register(CapitalMovement)
class CapitalMovementAdmin(ServiceAdmin):
    form = CapitalMovementForm
    list_display = [
        "effective_date",
        "kind",
        "source",
        "target_source",
        "shown_amount",
        "journal_entry",
        "created_by",
    ]
    list_filter = ["fund", "kind", "source"]
    date_hierarchy = "effective_date"

    def has_change_permission(self, request, obj=None):
        return obj is None

    @admin.display(description=_("số tiền"))
    def shown_amount(self, obj):
        return format_vnd(obj.amount)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [f.name for f in CapitalMovement._meta.fields]

    def save_model(self, request, obj, form, change):
        d = form.cleaned_data
        common = dict(
            fund=d["fund"],
            source=d["source"],
            amount=d["amount"],
            effective_date=d["effective_date"],
            idempotency_key=d["idempotency_key"],
            memo=d.get("memo") or "",
            actor=request.user,
        )
        kind = d["kind"]
        if kind == CapitalMovement.Kind.TRANSFER:
            saved = services.capital_transfer_post(target_source=d["target_source"], **common)
        elif kind == CapitalMovement.Kind.WITHDRAWAL:
            saved = services.capital_withdrawal_post(**common)
        else:
            saved = services.capital_contribution_post(**common)
        obj.pk = saved.pk


@admin.register(LendingAllocation)
class LendingAllocationAdmin(ServiceAdmin):
    list_display = ["superior_union", "valid_from", "shown_amount", "note", "created_by"]
    list_filter = ["fund", "superior_union"]
    fields = ["superior_union", "valid_from", "amount", "note"]
    autocomplete_fields = ["superior_union"]

    def has_change_permission(self, request, obj=None):
        return obj is None

    @admin.display(description=_("hạn mức"))
    def shown_amount(self, obj):
        return "không giới hạn" if obj.amount is None else format_vnd(obj.amount)

    def save_model(self, request, obj, form, change):
        d = form.cleaned_data
        saved = services.lending_allocation_set(
            superior_union=d["superior_union"],
            amount=d["amount"],
            valid_from=d["valid_from"],
            note=d.get("note") or "",
            actor=request.user,
        )
        obj.pk = saved.pk


@admin.register(CapitalCommitment)
class CapitalCommitmentAdmin(ReadOnlyAdmin):
    list_display = [
        "reference",
        "shown_amount",
        "superior_union",
        "status",
        "created_at",
        "released_at",
    ]
    list_filter = ["fund", "status"]
    search_fields = ["reference"]

    @admin.display(description=_("số tiền"))
    def shown_amount(self, obj):
        return format_vnd(obj.amount)


# --------------------------------------------------------------------------------------------
# Plans

FIGURE_FIELDS = list(PlanSplit.FIGURES)


class PlanSplitInline(admin.TabularInline):
    model = PlanSplit
    fields = ["quarter", "superior_union", "grassroots_union", *FIGURE_FIELDS]
    autocomplete_fields = ["superior_union", "grassroots_union"]
    extra = 0


@admin.register(AnnualPlan)
class AnnualPlanAdmin(ServiceAdmin):
    list_display = ["year", "fund", "shown_amount", "borrowers", "jobs"]
    list_filter = ["fund"]
    inlines = [PlanSplitInline]
    readonly_fields = ["split_summary"]
    fields = ["fund", "year", *FIGURE_FIELDS, "note", "split_summary"]

    @admin.display(description=_("doanh số cho vay"))
    def shown_amount(self, obj):
        return format_vnd(obj.disbursed_amount)

    @admin.display(description=_("chưa phân bổ"))
    def split_summary(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        gaps = plan_split_summary(plan=obj)
        if not gaps:
            return "Chưa phân bổ."
        return format_html(
            "<table><tr><th>Phân bổ</th><th>Đã phân bổ</th><th>Chưa phân bổ</th>"
            "<th>Lượt vay chưa phân bổ</th><th>Việc làm chưa phân bổ</th></tr>{}</table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                (
                    (
                        g.label,
                        format_vnd(g.allocated["disbursed_amount"]),
                        format_vnd(g.unallocated["disbursed_amount"]),
                        g.unallocated["borrowers"],
                        g.unallocated["jobs"],
                    )
                    for g in gaps
                ),
            ),
        )

    def save_model(self, request, obj, form, change):
        d = form.cleaned_data
        saved = services.annual_plan_set(
            fund=d["fund"],
            year=d["year"],
            note=d.get("note") or "",
            actor=request.user,
            **{f: d[f] for f in FIGURE_FIELDS},
        )
        obj.pk = saved.pk

    def save_formset(self, request, form, formset, change):
        plan = form.instance
        for f in formset.deleted_forms:
            if f.instance.pk:
                services.plan_split_delete(split=f.instance, actor=request.user)
        for f in formset.forms:
            if f in formset.deleted_forms or not f.has_changed() or not f.cleaned_data:
                continue
            d = f.cleaned_data
            if f.instance.pk:
                old = PlanSplit.objects.get(pk=f.instance.pk)
                if (old.quarter, old.superior_union_id, old.grassroots_union_id) != (
                    d["quarter"],
                    getattr(d.get("superior_union"), "pk", None),
                    getattr(d.get("grassroots_union"), "pk", None),
                ):
                    services.plan_split_delete(split=old, actor=request.user)
            services.plan_split_set(
                plan=plan,
                quarter=d["quarter"],
                superior_union=d.get("superior_union"),
                grassroots_union=d.get("grassroots_union"),
                actor=request.user,
                **{k: d[k] for k in FIGURE_FIELDS},
            )


# --------------------------------------------------------------------------------------------
# Audit log


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    scope_kind = "audit"
    list_display = ["at", "actor_name", "action", "content_type", "object_repr"]
    list_filter = ["action", "content_type", "fund"]
    search_fields = ["object_repr", "actor_name", "object_id"]
    date_hierarchy = "at"
    readonly_fields = [
        "at",
        "actor",
        "actor_name",
        "action",
        "content_type",
        "object_id",
        "object_repr",
        "shown_changes",
        "fund",
        "superior_union_id",
        "grassroots_union_id",
    ]
    exclude = ["changes"]

    @admin.display(description=_("nội dung thay đổi"))
    def shown_changes(self, obj):
        return format_html(
            "<table><tr><th>Trường</th><th>Trước</th><th>Sau</th></tr>{}</table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                (
                    (k, "—" if v[0] in (None, "") else v[0], "—" if v[1] in (None, "") else v[1])
                    for k, v in obj.changes.items()
                    if isinstance(v, list | tuple) and len(v) == 2
                ),
            ),
        )


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    """Queued tasks: those still pending are waiting for the broker (Redis) to come back."""

    list_display = ["id", "task_name", "status", "attempts", "last_error", "created_at"]
    list_filter = ["status", "task_name"]

    def get_queryset(self, request):
        # Technical rows with no fund: site administrators only.
        qs = admin.ModelAdmin.get_queryset(self, request)
        return qs if request.user.is_superuser else qs.none()
