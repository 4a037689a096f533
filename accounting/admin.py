"""The ledger in the Django admin: read-only, in Vietnamese.

The ledger is written only through services (and PostgreSQL refuses edits anyway), so no admin
here can add, change or delete anything; every list is for reading and searching.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounting.formatting import format_vnd
from accounting.models import (
    Account,
    AccountCheckpoint,
    ChainLink,
    CommandRecord,
    JournalEntry,
    PeriodClose,
    Posting,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shows the ledger; never writes it."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.display(description=_("Nợ"))
def _debit(posting):
    return format_vnd(posting.debit, symbol=False) if posting.debit else ""


@admin.display(description=_("Có"))
def _credit(posting):
    return format_vnd(posting.credit, symbol=False) if posting.credit else ""


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "account_type", "normal_side", "is_contra", "currency"]
    list_filter = ["account_type"]
    search_fields = ["code", "name", "name_en"]


class PostingInline(admin.TabularInline):
    model = Posting
    fields = [
        "account",
        _debit,
        _credit,
        "fund_id",
        "superior_union_id",
        "grassroots_union_id",
        "subledger",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "effective_date",
        "memo",
        "document_type",
        "document_id",
        "reversal_of",
        "posted_by",
        "recorded_at",
    ]
    list_filter = ["effective_date", "document_type"]
    search_fields = ["memo", "document_id", "idempotency_key"]
    date_hierarchy = "effective_date"
    inlines = [PostingInline]


@admin.register(Posting)
class PostingAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "entry",
        "effective_date",
        "account",
        _debit,
        _credit,
        "fund_id",
        "superior_union_id",
        "grassroots_union_id",
        "subledger",
    ]
    list_filter = ["account"]
    list_select_related = ["entry", "account"]
    search_fields = ["subledger", "entry__memo"]
    date_hierarchy = "effective_date"


@admin.register(PeriodClose)
class PeriodCloseAdmin(ReadOnlyAdmin):
    list_display = ["closed_through", "closed_at", "closed_by", "note"]


@admin.register(AccountCheckpoint)
class AccountCheckpointAdmin(ReadOnlyAdmin):
    list_display = ["as_of", "account", "fund_id", "currency", "balance", "posting_count"]
    list_filter = ["as_of"]
    list_select_related = ["account"]


@admin.register(ChainLink)
class ChainLinkAdmin(ReadOnlyAdmin):
    list_display = ["seq", "entry", "link_hash", "sealed_at"]
    list_select_related = ["entry"]


@admin.register(CommandRecord)
class CommandRecordAdmin(ReadOnlyAdmin):
    list_display = ["scope", "key", "result_id", "created_at"]
    search_fields = ["key"]
