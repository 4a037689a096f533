"""The officers' pages (/fund/officers/): the list of each role's scope, creating an officer,
changing a role, the password link, deactivation; every refusal (another fund's or union's
officer is a 404, a role above one's own is refused by its field, one's own account is
refused) writes nothing."""

import pytest
from django.core import mail
from django.urls import reverse

from fund.models import AuditLog, OfficerProfile, Role
from tests.web.helpers import error_fields

pytestmark = pytest.mark.django_db


def new_data(org, **over):
    return {
        "idempotency_key": "page-new-1",
        "username": "cdcs_lb2_moi",
        "full_name": "Phạm Thị Thu Hà",
        "email": "ha@example.vn",
        "phone": "0912345678",
        "role": Role.GRASSROOTS_OFFICER,
        "grassroots_union": org.lb2.pk,
        **over,
    }


def usernames(response) -> set[str]:
    html = response.content.decode()
    return {part.split('"', 1)[0] for part in html.split('data-username="')[1:]}


def test_each_role_sees_its_scope_in_the_list(as_user, officers):
    url = reverse("fundweb:officers")
    fund_list = usernames(as_user(officers.fund).get(url))
    assert {"quy_lap", "capten_lb", "cdcs_lb1", "kiemtoan"} <= fund_list
    assert "quy_hcm" not in fund_list
    assert usernames(as_user(officers.auditor).get(url)) == fund_list
    assert usernames(as_user(officers.superior).get(url)) == {"cdcs_lb1", "cdcs_lb2"}
    assert as_user(officers.grassroots).get(url).status_code == 403
    r = as_user(officers.fund).get(url + "?q=capten")
    assert usernames(r) == {"capten_lb", "capten_hbt"}
    html = as_user(officers.fund).get(url).content.decode()
    assert "Chưa đăng nhập" in html and "Cán bộ quỹ" in html


def test_the_list_pages(as_user, org, officers):
    from fund.tests.factories import OfficerFactory

    for i in range(30):
        OfficerFactory(
            user__username=f"cb{i:02d}",
            fund=org.fund,
            role=Role.GRASSROOTS_OFFICER,
            grassroots_union=org.lb1,
        )
    c = as_user(officers.fund)
    first = usernames(c.get(reverse("fundweb:officers")))
    second = usernames(c.get(reverse("fundweb:officers") + "?page=2"))
    assert len(first) == 25 and second and not first & second


def test_the_navigation_offers_the_page_to_fund_and_superior_officers(as_user, officers):
    url = reverse("fundweb:officers")
    for who in ("fund", "superior"):
        assert f'href="{url}"' in as_user(getattr(officers, who)).get(url).content.decode()


def test_a_fund_officer_creates_an_officer(as_user, org, officers):
    c = as_user(officers.fund)
    assert c.get(reverse("fundweb:officer_new")).status_code == 200
    r = c.post(reverse("fundweb:officer_new"), new_data(org))
    profile = OfficerProfile.objects.get(user__username="cdcs_lb2_moi")
    assert r.status_code == 302 and r["Location"] == reverse("fundweb:officer", args=[profile.pk])
    assert not profile.user.is_staff
    assert mail.outbox[0].to == ["ha@example.vn"]
    assert c.post(reverse("fundweb:officer_new"), new_data(org)).status_code == 302  # twice
    assert OfficerProfile.objects.filter(user__username="cdcs_lb2_moi").count() == 1
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"username": "quy_lap"}, "username"),
        ({"email": "khong-phai-email"}, "email"),
        ({"phone": "0123"}, "phone"),
        ({"grassroots_union": ""}, "grassroots_union"),
        ({"full_name": ""}, "full_name"),
    ],
)
def test_bad_input_is_named_by_its_field(as_user, org, officers, over, field):
    before = OfficerProfile.objects.count()
    r = as_user(officers.fund).post(reverse("fundweb:officer_new"), new_data(org, **over))
    assert r.status_code == 400 and field in error_fields(r)
    assert OfficerProfile.objects.count() == before and not AuditLog.objects.exists()


def test_a_superior_officer_is_refused_what_is_not_theirs(as_user, org, officers):
    c = as_user(officers.superior)
    url = reverse("fundweb:officer_new")
    before = OfficerProfile.objects.count()
    # A role above their own and another superior union's grassroots union are not offered.
    r = c.post(url, new_data(org, role=Role.SUPERIOR_OFFICER, superior_union=org.lb.pk))
    assert r.status_code == 400 and "role" in error_fields(r)
    r = c.post(url, new_data(org, role=Role.FUND_OFFICER))
    assert r.status_code == 400 and "role" in error_fields(r)
    r = c.post(url, new_data(org, grassroots_union=org.hbt1.pk))
    assert r.status_code == 400 and "grassroots_union" in error_fields(r)
    assert OfficerProfile.objects.count() == before
    # Officers outside their grassroots unions: 404, for every page of an officer.
    for other in (officers.superior_hbt, officers.fund, officers.auditor, officers.other_fund):
        pk = other.officer.pk
        assert c.get(reverse("fundweb:officer", args=[pk])).status_code == 404
        for name in ("officer_deactivate", "officer_password_reset", "officer_reactivate"):
            assert c.post(reverse(f"fundweb:{name}", args=[pk])).status_code == 404
    # Their own: a 201-free success.
    r = c.post(url, new_data(org))
    assert r.status_code == 302


def test_another_funds_officer_is_a_404(as_user, officers):
    pk = officers.other_fund.officer.pk
    c = as_user(officers.fund)
    assert c.get(reverse("fundweb:officer", args=[pk])).status_code == 404
    assert c.post(reverse("fundweb:officer_deactivate", args=[pk])).status_code == 404
    officers.other_fund.refresh_from_db()
    assert officers.other_fund.is_active


def test_auditors_read_the_list_only_and_grassroots_officers_nothing(as_user, org, officers):
    pk = officers.grassroots.officer.pk
    for who in ("auditor", "grassroots"):
        c = as_user(getattr(officers, who))
        assert c.get(reverse("fundweb:officer_new")).status_code == 403
        assert c.post(reverse("fundweb:officer_new"), new_data(org)).status_code == 403
        assert c.get(reverse("fundweb:officer", args=[pk])).status_code == 403
        assert c.post(reverse("fundweb:officer_deactivate", args=[pk])).status_code == 403
    assert not OfficerProfile.objects.filter(user__username="cdcs_lb2_moi").exists()
    assert not AuditLog.objects.exists()


def test_nobody_changes_their_own_role_or_deactivates_themselves(as_user, officers):
    me = officers.fund.officer
    c = as_user(officers.fund)
    r = c.post(reverse("fundweb:officer_deactivate", args=[me.pk]))
    assert r.status_code == 403 and "chính mình" in r.content.decode()
    r = c.post(
        reverse("fundweb:officer", args=[me.pk]),
        {
            "idempotency_key": "k",
            "full_name": "Lập Quỹ",
            "email": "q@example.vn",
            "role": Role.AUDITOR,
        },
    )
    assert r.status_code == 403 and "chính mình" in r.content.decode()
    me.refresh_from_db()
    me.user.refresh_from_db()
    assert me.role == Role.FUND_OFFICER and me.user.is_active
    assert not AuditLog.objects.exists()


def test_a_fund_officer_changes_a_role_then_deactivates_and_reactivates(as_user, org, officers):
    target = officers.grassroots.officer
    c = as_user(officers.fund)
    url = reverse("fundweb:officer", args=[target.pk])
    assert c.get(url).status_code == 200
    r = c.post(
        url,
        {
            "idempotency_key": "k",
            "full_name": "Vũ Văn Nam",
            "email": "nam@example.vn",
            "role": Role.SUPERIOR_OFFICER,
            "superior_union": org.hbt.pk,
        },
    )
    assert r.status_code == 302
    target.refresh_from_db()
    assert target.role == Role.SUPERIOR_OFFICER and target.superior_union == org.hbt

    assert c.post(reverse("fundweb:officer_password_reset", args=[target.pk])).status_code == 302
    assert mail.outbox[-1].to == ["nam@example.vn"]
    assert c.post(reverse("fundweb:officer_deactivate", args=[target.pk])).status_code == 302
    target.user.refresh_from_db()
    assert not target.user.is_active
    assert "Đã khóa" in c.get(url).content.decode()
    r = c.post(reverse("fundweb:officer_password_reset", args=[target.pk]))
    assert r.status_code == 400 and len(mail.outbox) == 1
    assert c.post(reverse("fundweb:officer_reactivate", args=[target.pk])).status_code == 302
    actions = AuditLog.objects.filter(object_id=str(target.pk)).order_by("id")
    assert [a.action for a in actions] == ["update", "password_reset", "deactivate", "reactivate"]


def test_the_audit_log_reads_the_changes_in_words(as_user, officers):
    c = as_user(officers.fund)
    c.post(reverse("fundweb:officer_deactivate", args=[officers.grassroots.officer.pk]))
    auditor = as_user(officers.auditor)
    html = auditor.get(reverse("audit:audit_log")).content.decode()
    assert "Khóa tài khoản" in html and "Tài khoản hoạt động: Có → Không" in html
