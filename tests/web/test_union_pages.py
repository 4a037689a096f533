"""The grassroots and superior union officers' pages."""

from datetime import timedelta

import pytest
from django.urls import reverse

from loans.models import ApplicationStatus, Borrower, LoanApplication, Repayment, RepaymentBatch
from loans.tests.factories import BorrowerFactory, application_to, today
from tests.web.helpers import idempotency_key, proposal_data

pytestmark = pytest.mark.django_db


def test_propose_registers_and_sends_once(as_user, officers, org, product):
    c = as_user(officers.grassroots)
    page = c.get(reverse("loans:propose"))
    assert page.status_code == 200
    data = proposal_data(idempotency_key(page), product)
    r = c.post(reverse("loans:propose"), data)
    assert r.status_code == 302, r.content.decode()[-3000:]
    app = LoanApplication.objects.get()
    assert app.status == ApplicationStatus.SUBMITTED
    assert app.borrower.grassroots_union == org.lb1
    assert app.planned_jobs == 2 and app.purpose == "Mua máy may"
    # The same form sent again: nothing new.
    r2 = c.post(reverse("loans:propose"), data)
    assert r2.status_code == 302 and r2["Location"] == r["Location"]
    assert Borrower.objects.filter(national_id="001185100999").count() == 1
    assert LoanApplication.objects.count() == 1


def test_propose_bad_input_shows_field_errors_and_writes_nothing(as_user, officers, product):
    c = as_user(officers.grassroots)
    key = idempotency_key(c.get(reverse("loans:propose")))
    # A form-level error (CCCD too short) and a service refusal (amount above the product's).
    r = c.post(reverse("loans:propose"), proposal_data(key, product, national_id="123"))
    assert r.status_code == 400
    assert 'data-field="national_id"' in r.content.decode()
    r = c.post(reverse("loans:propose"), proposal_data(key, product, amount="90.000.000"))
    body = r.content.decode()
    assert 'data-field="amount"' in body
    assert not Borrower.objects.filter(national_id="001185100999").exists()
    assert not LoanApplication.objects.exists()
    # A CCCD that does not match the date of birth: named by the service, next to the field.
    r = c.post(reverse("loans:propose"), proposal_data(key, product, date_of_birth="17/05/1990"))
    assert 'data-field="' in r.content.decode()
    assert not Borrower.objects.filter(national_id="001185100999").exists()


def test_collections_sheet_entry_and_pdf(as_user, officers, loan):
    c = as_user(officers.grassroots)
    page = c.get(reverse("loans:collections"))
    body = page.content.decode()
    assert loan.borrower.full_name in body
    assert 'data-testid="collection-sheet"' in body
    pdf = c.get(reverse("collection_sheet_pdf"))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    data = {
        "idempotency_key": idempotency_key(page),
        "receipt_number": "PT-01/2026",
        "paid_on": today().isoformat(),
        f"amount_{loan.pk}": "1.200.000",
    }
    # A bad amount: shown next to the borrower's line, nothing posted.
    bad = {**data, f"amount_{loan.pk}": "-5"}
    r = c.post(reverse("loans:collections"), bad)
    assert r.status_code == 400
    assert f'data-field="amount_{loan.pk}"' in r.content.decode()
    assert not RepaymentBatch.objects.exists()
    # Nothing entered at all: refused above the form.
    r = c.post(reverse("loans:collections"), {**data, f"amount_{loan.pk}": ""})
    assert r.status_code == 400 and "ít nhất một thành viên" in r.content.decode()
    # Right: a confirmation page with the total, then twice confirmed: one remittance.
    r = c.post(reverse("loans:collections"), data)
    assert r.status_code == 200 and not RepaymentBatch.objects.exists()
    assert "1.200.000 ₫" in r.content.decode()
    confirmed = {**data, "confirmed": "1"}
    assert c.post(reverse("loans:collections"), confirmed).status_code == 302
    assert c.post(reverse("loans:collections"), confirmed).status_code == 302
    assert RepaymentBatch.objects.count() == 1
    assert Repayment.objects.filter(loan=loan).count() == 1


def test_collections_service_refusal_is_shown(as_user, officers, loan):
    """Paying far more than the loan owes is refused by the service, next to the line."""
    c = as_user(officers.grassroots)
    page = c.get(reverse("loans:collections"))
    data = {
        "idempotency_key": idempotency_key(page),
        "receipt_number": "PT-02/2026",
        "paid_on": today().isoformat(),
        f"amount_{loan.pk}": "900.000.000",
        "confirmed": "1",
    }
    r = c.post(reverse("loans:collections"), data)
    assert r.status_code == 400
    assert 'class="error' in r.content.decode()
    assert not RepaymentBatch.objects.exists()


def test_overdue_list_of_the_union(as_user, officers, org, loan, other_loan):
    from fund.scoping import scope_for
    from loans.servicing.close_of_business import close_of_business_catch_up
    from loans.servicing.selectors import arrears_totals

    # The list is the book as the close of business classified it (through yesterday).
    close_of_business_catch_up(fund_id=org.fund.pk, through_date=today() - timedelta(days=1))
    body = as_user(officers.grassroots).get(reverse("loans:overdue")).content.decode()
    assert loan.borrower.full_name in body
    assert other_loan.borrower.full_name not in body
    first = loan.installments.order_by("number").first()
    days = (today() - timedelta(days=1) - first.due_date).days
    assert days > 0 and f'<td class="num">{days}</td>' in body
    totals = arrears_totals(scope=scope_for(officers.grassroots))
    assert totals.loans == 1 and totals.principal == first.principal_due.amount
    first.refresh_from_db()  # with the penalty the close of business accrued on it
    late = first.principal_due.amount + first.interest_due.amount + first.penalty_due.amount
    assert first.penalty_due.amount > 0 and totals.amount == late


def test_grassroots_scope_404_and_403(as_user, officers, org, loan, other_loan):
    c = as_user(officers.grassroots_lb2)
    assert c.get(reverse("loans:loan_detail", args=[loan.pk])).status_code == 404
    assert c.get(reverse("loans:borrower_detail", args=[loan.borrower_id])).status_code == 404
    assert c.get(reverse("loans:application_detail", args=[loan.application_id])).status_code == 404
    assert c.get(reverse("loans:dashboard")).status_code == 403
    assert c.get(reverse("loans:unions")).status_code == 403
    body = c.get(reverse("loans:borrower_list")).content.decode()
    assert loan.borrower.full_name not in body
    # The PDF of another union is not reachable: a grassroots officer only gets their own.
    assert c.get(reverse("collection_sheet_pdf"), {"union": org.lb1.pk}).status_code == 200
    body = as_user(officers.superior).get(reverse("collection_sheet_pdf"), {"union": org.hbt1.pk})
    assert body.status_code == 404


def test_superior_unions_figures_and_review(as_user, officers, org, product, loan, other_loan):
    member = BorrowerFactory(grassroots_union=org.lb2, full_name="Phạm Văn Cường")
    app = application_to(
        "submitted", borrower=member, product=product, maker=officers.grassroots_lb2, approver=None
    )
    c = as_user(officers.superior)
    body = c.get(reverse("loans:unions")).content.decode()
    assert org.lb1.name in body and org.lb2.name in body and org.hbt1.name not in body
    assert "12.000.000 ₫" in body
    assert f"#{app.pk}" in c.get(reverse("loans:reviews")).content.decode()
    page = c.get(reverse("loans:application_detail", args=[app.pk]))
    url = reverse("loans:application_review", args=[app.pk])
    # "return" needs a reason: the error is shown next to the note.
    r = c.post(url, {"idempotency_key": idempotency_key(page), "decision": "return", "note": ""})
    assert r.status_code == 400 and 'data-field="note"' in r.content.decode()
    r = c.post(
        url,
        {"idempotency_key": idempotency_key(page), "decision": "approve", "note": "Đủ điều kiện"},
    )
    assert r.status_code == 302
    app.refresh_from_db()
    assert app.status == ApplicationStatus.REVIEWED and app.reviewed_by == officers.superior
    # Another superior union's application and loan: 404.
    c2 = as_user(officers.superior_hbt)
    assert c2.get(reverse("loans:application_detail", args=[app.pk])).status_code == 404
    assert c2.post(url, {"idempotency_key": "x", "decision": "approve"}).status_code == 404
    assert c2.get(reverse("loans:loan_detail", args=[loan.pk])).status_code == 404


def test_grassroots_cannot_review_or_approve(as_user, officers, org, product):
    member = BorrowerFactory(grassroots_union=org.lb1)
    app = application_to(
        "submitted", borrower=member, product=product, maker=officers.grassroots, approver=None
    )
    c = as_user(officers.grassroots)
    url = reverse("loans:application_review", args=[app.pk])
    assert c.post(url, {"idempotency_key": "x", "decision": "approve"}).status_code == 403
    assert c.post(reverse("loans:application_approve", args=[app.pk])).status_code == 403


def test_new_application_for_a_registered_member(as_user, officers, org, product):
    member = BorrowerFactory(grassroots_union=org.lb1, full_name="Vũ Thị Thu")
    c = as_user(officers.grassroots)
    page = c.get(reverse("loans:borrower_detail", args=[member.pk]))
    assert reverse("loans:borrower_apply", args=[member.pk]) in page.content.decode()
    url = reverse("loans:borrower_apply", args=[member.pk])
    key = idempotency_key(c.get(url))
    data = {
        k: v
        for k, v in proposal_data(key, product).items()
        if k in ("idempotency_key", "product", "amount", "term", "purpose_kind", "purpose")
        or k in ("planned_jobs", "security_kind", "group_name")
    }
    r = c.post(url, {**data, "term": "2"})  # below the product's minimum term
    assert r.status_code == 400 and 'data-field="term"' in r.content.decode()
    assert not LoanApplication.objects.exists()
    assert c.post(url, data).status_code == 302
    assert c.post(url, data).status_code == 302
    app = LoanApplication.objects.get()
    assert app.borrower == member and app.status == ApplicationStatus.SUBMITTED
    # Another union's officer cannot reach the member.
    r = as_user(officers.grassroots_lb2).get(url)
    assert r.status_code == 404


def test_a_union_pages_book_totals_list_the_longest_overdue_first(officers, loan, other_loan):
    """The totals' ids of the loans in arrears (PostgreSQL) are the overdue list's, in its
    order: the longest overdue first, then by number."""
    from django.db import connection

    from fund.scoping import scope_for
    from loans.models import Loan
    from loans.servicing.selectors import (
        active_book_totals,
        loans_in_arrears,
        longest_in_arrears,
    )

    Loan.objects.filter(pk=loan.pk).update(days_past_due=3)
    Loan.objects.filter(pk=other_loan.pk).update(days_past_due=40)
    scope = scope_for(officers.fund)
    book = active_book_totals(scope=scope)
    assert (book.loans, book.arrears.loans) == (2, 2)
    listed = list(loans_in_arrears(scope=scope).values_list("pk", flat=True))
    assert listed == [other_loan.pk, loan.pk]
    if connection.vendor == "postgresql":
        assert book.longest_ids == listed
    else:
        assert book.longest_ids is None
    for ids in (book.longest_ids, None):
        assert [x.pk for x in longest_in_arrears(scope=scope, limit=1, ids=ids)] == [other_loan.pk]
    Loan.objects.filter(pk=other_loan.pk).update(days_past_due=0)
    book = active_book_totals(scope=scope)
    assert book.arrears.loans == 1 and book.longest_ids in (None, [loan.pk])
