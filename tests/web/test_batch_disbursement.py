"""Paying out several approved applications at once from the disbursement queue: a choice, a
confirmation page with the count and the total, then one transaction (all or none), each loan
under its own key; a double submit pays once."""

from datetime import timedelta

import pytest
from django.urls import reverse

from loans.models import Loan, LoanApplication
from loans.origination.disbursement import loan_disburse
from loans.tests.factories import BorrowerFactory, application_to, new_key, today
from tests.helpers import row_counts
from tests.web.helpers import idempotency_key

pytestmark = pytest.mark.django_db
URL = "/loans/disbursements/"


def _approved(org, product, officers, n, amount=15_000_000):
    out = []
    for i in range(n):
        member = BorrowerFactory(
            grassroots_union=org.lb1, certificate_date=today() - timedelta(days=60)
        )
        out.append(
            application_to(
                "approved",
                borrower=member,
                product=product,
                maker=officers.grassroots,
                reviewer=officers.superior,
                approver=officers.checker,
                amount=amount + i * 1_000_000,
                term=12,
            )
        )
    return out


def test_pay_out_the_chosen_applications_after_confirmation(
    as_user, org, product, officers, capital
):
    a, b, c = _approved(org, product, officers, 3)
    client = as_user(officers.fund)
    page = client.get(URL).content.decode()
    for app in (a, b, c):
        assert f'name="applications" value="{app.pk}"' in page
    data = {
        "idempotency_key": idempotency_key(page),
        "disbursed_on": today().isoformat(),
        "cash_account": "1121",
        "applications": [a.pk, c.pk],
    }
    before = row_counts()
    confirm = client.post(URL, data)
    body = confirm.content.decode()
    assert confirm.status_code == 200 and 'id="confirm-form"' in body
    assert "32.000.000 ₫" in body  # 15 + 17 million
    assert f"#{b.pk}" not in body.split('data-testid="picked"', 1)[1]
    assert row_counts() == before  # the confirmation writes nothing

    # Back: the same choice, to change it.
    back = client.post(URL, {**data, "back": "1", "confirmed": "1"}).content.decode()
    assert f'value="{a.pk}" id="pick-{a.pk}" aria-label' in back
    assert f'id="pick-{a.pk}"' in back and "checked" in back.split(f'id="pick-{a.pk}"', 1)[1][:80]
    assert row_counts() == before

    r = client.post(URL, {**data, "confirmed": "1"})
    assert r.status_code == 302
    loans = Loan.objects.filter(application__in=[a, c])
    assert loans.count() == 2 and {x.disbursed_on for x in loans} == {today()}
    assert LoanApplication.objects.get(pk=b.pk).status == "approved"
    shown = client.get(URL).content.decode()
    assert "Đã giải ngân 2 khoản vay, tổng 32.000.000 ₫." in shown
    assert f'value="{a.pk}"' not in shown and f'value="{b.pk}"' in shown

    # The double submit: the same key pays nothing more.
    assert client.post(URL, {**data, "confirmed": "1"}).status_code == 302
    assert Loan.objects.filter(application__in=[a, c]).count() == 2


def test_one_refusal_refuses_the_whole_batch_and_names_the_application(
    as_user, org, product, officers, capital
):
    a, b = _approved(org, product, officers, 2)
    # b was paid out meanwhile, by another way (here the system: the approver may not).
    loan_disburse(application=b, disbursed_on=today(), idempotency_key=new_key("d"))
    client = as_user(officers.fund)
    data = {
        "idempotency_key": idempotency_key(client.get(URL).content.decode()),
        "disbursed_on": today().isoformat(),
        "cash_account": "1121",
        "applications": [a.pk, b.pk],
        "confirmed": "1",
    }
    before = row_counts()
    r = client.post(URL, data)
    body = r.content.decode()
    assert r.status_code == 400 and f"Hồ sơ #{b.pk}:" in body
    assert row_counts() == before and not Loan.objects.filter(application=a).exists()


def test_bad_choices_are_refused_by_field_and_write_nothing(
    as_user, org, product, officers, capital
):
    (a,) = _approved(org, product, officers, 1)
    client = as_user(officers.fund)
    key = idempotency_key(client.get(URL).content.decode())
    base = {"idempotency_key": key, "disbursed_on": today().isoformat(), "cash_account": "1121"}
    before = row_counts()
    r = client.post(URL, base)
    assert r.status_code == 400 and 'data-field="applications"' in r.content.decode()
    r = client.post(URL, {**base, "applications": [a.pk], "cash_account": "9999"})
    assert r.status_code == 400 and 'data-field="cash_account"' in r.content.decode()
    tomorrow = (today() + timedelta(days=1)).isoformat()
    r = client.post(
        URL, {**base, "applications": [a.pk], "disbursed_on": tomorrow, "confirmed": "1"}
    )
    assert r.status_code == 400 and 'data-field="disbursed_on"' in r.content.decode()
    # An id that is not an application waiting in this officer's scope.
    r = client.post(URL, {**base, "applications": [999_999]})
    assert r.status_code == 400 and 'data-field="applications"' in r.content.decode()
    assert row_counts() == before


def test_only_fund_officers(as_user, officers):
    for user in (officers.superior, officers.grassroots, officers.auditor):
        assert as_user(user).get(URL).status_code == 403
        assert as_user(user).post(URL, {}).status_code == 403
    assert reverse("loans:disbursements") == URL
