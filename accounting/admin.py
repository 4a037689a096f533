from django.contrib import admin

from .models import Account, ChainLink, JournalEntry, PeriodClose, Posting


class ReadOnlyAdmin(admin.ModelAdmin):
    """The ledger is written only through services; the admin only shows it."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "account_type", "normal_side", "currency"]
    search_fields = ["code", "name"]


class PostingInline(admin.TabularInline):
    model = Posting
    fields = ["account", "amount", "superior_union_id", "grassroots_union_id", "subledger"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    list_display = ["id", "effective_date", "memo", "document_type", "document_id", "recorded_at"]
    list_filter = ["effective_date", "document_type"]
    search_fields = ["memo", "document_id", "idempotency_key"]
    inlines = [PostingInline]


@admin.register(PeriodClose)
class PeriodCloseAdmin(ReadOnlyAdmin):
    list_display = ["closed_through", "closed_at", "closed_by"]


@admin.register(ChainLink)
class ChainLinkAdmin(ReadOnlyAdmin):
    list_display = ["seq", "entry", "link_hash", "sealed_at"]
