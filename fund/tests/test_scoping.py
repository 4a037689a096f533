import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from fund.errors import PermissionRefused
from fund.models import GrassrootsUnion, GrassrootsUnionAffiliation, Role, SuperiorUnion
from fund.scoping import (
    scope_filter,
    scope_for,
    scope_require_approver,
    scope_require_write,
    scoped_get_or_404,
    superior_union_scope_filter,
)
from fund.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def codes(qs):
    return sorted(qs.values_list("code", flat=True))


def test_scope_for_reads_the_officer_profile(org, officers):
    s = scope_for(officers.superior)
    assert (s.role, s.fund_id, s.superior_union_id, s.grassroots_union_id) == (
        Role.SUPERIOR_OFFICER,
        org.fund.pk,
        org.lb.pk,
        None,
    )
    g = scope_for(officers.grassroots)
    assert (g.superior_union_id, g.grassroots_union_id) == (None, org.lb1.pk)


def test_scope_for_refuses_users_without_a_role():
    with pytest.raises(PermissionDenied):
        scope_for(UserFactory(username="nobody"))
    with pytest.raises(PermissionDenied):
        scope_for(AnonymousUser())


def test_scope_for_refuses_inactive_users(officers):
    officers.fund.is_active = False
    with pytest.raises(PermissionDenied):
        scope_for(officers.fund)


def test_role_flags(officers):
    fund, sup, gr, aud = (
        scope_for(u)
        for u in (officers.fund, officers.superior, officers.grassroots, officers.auditor)
    )
    assert [s.can_approve for s in (fund, sup, gr, aud)] == [True, False, False, False]
    assert [s.can_write for s in (fund, sup, gr, aud)] == [True, True, True, False]
    assert [s.is_read_only for s in (fund, sup, gr, aud)] == [False, False, False, True]
    scope_require_write(sup)
    scope_require_approver(fund)
    with pytest.raises(PermissionRefused):
        scope_require_write(aud)
    with pytest.raises(PermissionRefused):
        scope_require_approver(sup)


@pytest.mark.parametrize(
    "who, expected",
    [
        ("fund", ["HBT-001", "HBT-002", "LB-001", "LB-002"]),
        ("auditor", ["HBT-001", "HBT-002", "LB-001", "LB-002"]),
        ("superior", ["LB-001", "LB-002"]),
        ("grassroots", ["LB-001"]),
        ("other_fund", ["Q1-001"]),
    ],
)
def test_each_role_sees_its_grassroots_unions(org, officers, who, expected):
    scope = scope_for(getattr(officers, who))
    assert codes(scope_filter(GrassrootsUnion.objects.all(), scope, grassroots_field="")) == (
        expected
    )


@pytest.mark.parametrize(
    "who, expected",
    [
        ("fund", ["HBT-001", "HBT-002", "LB-001", "LB-002"]),
        ("superior", ["LB-001", "LB-002"]),
        ("grassroots", ["LB-001"]),
    ],
)
def test_rows_hanging_off_a_grassroots_union_are_scoped_too(org, officers, who, expected):
    scope = scope_for(getattr(officers, who))
    qs = scope_filter(GrassrootsUnionAffiliation.objects.all(), scope)
    assert sorted(a.grassroots_union.code for a in qs) == expected


def test_superior_unions_are_scoped(org, officers):
    def see(who):
        return codes(superior_union_scope_filter(SuperiorUnion.objects.all(), scope_for(who)))

    assert see(officers.fund) == ["HBT", "LB"]
    assert see(officers.superior) == ["LB"]
    assert see(officers.grassroots) == []


@pytest.mark.parametrize("who", ["superior", "grassroots"])
def test_other_unions_ids_are_404(org, officers, who):
    scope = scope_for(getattr(officers, who))
    for gu in (org.hbt1, org.hbt2, org.other_gu):
        with pytest.raises(Http404):
            scoped_get_or_404(GrassrootsUnion.objects.all(), scope, pk=gu.pk, grassroots_field="")
    assert (
        scoped_get_or_404(GrassrootsUnion.objects.all(), scope, pk=org.lb1.pk, grassroots_field="")
        == org.lb1
    )


def test_another_funds_ids_are_404_even_for_its_fund_officer(org, officers):
    scope = scope_for(officers.fund)
    with pytest.raises(Http404):
        scoped_get_or_404(
            GrassrootsUnion.objects.all(), scope, pk=org.other_gu.pk, grassroots_field=""
        )
    with pytest.raises(Http404):
        scoped_get_or_404(
            GrassrootsUnion.objects.all(), scope, pk="not-a-number", grassroots_field=""
        )
    with pytest.raises(Http404):
        scoped_get_or_404(GrassrootsUnion.objects.all(), scope, pk=10**9, grassroots_field="")
