"""Member import: CSV and XLSX, row-level errors, all or nothing, idempotent re-import."""

import io
from datetime import date, timedelta

import pytest
from openpyxl import Workbook, load_workbook

from fund.errors import PermissionRefused
from fund.models import AuditLog
from loans.errors import LoanError, MemberImportRejected
from loans.models import Borrower, BorrowerMembership
from loans.origination.member_import import members_import, members_template
from loans.tests.factories import application_draft, today
from loans.tests.helpers import borrower_counts

pytestmark = pytest.mark.django_db

HEADER = (
    "Số CCCD;Họ và tên;Ngày sinh;Giới tính;Mã CĐCS;Hoàn cảnh hộ;Số giấy chứng nhận;"
    "Ngày cấp giấy chứng nhận;Điện thoại"
)
ISSUED = today() - timedelta(days=30)
ROWS = [
    f"001188004521;Nguyễn Thị Hoa;14/07/1988;Nữ;LB-001;Hộ nghèo;12/GCN;{ISSUED:%d/%m/%Y};"
    "0987654321",
    f"036079001234;Trần Văn Nam;02/03/1979;Nam;LB-002;cận nghèo;13/GCN;{ISSUED:%d/%m/%Y};",
    "079301000777;Lê Thị Thu;30/12/2001;nữ;HBT-001;Hộ có thu nhập thấp;;;",
]


def csv_bytes(*rows, header=HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode("utf-8-sig")


def test_a_csv_registers_every_member_with_a_membership(org):
    r = members_import(fund=org.fund, data=csv_bytes(*ROWS), format="csv")
    assert (r.rows, r.created, r.updated, r.transferred, r.unchanged) == (3, 3, 0, 0, 0)
    hoa = Borrower.objects.get(national_id="001188004521")
    assert (hoa.full_name, hoa.sex, hoa.household_status, hoa.grassroots_union) == (
        "Nguyễn Thị Hoa",
        "female",
        "poor",
        org.lb1,
    )
    assert (hoa.date_of_birth, hoa.certificate_date) == (date(1988, 7, 14), ISSUED)
    assert Borrower.objects.get(national_id="036079001234").household_status == "near_poor"
    assert BorrowerMembership.objects.filter(valid_from=today(), valid_to=None).count() == 3
    assert AuditLog.objects.filter(action="import_create").count() == 3


def test_importing_the_same_file_again_changes_nothing(org):
    members_import(fund=org.fund, data=csv_bytes(*ROWS), format="csv")
    n = borrower_counts()
    r = members_import(fund=org.fund, data=csv_bytes(*ROWS), format="csv")
    assert (r.created, r.updated, r.transferred, r.unchanged, r.changed) == (0, 0, 0, 3, False)
    assert borrower_counts() == n


def test_a_changed_row_updates_and_a_new_union_transfers_with_history(org):
    members_import(
        fund=org.fund, data=csv_bytes(*ROWS), format="csv", effective_date=today() - timedelta(10)
    )
    changed = [
        ROWS[0].replace("0987654321", "0911222333"),
        ROWS[1].replace("LB-002", "LB-001"),
        ROWS[2],
    ]
    r = members_import(fund=org.fund, data=csv_bytes(*changed), format="csv")
    assert (r.updated, r.transferred, r.unchanged) == (1, 1, 1)
    assert Borrower.objects.get(national_id="001188004521").phone == "+84911222333"
    nam = Borrower.objects.get(national_id="036079001234")
    assert nam.grassroots_union == org.lb1
    assert list(
        nam.memberships.order_by("valid_from").values_list("grassroots_union", "valid_to")
    ) == [(org.lb2.pk, today()), (org.lb1.pk, None)]
    assert AuditLog.objects.get(action="import_update").changes == {
        "phone": ["+84987654321", "+84911222333"]
    }


def test_every_wrong_row_is_listed_by_number_and_nothing_is_written(org):
    rows = [
        ROWS[0],
        "00118800452;Sai Số;14/07/1988;Nữ;LB-001;Hộ nghèo;;;",  # row 3: 11 digits
        "001088004522;Sai Giới;14/07/1988;Nữ;LB-001;Hộ nghèo;;;",  # row 4: digit 4 says male
        ";Thiếu Số;14/07/1988;Nữ;LB-001;Hộ nghèo;;;",  # row 5
        "001188004523;Sai Ngày;31/02/1988;Nữ;LB-001;Hộ nghèo;;;",  # row 6
        "001188004524;Sai Hộ;14/07/1988;Nữ;LB-001;Giàu;;;",  # row 7
        "001188004521;Trùng Số;14/07/1988;Nữ;LB-001;Hộ nghèo;;;",  # row 8: same as row 2
        "001188004525;Sai Đơn Vị;14/07/1988;Nữ;XX-999;Hộ nghèo;;;",  # row 9: no such union
    ]
    n = borrower_counts()
    with pytest.raises(MemberImportRejected) as e:
        members_import(fund=org.fund, data=csv_bytes(*rows), format="csv")
    found = {(err.row, err.column) for err in e.value.errors}
    assert found == {
        (3, "Số CCCD"),
        (4, "Số CCCD"),
        (5, "Số CCCD"),
        (6, "Ngày sinh"),
        (7, "Hoàn cảnh hộ"),
        (8, "Số CCCD"),
    }
    assert "Dòng 3, cột Số CCCD" in e.value.message
    assert borrower_counts() == n
    # the union is checked once the rows themselves are right
    with pytest.raises(MemberImportRejected) as e:
        members_import(fund=org.fund, data=csv_bytes(ROWS[0], rows[-1]), format="csv")
    assert [(err.row, err.column) for err in e.value.errors] == [(3, "Mã CĐCS")]
    assert borrower_counts() == n


def test_a_missing_column_or_an_unknown_one_is_reported_on_the_header(org):
    with pytest.raises(MemberImportRejected) as e:
        members_import(
            fund=org.fund, data=csv_bytes(header="Số CCCD;Họ và tên;Màu mắt"), format="csv"
        )
    assert {(err.row, err.column) for err in e.value.errors} >= {
        (1, "Màu mắt"),
        (1, "Ngày sinh"),
        (1, "Mã CĐCS"),
    }


def test_an_xlsx_with_a_cccd_that_lost_its_leading_zeros(org):
    wb = Workbook()
    ws = wb.active
    ws.append(["CCCD", "Họ tên", "Ngày sinh", "Giới tính", "Mã CĐCS", "Hoàn cảnh hộ"])
    ws.append([1188004521, "Nguyễn Thị Hoa", date(1988, 7, 14), "Nữ", "LB-001", "Hộ nghèo"])
    buf = io.BytesIO()
    wb.save(buf)
    r = members_import(fund=org.fund, data=buf.getvalue(), format="xlsx")
    assert r.created == 1
    assert Borrower.objects.get().national_id == "001188004521"


def test_a_grassroots_officer_imports_only_their_own_members(org, officers):
    n = borrower_counts()
    with pytest.raises(MemberImportRejected) as e:
        members_import(
            fund=org.fund, data=csv_bytes(*ROWS), format="csv", actor=officers.grassroots
        )
    assert [(err.row, err.column) for err in e.value.errors] == [(3, "Mã CĐCS"), (4, "Mã CĐCS")]
    assert borrower_counts() == n
    r = members_import(
        fund=org.fund, data=csv_bytes(ROWS[0]), format="csv", actor=officers.grassroots
    )
    assert r.created == 1


def test_an_auditor_or_another_fund_imports_nothing(org, officers):
    for who in ("auditor", "other_fund"):
        with pytest.raises(PermissionRefused):
            members_import(
                fund=org.fund, data=csv_bytes(*ROWS), format="csv", actor=getattr(officers, who)
            )
    assert Borrower.objects.count() == 0


def test_a_member_with_an_application_in_progress_is_not_moved(org, product):
    members_import(
        fund=org.fund, data=csv_bytes(*ROWS), format="csv", effective_date=today() - timedelta(3)
    )
    application_draft(borrower=Borrower.objects.get(national_id="001188004521"), product=product)
    with pytest.raises(MemberImportRejected) as e:
        members_import(
            fund=org.fund, data=csv_bytes(ROWS[0].replace("LB-001", "LB-002")), format="csv"
        )
    assert e.value.errors[0].row == 2 and "hồ sơ vay" in e.value.errors[0].message


def test_bad_files(org):
    with pytest.raises(MemberImportRejected):
        members_import(fund=org.fund, data=b"\xff\xfe\x00garbage", format="csv")
    with pytest.raises(MemberImportRejected):
        members_import(fund=org.fund, data=b"not a workbook", format="xlsx")
    with pytest.raises(MemberImportRejected):
        members_import(fund=org.fund, data=b"", format="csv")
    with pytest.raises(LoanError) as e:
        members_import(fund=org.fund, data=b"", format="pdf")
    assert e.value.field == "format"


def test_the_template_has_the_header_the_import_reads(org):
    wb = load_workbook(io.BytesIO(members_template(format="xlsx")))
    header = [c.value for c in next(wb.active.iter_rows())]
    assert header[:3] == ["Số CCCD", "Họ và tên", "Ngày sinh"]
    r = members_import(fund=org.fund, data=members_template(format="csv"), format="csv")
    assert r.rows == 0
