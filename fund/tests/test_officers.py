"""Officer accounts (fund.officers): who may create, change, reset and deactivate whom, the
one-time password link, and the audit log of every change."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.utils import timezone, translation

from fund.errors import FundError, PermissionRefused
from fund.labels import action_label, changes_text
from fund.models import AuditLog, OfficerProfile, Role
from fund.officers import (
    officer_create,
    officer_deactivate,
    officer_password_reset,
    officer_reactivate,
    officer_update,
)
from fund.scoping import officer_scope_filter, scope_for
from fund.selectors import officers_list
from fund.tests.factories import OfficerFactory

pytestmark = pytest.mark.django_db
SITE = "https://quy.example/"
PASSWORD = "Mat-khau-moi-2026!"


def new(actor, org, key="k1", **over):
    values = {
        "fund": org.fund,
        "username": "cdcs_lb2b",
        "full_name": "Trần Thị Bích Ngọc",
        "email": "ngoc@example.vn",
        "role": Role.GRASSROOTS_OFFICER,
        "grassroots_union": org.lb2,
        "phone": "0912 345 678",
        "site_url": SITE,
        "idempotency_key": key,
        "actor": actor,
    }
    return officer_create(**{**values, **over})


def officer(org, username, role, **unit):
    return OfficerFactory(user__username=username, fund=org.fund, role=role, **unit).user


def signs_in(username: str, password: str) -> bool:
    r = Client().post("/accounts/login/", {"username": username, "password": password})
    return r.status_code == 302


def link_of(message) -> str:
    return next(w for w in message.body.split() if w.startswith(SITE.rstrip("/")))


def refusal(excinfo) -> tuple[str, str | None]:
    return excinfo.value.code, excinfo.value.field


def test_a_fund_officer_creates_an_officer_who_sets_a_password_by_the_link(client, org, officers):
    profile = new(officers.fund, org)
    user = profile.user
    assert (user.last_name, user.first_name) == ("Trần Thị Bích", "Ngọc")
    assert not user.is_staff and not user.is_superuser and not user.has_usable_password()
    assert profile.phone == "+84912345678" and profile.grassroots_union == org.lb2

    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["ngoc@example.vn"]
    assert "cdcs_lb2b" in mail.outbox[0].body
    link = link_of(mail.outbox[0])
    r = client.get(link, follow=True)
    assert r.status_code == 200 and b'name="new_password1"' in r.content
    set_url = r.redirect_chain[-1][0]
    r = client.post(set_url, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert r.status_code == 302 and r["Location"].endswith("/accounts/reset/done/")
    assert signs_in("cdcs_lb2b", PASSWORD)
    # Spent: the link does not set a password twice.
    r = client.get(link, follow=True)
    assert b'data-testid="link-invalid"' in r.content

    entry = AuditLog.objects.get(action="create", content_type__model="officerprofile")
    assert entry.changes["username"] == [None, "cdcs_lb2b"]
    assert entry.changes["role"] == [None, Role.GRASSROOTS_OFFICER]
    assert entry.grassroots_union_id == org.lb2.pk and entry.superior_union_id == org.lb.pk
    with translation.override("vi"):
        text = changes_text(OfficerProfile, entry.changes)
    assert "Tên đăng nhập: — → cdcs_lb2b" in text and "Họ và tên: — → Trần Thị Bích Ngọc" in text
    assert "Cán bộ công đoàn cơ sở" in text
    assert f"Đơn vị: — → {org.lb2.name}" in text


def test_the_link_expires(org, officers, settings):
    start = timezone.localtime()  # the zone travels with the clock: Django's token reads it
    with time_machine.travel(start):
        new(officers.fund, org)
    link = link_of(mail.outbox[0])
    with time_machine.travel(start + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT - 60)):
        r = Client().get(link, follow=True)
    assert b'name="new_password1"' in r.content
    with time_machine.travel(start + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60)):
        r = Client().get(link, follow=True)
    assert b'data-testid="link-invalid"' in r.content


def test_the_same_key_creates_once(org, officers):
    a = new(officers.fund, org)
    b = new(officers.fund, org)
    assert a.pk == b.pk and len(mail.outbox) == 1
    assert get_user_model().objects.filter(username="cdcs_lb2b").count() == 1


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"username": "QUY"}, "username"),  # taken, whatever the case
        ({"username": "có dấu cách"}, "username"),
        ({"full_name": "  "}, "full_name"),
        ({"email": "ngoc@"}, "email"),
        ({"email": ""}, "email"),
        ({"phone": "12"}, "phone"),
        ({"grassroots_union": None}, "grassroots_union"),
        ({"role": "admin"}, "role"),
    ],
)
def test_bad_input_is_named_and_nothing_is_written(org, officers, over, field):
    users = get_user_model().objects.count()
    with pytest.raises(FundError) as e:
        new(officers.fund, org, **over)
    assert e.value.field == field
    assert get_user_model().objects.count() == users
    assert not AuditLog.objects.exists() and not mail.outbox


def test_a_superior_officer_manages_the_officers_of_their_own_grassroots_unions(org, officers):
    profile = new(officers.superior, org)
    assert profile.grassroots_union == org.lb2

    with pytest.raises(PermissionRefused) as e:  # a union of another superior union
        new(officers.superior, org, key="k2", username="x2", grassroots_union=org.hbt1)
    assert refusal(e) == ("unit_out_of_scope", "grassroots_union")
    with pytest.raises(PermissionRefused) as e:  # a role above their own
        new(
            officers.superior,
            org,
            key="k3",
            username="x3",
            role=Role.SUPERIOR_OFFICER,
            grassroots_union=None,
            superior_union=org.lb,
        )
    assert refusal(e) == ("role_above_own", "role")
    with pytest.raises(PermissionRefused) as e:
        new(officers.superior, org, key="k4", username="x4", role=Role.FUND_OFFICER)
    assert refusal(e) == ("role_above_own", "role")

    theirs = officers.grassroots.officer
    theirs.user.email = "cdcs@example.vn"
    theirs.user.save()
    officer_deactivate(profile=theirs, actor=officers.superior)
    officer_reactivate(profile=theirs, actor=officers.superior)
    officer_password_reset(profile=theirs, site_url=SITE, actor=officers.superior)
    superior_hbt = officer(org, "capten_hbt", Role.SUPERIOR_OFFICER, superior_union=org.hbt)
    for other in (superior_hbt, officers.fund, officers.auditor):
        with pytest.raises(PermissionRefused) as e:
            officer_deactivate(profile=other.officer, actor=officers.superior)
        assert refusal(e) == ("officer_out_of_scope", "officer")
    hbt_officer = new(officers.fund, org, key="k5", username="cdcs_hbt1", grassroots_union=org.hbt1)
    with pytest.raises(PermissionRefused):
        officer_password_reset(profile=hbt_officer, site_url=SITE, actor=officers.superior)
    with pytest.raises(PermissionRefused) as e:  # moving theirs to another superior's union
        officer_update(
            profile=theirs,
            role=Role.GRASSROOTS_OFFICER,
            grassroots_union=org.hbt1,
            actor=officers.superior,
        )
    assert refusal(e) == ("unit_out_of_scope", "grassroots_union")


def test_auditors_and_grassroots_officers_manage_nobody(org, officers):
    with pytest.raises(PermissionRefused) as e:
        new(officers.auditor, org)
    assert e.value.code == "read_only"
    with pytest.raises(PermissionRefused) as e:
        new(officers.grassroots, org)
    assert e.value.code == "officers_not_managed"
    with pytest.raises(PermissionRefused):
        other = officer(org, "cdcs_lb2", Role.GRASSROOTS_OFFICER, grassroots_union=org.lb2)
        officer_deactivate(profile=other.officer, actor=officers.grassroots)
    with pytest.raises(PermissionRefused) as e:
        new(officers.other_fund, org)
    assert e.value.code == "other_fund"


def test_nobody_changes_their_own_role_or_deactivates_themselves(org, officers):
    me = officers.fund.officer
    with pytest.raises(PermissionRefused) as e:
        officer_update(profile=me, role=Role.AUDITOR, actor=officers.fund)
    assert refusal(e) == ("own_account", "role")
    with pytest.raises(PermissionRefused) as e:
        officer_deactivate(profile=me, actor=officers.fund)
    assert refusal(e) == ("own_account", "officer")
    # Their own phone and e-mail they may change.
    officer_update(
        profile=me,
        role=Role.FUND_OFFICER,
        phone="0987654321",
        email="quy@example.vn",
        actor=officers.fund,
    )
    me.refresh_from_db()
    assert me.phone == "+84987654321" and me.user.email == "quy@example.vn"


def test_a_fund_officer_changes_a_role_and_unit_audited(org, officers):
    profile = officers.grassroots.officer
    officer_update(
        profile=profile,
        role=Role.SUPERIOR_OFFICER,
        superior_union=org.hbt,
        full_name="Lê Văn Tám",
        actor=officers.fund,
    )
    profile.refresh_from_db()
    assert profile.role == Role.SUPERIOR_OFFICER and profile.superior_union == org.hbt
    assert profile.grassroots_union is None
    entry = AuditLog.objects.get(action="update", content_type__model="officerprofile")
    assert entry.changes["role"] == [Role.GRASSROOTS_OFFICER, Role.SUPERIOR_OFFICER]
    assert entry.changes["full_name"][1] == "Lê Văn Tám"
    assert entry.actor == officers.fund


def test_deactivation_and_reactivation_are_audited_in_words(org, officers):
    profile = officers.grassroots.officer
    officer_deactivate(profile=profile, actor=officers.fund)
    officer_deactivate(profile=profile, actor=officers.fund)  # again: nothing more
    profile.user.refresh_from_db()
    assert not profile.user.is_active
    with pytest.raises(FundError) as e:
        officer_password_reset(profile=profile, site_url=SITE, actor=officers.fund)
    assert e.value.code == "officer_inactive"
    officer_reactivate(profile=profile, actor=officers.fund)
    actions = list(
        AuditLog.objects.filter(object_id=str(profile.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["deactivate", "reactivate"]
    with translation.override("vi"):
        assert action_label("deactivate") == "Khóa tài khoản"
        assert changes_text(OfficerProfile, {"is_active": [True, False]}) == (
            "Tài khoản hoạt động: Có → Không"
        )
    with translation.override("en"):
        assert action_label("deactivate") == "Account deactivated"
        assert action_label("password_reset") == "Password link sent"


def test_the_reset_link_keeps_the_old_password_until_used(client, org, officers):
    user = officers.grassroots
    user.set_password("Mat-khau-cu-2026!")
    user.email = "cdcs@example.vn"
    user.save()
    officer_password_reset(profile=user.officer, site_url=SITE, actor=officers.fund)
    user.refresh_from_db()
    assert user.check_password("Mat-khau-cu-2026!")  # (a sign-in now would spend the link)
    r = client.get(link_of(mail.outbox[0]), follow=True)
    client.post(r.redirect_chain[-1][0], {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert signs_in(user.username, PASSWORD)
    assert AuditLog.objects.filter(action="password_reset").count() == 1


def test_the_lists_of_each_scope(org, officers):
    officer(org, "cdcs_lb2", Role.GRASSROOTS_OFFICER, grassroots_union=org.lb2)
    officer(org, "cdcs_hbt1", Role.GRASSROOTS_OFFICER, grassroots_union=org.hbt1)
    superior_hbt = officer(org, "capten_hbt", Role.SUPERIOR_OFFICER, superior_union=org.hbt)

    def names(user):
        return {p.user.username for p in officers_list(scope=scope_for(user))}

    fund_wide = names(officers.fund)
    assert fund_wide == {"quy", "capten", "capten_hbt", "cdcs", "cdcs_lb2", "cdcs_hbt1", "kiemtoan"}
    assert names(officers.auditor) == fund_wide
    assert names(officers.superior) == {"cdcs", "cdcs_lb2"}
    assert names(superior_hbt) == {"cdcs_hbt1"}
    assert names(officers.grassroots) == set()
    qs = officers_list(scope=scope_for(officers.fund), q="capten")
    assert {p.user.username for p in qs} == {"capten", "capten_hbt"}
    assert not officer_scope_filter(OfficerProfile.objects.all(), scope_for(officers.grassroots))
