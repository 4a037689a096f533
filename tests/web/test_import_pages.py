"""The import pages of unions and members: upload, a preview that writes nothing (or every
wrong row by number, column and message), confirm to import exactly the previewed file, once."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from fund.models import AuditLog, GrassrootsUnion
from loans.models import Borrower
from loans.tests.factories import today

pytestmark = pytest.mark.django_db

ISSUED = today() - timedelta(days=30)
MEMBERS = (
    "Số CCCD;Họ và tên;Ngày sinh;Giới tính;Mã CĐCS;Hoàn cảnh hộ;Số giấy chứng nhận;"
    "Ngày cấp giấy chứng nhận;Điện thoại\n"
    f"001188004521;Nguyễn Thị Hoa;14/07/1988;Nữ;LB-001;Hộ nghèo;12/GCN;{ISSUED:%d/%m/%Y};"
    "0987654321\n"
    "079301000777;Lê Thị Thu;30/12/2001;nữ;LB-001;Hộ có thu nhập thấp;;;\n"
)


def upload(text: str, name="thanh-vien.csv"):
    return SimpleUploadedFile(name, text.encode("utf-8-sig"), content_type="text/csv")


def test_members_preview_writes_nothing_then_confirm_imports_once(as_user, officers, org):
    c = as_user(officers.grassroots)
    url = reverse("loans:borrower_import")
    assert c.get(url).status_code == 200
    r = c.post(url, {"file": upload(MEMBERS)})
    assert r.status_code == 200, r.content.decode()[:2000]
    body = r.content.decode()
    assert 'data-testid="import-preview"' in body and not Borrower.objects.exists()
    token = body.split('name="token" value="', 1)[1].split('"', 1)[0]
    done = c.post(url, {"token": token})
    assert 'data-testid="import-done"' in done.content.decode()
    assert Borrower.objects.count() == 2
    assert AuditLog.objects.filter(action="import_create").count() >= 2
    again = c.post(url, {"token": token})  # a double click: the same answer, nothing more
    assert 'data-testid="import-done"' in again.content.decode()
    assert Borrower.objects.count() == 2
    # Another officer's session cannot use the token.
    other = as_user(officers.fund).post(url, {"token": token})
    assert other.status_code == 400


def test_members_wrong_rows_are_listed_and_nothing_is_written(as_user, officers, org):
    c = as_user(officers.grassroots)
    url = reverse("loans:borrower_import")

    def errors(text):
        r = c.post(url, {"file": upload(text)})
        assert r.status_code == 400 and not Borrower.objects.exists()
        return r.content.decode().split('data-testid="import-errors"', 1)[1].split("</table>")[0]

    table = errors(MEMBERS.replace("14/07/1988", "31/02/1988"))
    assert '<td class="num">2</td><td>Ngày sinh</td>' in table
    table = errors(MEMBERS.replace("LB-001;Hộ có", "LB-002;Hộ có"))  # not their union
    assert '<td class="num">3</td><td>Mã CĐCS</td>' in table


def test_a_file_of_another_kind_or_too_big_is_refused_by_the_field(
    as_user, officers, org, settings
):
    c = as_user(officers.fund)
    r = c.post(reverse("loans:borrower_import"), {"file": upload("x", name="a.pdf")})
    assert r.status_code == 400 and 'data-field="file"' in r.content.decode()
    settings.IMPORT_FILE_MAX_BYTES = 10
    r = c.post(reverse("loans:borrower_import"), {"file": upload(MEMBERS)})
    assert r.status_code == 400 and "Tệp quá lớn" in r.content.decode()
    assert as_user(officers.auditor).get(reverse("loans:borrower_import")).status_code == 403


def test_the_stored_file_is_the_previewed_one(as_user, officers, org, settings):
    """Confirm imports exactly what was previewed: a stored file changed since is refused."""
    from django.core.files.storage import storages

    c = as_user(officers.fund)
    url = reverse("loans:borrower_import")
    body = c.post(url, {"file": upload(MEMBERS)}).content.decode()
    token = body.split('name="token" value="', 1)[1].split('"', 1)[0]
    staged = c.session["import_staged"][token]
    storage = storages["documents"]
    storage.delete(staged["path"])
    storage.save(staged["path"], upload(MEMBERS.replace("Lê Thị Thu", "Kẻ Gian")))
    r = c.post(url, {"token": token})
    assert r.status_code == 400 and not Borrower.objects.exists()


UNIONS = (
    "Mã,Tên công đoàn cơ sở,Loại hình,Mã công đoàn cấp trên\n"
    "LB-010,CĐCS Trường THCS Gia Thụy,Trường học,LB\n"
)


def test_unions_import_in_three_steps_fund_officers_only(as_user, officers, org):
    c = as_user(officers.fund)
    url = reverse("fundweb:union_import")
    r = c.post(url, {"file": upload(UNIONS, "cd.csv"), "level": "grassroots"})
    assert r.status_code == 200, r.content.decode()[:3000]
    assert not GrassrootsUnion.objects.filter(code="LB-010").exists()
    token = r.content.decode().split('name="token" value="', 1)[1].split('"', 1)[0]
    assert 'data-testid="import-done"' in c.post(url, {"token": token}).content.decode()
    assert GrassrootsUnion.objects.get(code="LB-010").superior_union == org.lb
    bad = UNIONS.replace(",LB\n", ",XX\n")
    r = c.post(url, {"file": upload(bad, "cd.csv"), "level": "grassroots"})
    assert r.status_code == 400 and 'data-testid="import-errors"' in r.content.decode()
    for who in (officers.superior, officers.grassroots, officers.auditor):
        assert as_user(who).get(url).status_code == 403
