"""The returned-application loop on the web: the grassroots union sees why its superior union
returned the application, completes it and sends it again, in one step that loses nothing."""

import pytest
from django.urls import reverse

from accounting.tests.factories import new_key
from loans.models import LoanApplication
from loans.origination.applications import application_review
from loans.tests.factories import application_to
from tests.web.helpers import error_fields, idempotency_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def returned(chain):
    app = application_to(
        "submitted",
        borrower=chain.borrower,
        product=chain.product,
        maker=chain.maker,
        approver=chain.approver,
    )
    return application_review(
        application=app,
        decision="return",
        note="Bổ sung xác nhận của UBND phường về hộ cận nghèo",
        idempotency_key=new_key("return"),
        actor=chain.reviewer,
    )


def edit_data(page, product, **changes):
    data = {
        "idempotency_key": idempotency_key(page),
        "product": product.pk,
        "amount": "25.000.000",
        "term": "12",
        "purpose_kind": "crafts",
        "purpose": "Mua máy may và vải",
        "planned_jobs": "3",
        "security_kind": "group",
        "group_name": "Tổ vay vốn số 1",
    }
    data.update(changes)
    return data


def test_the_union_sees_why_completes_and_sends_again(as_user, officers, returned, chain):
    c = as_user(officers.grassroots)
    detail = c.get(reverse("loans:application_detail", args=[returned.pk])).content.decode()
    assert 'data-testid="application-edit"' in detail
    url = reverse("loans:application_edit", args=[returned.pk])
    page = c.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Bổ sung xác nhận của UBND phường" in html and 'value="20.000.000"' in html
    r = c.post(url, edit_data(page, chain.product))
    assert r.status_code == 302
    app = LoanApplication.objects.get(pk=returned.pk)
    assert (app.status, int(app.amount.amount), app.planned_jobs) == ("submitted", 25_000_000, 3)
    assert list(app.events.values_list("action", flat=True))[-2:] == ["review_return", "submit"]
    # The superior union sees it again in its queue; the union no longer edits it.
    assert c.get(url).status_code == 302


def test_a_refusal_keeps_the_application_as_it_was(as_user, officers, returned, chain):
    c = as_user(officers.grassroots)
    url = reverse("loans:application_edit", args=[returned.pk])
    page = c.get(url)
    r = c.post(url, edit_data(page, chain.product, term="600", planned_jobs="0"))
    assert r.status_code == 400
    assert error_fields(r) & {"term", "planned_jobs"}
    app = LoanApplication.objects.get(pk=returned.pk)
    assert (app.status, int(app.amount.amount)) == ("returned", 20_000_000)
    r = c.post(url, edit_data(page, chain.product, planned_jobs="0"))
    assert r.status_code == 400 and "planned_jobs" in error_fields(r)
    app = LoanApplication.objects.get(pk=returned.pk)
    assert (app.status, int(app.amount.amount), app.planned_jobs) == ("returned", 20_000_000, 2)


@pytest.mark.parametrize("who", ["superior", "fund", "auditor", "grassroots_lb2"])
def test_only_the_proposing_union_edits(as_user, officers, returned, who):
    r = as_user(getattr(officers, who)).get(reverse("loans:application_edit", args=[returned.pk]))
    assert r.status_code in (403, 404)
