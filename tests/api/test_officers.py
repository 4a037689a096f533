"""The officer accounts' API (/api/v1/officers/): each role's scope in the list, search and
paging, creating (once per Idempotency-Key), changing role and unit, deactivating and
reactivating (the tokens end), the password link; every rule of the pages: nobody gives a role
above their own or changes themself, a superior-union officer manages only their grassroots
unions' officers, auditors read only, another fund's or union's officer is a 404; every
refusal names its field and writes nothing; every change is audited."""

import pytest
from django.core import mail
from knox.models import AuthToken

from fund.models import AuditLog, OfficerProfile, Role
from fund.tests.factories import OfficerFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/officers/"


def new_body(org, **over):
    return {
        "username": "cdcs_lb2_api",
        "full_name": "Phạm Thị Thu Hà",
        "email": "ha@example.vn",
        "phone": "0912345678",
        "role": Role.GRASSROOTS_OFFICER,
        "grassroots_union": org.lb2.pk,
        **over,
    }


def usernames(r) -> set[str]:
    assert r.status_code == 200, r.content
    return {row["username"] for row in r.json()["results"]}


def test_each_role_reads_its_scope(api, officers):
    everyone = usernames(api(officers.fund).get(URL, {"limit": 500}))
    assert {"quy_lap", "capten_lb", "cdcs_lb1", "kiemtoan"} <= everyone
    assert officers.other_fund.username not in everyone
    assert usernames(api(officers.auditor).get(URL, {"limit": 500})) == everyone
    # A superior-union officer: the grassroots-union officers of their own unions only.
    theirs = usernames(api(officers.superior).get(URL, {"limit": 500}))
    assert "cdcs_lb1" in theirs and "capten_lb" not in theirs and "quy_lap" not in theirs
    assert all(
        p.role == Role.GRASSROOTS_OFFICER
        and p.grassroots_union.superior_union_id == officers.superior.officer.superior_union_id
        for p in OfficerProfile.objects.filter(user__username__in=theirs)
    )
    assert api(officers.grassroots).get(URL).status_code == 403
    # One account: the same fields; another fund's or another union's officer is a 404.
    me = officers.grassroots.officer
    row = api(officers.fund).get(f"{URL}{me.pk}/").json()
    assert row["username"] == "cdcs_lb1" and row["role"] == Role.GRASSROOTS_OFFICER
    assert row["grassroots_union_id"] == me.grassroots_union_id and row["is_active"] is True
    assert row["two_factor"] is False and "full_name" in row and "last_login" in row
    assert api(officers.fund).get(f"{URL}{officers.other_fund.officer.pk}/").status_code == 404
    assert api(officers.superior).get(f"{URL}{officers.fund.officer.pk}/").status_code == 404
    assert api(officers.superior_hbt).get(f"{URL}{me.pk}/").status_code == 404


def test_search_and_paging(api, org, officers):
    for i in range(7):
        OfficerFactory(
            user__username=f"cbapi{i:02d}",
            fund=org.fund,
            role=Role.GRASSROOTS_OFFICER,
            grassroots_union=org.lb1,
        )
    c = api(officers.fund)
    assert usernames(c.get(URL, {"q": "cbapi"})) == {f"cbapi{i:02d}" for i in range(7)}
    first = c.get(URL, {"q": "cbapi", "limit": 5}).json()
    second = c.get(URL, {"q": "cbapi", "limit": 5, "offset": 5}).json()
    assert first["count"] == 7 and len(first["results"]) == 5 and len(second["results"]) == 2
    assert first["next"] and not {r["id"] for r in first["results"]} & {
        r["id"] for r in second["results"]
    }
    r = c.get(URL, {"q": "x" * 101})
    assert r.status_code == 400 and r.json()["field"] == "q"


def test_a_fund_officer_creates_an_officer_once_per_key(api, org, officers):
    c = api(officers.fund)
    key = {"HTTP_IDEMPOTENCY_KEY": "officer-1"}
    r = c.post(f"{URL}create/", new_body(org), format="json", **key)
    assert r.status_code == 201, r.content
    body = r.json()
    profile = OfficerProfile.objects.get(user__username="cdcs_lb2_api")
    assert body["id"] == profile.pk and body["grassroots_union_id"] == org.lb2.pk
    assert body["full_name"] == "Phạm Thị Thu Hà" and not profile.user.is_staff
    assert not profile.user.has_usable_password()
    assert mail.outbox[-1].to == ["ha@example.vn"]
    # The same key again: the first answer, no second account, no second mail.
    again = c.post(f"{URL}create/", new_body(org), format="json", **key)
    assert again.status_code == 201 and again.json() == body
    assert len(mail.outbox) == 1
    # The same key with another body: 409.
    other = c.post(f"{URL}create/", new_body(org, username="x2"), format="json", **key)
    assert other.status_code == 409
    # No key: a second account of that name is refused by its field.
    r = c.post(f"{URL}create/", new_body(org), format="json")
    assert r.status_code == 400 and r.json()["field"] == "username"
    assert OfficerProfile.objects.filter(user__username="cdcs_lb2_api").count() == 1
    assert AuditLog.objects.filter(object_id=str(profile.pk), action="create").count() == 1


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"username": "quy_lap"}, "username"),
        ({"username": "có dấu cách"}, "username"),
        ({"email": "khong-phai-email"}, "email"),
        ({"phone": "0123"}, "phone"),
        ({"grassroots_union": None}, "grassroots_union"),
        ({"grassroots_union": 999_999}, "grassroots_union"),
        ({"full_name": ""}, "full_name"),
        ({"role": "thu_quy"}, "role"),
        ({"is_staff": True}, "is_staff"),
    ],
)
def test_bad_input_is_400_naming_the_field_and_writes_nothing(api, org, officers, over, field):
    before = OfficerProfile.objects.count()
    r = api(officers.fund).post(f"{URL}create/", new_body(org, **over), format="json")
    assert r.status_code == 400, r.content
    assert r.json()["field"] == field
    assert OfficerProfile.objects.count() == before and not AuditLog.objects.exists()
    assert not mail.outbox


def test_a_superior_officer_manages_only_their_unions_officers(api, org, officers):
    c = api(officers.superior)
    before = OfficerProfile.objects.count()
    # A role above their own, and another superior union's grassroots union: 403 by field.
    r = c.post(
        f"{URL}create/",
        new_body(org, role=Role.SUPERIOR_OFFICER, grassroots_union=None, superior_union=org.lb.pk),
        format="json",
    )
    assert r.status_code == 403 and r.json()["field"] == "role"
    r = c.post(f"{URL}create/", new_body(org, role=Role.FUND_OFFICER), format="json")
    assert r.status_code == 403 and r.json()["field"] == "role"
    r = c.post(f"{URL}create/", new_body(org, grassroots_union=org.hbt1.pk), format="json")
    assert r.status_code == 403 and r.json()["field"] == "grassroots_union"
    assert OfficerProfile.objects.count() == before
    # Officers outside their grassroots unions: 404 for every operation.
    for other in (officers.superior_hbt, officers.fund, officers.auditor, officers.other_fund):
        pk = other.officer.pk
        for op in ("update", "deactivate", "reactivate", "password-reset"):
            assert c.post(f"{URL}{pk}/{op}/", {}, format="json").status_code == 404, op
    # Their own union's officer: moved to their other grassroots union.
    target = officers.grassroots.officer
    r = c.post(
        f"{URL}{target.pk}/update/",
        {"role": Role.GRASSROOTS_OFFICER, "grassroots_union": org.lb2.pk},
        format="json",
    )
    assert r.status_code == 200, r.content
    assert r.json()["grassroots_union_id"] == org.lb2.pk
    # ... but not promoted above their own role.
    r = c.post(
        f"{URL}{target.pk}/update/",
        {"role": Role.SUPERIOR_OFFICER, "superior_union": org.lb.pk},
        format="json",
    )
    assert r.status_code == 403 and r.json()["field"] == "role"
    target.refresh_from_db()
    assert target.role == Role.GRASSROOTS_OFFICER and target.grassroots_union == org.lb2


def test_nobody_changes_themself(api, officers):
    me = officers.fund.officer
    c = api(officers.fund)
    r = c.post(f"{URL}{me.pk}/deactivate/", {}, format="json")
    assert r.status_code == 403 and r.json()["field"] == "officer"
    r = c.post(f"{URL}{me.pk}/update/", {"role": Role.AUDITOR}, format="json")
    assert r.status_code == 403 and r.json()["field"] == "role"
    # Their own name and phone they may change (not their role or unit).
    r = c.post(f"{URL}{me.pk}/update/", {"phone": "0912000111"}, format="json")
    assert r.status_code == 200, r.content
    me.refresh_from_db()
    me.user.refresh_from_db()
    assert me.role == Role.FUND_OFFICER and me.user.is_active


def test_auditors_and_grassroots_officers_never_write(api, org, officers):
    pk = officers.grassroots.officer.pk
    for who in ("auditor", "grassroots"):
        c = api(getattr(officers, who))
        assert c.post(f"{URL}create/", new_body(org), format="json").status_code == 403
        for op in ("update", "deactivate", "reactivate", "password-reset"):
            assert c.post(f"{URL}{pk}/{op}/", {}, format="json").status_code == 403, (who, op)
    assert api(officers.auditor).get(f"{URL}{pk}/").status_code == 200
    assert not AuditLog.objects.exists() and not mail.outbox


def test_change_role_deactivate_reactivate_and_the_password_link(api, org, officers):
    target = officers.grassroots.officer
    _, token = AuthToken.objects.create(officers.grassroots)
    c = api(officers.fund)
    r = c.post(
        f"{URL}{target.pk}/update/",
        {
            "role": Role.SUPERIOR_OFFICER,
            "superior_union": org.hbt.pk,
            "full_name": "Vũ Văn Nam",
            "email": "nam@example.vn",
        },
        format="json",
    )
    assert r.status_code == 200, r.content
    assert r.json()["role"] == Role.SUPERIOR_OFFICER and r.json()["superior_union_id"] == org.hbt.pk
    assert r.json()["grassroots_union_id"] is None and r.json()["full_name"] == "Vũ Văn Nam"
    # A field the update does not take is refused, not ignored.
    r = c.post(f"{URL}{target.pk}/update/", {"username": "khac"}, format="json")
    assert r.status_code == 400 and r.json()["field"] == "username"

    r = c.post(f"{URL}{target.pk}/password-reset/", {}, format="json")
    assert r.status_code == 200 and mail.outbox[-1].to == ["nam@example.vn"]
    assert "http://testserver/" in mail.outbox[-1].body  # the site the call came to
    r = c.post(f"{URL}{target.pk}/deactivate/", {}, format="json")
    assert r.status_code == 200 and r.json()["is_active"] is False
    # The deactivated officer's API token no longer works.
    who = api(None)
    who.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert who.get("/api/v1/me/").status_code in (401, 403)
    # No link to a locked account.
    r = c.post(f"{URL}{target.pk}/password-reset/", {}, format="json")
    assert r.status_code == 400 and r.json()["field"] == "officer" and len(mail.outbox) == 1
    r = c.post(f"{URL}{target.pk}/reactivate/", {}, format="json")
    assert r.status_code == 200 and r.json()["is_active"] is True
    actions = AuditLog.objects.filter(object_id=str(target.pk)).order_by("id")
    assert [a.action for a in actions] == ["update", "password_reset", "deactivate", "reactivate"]
    assert all(a.actor == officers.fund for a in actions)
