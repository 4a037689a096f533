"""The fund officers' web pages of the fund layer: plans and capital.

(``fund/views.py`` is the JSON API.) Thin views: figures from ``fund.selectors`` and
``fund.attainment``, writes through ``fund.services`` with the form's idempotency key.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from accounting.errors import ApplicationError

from .access import FUND_OFFICERS, access
from .attainment import INDICATOR_LABELS, attainment
from .forms import IdempotentForm, amount_field, date_field, form_error_apply
from .models import AnnualPlan, CapitalMovement, CapitalSource
from .selectors import capital_available, capital_by_source, capital_committed, capital_total
from .services import capital_contribution_post

PLAN_INDICATORS = ("disbursed_amount", "borrowers", "loans", "grassroots_unions", "jobs_created")


@access(FUND_OFFICERS)
def plans(request):
    """Each year's plan and, for the chosen year, attainment per indicator (quarter and YTD)."""
    fund = request.user.officer.fund
    today = timezone.localdate()
    try:
        year = int(request.GET.get("year", today.year))
    except ValueError:
        year = today.year
    quarter = (today.month - 1) // 3 + 1 if year == today.year else 4
    rows = []
    for indicator in PLAN_INDICATORS:
        rows.append(
            {
                "label": INDICATOR_LABELS[indicator],
                "money": indicator == "disbursed_amount",
                "quarter": attainment(fund=fund, indicator=indicator, year=year, quarter=quarter),
                "ytd": attainment(
                    fund=fund, indicator=indicator, year=year, quarter=quarter, period="ytd"
                ),
            }
        )
    return render(
        request,
        "fund/plans.html",
        {
            "plans": AnnualPlan.objects.filter(fund=fund).order_by("-year"),
            "year": year,
            "quarter": quarter,
            "rows": rows,
        },
    )


class ContributionForm(IdempotentForm):
    source = forms.ModelChoiceField(label=_l("Nguồn vốn"), queryset=CapitalSource.objects.none())
    amount = amount_field(_l("Số tiền (đồng)"))
    effective_date = date_field(_l("Ngày hạch toán"))
    memo = forms.CharField(label=_l("Diễn giải"), max_length=500, required=False)

    def __init__(self, *args, fund, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = CapitalSource.objects.filter(fund=fund).order_by("code")


@access(FUND_OFFICERS)
def capital(request):
    """Capital by source, what is available to lend, the movements, and a new contribution."""
    fund = request.user.officer.fund
    form = ContributionForm(
        request.POST or None, fund=fund, initial={"effective_date": timezone.localdate()}
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            try:
                capital_contribution_post(
                    fund=fund,
                    source=d["source"],
                    amount=d["amount"],
                    effective_date=d["effective_date"],
                    memo=d["memo"],
                    idempotency_key=d["idempotency_key"],
                    actor=request.user,
                )
            except ApplicationError as e:
                form_error_apply(form, e, field_map={"effective_date": "effective_date"})
            else:
                messages.success(request, _("Đã ghi nhận vốn góp."))
                return redirect("fundweb:capital")
        status = 400
    return render(
        request,
        "fund/capital.html",
        {
            "form": form,
            "by_source": capital_by_source(fund=fund),
            "total": capital_total(fund=fund),
            "committed": capital_committed(fund=fund),
            "available": capital_available(fund=fund),
            "movements": CapitalMovement.objects.filter(fund=fund)
            .select_related("source", "target_source")
            .order_by("-effective_date", "-id")[:50],
        },
        status=status,
    )
