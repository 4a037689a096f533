from datetime import date, timedelta

import pytest

from fund.errors import FundError, PermissionRefused
from fund.models import AuditLog, GrassrootsUnion, GrassrootsUnionAffiliation
from fund.selectors import grassroots_unions_of_on, superior_union_on
from fund.services import (
    grassroots_union_create,
    grassroots_union_move,
    grassroots_union_update,
    superior_union_create,
    superior_union_update,
)
from fund.tests.factories import today

pytestmark = pytest.mark.django_db


def test_create_opens_the_affiliation_history(org, officers):
    gu = grassroots_union_create(
        superior_union=org.lb,
        code="LB-100",
        name="CĐCS Công ty TNHH May Long Biên",
        kind=GrassrootsUnion.Kind.PRIVATE_ENTERPRISE,
        address="Số 1 Ngọc Lâm",
        contact_name="Nguyễn Thị Hoa",
        active_from=date(2015, 3, 1),
        actor=officers.fund,
    )
    aff = gu.affiliations.get()
    assert (aff.superior_union, aff.valid_from, aff.valid_to) == (org.lb, date(2015, 3, 1), None)
    log = AuditLog.objects.get(object_id=str(gu.pk), action="create")
    assert log.changes["name"] == [None, "CĐCS Công ty TNHH May Long Biên"]
    assert log.actor == officers.fund


def test_create_validates(org):
    with pytest.raises(FundError) as e:
        grassroots_union_create(superior_union=org.lb, code="LB-001", name="x", kind="school")
    assert e.value.field == "code" and "LB-001" in e.value.message
    with pytest.raises(FundError) as e:
        grassroots_union_create(superior_union=org.lb, code="N", name="x", kind="bakery")
    assert e.value.field == "kind"
    with pytest.raises(FundError) as e:
        grassroots_union_create(
            superior_union=org.lb,
            code="N",
            name="x",
            kind="school",
            active_from=date(2020, 1, 1),
            active_to=date(2019, 1, 1),
        )
    assert e.value.field == "active_to"
    assert not GrassrootsUnion.objects.filter(code="N").exists()


def test_move_keeps_history(org, officers):
    move_day = today() - timedelta(days=30)
    grassroots_union_move(
        grassroots_union=org.lb1,
        superior_union=org.hbt,
        effective_date=move_day,
        actor=officers.fund,
    )
    org.lb1.refresh_from_db()
    assert org.lb1.superior_union == org.hbt
    assert superior_union_on(grassroots_union=org.lb1, on=move_day - timedelta(1)) == org.lb
    assert superior_union_on(grassroots_union=org.lb1, on=move_day) == org.hbt
    assert superior_union_on(grassroots_union=org.lb1, on=date(1999, 1, 1)) is None
    assert set(grassroots_unions_of_on(superior_union=org.lb, on=move_day - timedelta(1))) == {
        org.lb1,
        org.lb2,
    }
    assert set(grassroots_unions_of_on(superior_union=org.lb, on=move_day)) == {org.lb2}
    history = list(GrassrootsUnionAffiliation.objects.filter(grassroots_union=org.lb1))
    assert [(a.superior_union, a.valid_to) for a in history] == [
        (org.lb, move_day),
        (org.hbt, None),
    ]
    log = AuditLog.objects.get(action="move")
    assert log.changes["superior_union_id"] == [org.lb.pk, org.hbt.pk]


def test_move_refusals(org, officers):
    with pytest.raises(FundError):
        grassroots_union_move(
            grassroots_union=org.lb1, superior_union=org.lb, effective_date=today()
        )
    with pytest.raises(FundError):
        grassroots_union_move(
            grassroots_union=org.lb1, superior_union=org.other_su, effective_date=today()
        )
    with pytest.raises(FundError):
        grassroots_union_move(
            grassroots_union=org.lb1,
            superior_union=org.hbt,
            effective_date=today() + timedelta(1),
        )
    grassroots_union_move(grassroots_union=org.lb1, superior_union=org.hbt, effective_date=today())
    with pytest.raises(FundError, match="phải sau ngày bắt đầu"):
        grassroots_union_move(
            grassroots_union=org.lb1,
            superior_union=org.lb,
            effective_date=today() - timedelta(1),
        )
    with pytest.raises(PermissionRefused):
        grassroots_union_move(
            grassroots_union=org.lb2,
            superior_union=org.hbt,
            effective_date=today(),
            actor=officers.superior,
        )


# Who may change what -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "who, target, fields, allowed",
    [
        ("fund", "hbt1", {"code": "HBT-9", "name": "Mới"}, True),
        ("superior", "lb2", {"name": "Mới", "contact_phone": "+84900123456"}, True),
        ("superior", "lb2", {"code": "X"}, False),
        ("superior", "hbt1", {"contact_phone": "+84900123456"}, False),
        ("grassroots", "lb1", {"contact_phone": "+84900123456", "address": "Số 2"}, True),
        ("grassroots", "lb1", {"name": "Mới"}, False),
        ("grassroots", "lb2", {"contact_phone": "+84900123456"}, False),
        ("auditor", "lb1", {"contact_phone": "+84900123456"}, False),
        ("other_fund", "lb1", {"contact_phone": "+84900123456"}, False),
    ],
)
def test_each_role_changes_exactly_what_it_should(org, officers, who, target, fields, allowed):
    gu = getattr(org, target)
    actor = getattr(officers, who)
    if allowed:
        grassroots_union_update(grassroots_union=gu, actor=actor, **fields)
        gu.refresh_from_db()
        assert all(getattr(gu, k) == v for k, v in fields.items())
        log = AuditLog.objects.get(object_id=str(gu.pk), action="update")
        assert log.actor == actor and set(log.changes) == set(fields)
    else:
        before = GrassrootsUnion.objects.filter(pk=gu.pk).values().get()
        with pytest.raises(PermissionRefused):
            grassroots_union_update(grassroots_union=gu, actor=actor, **fields)
        assert GrassrootsUnion.objects.filter(pk=gu.pk).values().get() == before
        assert not AuditLog.objects.exists()


def test_update_without_change_records_nothing(org, officers):
    grassroots_union_update(grassroots_union=org.lb1, name=org.lb1.name, actor=officers.fund)
    assert not AuditLog.objects.exists()


def test_superior_union_services_and_roles(org, officers):
    su = superior_union_create(
        fund=org.fund, code="GD", name="Công đoàn ngành Giáo dục", kind="industry"
    )
    assert AuditLog.objects.filter(object_id=str(su.pk), action="create").exists()
    superior_union_update(
        superior_union=org.lb, contact_phone="02439876543", actor=officers.superior
    )
    with pytest.raises(PermissionRefused):
        superior_union_update(superior_union=org.lb, name="x", actor=officers.superior)
    with pytest.raises(PermissionRefused):
        superior_union_update(
            superior_union=org.hbt, contact_phone="0912000222", actor=officers.superior
        )
    with pytest.raises(PermissionRefused):
        superior_union_create(
            fund=org.fund, code="Z", name="z", kind="other", actor=officers.superior
        )
    # A superior officer registers grassroots unions under their own union only.
    grassroots_union_create(
        superior_union=org.lb, code="LB-9", name="n", kind="school", actor=officers.superior
    )
    with pytest.raises(PermissionRefused):
        grassroots_union_create(
            superior_union=org.hbt, code="H-9", name="n", kind="school", actor=officers.superior
        )
    with pytest.raises(PermissionRefused):
        grassroots_union_create(
            superior_union=org.lb, code="LB-10", name="n", kind="school", actor=officers.grassroots
        )


def test_officer_profiles_are_set_through_the_service_and_audited(org, officers):
    from fund.models import Role
    from fund.services import officer_profile_set
    from fund.tests.factories import UserFactory

    user = UserFactory(username="moi")
    p = officer_profile_set(
        user=user,
        fund=org.fund,
        role=Role.SUPERIOR_OFFICER,
        superior_union=org.hbt,
        actor=officers.fund,
    )
    assert p.superior_union == org.hbt
    assert AuditLog.objects.get(object_id=str(p.pk)).changes["role"] == [None, "superior_officer"]
    officer_profile_set(
        user=user, fund=org.fund, role=Role.GRASSROOTS_OFFICER, grassroots_union=org.hbt1
    )
    p.refresh_from_db()
    assert (p.superior_union, p.grassroots_union) == (None, org.hbt1)
    with pytest.raises(FundError):
        officer_profile_set(user=user, fund=org.fund, role=Role.SUPERIOR_OFFICER)
    with pytest.raises(FundError):
        officer_profile_set(
            user=user, fund=org.fund, role=Role.GRASSROOTS_OFFICER, grassroots_union=org.other_gu
        )
    with pytest.raises(PermissionRefused):
        officer_profile_set(user=user, fund=org.fund, role=Role.AUDITOR, actor=officers.superior)
