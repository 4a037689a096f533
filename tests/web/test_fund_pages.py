"""The fund officer's pages: dashboard, approval queue, disbursement, repayments, lists."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from accounting.models import JournalEntry
from fund.models import CapitalMovement
from loans.models import ApplicationStatus, Loan, LoanApplication, Repayment
from loans.servicing.close_of_business import close_of_business_catch_up, close_of_business_run
from loans.tests.factories import application_to, today
from tests.web.helpers import idempotency_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewed(borrower, product, officers, capital):
    """An application of LB-001's member entered by the union, reviewed by LB."""
    return application_to(
        "reviewed",
        borrower=borrower,
        product=product,
        maker=officers.grassroots,
        reviewer=officers.superior,
        approver=None,
    )


def test_dashboard_figures_and_chart(as_user, officers, loan):
    close_of_business_run(fund_id=loan.fund_id, business_date=today())
    r = as_user(officers.fund).get(reverse("loans:dashboard"))
    body = r.content.decode()
    assert r.status_code == 200
    assert "12.000.000 ₫" in body  # outstanding: the one loan
    assert "<svg" in body and "Quý I/" in body
    assert "8,33%" in body  # overdue principal: 1 of 12 million (its first installment is late)
    assert f"theo kết quả cuối ngày {today():%d/%m/%Y}" in body


def test_dashboard_arrears_are_the_close_of_business_figures(as_user, officers, loan):
    """Before any close of business the loan's arrears are not known yet: the dashboard says
    so; the outstanding balance (the ledger) is exact at once."""
    body = as_user(officers.fund).get(reverse("loans:dashboard")).content.decode()
    assert "12.000.000 ₫" in body
    assert "chưa chạy xử lý cuối ngày" in body
    assert "8,33%" not in body


def test_wrong_role_gets_403(as_user, officers):
    for name in ("loans:dashboard", "loans:approvals", "fundweb:capital", "loans:remittance"):
        assert as_user(officers.grassroots).get(reverse(name)).status_code == 403
        assert as_user(officers.superior).get(reverse(name)).status_code == 403
    assert as_user(officers.fund).get(reverse("loans:collections")).status_code == 403
    assert as_user(officers.fund).get(reverse("loans:reviews")).status_code == 403


def test_approval_queue_lists_reviewed_applications(as_user, officers, reviewed):
    body = as_user(officers.fund).get(reverse("loans:approvals")).content.decode()
    assert f"#{reviewed.pk}" in body
    assert reviewed.borrower.full_name in body


def test_approve_then_disburse(as_user, officers, reviewed):
    c = as_user(officers.checker)
    page = c.get(reverse("loans:application_detail", args=[reviewed.pk]))
    assert 'id="approve-form"' in page.content.decode()
    r = c.post(
        reverse("loans:application_approve", args=[reviewed.pk]),
        {"idempotency_key": idempotency_key(page)},
    )
    assert r.status_code == 302
    reviewed.refresh_from_db()
    assert reviewed.status == ApplicationStatus.APPROVED
    assert reviewed.approved_by == officers.checker

    # Separation of duties: the approver may not pay the loan out; the page says which rule.
    page = c.get(reverse("loans:application_detail", args=[reviewed.pk]))
    assert 'id="disburse-form"' not in page.content.decode()
    entries = JournalEntry.objects.count()
    data = {"idempotency_key": "mine", "disbursed_on": today().isoformat()}
    r = c.post(reverse("loans:application_disburse", args=[reviewed.pk]), data)
    assert r.status_code == 400 and "Tách bạch nhiệm vụ" in r.content.decode()
    assert not Loan.objects.exists() and JournalEntry.objects.count() == entries

    c = as_user(officers.fund)
    page = c.get(reverse("loans:application_detail", args=[reviewed.pk]))
    assert 'id="disburse-form"' in page.content.decode()
    key = idempotency_key(page)
    data = {"idempotency_key": key, "disbursed_on": today().isoformat()}
    r = c.post(reverse("loans:application_disburse", args=[reviewed.pk]), data)
    assert r.status_code == 302
    loan = Loan.objects.get(application=reviewed)
    assert r["Location"] == reverse("loans:loan_detail", args=[loan.pk])
    # A double submit of the same form posts once and lands on the same loan.
    r = c.post(reverse("loans:application_disburse", args=[reviewed.pk]), data)
    assert r.status_code == 302 and r["Location"] == reverse("loans:loan_detail", args=[loan.pk])
    assert Loan.objects.filter(application=reviewed).count() == 1
    assert (
        JournalEntry.objects.filter(
            document_type=loan.disbursement_entry.document_type,
            document_id=loan.disbursement_entry.document_id,
        ).count()
        == 1
    )


def test_an_approval_dated_after_today_is_refused_by_its_date(as_user, officers, reviewed):
    from datetime import timedelta

    from accounting.models import CommandRecord
    from fund.models import AuditLog

    c = as_user(officers.checker)
    page = c.get(reverse("loans:application_detail", args=[reviewed.pk]))
    tables = (AuditLog, CommandRecord)
    before = [m.objects.count() for m in tables]
    tomorrow = (today() + timedelta(days=1)).strftime("%d/%m/%Y")
    r = c.post(
        reverse("loans:application_approve", args=[reviewed.pk]),
        {"idempotency_key": idempotency_key(page), "decided_on": tomorrow},
    )
    assert r.status_code == 400 and 'data-field="decided_on"' in r.content.decode()
    reviewed.refresh_from_db()
    assert reviewed.status == ApplicationStatus.REVIEWED and reviewed.approved_on is None
    assert [m.objects.count() for m in tables] == before


def test_maker_checker_the_maker_cannot_approve(as_user, officers, borrower, product, capital):
    """A fund officer who reviewed the application cannot approve it: the refusal is shown."""
    app = application_to(
        "reviewed",
        borrower=borrower,
        product=product,
        maker=officers.grassroots,
        reviewer=officers.fund,
        approver=None,
    )
    c = as_user(officers.fund)
    page = c.get(reverse("loans:application_detail", args=[app.pk]))
    assert "một cán bộ quỹ khác phải phê duyệt" in page.content.decode()
    r = c.post(
        reverse("loans:application_approve", args=[app.pk]),
        {"idempotency_key": idempotency_key(page)},
    )
    assert r.status_code == 400
    assert "không được tự phê duyệt" in r.content.decode()
    app.refresh_from_db()
    assert app.status == ApplicationStatus.REVIEWED


def test_reject_needs_a_reason_and_shows_in_refusals(as_user, officers, reviewed):
    c = as_user(officers.checker)
    page = c.get(reverse("loans:application_detail", args=[reviewed.pk]))
    url = reverse("loans:application_reject", args=[reviewed.pk])
    key = page.content.decode().split('name="reject-idempotency_key" value="', 1)[1][:32]
    r = c.post(url, {"reject-idempotency_key": key, "reject-reason": ""})
    assert r.status_code == 400
    assert 'data-field="reason"' in r.content.decode()
    reviewed.refresh_from_db()
    assert reviewed.status == ApplicationStatus.REVIEWED
    r = c.post(url, {"reject-idempotency_key": key, "reject-reason": "Không đủ hồ sơ hộ nghèo"})
    assert r.status_code == 302
    body = c.get(reverse("loans:approvals")).content.decode()
    assert "Không đủ hồ sơ hộ nghèo" in body


def test_disburse_with_bad_date_shows_field_error(as_user, officers, borrower, product, capital):
    app = application_to(
        "approved",
        borrower=borrower,
        product=product,
        maker=officers.grassroots,
        reviewer=officers.superior,
        approver=officers.checker,
    )
    c = as_user(officers.fund)
    page = c.get(reverse("loans:application_detail", args=[app.pk]))
    r = c.post(
        reverse("loans:application_disburse", args=[app.pk]),
        {"idempotency_key": idempotency_key(page), "disbursed_on": "31/02/2026"},
    )
    assert r.status_code == 400
    assert 'data-field="disbursed_on"' in r.content.decode()
    assert not Loan.objects.filter(application=app).exists()


def test_loan_page_schedule_arrears_ledger(as_user, officers, loan):
    close_of_business_catch_up(fund_id=loan.fund_id, through_date=today() - timedelta(days=1))
    body = as_user(officers.fund).get(reverse("loans:loan_detail", args=[loan.pk])).content.decode()
    assert 'data-testid="schedule"' in body
    assert "Quá hạn" in body and 'data-testid="arrears"' in body
    assert "1283" in body  # the disbursement's ledger lines
    assert 'id="repay-form"' in body


def test_single_repayment_posts_once_and_bad_amount_writes_nothing(as_user, officers, loan):
    c = as_user(officers.fund)
    url = reverse("loans:loan_repay", args=[loan.pk])
    page = c.get(reverse("loans:loan_detail", args=[loan.pk]))
    key = idempotency_key(page)
    r = c.post(url, {"idempotency_key": key, "amount": "abc", "paid_on": today().isoformat()})
    assert r.status_code == 400
    assert 'data-field="amount"' in r.content.decode()
    assert "Số tiền chỉ gồm chữ số" in r.content.decode()
    assert not Repayment.objects.exists()
    data = {"idempotency_key": key, "amount": "1.500.000", "paid_on": today().isoformat()}
    assert c.post(url, data).status_code == 302
    assert c.post(url, data).status_code == 302
    assert Repayment.objects.filter(loan=loan).count() == 1
    assert Repayment.objects.get().amount.amount == Decimal(1_500_000)


def test_form_keys_are_namespaced_per_user_like_the_api(as_user, officers, loan):
    """A key typed into a form cannot take another user's API key: the page's key is namespaced
    by its user exactly as the API's (accounting.idempotency.idempotency_key_for)."""
    from accounting.models import JournalEntry

    c = as_user(officers.fund)
    victim_key = f"api:{officers.grassroots.pk}:tra-no-1"
    data = {"idempotency_key": victim_key, "amount": "1.000.000", "paid_on": today().isoformat()}
    assert c.post(reverse("loans:loan_repay", args=[loan.pk]), data).status_code == 302
    entry = JournalEntry.objects.get(document_type="loan_repayment")
    assert entry.idempotency_key == f"loans.repayment:web:{officers.fund.pk}:{victim_key}"
    assert not JournalEntry.objects.filter(idempotency_key=f"loans.repayment:{victim_key}").exists()


def test_other_fund_and_scope_404(as_user, officers, other_loan, reviewed):
    loan = other_loan
    c = as_user(officers.other_fund)
    assert c.get(reverse("loans:loan_detail", args=[loan.pk])).status_code == 404
    assert c.get(reverse("loans:application_detail", args=[reviewed.pk])).status_code == 404
    r = c.post(reverse("loans:application_approve", args=[reviewed.pk]), {"idempotency_key": "k"})
    assert r.status_code == 404
    r = c.post(reverse("loans:loan_repay", args=[loan.pk]), {"idempotency_key": "k"})
    assert r.status_code == 404


def test_loan_list_search_filter_paginate(as_user, officers, loan, other_loan):
    c = as_user(officers.fund)
    body = c.get(reverse("loans:loan_list")).content.decode()
    assert loan.borrower.full_name in body and other_loan.borrower.full_name in body
    body = c.get(reverse("loans:loan_list"), {"q": "Bình"}).content.decode()
    assert other_loan.borrower.full_name in body and loan.borrower.full_name not in body
    body = c.get(
        reverse("loans:loan_list"), {"grassroots_union": loan.grassroots_union_id}
    ).content.decode()
    assert loan.borrower.full_name in body and other_loan.borrower.full_name not in body
    assert c.get(reverse("loans:loan_list"), {"page": "99"}).status_code == 200


def test_borrower_list_search(as_user, officers, loan, other_loan):
    c = as_user(officers.fund)
    body = c.get(reverse("loans:borrower_list"), {"q": "Hoa"}).content.decode()
    assert "Nguyễn Thị Hoa" in body and "Trần Văn Bình" not in body


def test_remittance_by_the_fund_for_a_union(as_user, officers, org, loan):
    c = as_user(officers.fund)
    page = c.get(reverse("loans:remittance"), {"union": org.lb1.pk})
    assert page.status_code == 200
    assert loan.borrower.full_name in page.content.decode()
    url = reverse("loans:remittance") + f"?union={org.lb1.pk}"
    data = {
        "idempotency_key": idempotency_key(page),
        "receipt_number": "UNC-0001",
        "paid_on": today().isoformat(),
        f"amount_{loan.pk}": "1000000",
        "confirmed": "1",
    }
    assert c.post(url, data).status_code == 302
    assert Repayment.objects.filter(loan=loan, batch__receipt_number="UNC-0001").count() == 1
    assert c.get(reverse("loans:remittance"), {"union": org.other_gu.pk}).status_code == 404


def test_capital_contribution_form(as_user, officers, capital):
    c = as_user(officers.fund)
    page = c.get(reverse("fundweb:capital"))
    assert page.status_code == 200
    source = capital.source
    before = CapitalMovement.objects.count()
    r = c.post(
        reverse("fundweb:capital"),
        {
            "idempotency_key": idempotency_key(page),
            "source": source.pk,
            "amount": "0",
            "effective_date": "",
        },
    )
    assert r.status_code == 400
    body = r.content.decode()
    assert 'data-field="amount"' in body and 'data-field="effective_date"' in body
    assert CapitalMovement.objects.count() == before
    data = {
        "idempotency_key": idempotency_key(page),
        "source": source.pk,
        "amount": "50.000.000",  # below the fund's threshold of four eyes: posts at once
        "effective_date": today().isoformat(),
    }
    # A confirmation page first (nothing posted), then the confirmed form posts once however
    # often it is sent.
    confirm = c.post(reverse("fundweb:capital"), data)
    assert confirm.status_code == 200 and 'id="confirm-form"' in confirm.content.decode()
    assert "năm mươi triệu đồng" in confirm.content.decode().lower()
    assert CapitalMovement.objects.count() == before
    data["confirmed"] = "1"
    assert c.post(reverse("fundweb:capital"), data).status_code == 302
    assert c.post(reverse("fundweb:capital"), data).status_code == 302
    assert CapitalMovement.objects.count() == before + 1


def test_plans_page(as_user, officers, loan):
    r = as_user(officers.fund).get(reverse("fundweb:plans"))
    assert r.status_code == 200
    assert "Doanh số cho vay" in r.content.decode()


def test_application_list_filter(as_user, officers, reviewed):
    c = as_user(officers.fund)
    body = c.get(reverse("loans:application_list"), {"status": "reviewed"}).content.decode()
    assert f"#{reviewed.pk}" in body
    body = c.get(reverse("loans:application_list"), {"status": "draft"}).content.decode()
    assert f"#{reviewed.pk}<" not in body
    assert LoanApplication.objects.count() == 1


def test_action_on_an_application_that_moved_on_shows_why(as_user, officers, reviewed):
    """Two fund officers open the same application; the second approval is refused with the
    reason at the top of the page (its form is no longer offered)."""
    c1, c2 = as_user(officers.checker), as_user(officers.checker)
    key1 = idempotency_key(c1.get(reverse("loans:application_detail", args=[reviewed.pk])))
    key2 = idempotency_key(c2.get(reverse("loans:application_detail", args=[reviewed.pk])))
    url = reverse("loans:application_approve", args=[reviewed.pk])
    assert c1.post(url, {"idempotency_key": key1}).status_code == 302
    r = c2.post(url, {"idempotency_key": key2})
    assert r.status_code == 400
    assert "form-error" in r.content.decode()
