"""The member file import through the API (/api/v1/borrowers/import/): the officer's scope,
every wrong row reported, nothing half-written, the same file twice changes nothing."""

import io

import pytest

from fund.models import AuditLog
from loans.models import Borrower, BorrowerMembership

pytestmark = pytest.mark.django_db

URL = "/api/v1/borrowers/import/"
HEADER = "Số CCCD;Họ và tên;Ngày sinh;Giới tính;Mã CĐCS;Hoàn cảnh hộ"
HOA = "001188004521;Nguyễn Thị Hoa;14/07/1988;Nữ;LB-001;Hộ nghèo"
NAM = "036079001234;Trần Văn Nam;02/03/1979;Nam;LB-001;cận nghèo"
THU = "079301000777;Lê Thị Thu;30/12/2001;nữ;HBT-001;Hộ có thu nhập thấp"


def member_file(*rows, name="thanh-vien.csv") -> io.BytesIO:
    f = io.BytesIO(("\n".join([HEADER, *rows]) + "\n").encode("utf-8-sig"))
    f.name = name
    return f


def counts():
    return Borrower.objects.count(), BorrowerMembership.objects.count(), AuditLog.objects.count()


def test_an_officer_imports_the_members_of_their_union(api, officers, org):
    c = api(officers.grassroots)
    r = c.post(URL, {"file": member_file(HOA, NAM)}, format="multipart")
    assert r.status_code == 200, r.json()
    assert r.json() == {"rows": 2, "created": 2, "updated": 0, "transferred": 0, "unchanged": 0}
    hoa = Borrower.objects.get(national_id="001188004521")
    assert (hoa.full_name, hoa.grassroots_union) == ("Nguyễn Thị Hoa", org.lb1)
    n = counts()
    r = c.post(URL, {"file": member_file(HOA, NAM)}, format="multipart")
    assert r.json()["unchanged"] == 2 and counts() == n


def test_a_wrong_row_refuses_the_file_and_writes_nothing(api, officers, org):
    n = counts()
    c = api(officers.grassroots)
    r = c.post(URL, {"file": member_file(HOA, "x;;;;LB-001;", NAM)}, format="multipart")
    assert r.status_code == 400
    body = r.json()
    assert (body["code"], body["field"]) == ("import_rejected", "file")
    assert {e["row"] for e in body["errors"]} == {3}
    assert all(set(e) == {"row", "column", "message"} for e in body["errors"])
    # Lê Thị Thu belongs to another superior union's grassroots union: not this officer's.
    r = c.post(URL, {"file": member_file(HOA, THU)}, format="multipart")
    assert r.status_code == 400
    assert [(e["row"], e["column"]) for e in r.json()["errors"]] == [(3, "Mã CĐCS")]
    assert counts() == n
    r = api(officers.fund).post(URL, {"file": member_file(HOA, THU)}, format="multipart")
    assert r.status_code == 200 and r.json()["created"] == 2


def test_who_may_import_and_what_is_refused(api, officers, org):
    n = counts()
    r = api(officers.auditor).post(URL, {"file": member_file(HOA)}, format="multipart")
    assert r.status_code == 403
    c = api(officers.fund)
    r = c.post(URL, {}, format="multipart")
    assert r.status_code == 400 and r.json()["field"] == "file"
    r = c.post(URL, {"file": HOA}, format="json")
    assert r.status_code == 415
    r = c.post(URL, {"file": member_file(HOA), "effective_date": "2999-01-01"}, format="multipart")
    assert r.status_code == 400 and r.json()["field"] == "effective_date"
    r = c.post(URL, {"file": member_file(HOA, name="a.xlsx")}, format="multipart")
    assert r.status_code == 400 and r.json()["field"] == "file"  # not a workbook
    assert counts() == n
    assert api(None).post(URL, {"file": member_file(HOA)}, format="multipart").status_code == 401
