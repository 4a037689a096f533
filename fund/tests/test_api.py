"""The fund's API (/api/v1/) through every role: other units' ids answer 404, forbidden changes
403; the union register's file import and export; the audit log; capital and attainment."""

import io
import json
from datetime import UTC, date, datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from fund.models import AuditLog, GrassrootsUnion
from fund.services import annual_plan_set

pytestmark = pytest.mark.django_db


def as_(client, user):
    client.force_login(user)
    return client


def detail(gu):
    return reverse("api:grassroots_union_detail", args=[gu.pk])


def update(gu):
    return reverse("api:grassroots_union_update", args=[gu.pk])


def post_json(client, url, data):
    return client.post(url, json.dumps(data), content_type="application/json")


def upload(text: str, name: str = "cdcs.csv") -> io.BytesIO:
    f = io.BytesIO(text.encode("utf-8"))
    f.name = name
    return f


@pytest.mark.parametrize(
    "who, visible",
    [
        ("fund", {"lb1", "lb2", "hbt1", "hbt2"}),
        ("auditor", {"lb1", "lb2", "hbt1", "hbt2"}),
        ("superior", {"lb1", "lb2"}),
        ("grassroots", {"lb1"}),
    ],
)
def test_each_role_reads_exactly_its_units(client, org, officers, who, visible):
    c = as_(client, getattr(officers, who))
    listed = {r["code"] for r in c.get(reverse("api:grassroots_union_list")).json()["results"]}
    assert listed == {getattr(org, n).code for n in visible}
    for name in ("lb1", "lb2", "hbt1", "hbt2", "other_gu"):
        r = c.get(detail(getattr(org, name)))
        assert r.status_code == (200 if name in visible else 404), (who, name)
        if r.status_code == 404:
            assert getattr(org, name).name not in r.content.decode()


@pytest.mark.parametrize(
    "who, target, change, status",
    [
        ("fund", "hbt1", {"name": "Tên mới"}, 200),
        ("superior", "lb2", {"contact_phone": "+84911000111"}, 200),
        ("superior", "hbt1", {"contact_phone": "+84911000111"}, 404),
        ("superior", "lb2", {"code": "X"}, 403),
        ("grassroots", "lb1", {"contact_phone": "+84911000111"}, 200),
        ("grassroots", "lb2", {"contact_phone": "+84911000111"}, 404),
        ("grassroots", "lb1", {"name": "Tên mới"}, 403),
        ("auditor", "lb1", {"contact_phone": "+84911000111"}, 403),
        ("other_fund", "lb1", {"contact_phone": "+84911000111"}, 404),
    ],
)
def test_each_role_changes_exactly_what_it_should(
    client, org, officers, who, target, change, status
):
    gu = getattr(org, target)
    before = GrassrootsUnion.objects.filter(pk=gu.pk).values().get()
    r = post_json(as_(client, getattr(officers, who)), update(gu), change)
    assert r.status_code == status, r.content
    after = GrassrootsUnion.objects.filter(pk=gu.pk).values().get()
    if status == 200:
        assert all(after[k] == v for k, v in change.items())
        assert r.json()["id"] == gu.pk
        assert AuditLog.objects.filter(object_id=str(gu.pk), actor=getattr(officers, who)).exists()
    else:
        assert after == before


def test_bad_input_is_400_with_the_field(client, org, officers):
    c = as_(client, officers.fund)
    r = post_json(c, update(org.lb1), {"contact_email": "không-phải-thư"})
    assert r.status_code == 400 and r.json()["field"] == "contact_email"
    r = post_json(c, update(org.lb1), {"colour": "red"})
    assert r.status_code == 400 and r.json()["field"] == "colour"
    r = post_json(c, update(org.lb1), {"active_from": "2024-13-01"})
    assert r.status_code == 400 and r.json()["field"] == "active_from"
    assert c.get("/api/v1/grassroots-unions/abc/").status_code == 404


def test_anonymous_and_role_less_users_are_refused(client, org, django_user_model):
    assert client.get(reverse("api:grassroots_union_list")).status_code in (401, 403)
    nobody = django_user_model.objects.create_user("khach", password="x")
    assert as_(client, nobody).get(reverse("api:grassroots_union_list")).status_code == 403


def test_move_through_the_api(client, org, officers):
    url = reverse("api:grassroots_union_move", args=[org.lb1.pk])
    body = {"superior_union": org.hbt.pk, "effective_date": "2024-06-01"}
    assert post_json(as_(client, officers.superior), url, body).status_code == 403
    r = post_json(as_(client, officers.fund), url, body)
    assert r.status_code == 200 and r.json()["superior_union_id"] == org.hbt.pk
    other = post_json(
        client, url, {"superior_union": org.other_su.pk, "effective_date": "2024-07-01"}
    )
    assert other.status_code == 404
    r = post_json(client, url, {"superior_union": org.lb.pk})
    assert r.status_code == 400 and r.json()["field"] == "effective_date"


def test_export_is_scoped_and_import_needs_a_fund_officer(client, org, officers):
    c = as_(client, officers.superior)
    r = c.get(reverse("api:union_export") + "?level=grassroots&format=csv")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    assert r["Content-Disposition"] == 'attachment; filename="cong-doan-co-so.csv"'
    text = r.content.decode("utf-8-sig")
    assert "LB-001" in text and "HBT-001" not in text
    r = c.post(reverse("api:union_import"), {"file": upload(text), "level": "grassroots"})
    assert r.status_code == 403
    bad = upload("Mã,Tên công đoàn cơ sở,Loại hình,Mã công đoàn cấp trên\nX,y,bánh,LB\n", "b.csv")
    r = as_(client, officers.fund).post(
        reverse("api:union_import"), {"file": bad, "level": "grassroots"}
    )
    assert r.status_code == 400
    assert r.json()["code"] == "import_rejected" and r.json()["field"] == "file"
    assert r.json()["errors"] == [
        {"row": 2, "column": "Loại hình", "message": "Loại không hợp lệ: 'bánh'."}
    ]


def test_an_import_writes_all_its_rows_or_none(client, org, officers):
    c = as_(client, officers.fund)
    url = reverse("api:union_import")
    export = c.get(reverse("api:union_export") + "?level=grassroots&format=csv")
    header, *rows = export.content.decode("utf-8-sig").splitlines()
    renamed = [
        r.replace(org.lb1.name, "Tên mới từ tệp") if r.startswith("LB-001,") else r for r in rows
    ]
    broken = "\n".join([header, *renamed, "Y,Tên,bánh,LB"])
    r = c.post(url, {"file": upload(broken), "level": "grassroots"})
    assert r.status_code == 400 and [e["row"] for e in r.json()["errors"]] == [len(rows) + 2]
    assert GrassrootsUnion.objects.get(pk=org.lb1.pk).name == org.lb1.name
    assert not GrassrootsUnion.objects.filter(code="Y").exists()

    r = c.post(url, {"file": upload("\n".join([header, *renamed])), "level": "grassroots"})
    assert r.status_code == 200, r.content
    assert r.json() == {
        "rows": len(rows),
        "created": 0,
        "updated": 1,
        "moved": 0,
        "unchanged": len(rows) - 1,
    }
    assert GrassrootsUnion.objects.get(pk=org.lb1.pk).name == "Tên mới từ tệp"
    r = c.post(url, {"file": upload("\n".join([header, *renamed])), "level": "grassroots"})
    assert r.json()["unchanged"] == len(rows)

    r = c.post(url, {"level": "grassroots"})
    assert r.status_code == 400 and r.json()["field"] == "file"
    assert r.json()["message"] == "Chưa chọn tệp."
    r = c.post(url, {"file": upload("\n".join([header, *renamed])), "level": "region"})
    assert r.status_code == 400 and r.json()["field"] == "level"


def test_the_export_as_a_workbook(client, org, officers):
    c = as_(client, officers.fund)
    r = c.get(reverse("api:union_export") + "?level=superior&format=xlsx")
    assert r.status_code == 200 and r.content[:2] == b"PK"
    assert r["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert r["Content-Disposition"] == 'attachment; filename="cong-doan-cap-tren.xlsx"'
    workbook = io.BytesIO(r.content)
    workbook.name = "cdct.xlsx"
    r = c.post(reverse("api:union_import"), {"file": workbook, "level": "superior"})
    assert r.status_code == 200 and r.json()["unchanged"] == 2
    r = c.get(reverse("api:union_export") + "?format=pdf")
    assert r.status_code == 400 and r.json()["field"] == "format"


def test_audit_log_for_the_auditor(client, org, officers):
    post_json(as_(client, officers.fund), update(org.hbt1), {"contact_phone": "0911000001"})
    post_json(as_(client, officers.superior), update(org.lb1), {"contact_phone": "0911000002"})
    c = as_(client, officers.auditor)
    url = reverse("api:audit_log_list")
    r = c.get(url + f"?actor={officers.superior.pk}")
    assert [e["object_id"] for e in r.json()["results"]] == [str(org.lb1.pk)]
    assert r.json()["results"][0]["changes"] == {"contact_phone": ["", "+84911000002"]}
    assert r.json()["results"][0]["model"] == "fund.grassrootsunion"
    assert c.get(url).json()["count"] == 2
    assert c.get(url + "?model=fund.grassrootsunion&action=update").json()["count"] == 2
    assert c.get(url + "?model=fund.nothing").json()["count"] == 0
    s = as_(client, officers.superior).get(url).json()
    assert s["count"] == 1


def test_capital_and_attainment_views_are_scoped(client, org, officers):
    annual_plan_set(fund=org.fund, year=2025, disbursed_amount=1_000)
    zero = {"amount": "0", "currency": "VND"}
    assert as_(client, officers.auditor).get("/api/v1/capital/").json()["available"] == zero
    c = as_(client, officers.superior)
    assert c.get("/api/v1/capital/").status_code == 403
    own = c.get(reverse("api:superior_union_capital", args=[org.lb.pk]))
    assert own.json()["superior_union_id"] == org.lb.pk
    assert c.get(reverse("api:superior_union_capital", args=[org.hbt.pk])).status_code == 404
    url = reverse("api:attainment")
    c = as_(client, officers.fund)
    assert c.get(url + "?year=2025&period=year").json()["planned"] == "1000"
    c = as_(client, officers.superior)
    # Without a unit named, a superior union's officer gets their own union's figures.
    own = c.get(url + "?year=2025&period=year")
    assert own.status_code == 200
    assert own.json() == c.get(url + f"?year=2025&period=year&superior_union={org.lb.pk}").json()
    assert c.get(url + f"?year=2025&period=year&superior_union={org.hbt.pk}").status_code == 404
    assert c.get(url + f"?year=2025&period=year&superior_union={org.lb.pk}").status_code == 200
    assert c.get(url + f"?year=2025&period=year&grassroots_union={org.hbt1.pk}").status_code == 404


def test_attainment_defaults_to_the_year_in_ha_noi(client, org, officers, monkeypatch):
    """At 18:00 UTC on 31 December it is already 1 January in Hà Nội (UTC+7): without a year
    the attainment is the new year's, whatever the server's own clock says."""
    evening = datetime(2099, 12, 31, 18, 0, tzinfo=UTC)
    monkeypatch.setattr(timezone, "now", lambda: evening)
    assert timezone.localdate() == date(2100, 1, 1)
    r = as_(client, officers.fund).get(reverse("api:attainment") + "?period=year")
    assert r.status_code == 200
    assert (r.json()["start"], r.json()["end"]) == ("2100-01-01", "2100-12-31")


def test_the_export_and_its_refusals_in_english(client, org, officers):
    c = as_(client, officers.fund)
    r = c.get(
        reverse("api:union_export") + "?level=grassroots&format=csv", HTTP_ACCEPT_LANGUAGE="en"
    )
    header = r.content.decode("utf-8-sig").splitlines()[0]
    assert header.startswith("Id,Grassroots union name,Type,Superior union code,Address")
    bad = upload("Mã,Tên công đoàn cơ sở,Loại hình,Mã công đoàn cấp trên\nX,y,bánh,LB\n", "b.csv")
    r = c.post(
        reverse("api:union_import"),
        {"file": bad, "level": "grassroots"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert r.status_code == 400
    assert r.json()["errors"][0]["column"] == "Type"
