"""The admin in Vietnamese: borrowers, products, applications and loans with their schedules and
ledger postings; changes and moves go through the services."""

import re

import pytest
from django.urls import reverse
from django.utils import formats, translation

from accounting.models import JournalEntry
from fund.models import Role
from loans.models import Borrower, LoanApplication, LoanProduct
from loans.origination.disbursement import loan_disburse
from loans.tests.factories import (
    OfficerFactory,
    UserFactory,
    application_draft,
    application_to,
    new_key,
    today,
)
from loans.tests.helpers import staff

pytestmark = pytest.mark.django_db

MODELS = ["borrower", "loanproduct", "loanapplication", "loan"]


@pytest.fixture
def admin_client(client, org):
    client.force_login(UserFactory(username="admin", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def loan(chain, capital):
    app = application_to(
        "approved",
        borrower=chain.borrower,
        product=chain.product,
        maker=chain.maker,
        reviewer=chain.reviewer,
        approver=chain.approver,
    )
    return loan_disburse(
        application=app, disbursed_on=today(), idempotency_key=new_key(), actor=chain.disburser
    )


@pytest.mark.parametrize("model", MODELS)
def test_every_list_opens_in_vietnamese(admin_client, loan, model):
    r = admin_client.get(reverse(f"admin:loans_{model}_changelist"))
    assert r.status_code == 200
    assert "Quỹ Trợ vốn" in r.content.decode()


def test_the_loan_page_shows_its_schedule_and_its_ledger_postings(admin_client, loan):
    r = admin_client.get(reverse("admin:loans_loan_change", args=[loan.pk]))
    html = r.content.decode()
    assert r.status_code == 200
    assert "Lịch trả nợ" in html or "lịch trả nợ" in html
    first = loan.installments.get(number=1)
    due = first.due_date
    # The page's own format (Vietnamese pads the day: "Ngày 07 tháng 1 năm 2027"), so the check
    # holds on every day of the month.
    with translation.override("vi"):
        assert formats.date_format(due) in html
    assert "1.666.666" in html  # 20,000,000 // 12 principal per installment
    assert "1.666.674" in html  # the last one takes the residue
    entry = loan.disbursement_entry
    assert reverse("admin:accounting_journalentry_change", args=[entry.pk]) in html
    assert "1283" in html and "1121" in html and "20.000.000" in html
    assert f"subledger=loan:{loan.pk}" in html


def test_the_posting_list_filters_by_the_loan_subledger(admin_client, loan):
    r = admin_client.get(
        reverse("admin:accounting_posting_changelist") + f"?subledger={loan.subledger}"
    )
    assert r.status_code == 200
    assert re.search(r"\s2 định khoản\s", r.content.decode())


def test_borrower_and_application_pages_open(admin_client, loan, chain):
    r = admin_client.get(reverse("admin:loans_borrower_change", args=[chain.borrower.pk]))
    assert r.status_code == 200
    assert "20.000.000" in r.content.decode()  # the loan in the borrower's inline
    r = admin_client.get(reverse("admin:loans_loanapplication_change", args=[loan.application_id]))
    assert r.status_code == 200
    html = r.content.decode()
    assert "Diễn biến hồ sơ" in html or "diễn biến hồ sơ" in html
    assert f"#{loan.pk}" in html


def test_adding_a_borrower_goes_through_the_service(admin_client, org):
    r = admin_client.post(
        reverse("admin:loans_borrower_add"),
        {
            "fund": org.fund.pk,
            "grassroots_union": org.lb1.pk,
            "full_name": "Phạm Thị Lan",
            "date_of_birth": "14/07/1988",
            "sex": "female",
            "national_id": "001188004521",
            "household_status": "poor",
            "certificate_number": "99/GCN",
            "certificate_date": today().strftime("%d/%m/%Y"),
            "memberships-TOTAL_FORMS": 0,
            "memberships-INITIAL_FORMS": 0,
            "loans-TOTAL_FORMS": 0,
            "loans-INITIAL_FORMS": 0,
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    b = Borrower.objects.get(national_id="001188004521")
    assert b.memberships.count() == 1  # made by the service, not by a plain save


def test_a_refused_borrower_shows_the_reason_and_saves_nothing(admin_client, org):
    r = admin_client.post(
        reverse("admin:loans_borrower_add"),
        {
            "fund": org.fund.pk,
            "grassroots_union": org.lb1.pk,
            "full_name": "Phạm Thị Lan",
            "date_of_birth": "14/07/1988",
            "sex": "male",
            "national_id": "001188004521",
            "household_status": "poor",
            "memberships-TOTAL_FORMS": 0,
            "memberships-INITIAL_FORMS": 0,
            "loans-TOTAL_FORMS": 0,
            "loans-INITIAL_FORMS": 0,
        },
        follow=True,
    )
    assert "chữ số thứ 4" in r.content.decode()
    assert not Borrower.objects.exists()


def test_a_product_is_added_through_the_service(admin_client, org):
    r = admin_client.post(
        reverse("admin:loans_loanproduct_add"),
        {
            "fund": org.fund.pk,
            "code": "NN",
            "name": "Cho vay chăn nuôi",
            "active": "on",
            "min_amount": "3000000",
            "max_amount": "30000000",
            "min_term": 6,
            "max_term": 24,
            "rate": "0.6",
            "rate_period": "month",
            "method": "annuity",
            "frequency": "monthly",
            "day_off_rule": "following",
            "creates_jobs": "on",
            "principal_grace": 0,
            "interest_grace": 0,
            "penalty_rate": "0",
            "penalty_rate_period": "year",
            "savings_kind": "none",
            "savings_percent": "0",
            "savings_amount": "0",
            "allocation_order": '["penalty", "overdue_interest", "overdue_principal", '
            '"current_interest", "current_principal"]',
            "debt_groups": '[{"group": 1, "min_days": 0, "provision_rate": "0"}, '
            '{"group": 2, "min_days": 10, "provision_rate": "2"}]',
            "min_age": 18,
            "max_age": 60,
            "certificate_validity_months": 12,
            "just_out_of_poverty_months": 36,
            "required_document_kinds": ["cccd", "household_certificate"],
        },
    )
    assert r.status_code == 302, r.content.decode()[:3000]
    p = LoanProduct.objects.get(code="NN")
    assert (p.min_amount.amount, p.method, len(p.debt_groups)) == (3_000_000, "annuity", 2)
    assert p.required_document_kinds == ["cccd", "household_certificate"]


def test_the_chain_moves_by_admin_actions_with_maker_checker(client, org, officers, chain, capital):
    app = application_draft(borrower=chain.borrower, product=chain.product, actor=chain.maker)
    url = reverse("admin:loans_loanapplication_changelist")

    def act(user, action):
        client.force_login(staff(user))
        return client.post(url, {"action": action, "_selected_action": [app.pk]}, follow=True)

    act(chain.maker, "submit")
    act(chain.reviewer, "review_approve")
    r = act(officers.checker, "approve")
    assert "Đã phê duyệt 1 hồ sơ" in r.content.decode()
    r = act(officers.fund, "disburse_today")  # not the approver (separation of duties)
    app.refresh_from_db()
    assert app.status == "disbursed"
    assert JournalEntry.objects.filter(document_type="loan_disbursement").count() == 1
    # a second click does not disburse again: the error is shown instead
    r = act(officers.fund, "disburse_today")  # not the approver (separation of duties)
    assert re.search("Không thể giải ngân hồ sơ #\\d+", r.content.decode())
    assert JournalEntry.objects.filter(document_type="loan_disbursement").count() == 1


def test_the_approver_cannot_approve_what_they_entered_from_the_admin(client, org, chain):
    maker = OfficerFactory(user__username="quy_ca_hai", fund=org.fund, role=Role.FUND_OFFICER).user
    app = application_to(
        "reviewed",
        borrower=chain.borrower,
        product=chain.product,
        maker=maker,
        reviewer=chain.reviewer,
        approver=None,
    )
    client.force_login(staff(maker))
    r = client.post(
        reverse("admin:loans_loanapplication_changelist"),
        {"action": "approve", "_selected_action": [app.pk]},
        follow=True,
    )
    assert "không được tự phê duyệt" in r.content.decode()
    assert LoanApplication.objects.get(pk=app.pk).status == "reviewed"


def test_an_officer_sees_only_their_union_s_applications(client, org, officers, chain):
    from loans.tests.factories import BorrowerFactory

    mine = application_draft(borrower=chain.borrower, product=chain.product)
    theirs = application_draft(
        borrower=BorrowerFactory(grassroots_union=org.lb2), product=chain.product
    )
    client.force_login(staff(officers.grassroots))
    html = client.get(reverse("admin:loans_loanapplication_changelist")).content.decode()
    assert f"?id={mine.pk}" in html or f"/{mine.pk}/change/" in html
    assert f"/{theirs.pk}/change/" not in html
