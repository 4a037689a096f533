"""Request bodies and uploads (issue #18): the API always answers in its JSON error shape (400
for deep or malformed JSON, 413 over the limit, 500), uploads are bounded in size, rows and
expanded size, the role is checked before the body is read, XLSX entities are refused."""

import io
import resource
import time
import zipfile

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from openpyxl import Workbook
from rest_framework.test import APIClient

from fund.errors import ImportRejected
from fund.union_io import read_table

SHAPE = {"code", "field", "message"}


@pytest.fixture
def fund_client(officers):
    c = APIClient()
    c.force_authenticate(officers.fund)
    return c


def _post_raw(client, url, body: bytes, content_type="application/json"):
    return client.generic("POST", url, body, content_type=content_type)


def test_fifty_thousand_brackets_are_a_400_in_json(fund_client):
    r = _post_raw(fund_client, "/api/v1/borrowers/create/", b"[" * 50_000)
    assert r.status_code == 400
    assert SHAPE <= set(r.json()) and r.json()["code"] == "parse_error"


def test_malformed_json_is_a_400_in_json(fund_client):
    r = _post_raw(fund_client, "/api/v1/borrowers/create/", b'{"a": NaN, ')
    assert r.status_code == 400 and r.json()["code"] == "parse_error"


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=10_000)
def test_a_body_over_the_limit_is_a_413_in_json(fund_client):
    r = _post_raw(fund_client, "/api/v1/borrowers/create/", b'{"x": "' + b"a" * 20_000 + b'"}')
    assert r.status_code == 413
    assert r.json()["code"] == "too_large" and "MB" in r.json()["message"]


def test_an_unexpected_error_is_a_500_in_json(fund_client, monkeypatch):
    from fund.api import views

    def boom(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(views.MeApi, "get", boom)
    c = Client(raise_request_exception=False)
    c.force_login(fund_client.handler._force_user)
    r = c.get("/api/v1/me/")
    assert r.status_code == 500
    assert r["Content-Type"] == "application/json"
    assert r.json()["code"] == "server_error"
    # Pages keep their HTML error page.
    monkeypatch.setattr("config.auth_views.start_page_for", boom)
    page = c.get("/")
    assert page.status_code == 500 and page["Content-Type"].startswith("text/html")


def _csv(rows: int) -> bytes:
    head = "Mã,Tên công đoàn cơ sở,Loại hình,Mã công đoàn cấp trên\n"
    return (head + "".join(f"X{n},Tên {n},Doanh nghiệp,LB\n" for n in range(rows))).encode()


def _upload(data: bytes, name: str):
    f = io.BytesIO(data)
    f.name = name
    return f


@override_settings(IMPORT_FILE_MAX_BYTES=50_000)
def test_an_oversize_upload_is_refused_before_its_body_is_read(fund_client):
    r = fund_client.post(
        reverse("api:union_import"),
        {"file": _upload(b"x" * 200_000, "big.csv"), "level": "grassroots"},
    )
    assert r.status_code == 413
    assert r.json()["code"] == "too_large" and "0.047" in r.json()["message"]


def test_the_role_is_checked_before_the_body_is_read(officers, monkeypatch):
    from apicommon import parsers

    def never(*args, **kwargs):
        raise AssertionError("the body of a refused role was parsed")

    monkeypatch.setattr(parsers.UploadParser, "parse", never)
    for user, sign_in in ((officers.auditor, "token"), (officers.grassroots, "session")):
        c = APIClient(enforce_csrf_checks=True)
        if sign_in == "session":
            c.force_login(user)
        else:
            c.force_authenticate(user)
        r = c.post(
            reverse("api:union_import"),
            {"file": _upload(_csv(10), "a.csv"), "level": "grassroots"},
        )
        assert r.status_code == 403, (sign_in, r.content)


@override_settings(IMPORT_MAX_ROWS=100)
def test_the_row_limit_is_named_in_the_refusal(fund_client):
    r = fund_client.post(
        reverse("api:union_import"),
        {"file": _upload(_csv(150), "many.csv"), "level": "grassroots"},
    )
    assert r.status_code == 400
    assert "tối đa 100 dòng" in r.json()["errors"][0]["message"]


def _bomb(expanded: int) -> bytes:
    """A workbook whose one sheet expands to `expanded` bytes of zeros (kilobytes zipped)."""
    buf = io.BytesIO()
    wb = Workbook()
    wb.save(buf)
    out = io.BytesIO()
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename))
        dst.writestr("xl/padding.bin", b"\0" * expanded)
    return out.getvalue()


def test_an_xlsx_bomb_is_refused_in_bounded_time_and_memory():
    data = _bomb(200 * 1024 * 1024)  # 200 MB of zeros, about 200 KB zipped
    assert len(data) < 1024 * 1024
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    with pytest.raises(ImportRejected) as refusal:
        read_table(data, "xlsx")
    assert time.monotonic() - started < 2
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50 * 1024  # KB
    assert "giải nén quá lớn" in str(refusal.value.errors[0])


def test_xml_entities_in_an_xlsx_are_refused():
    buf = io.BytesIO()
    wb = Workbook()
    wb.active["A1"] = "Mã"
    wb.save(buf)
    out = io.BytesIO()
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            body = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                body = body.replace(
                    b"<worksheet",
                    b'<!DOCTYPE w [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><worksheet',
                    1,
                ).replace(b"?>", b"?>", 1)
            dst.writestr(item, body)
    with pytest.raises(ImportRejected):
        read_table(out.getvalue(), "xlsx")


@override_settings(IMPORT_FILE_MAX_BYTES=1_000)
def test_the_file_limit_holds_inside_the_reader_too():
    with pytest.raises(ImportRejected) as refusal:
        read_table(b"a,b\n" * 1_000, "csv")
    assert "Tệp quá lớn" in str(refusal.value.errors[0])
