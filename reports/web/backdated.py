"""The auditor's list of back-dated postings: entries dated before their fund's open window,
each with the reason it was given (docs/ledger.md, "Value dates"), for a period, exportable
to XLSX and CSV (``reports.exports``). Mounted under ``/audit/backdated/``."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from accounting.selectors import backdated_entries, ledger_signed_head
from fund.access import READERS_FUND_WIDE, access
from fund.people import person_name
from reports.exports import chain_head_text, export_filename, export_format, table_response
from reports.web.audit import export_links, period_from, quarter_links

BY_CHOICES = [
    ("value", gettext_lazy("Ngày hạch toán")),
    ("recorded", gettext_lazy("Ngày ghi sổ")),
]

HEADERS = [
    gettext_lazy("Ngày hạch toán"),
    gettext_lazy("Thời điểm ghi sổ"),
    gettext_lazy("Bút toán"),
    gettext_lazy("Diễn giải"),
    gettext_lazy("Số tiền"),
    gettext_lazy("Người ghi sổ"),
    gettext_lazy("Lý do ghi sổ lùi ngày"),
]


class ByForm(forms.Form):
    by = forms.ChoiceField(label=gettext_lazy("Lọc theo"), choices=BY_CHOICES, required=False)


@access(READERS_FUND_WIDE)
@require_GET
def backdated_list_view(request):
    """Back-dated entries of the user's fund whose value date (or, `by=recorded`, the day they
    were recorded) falls in the period; the current quarter unless asked."""
    period = period_from(request)
    by_form = ByForm(request.GET or None)
    by = "value"
    if by_form.is_bound and by_form.is_valid():
        by = by_form.cleaned_data.get("by") or "value"
    entries = backdated_entries(
        start=period.start, end=period.end, fund_id=request.scope.fund_id, by=by
    )
    title = _("Bút toán ghi sổ lùi ngày")
    if fmt := export_format(request):
        return table_response(
            format=fmt,
            filename=export_filename("ghi-so-lui-ngay", period.start, period.end),
            headers=HEADERS,
            rows=(
                [
                    e.effective_date,
                    e.recorded_at,
                    e.pk,
                    e.memo,
                    Decimal(e.total),
                    person_name(e.posted_by),
                    e.backdated_reason,
                ]
                for e in entries
            ),
            title=f"{title} {period.label}",
            chain_head=chain_head_text(ledger_signed_head()),
        )
    return render(
        request,
        "audit/backdated.html",
        {
            "title": title,
            "entries": [(e, person_name(e.posted_by)) for e in entries],
            "period": period,
            "quarters": quarter_links(request, period.end.year),
            "export": export_links(request),
            "by_form": by_form if by_form.is_bound else ByForm(initial={"by": by}),
            "extra_params": [],
        },
    )
