"""Only the site's administrators are staff (issue #18): the demo's officers work in the app's
own pages, not the admin; a staff officer's admin form lists only the own fund's users."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from fund.models import Role
from fund.tests.factories import FundFactory, OfficerFactory
from tests.helpers import two_factor_pass


def test_the_demo_officers_are_not_staff(db):
    from demo.fund import demo_federation_load

    demo_federation_load(year=2026, size="small")
    officers = get_user_model().objects.filter(officer__isnull=False)
    assert officers.exists()
    assert not officers.filter(is_staff=True).exists()
    user = officers.first()
    c = Client()
    c.force_login(user)
    two_factor_pass(c, user)
    r = c.get(reverse("admin:index"))
    assert r.status_code == 302 and "/admin/login/" in r["Location"]


def test_a_staff_officers_user_choices_are_their_own_funds(client, org, officers):
    other = OfficerFactory(
        user__username="quy_khac", fund=FundFactory(code="HP"), role=Role.AUDITOR
    )
    user = officers.fund
    user.is_staff = True
    user.save()
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_officerprofile", "add_officerprofile"])
    )
    client.force_login(user)
    page = client.get(reverse("admin:fund_officerprofile_add")).content.decode()
    assert "quy_lap" in page and other.user.username not in page
