from django.contrib import admin

from reports.models import QuarterlyReport


@admin.register(QuarterlyReport)
class QuarterlyReportAdmin(admin.ModelAdmin):
    """Stored reports are written by ``reports.services`` only: read-only here."""

    list_display = ("year", "quarter", "superior_union", "generated_at", "generation", "chain_seq")
    list_filter = ("year", "quarter")
    search_fields = ("headline", "superior_union__code", "superior_union__name")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
