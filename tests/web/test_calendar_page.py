"""The fund's working-day calendar page: fund officers see the year's holidays and add days
off or working days; every other role is refused; a bad day is named and nothing is written."""

import pytest
from django.urls import reverse

from fund.models import AuditLog, CalendarDay
from tests.web.helpers import error_fields

pytestmark = pytest.mark.django_db


def test_a_fund_officer_sees_tet_and_adds_a_day_off(as_user, officers):
    c = as_user(officers.fund)
    url = reverse("fundweb:calendar")
    page = c.get(url + "?year=2027")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-day="2027-02-06"' in html and "Tết Nguyên Đán" in html

    r = c.post(url, {"day": "hôm qua", "kind": "off"})
    assert r.status_code == 400 and "day" in error_fields(r)
    r = c.post(url, {"day": "10/05/2027", "kind": "whenever"})
    assert r.status_code == 400 and "kind" in error_fields(r)
    assert not CalendarDay.objects.exists()

    r = c.post(url, {"day": "10/05/2027", "kind": "off", "note": "Nghỉ bù 30/4"})
    assert r.status_code == 302 and r["Location"].endswith("?year=2027")
    row = c.get(url + "?year=2027").content.decode().split('data-day="2027-05-10"', 1)[1]
    assert "Nghỉ bù 30/4" in row.split("</tr>", 1)[0]
    assert c.post(url, {"day": "10/05/2027", "kind": "rule"}).status_code == 302
    assert not CalendarDay.objects.exists()
    assert AuditLog.objects.filter(content_type__model="calendarday").count() == 2


@pytest.mark.parametrize("who", ["superior", "grassroots", "auditor"])
def test_other_roles_cannot_open_or_change_the_calendar(as_user, officers, who):
    c = as_user(getattr(officers, who))
    url = reverse("fundweb:calendar")
    assert c.get(url).status_code == 403
    assert c.post(url, {"day": "10/05/2027", "kind": "off"}).status_code == 403
    assert not CalendarDay.objects.exists()
