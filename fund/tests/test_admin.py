"""The admin in Vietnamese: every page opens, changes go through the services, officers who use
it see their scope only."""

from datetime import date

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from accounting.models import JournalEntry
from fund.models import AuditLog, CapitalMovement, CapitalSource, GrassrootsUnion
from fund.services import capital_source_create
from fund.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

MODELS = [
    "fund",
    "superiorunion",
    "grassrootsunion",
    "grassrootsunionaffiliation",
    "officerprofile",
    "capitalsource",
    "capitalmovement",
    "lendingallocation",
    "capitalcommitment",
    "annualplan",
    "auditlog",
]


@pytest.fixture
def admin_client(client, org):
    user = UserFactory(username="admin", is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


@pytest.mark.parametrize("model", MODELS)
def test_every_page_opens_in_vietnamese(admin_client, model):
    r = admin_client.get(reverse(f"admin:fund_{model}_changelist"), HTTP_ACCEPT_LANGUAGE="vi")
    assert r.status_code == 200
    assert "Quỹ trợ vốn" in r.content.decode() or "Quỹ Trợ vốn" in r.content.decode()
    add = admin_client.get(reverse(f"admin:fund_{model}_add"))
    assert add.status_code in (200, 403)


def test_adding_a_grassroots_union_goes_through_the_service(admin_client, org):
    r = admin_client.post(
        reverse("admin:fund_grassrootsunion_add"),
        {
            "fund": org.fund.pk,
            "superior_union": org.lb.pk,
            "code": "LB-777",
            "name": "CĐCS Trường Mầm non Hoa Sữa",
            "kind": "school",
            "affiliations-TOTAL_FORMS": 0,
            "affiliations-INITIAL_FORMS": 0,
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    gu = GrassrootsUnion.objects.get(code="LB-777")
    assert gu.affiliations.count() == 1
    assert AuditLog.objects.filter(object_id=str(gu.pk), action="create").exists()


def test_moving_in_the_admin_keeps_history(admin_client, org):
    url = reverse("admin:fund_grassrootsunion_change", args=[org.lb1.pk])
    r = admin_client.post(
        url,
        {
            "superior_union": org.hbt.pk,
            "move_date": "01/06/2024",
            "code": org.lb1.code,
            "name": org.lb1.name,
            "kind": org.lb1.kind,
            "affiliations-TOTAL_FORMS": 1,
            "affiliations-INITIAL_FORMS": 1,
            "affiliations-0-id": org.lb1.affiliations.get().pk,
            "affiliations-0-grassroots_union": org.lb1.pk,
        },
    )
    assert r.status_code == 302, r.content.decode()[:3000]
    org.lb1.refresh_from_db()
    assert org.lb1.superior_union == org.hbt
    assert list(org.lb1.affiliations.values_list("valid_to", flat=True)) == [date(2024, 6, 1), None]


def test_capital_contribution_in_the_admin_posts_the_ledger(admin_client, org):
    source = capital_source_create(
        fund=org.fund, code="NS", name="Ngân sách", kind=CapitalSource.Kind.CITY_BUDGET
    )
    data = {
        "fund": org.fund.pk,
        "kind": "contribution",
        "source": source.pk,
        "amount": "1000000",
        "effective_date": "02/01/2025",
        "memo": "",
        "idempotency_key": "admin:test",
    }
    url = reverse("admin:fund_capitalmovement_add")
    assert admin_client.post(url, data).status_code == 302
    assert admin_client.post(url, data).status_code == 302  # the same key again: no new entry
    assert CapitalMovement.objects.count() == 1 and JournalEntry.objects.count() == 1
    m = CapitalMovement.objects.get()
    assert (
        admin_client.get(reverse("admin:fund_capitalmovement_change", args=[m.pk])).status_code
        == 200
    )
    # A refused withdrawal is a message, not an error page.
    r = admin_client.post(
        url,
        {**data, "kind": "withdrawal", "amount": "5000000", "idempotency_key": "admin:w"},
        follow=True,
    )
    assert r.status_code == 200
    assert "chỉ còn 1.000.000 ₫" in r.content.decode()
    assert CapitalMovement.objects.count() == 1


def test_officers_see_their_scope_in_the_admin(client, org, officers):
    user = officers.superior
    user.is_staff = True
    user.save()
    user.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_grassrootsunion", "change_grassrootsunion", "view_auditlog"]
        )
    )
    client.force_login(user)
    page = client.get(reverse("admin:fund_grassrootsunion_changelist")).content.decode()
    assert "LB-001" in page and "LB-002" in page and "HBT-001" not in page
    other = client.get(reverse("admin:fund_grassrootsunion_change", args=[org.hbt1.pk]))
    assert other.status_code == 302  # the admin's "does not exist" redirect, nothing shown
    assert org.hbt1.name not in client.get(other.url).content.decode()
