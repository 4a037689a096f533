"""The loan pages of the web app: thin views over the loans services and selectors.

Every view carries its access rule (``fund.access``); rows are read through the role scope
(``fund.scoping``: another unit's ids answer 404). Forms carry an idempotency key that is passed
to the service, so a double submit posts once. A service's refusal is shown next to the field
it names.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _

from accounting.dates import business_today
from accounting.errors import ApplicationError
from accounting.formatting import format_date_vi, format_vnd
from accounting.money import amount_of
from fund.access import ALL_ROLES, FUND_OFFICERS, WRITERS, access
from fund.attainment import attainment, fund_plan_by_quarter, planned_figure_of
from fund.duties import APPROVER_DISBURSES, duty_applies
from fund.labels import account_name, quarter_name
from fund.models import AnnualPlan, GrassrootsUnion, Role
from fund.scoping import scope_filter, scoped_get_or_404
from fund.selectors import capital_position
from fund.web.confirm import confirm_step
from fund.web.forms import form_error_apply
from loans.documents.selectors import applications_documents_missing
from loans.models import (
    ApplicationEvent,
    ApplicationStatus,
    Borrower,
    DocumentKind,
    Loan,
    LoanApplication,
    LoanChangeRequest,
    LoanStatus,
    LoanTransaction,
    ReminderDelivery,
)
from loans.origination import applications
from loans.origination.disbursement import loan_disburse, loan_disburse_many
from loans.origination.indicators import disbursements_by_quarter
from loans.origination.proposals import borrower_propose, member_application_propose
from loans.origination.selectors import application_list, borrower_search
from loans.reminders.planning import reminder_delivery_requeue
from loans.reminders.selectors import reminder_deliveries_failed
from loans.restructuring.selectors import change_request_list
from loans.servicing import repayments
from loans.servicing.collection_sheets import (
    CollectionLine,
    collection_sheet,
    installment_owed,
    union_member_months,
    union_months,
)
from loans.servicing.selectors import (
    arrears_lines,
    arrears_totals,
    business_date,
    loan_book_arrears,
    loan_ledger_lines,
    loan_list,
    loan_search,
    loans_in_arrears,
)
from loans.web.charts import quarter_chart, quarter_chart_narrow
from loans.web.forms import (
    APPLICATION_FIELDS,
    ApproveForm,
    BatchDisburseForm,
    CollectionEntryForm,
    DisburseForm,
    LoanFilterForm,
    MemberApplicationForm,
    MonthRangeForm,
    ProposeForm,
    ReasonForm,
    RepaymentForm,
    ReviewForm,
    sheet_month,
)
from loans.web.review_facts import review_facts

S = ApplicationStatus
PAGE_SIZE = 25
GRASSROOTS = (Role.GRASSROOTS_OFFICER,)
SUPERIOR = (Role.SUPERIOR_OFFICER,)
REVIEWERS = (Role.FUND_OFFICER, Role.SUPERIOR_OFFICER)


class CappedPaginator(Paginator):
    """Counts the rows only up to ``CAP``: a count of a whole country's loan book on every page
    would cost more than the page. Beyond it the pager says "more than CAP rows" and offers the
    first CAP // PAGE_SIZE pages; the filters narrow the list."""

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        n = self.object_list[: self.CAP + 1].count()
        self.capped = n > self.CAP
        return min(n, self.CAP)


def _page(request, qs, *, paginator=Paginator):
    page = paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()


def _export_query(request) -> str:
    """The page's filters for its export link (``reports.web.lists``): the same rows."""
    query = request.GET.copy()
    for key in ("page", "format"):
        query.pop(key, None)
    return query.urlencode()


# --------------------------------------------------------------------------------------------
# Fund officer: dashboard


@access(FUND_OFFICERS)
def dashboard(request):
    """A fixed number of indexed queries whatever the size of the loan book: balances from the
    ledger's daily turnover, the chart's four quarters in one grouped sum, arrears from the
    figures the close of business keeps on the late loans."""
    scope = request.scope
    fund = request.user.officer.fund
    today = business_today()
    quarter = (today.month - 1) // 3 + 1
    plans = fund_plan_by_quarter(
        plan=AnnualPlan.objects.filter(fund=fund, year=today.year).first(),
        fields=("disbursed_amount", "jobs"),
    )
    # The year's loans by quarter in one grouped read: the chart, this quarter's disbursement
    # and the jobs planned on the loans disbursed since January.
    by_quarter = disbursements_by_quarter(fund=fund, year=today.year)
    current = attainment(
        fund=fund,
        indicator="disbursed_amount",
        year=today.year,
        quarter=quarter,
        compare=False,
        plan_of_year=plans["disbursed_amount"],
        achieved_figure=by_quarter[quarter][0],
    )
    bars = [
        {
            "label": quarter_name(q, today.year),
            "planned": int(planned_figure_of(plans["disbursed_amount"], (q,))),
            "achieved": int(by_quarter[q][0]),
        }
        for q in range(1, 5)
    ]
    jobs = attainment(
        fund=fund,
        indicator="jobs_created",
        year=today.year,
        quarter=quarter,
        period="ytd",
        compare=False,
        plan_of_year=plans["jobs"],
        achieved_figure=sum(by_quarter[q][1] for q in range(1, quarter + 1)),
    )
    position = capital_position(fund=fund)
    outstanding = amount_of(position.outstanding)
    late = loan_book_arrears(fund_id=fund.pk)
    context = {
        "fund": fund,
        "quarter_label": quarter_name(quarter, today.year),
        "quarter_start": date(today.year, 3 * quarter - 2, 1),
        "year_start": date(today.year, 1, 1),
        "today": today,
        "capital_available": position.available,
        "current": current,
        "outstanding": outstanding,
        "overdue": late.amount,
        "overdue_loans": late.loans,
        "overdue_as_of": late.as_of,
        "figures_as_of": {"date": late.as_of},
        "overdue_rate": (late.principal * 100 / outstanding) if outstanding else None,
        "jobs": jobs,
        "chart": quarter_chart(bars),
        "chart_narrow": quarter_chart_narrow(bars),
    }
    waiting = (
        application_list(scope=scope)
        .filter(status__in=(S.REVIEWED, S.APPROVED))
        .order_by()
        .aggregate(
            waiting_approval=Count("id", filter=Q(status=S.REVIEWED)),
            waiting_disbursement=Count("id", filter=Q(status=S.APPROVED)),
        )
    )
    context.update(waiting)
    context["waiting_change_requests"] = change_request_list(
        scope=scope, status=LoanChangeRequest.Status.PENDING
    ).count()
    return render(request, "loans/dashboard.html", context)


# --------------------------------------------------------------------------------------------
# Borrowers


@access(WRITERS)
def borrower_list_view(request):
    q = request.GET.get("q", "").strip()
    gu = request.GET.get("grassroots_union", "")
    qs = borrower_search(
        scope=request.scope, q=q, grassroots_union_id=int(gu) if gu.isdigit() else None
    )
    page, query = _page(request, qs)
    unions = scope_filter(
        GrassrootsUnion.objects.order_by("code"), request.scope, grassroots_field=""
    )
    return render(
        request,
        "loans/borrower_list.html",
        {
            "page": page,
            "query": query,
            "q": q,
            "unions": unions,
            "gu": gu,
            "export_query": _export_query(request),
        },
    )


@access(WRITERS)
def borrower_detail(request, pk):
    borrower = scoped_get_or_404(
        Borrower.objects.select_related("grassroots_union"), request.scope, pk=pk
    )
    return render(
        request,
        "loans/borrower_detail.html",
        {
            "borrower": borrower,
            "loans": borrower.loans.order_by("-disbursed_on"),
            "applications": borrower.applications.order_by("-created_at"),
        },
    )


@access(GRASSROOTS)
def propose(request):
    """The grassroots union proposes a member: register, enter the application, send it."""
    officer = request.user.officer
    gu = officer.grassroots_union
    form = ProposeForm(request.POST or None, fund=officer.fund, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            app = borrower_propose(
                grassroots_union=gu,
                borrower=form.borrower_values(),
                application=form.application_values(),
                idempotency_key=form.cleaned_data["idempotency_key"],
                actor=request.user,
            )
        except ApplicationError as e:
            form_error_apply(form, e)
        else:
            messages.success(
                request,
                _("Đã gửi đề nghị vay của %(name)s lên công đoàn cấp trên (hồ sơ #%(id)s).")
                % {"name": app.borrower.full_name, "id": app.pk},
            )
            return redirect("loans:application_detail", pk=app.pk)
    return render(
        request,
        "loans/propose.html",
        {"form": form, "union": gu},
        status=400 if form.is_bound and form.errors else 200,
    )


@access(GRASSROOTS)
def borrower_apply(request, pk):
    """A new application for a member of the union already registered."""
    borrower = scoped_get_or_404(Borrower.objects.all(), request.scope, pk=pk)
    form = MemberApplicationForm(
        request.POST or None, fund=request.user.officer.fund, user=request.user
    )
    if request.method == "POST" and form.is_valid():
        try:
            app = member_application_propose(
                borrower=borrower,
                application=form.application_values(),
                idempotency_key=form.cleaned_data["idempotency_key"],
                actor=request.user,
            )
        except ApplicationError as e:
            form_error_apply(form, e)
        else:
            messages.success(
                request,
                _("Đã gửi đề nghị vay của %(name)s lên công đoàn cấp trên (hồ sơ #%(id)s).")
                % {"name": borrower.full_name, "id": app.pk},
            )
            return redirect("loans:application_detail", pk=app.pk)
    return render(
        request,
        "loans/borrower_apply.html",
        {"form": form, "borrower": borrower},
        status=400 if form.is_bound and form.errors else 200,
    )


def _application_initial(app: LoanApplication) -> dict:
    """The application's fields as the form shows them (the amount in whole đồng)."""
    initial = {f: getattr(app, f) for f in APPLICATION_FIELDS if f not in ("product", "amount")}
    return {**initial, "product": app.product_id, "amount": int(amount_of(app.amount))}


@access(GRASSROOTS)
def application_edit(request, pk):
    """The grassroots union completes a draft or an application its superior union returned,
    and sends it again: the changes and the sending are one transaction, so a refusal (the
    member no longer eligible, a term the product does not allow) keeps the application as it
    was and shows the reason by its field."""
    app = _get_app(request, pk)
    if app.status not in (S.DRAFT, S.RETURNED):
        messages.error(request, _("Chỉ sửa được hồ sơ đang lập hoặc bị trả lại để bổ sung."))
        return redirect("loans:application_detail", pk=app.pk)
    form = MemberApplicationForm(
        request.POST or None,
        fund=request.user.officer.fund,
        user=request.user,
        initial=_application_initial(app),
    )
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                applications.application_update(
                    application=app, actor=request.user, **form.application_values()
                )
                applications.application_submit(
                    application=app,
                    idempotency_key=form.cleaned_data["idempotency_key"],
                    actor=request.user,
                )
        except ApplicationError as e:
            form_error_apply(form, e)
        else:
            messages.success(
                request,
                _("Đã sửa và gửi lại hồ sơ #%(id)s lên công đoàn cấp trên.") % {"id": app.pk},
            )
            return redirect("loans:application_detail", pk=app.pk)
    returned = (
        app.events.filter(action="review_return").order_by("-at", "-id").first()
        if app.status == S.RETURNED
        else None
    )
    return render(
        request,
        "loans/application_edit.html",
        {"form": form, "app": app, "returned": returned},
        status=400 if form.is_bound and form.errors else 200,
    )


# --------------------------------------------------------------------------------------------
# Applications


def _applications(
    request,
    *,
    status=None,
    title,
    template="loans/application_list.html",
    extra=None,
    response_status=200,
):
    qs = application_list(scope=request.scope, status=status).order_by("-created_at", "-id")
    page, query = _page(request, qs)
    if status == S.SUBMITTED:
        # The queue of reviews says what each application still lacks (one query).
        labels = dict(DocumentKind.choices)
        missing = applications_documents_missing(page.object_list)
        for app in page.object_list:
            app.documents_missing = [labels[k] for k in missing.get(app.pk, [])]
    context = {"page": page, "query": query, "title": title, "status": status}
    context.update(extra or {})
    return render(request, template, context, status=response_status)


@access(WRITERS)
def application_list_view(request):
    status = request.GET.get("status") or None
    if status not in S.values:
        status = None
    return _applications(
        request,
        status=status,
        title=_("Hồ sơ vay"),
        extra={"statuses": S.choices, "show_filter": True},
    )


@access(SUPERIOR)
def reviews(request):
    return _applications(request, status=S.SUBMITTED, title=_("Hồ sơ chờ thẩm định"))


@access(FUND_OFFICERS)
def approvals(request):
    """The approval queue (reviewed by the superior union) and the latest refusals."""
    refused = (
        application_list(scope=request.scope)
        .filter(status__in=(S.REJECTED, S.CANCELLED))
        .order_by("-decided_at")[:10]
    )
    return _applications(
        request,
        status=S.REVIEWED,
        title=_("Hồ sơ chờ phê duyệt"),
        extra={"refused": refused, "queue": "approvals"},
    )


@access(FUND_OFFICERS)
def disbursements(request):
    """The approved applications waiting; the officer ticks several and pays them out on one
    date (``loans.origination.disbursement.loan_disburse_many``: one transaction, all or
    none, each under its own key), after a confirmation page with the count and the total
    (``fund.web.confirm``)."""
    form = BatchDisburseForm(
        request.POST or None,
        user=request.user,
        # Disbursed ones too: a repeated submit finds them, and the service answers it (the
        # same key: the loans already made; another key: refused, by the application's status).
        applications=application_list(scope=request.scope).filter(
            status__in=(S.APPROVED, S.DISBURSED)
        ),
        initial={"disbursed_on": business_today()},
    )

    def queue(form, status):
        return _applications(
            request,
            status=S.APPROVED,
            title=_("Hồ sơ chờ giải ngân"),
            extra={
                "queue": "disbursements",
                "batch_form": form,
                # Separation of duties: the officer's own approvals are not offered to them.
                "approver_may_not_disburse": duty_applies(
                    request.user.officer.fund, APPROVER_DISBURSES
                ),
                "selected": {str(v) for v in request.POST.getlist("applications")},
            },
            response_status=status,
        )

    if request.method != "POST":
        return queue(form, 200)

    def confirm_page(form):
        apps = form.cleaned_data["applications"]
        return render(
            request,
            "loans/disburse_confirm.html",
            {"form": form, "apps": apps, "total": sum(amount_of(a.amount) for a in apps)},
        )

    def post(form):
        d = form.cleaned_data
        loans = loan_disburse_many(
            applications=d["applications"],
            disbursed_on=d["disbursed_on"],
            idempotency_keys=form.keys(),
            actor=request.user,
            cash_account=d["cash_account"],
            backdate_reason=d["backdate_reason"],
        )
        total = format_vnd(sum(amount_of(x.principal) for x in loans))
        messages.success(
            request,
            _("Đã giải ngân %(n)s khoản vay, tổng %(total)s.") % {"n": len(loans), "total": total},
        )
        return redirect("loans:disbursements")

    def refused(form, e):
        application = getattr(e, "application_id", None)
        if application is None:
            form_error_apply(form, e)
        else:
            params = {"id": application, "message": e.message}
            form.add_error(None, _("Hồ sơ #%(id)s: %(message)s") % params)

    return confirm_step(
        request, form, form_page=queue, confirm_page=confirm_page, post=post, refused=refused
    )


def _application_page(request, app, *, status=200, **forms):
    scope = request.scope
    role = scope.role
    context = {"app": app, "events": app.events.select_related("actor").order_by("at", "id")}
    # A link to the member's page only for those its access rule lets in (not an auditor).
    context["borrower_linked"] = role in borrower_detail.access_rule
    if app.status == S.SUBMITTED and role in REVIEWERS:
        context["review_form"] = forms.get("review_form") or ReviewForm()
    if app.status == S.REVIEWED and role == Role.FUND_OFFICER:
        context["approve_form"] = forms.get("approve_form") or ApproveForm()
        context["maker_is_me"] = request.user.pk in (
            app.created_by_id,
            app.submitted_by_id,
            app.reviewed_by_id,
        )
    own_approval = app.approved_by_id == request.user.pk and duty_applies(
        app.fund, APPROVER_DISBURSES
    )
    context["own_approval"] = app.status == S.APPROVED and own_approval
    if app.status == S.APPROVED and role == Role.FUND_OFFICER and not own_approval:
        context["disburse_form"] = forms.get("disburse_form") or DisburseForm(
            initial={"disbursed_on": business_today()}
        )
    if app.status in (S.SUBMITTED, S.REVIEWED, S.APPROVED) and role in REVIEWERS:
        context["reject_form"] = forms.get("reject_form") or ReasonForm(prefix="reject")
    if app.status in (S.DRAFT, S.RETURNED) and role == Role.GRASSROOTS_OFFICER:
        context["edit_offered"] = True
    if app.status in (S.DRAFT, S.SUBMITTED, S.RETURNED) and role == Role.GRASSROOTS_OFFICER:
        context["cancel_form"] = forms.get("cancel_form") or ReasonForm(prefix="cancel")
    if app.status == S.DISBURSED and hasattr(app, "loan"):
        context["loan"] = app.loan
    context.update(review_facts(app, on=business_today()))  # the member's debt, guarantor, schedule
    # A refused action whose form is no longer offered (the application moved on meanwhile):
    # its errors are shown at the top instead.
    context["action_errors"] = [
        e
        for name, form in forms.items()
        if context.get(name) is not form
        for errors in form.errors.values()
        for e in errors
    ]
    return render(request, "loans/application_detail.html", context, status=status)


def _get_app(request, pk):
    return scoped_get_or_404(
        LoanApplication.objects.select_related(
            "borrower", "product", "grassroots_union", "superior_union"
        ),
        request.scope,
        pk=pk,
    )


@access(ALL_ROLES)
def application_detail(request, pk):
    return _application_page(request, _get_app(request, pk))


def _action(request, pk, *, form_class, form_name, run, done, prefix=None):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    app = _get_app(request, pk)
    form = form_class(request.POST, prefix=prefix, user=request.user)
    if form.is_valid():
        try:
            result = run(app, form.cleaned_data)
        except ApplicationError as e:
            form_error_apply(form, e)
        else:
            messages.success(request, done)
            if isinstance(result, Loan):
                return redirect("loans:loan_detail", pk=result.pk)
            return redirect("loans:application_detail", pk=app.pk)
    return _application_page(request, app, status=400, **{form_name: form})


@access(REVIEWERS)
def application_review(request, pk):
    return _action(
        request,
        pk,
        form_class=ReviewForm,
        form_name="review_form",
        run=lambda app, d: applications.application_review(
            application=app,
            decision=d["decision"],
            note=d["note"],
            idempotency_key=d["idempotency_key"],
            actor=request.user,
            decided_on=d.get("decided_on"),
            backdate_reason=d["backdate_reason"],
        ),
        done=_("Đã ghi ý kiến thẩm định."),
    )


@access(FUND_OFFICERS)
def application_approve(request, pk):
    return _action(
        request,
        pk,
        form_class=ApproveForm,
        form_name="approve_form",
        run=lambda app, d: applications.application_approve(
            application=app,
            idempotency_key=d["idempotency_key"],
            actor=request.user,
            decided_on=d.get("decided_on"),
            backdate_reason=d["backdate_reason"],
        ),
        done=_("Đã phê duyệt hồ sơ; hồ sơ chờ giải ngân."),
    )


@access(REVIEWERS)
def application_reject(request, pk):
    return _action(
        request,
        pk,
        form_class=ReasonForm,
        form_name="reject_form",
        prefix="reject",
        run=lambda app, d: applications.application_reject(
            application=app,
            reason=d["reason"],
            idempotency_key=d["idempotency_key"],
            actor=request.user,
            decided_on=d.get("decided_on"),
            backdate_reason=d["backdate_reason"],
        ),
        done=_("Đã từ chối hồ sơ."),
    )


@access((Role.GRASSROOTS_OFFICER, Role.FUND_OFFICER))
def application_cancel(request, pk):
    return _action(
        request,
        pk,
        form_class=ReasonForm,
        form_name="cancel_form",
        prefix="cancel",
        run=lambda app, d: applications.application_cancel(
            application=app,
            reason=d["reason"],
            idempotency_key=d["idempotency_key"],
            actor=request.user,
            decided_on=d.get("decided_on"),
            backdate_reason=d["backdate_reason"],
        ),
        done=_("Đã hủy hồ sơ."),
    )


@access(FUND_OFFICERS)
def application_disburse(request, pk):
    return _action(
        request,
        pk,
        form_class=DisburseForm,
        form_name="disburse_form",
        run=lambda app, d: loan_disburse(
            application=app,
            disbursed_on=d["disbursed_on"],
            idempotency_key=d["idempotency_key"],
            actor=request.user,
            backdate_reason=d["backdate_reason"],
        ),
        done=_("Đã giải ngân khoản vay."),
    )


# --------------------------------------------------------------------------------------------
# Loans


@access(ALL_ROLES)
def loan_list_view(request):
    form = LoanFilterForm(request.GET or None, scope=request.scope)
    qs = loan_search(scope=request.scope, **form.filters())
    page, query = _page(request, qs, paginator=CappedPaginator)
    return render(
        request,
        "loans/loan_list.html",
        {
            "page": page,
            "query": query,
            "form": form,
            "rows": _loan_rows(page.object_list),
            "export_query": _export_query(request),
        },
    )


LOAN_LIST_COLUMNS = (
    "id",
    "borrower__full_name",
    "grassroots_union__name",
    "disbursed_on",
    "principal",
    "outstanding_principal",
    "debt_group",
    "status",
)


def _loan_rows(page_of_loans) -> list[tuple]:
    """The loan list's cells, formatted once: link, number, borrower, union, disbursed on,
    principal, outstanding, debt group, status; and whether the row shows as overdue.

    Only the columns the list shows, as plain values: a loan row is wide, and building a Loan,
    a Borrower and a union for each row cost more than the query. (The values are taken from
    the page's slice, so that the pager's count does not join the borrowers and unions.)"""
    # One reverse() for the page, not one per row: the link of loan 0, split around its number.
    head, tail = reverse("loans:loan_detail", args=[0]).rsplit("0", 1)
    statuses = dict(LoanStatus.choices)
    return [
        (
            f"{head}{pk}{tail}",
            pk,
            borrower,
            union,
            format_date_vi(disbursed_on),
            format_vnd(principal),
            format_vnd(outstanding),
            debt_group,
            statuses.get(status, status),
            debt_group > 1,
        )
        for pk, borrower, union, disbursed_on, principal, outstanding, debt_group, status in (
            page_of_loans.values_list(*LOAN_LIST_COLUMNS)
        )
    ]


def _get_loan(request, pk):
    return scoped_get_or_404(
        # The page shows the superior union's name; the application, product and disbursing
        # officer are not shown (a wide join PostgreSQL spent milliseconds planning). The fund:
        # its separation of duties decides whether a reversal is offered (``loans.policy``).
        loan_list(scope=request.scope).select_related("superior_union", "fund"),
        request.scope,
        pk=pk,
    )


def _schedule_rows(installments) -> list[tuple]:
    """The schedule table's cells, formatted once here rather than by a filter per cell."""
    return [
        (
            i.number,
            format_date_vi(i.due_date),
            *(
                format_vnd(v, symbol=False)
                for v in (i.principal_due, i.interest_due, i.savings_due, i.penalty_due, i.owed)
            ),
            i.get_status_display(),
            i.late,
        )
        for i in installments
    ]


def _ledger_rows(loan) -> list[tuple]:
    """The ledger table's cells: date, entry, kind, memo, account, debit, credit."""
    kinds = dict(LoanTransaction.Kind.choices)
    return [
        (
            format_date_vi(line.effective_date),
            line.entry_id,
            kinds.get(line.kind, line.kind),
            line.memo,
            f"{line.account_code} {account_name(line.account_name, line.account_name_en)}",
            format_vnd(line.amount, symbol=False) if line.amount > 0 else "",
            format_vnd(-line.amount, symbol=False) if line.amount < 0 else "",
        )
        for line in loan_ledger_lines(loan_id=loan.pk)
    ]


def _loan_page(request, loan, *, repay_form=None, status=200):
    today = business_today()
    installments = list(
        loan.installments.filter(schedule_version=loan.schedule_version).order_by("number")
    )
    # The arrears are those of the fund's business date (the last close of business), as on
    # the overdue list and in the API: the loan's figures the daily pass wrote, and the rows
    # unpaid that fell due before that date. Only a loan still owed by the borrower is in
    # arrears: a written-off or closed loan's unpaid rows are no longer due from them (what
    # remains is recovery, not arrears).
    as_of = business_date(fund_id=loan.fund_id)
    in_force = loan.status == LoanStatus.ACTIVE and as_of is not None
    arrears = [i for i in installments if in_force and i.status != "paid" and i.due_date < as_of]
    for i in installments:
        i.owed = installment_owed(i)
        i.late = i in arrears
    line = arrears_lines([loan], as_of=as_of)[0]
    # Read once for the page, its actions (a repayment to reverse?) and its decisions (the
    # reversed ones): see loans.policy.page_repayments.
    loan.page_repayments = list(
        loan.repayments.select_related("batch", "reversal_entry").order_by("paid_on", "id")
    )
    # Also for the recall action (an unverified visit?); each line names the visiting officer.
    loan.page_visits = list(loan.visits.select_related("visited_by").order_by("visited_on"))
    context = {
        "loan": loan,
        "schedule": _schedule_rows(installments),
        "arrears": {
            "days_past_due": line.days_past_due if in_force else 0,
            "amount": line.overdue_amount if in_force else 0,
            "principal": amount_of(loan.overdue_principal) if in_force else 0,
            "count": len(arrears),
        },
        "figures_as_of": {"date": as_of},
        "repayments": loan.page_repayments,
        "ledger": _ledger_rows(loan),
        "visits": loan.page_visits,
        "events": ApplicationEvent.objects.filter(application_id=loan.application_id)
        .select_related("actor")
        .order_by("at", "id"),
    }
    if request.scope.role == Role.FUND_OFFICER and loan.status == LoanStatus.ACTIVE:
        context["repay_form"] = repay_form or RepaymentForm(initial={"paid_on": today})
        try:
            context["payoff"] = repayments.full_payoff_quote(
                loan=loan, on=today, installments=installments
            )
        except ApplicationError:
            context["payoff"] = None
    return render(request, "loans/loan_detail.html", context, status=status)


@access(ALL_ROLES)
def loan_detail(request, pk):
    return _loan_page(request, _get_loan(request, pk))


@access(FUND_OFFICERS)
def loan_repay(request, pk):
    """Record one repayment of a loan (the borrower paid the fund directly)."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    loan = _get_loan(request, pk)
    form = RepaymentForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            repayments.repayment_post(
                loan=loan,
                amount=form.cleaned_data["amount"],
                paid_on=form.cleaned_data["paid_on"],
                idempotency_key=form.cleaned_data["idempotency_key"],
                actor=request.user,
                backdate_reason=form.cleaned_data["backdate_reason"],
            )
        except ApplicationError as e:
            form_error_apply(form, e)
        else:
            messages.success(request, _("Đã ghi khoản trả nợ."))
            return redirect("loans:loan_detail", pk=loan.pk)
    return _loan_page(request, loan, repay_form=form, status=400)


# --------------------------------------------------------------------------------------------
# Collections: the grassroots union's month, and the fund's entry of a union's remittance


def _collections(request, gu, *, template="loans/collections.html"):
    year, month = sheet_month(request.GET)
    as_of = business_date(fund_id=request.scope.fund_id)
    lines = collection_sheet(
        scope=request.scope, grassroots_union=gu, year=year, month=month, as_of=as_of
    )
    if request.method == "POST":
        lines += _posted_lines(request, gu, {x.loan.pk for x in lines})
    form = CollectionEntryForm(
        request.POST or None,
        user=request.user,
        lines=lines,
        initial={
            "paid_on": business_today(),
            **{CollectionEntryForm.amount_name(x.loan): x.total for x in lines},
        },
    )

    def page(form, status):
        history = _collection_history(request, gu)
        context = {
            "union": gu,
            "figures_as_of": {"date": as_of},
            "form": form,
            "year": year,
            "month": month,
            "month_value": f"{year:04d}-{month:02d}",
            "total": sum((x.total for x in lines), 0),
            "months": union_months(
                scope=request.scope, grassroots_union=gu, year=year, month=month
            ),
            # The PDF prints the sheet and the history of the months shown here.
            "pdf_url": reverse("collection_sheet_pdf")
            + "?"
            + urlencode({"month": f"{year:04d}-{month:02d}", **history["history_range"]}),
            **history,
        }
        return render(request, template, context, status=status)

    def confirm_page(form):
        """What the remittance will post, added up here from the lines as entered."""
        paid = form.paid_lines()
        return render(
            request,
            "loans/remittance_confirm.html",
            {
                "union": gu,
                "form": form,
                "lines": [(form.row_number(loan), loan, amount) for loan, amount in paid],
                "total": sum((amount for _loan, amount in paid), 0),
            },
        )

    def post(form):
        paid = form.paid_lines()
        batch = repayments.repayment_batch_post(
            grassroots_union=gu,
            receipt_number=form.cleaned_data["receipt_number"],
            paid_on=form.cleaned_data["paid_on"],
            lines=paid,
            idempotency_key=form.cleaned_data["idempotency_key"],
            actor=request.user,
            backdate_reason=form.cleaned_data["backdate_reason"],
        )
        messages.success(
            request,
            _("Đã ghi đợt nộp %(receipt)s: %(n)s thành viên.")
            % {"receipt": batch.receipt_number, "n": len(paid)},
        )
        return redirect("loans:remittance_receipt", pk=batch.pk)

    if request.method != "POST":
        return page(form, 200)
    return confirm_step(
        request,
        form,
        form_page=page,
        confirm_page=confirm_page,
        post=post,
        refused=lambda form, e: form.line_error_apply(e),
    )


def _collection_history(request, gu) -> dict:
    """The union's collection history per month and member, ``?first=&last=`` (the three
    months up to the sheet's month unless asked), and the link of its export."""
    form = MonthRangeForm.of_sheet(request.GET)
    first, last = form.months()
    query = {"first": f"{first[0]:04d}-{first[1]:02d}", "last": f"{last[0]:04d}-{last[1]:02d}"}
    if request.scope.role not in GRASSROOTS:
        query["union"] = gu.pk
    return {
        "history_form": form,
        "history_range": query,
        "history": union_member_months(
            scope=request.scope, grassroots_union=gu, first=first, last=last
        ),
        "history_export_url": reverse("reports:collection_history_export") + "?" + urlencode(query),
    }


def _posted_lines(request, gu, listed: set) -> list:
    """Loans of the union the form was filled in for but no longer on the sheet (a second
    submission after the first paid them off): kept, so the double submit is answered by the
    service's idempotency instead of an empty form."""
    ids = {
        int(k.removeprefix("amount_"))
        for k in request.POST
        if k.startswith("amount_") and k.removeprefix("amount_").isdigit()
    } - listed
    if not ids:
        return []
    loans = loan_list(scope=request.scope).filter(grassroots_union=gu, pk__in=ids)
    return [CollectionLine(loan=loan) for loan in loans.select_related("borrower")]


@access(GRASSROOTS)
def collections(request):
    return _collections(request, request.user.officer.grassroots_union)


@access(FUND_OFFICERS)
def remittance(request):
    """A union's batch remittance, entered at the fund: choose the union, then the lines."""
    union_id = request.GET.get("union", "")
    if not union_id:
        unions = scope_filter(
            GrassrootsUnion.objects.order_by("code"), request.scope, grassroots_field=""
        )
        return render(request, "loans/remittance_pick.html", {"unions": unions})
    gu = scoped_get_or_404(
        GrassrootsUnion.objects.all(), request.scope, pk=union_id, grassroots_field=""
    )
    return _collections(request, gu)


@access(WRITERS)
def overdue(request):
    """The scope's loans in arrears as of the fund's business date (the last close of business:
    the same loans as the API's ``?overdue=true``)."""
    as_of = business_date(fund_id=request.scope.fund_id)
    page = Paginator(loans_in_arrears(scope=request.scope), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "loans/overdue.html",
        {
            "page": page,
            "lines": arrears_lines(page.object_list, as_of=as_of),
            "query": "",
            "total": arrears_totals(scope=request.scope).amount,
            "figures_as_of": {"date": as_of},
        },
    )


# --------------------------------------------------------------------------------------------
# Reminders: the log of what was sent, and the sends that failed (fund officers)


@access(FUND_OFFICERS)
def reminder_log(request):
    """Every reminder of the fund, newest first, filterable by status; failed, retried and
    uncertain sends listed first with a "send again" button (loans.reminders.planning)."""
    scope = request.scope
    status = request.GET.get("status", "")
    rows = scope_filter(ReminderDelivery.objects.all(), scope).select_related(
        "grassroots_union", "installment__loan__borrower", "officer"
    )
    if status in ReminderDelivery.Status.values:
        rows = rows.filter(status=status)
    page = Paginator(rows.order_by("-business_date", "-id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "loans/reminder_log.html",
        {
            "page": page,
            "failed": reminder_deliveries_failed(scope=scope)[:PAGE_SIZE],
            "statuses": ReminderDelivery.Status.choices,
            "status": status,
        },
    )


@access(FUND_OFFICERS)
def reminder_requeue(request, pk: int):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    delivery = scoped_get_or_404(ReminderDelivery.objects.all(), request.scope, pk=pk)
    try:
        reminder_delivery_requeue(delivery=delivery, actor=request.user)
    except ApplicationError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, _("Đã xếp lượt nhắc nợ vào hàng gửi lại."))
    return redirect("loans:reminder_log")
