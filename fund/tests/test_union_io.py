import csv
import io
from datetime import date, timedelta

import pytest
from django.utils import timezone, translation
from openpyxl import Workbook, load_workbook

from fund.errors import ImportRejected, PermissionRefused
from fund.models import AuditLog, GrassrootsUnion, GrassrootsUnionAffiliation, SuperiorUnion
from fund.scoping import scope_for
from fund.selectors import superior_union_on
from fund.union_io import RowError, unions_export, unions_import
from tests.web.test_audit_english import VIETNAMESE

pytestmark = pytest.mark.django_db

GU_HEADER = [
    "Mã",
    "Tên công đoàn cơ sở",
    "Loại hình",
    "Mã công đoàn cấp trên",
    "Địa chỉ",
    "Cán bộ phụ trách",
    "Điện thoại",
    "Thư điện tử",
    "Hoạt động từ",
    "Ngừng hoạt động từ",
]


def to_csv(rows) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8")


def to_xlsx(rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


GOOD = [
    GU_HEADER,
    [
        "LB-010",
        "CĐCS Trường THCS Gia Thụy",
        "Trường học",
        "LB",
        "Gia Thụy",
        "Lê Văn An",
        "0912000111",
        "an@example.vn",
        "01/09/2010",
        "",
    ],
    ["LB-011", "CĐCS UBND phường Ngọc Lâm", "administrative", "LB", "", "", "", "", "", ""],
    [
        "HBT-010",
        "CĐCS Công ty CP Dệt 8/3",
        "Doanh nghiệp ngoài nhà nước",
        "HBT",
        "",
        "",
        "",
        "",
        "2001-05-01",
        "",
    ],
]


@pytest.mark.parametrize("fmt, encode", [("csv", to_csv), ("xlsx", to_xlsx)])
def test_import_creates_and_reimport_changes_nothing(org, officers, fmt, encode):
    data = encode(GOOD)
    r = unions_import(fund=org.fund, data=data, format=fmt, level="grassroots", actor=officers.fund)
    assert (r.rows, r.created, r.updated, r.moved, r.unchanged) == (3, 3, 0, 0, 0)
    gu = GrassrootsUnion.objects.get(code="LB-010")
    assert (gu.kind, gu.superior_union, gu.active_from, gu.contact_email) == (
        "school",
        org.lb,
        date(2010, 9, 1),
        "an@example.vn",
    )
    assert gu.affiliations.get().valid_from == date(2010, 9, 1)
    assert AuditLog.objects.filter(action="import_create").count() == 3
    snapshot = list(GrassrootsUnion.objects.order_by("pk").values())
    logs = AuditLog.objects.count()
    again = unions_import(
        fund=org.fund, data=data, format=fmt, level="grassroots", actor=officers.fund
    )
    assert (again.created, again.updated, again.moved, again.unchanged) == (0, 0, 0, 3)
    assert not again.changed
    assert list(GrassrootsUnion.objects.order_by("pk").values()) == snapshot
    assert AuditLog.objects.count() == logs


def test_any_wrong_row_refuses_the_whole_file_with_row_numbers(org):
    rows = [
        GU_HEADER,
        GOOD[1],
        ["", "Không mã", "Trường học", "LB", "", "", "", "", "", ""],  # row 3
        ["LB-012", "x", "Tiệm bánh", "LB", "", "", "", "", "", ""],  # row 4
        ["LB-013", "x", "school", "LB", "", "", "", "thư-sai", "31/02/2020", ""],  # row 5
        ["LB-010", "trùng", "school", "LB", "", "", "", "", "", ""],  # row 6
        ["", "", "", "", "", "", "", "", "", ""],  # blank rows are skipped
        ["LB-014", "x", "school", "LB", "", "", "", "", "01/01/2020", "01/01/2019"],  # row 8
    ]
    with pytest.raises(ImportRejected) as e:
        unions_import(fund=org.fund, data=to_csv(rows), format="csv", level="grassroots")
    got = {(err.row, err.column) for err in e.value.errors}
    assert got == {
        (3, "Mã"),
        (4, "Loại hình"),
        (5, "Thư điện tử"),
        (5, "Hoạt động từ"),
        (6, "Mã"),
        (8, "Ngừng hoạt động từ"),
    }
    assert "Dòng 6, cột Mã: Trùng mã với dòng 2." in e.value.message
    assert e.value.as_dict()["errors"][0]["row"] == 3
    assert not GrassrootsUnion.objects.filter(code__startswith="LB-01").exists()
    assert not AuditLog.objects.exists()


def test_unknown_superior_union_and_missing_columns(org):
    rows = [GU_HEADER, GOOD[1], ["LB-099", "x", "school", "KHONGCO", "", "", "", "", "", ""]]
    with pytest.raises(ImportRejected) as e:
        unions_import(fund=org.fund, data=to_csv(rows), format="csv", level="grassroots")
    assert [(x.row, x.column) for x in e.value.errors] == [(3, "Mã công đoàn cấp trên")]
    assert not GrassrootsUnion.objects.filter(code="LB-010").exists()
    with pytest.raises(ImportRejected) as e:
        unions_import(
            fund=org.fund, data=to_csv([["Mã", "Tên", "Cột lạ"]]), format="csv", level="grassroots"
        )
    msgs = {(x.row, x.column) for x in e.value.errors}
    assert (1, "Cột lạ") in msgs and (1, "Loại hình") in msgs
    with pytest.raises(ImportRejected):
        unions_import(fund=org.fund, data=b"not a workbook", format="xlsx", level="grassroots")
    with pytest.raises(ImportRejected):
        unions_import(fund=org.fund, data="Mã".encode("utf-16"), format="csv", level="grassroots")


def test_changed_rows_are_updated_and_moves_keep_history(org):
    unions_import(fund=org.fund, data=to_csv(GOOD), format="csv", level="grassroots")
    changed = [list(r) for r in GOOD]
    changed[1][6] = "0999888777"  # new phone
    changed[2][3] = "HBT"  # moved to Hai Bà Trưng
    move_day = timezone.localdate()
    r = unions_import(
        fund=org.fund,
        data=to_csv(changed),
        format="csv",
        level="grassroots",
        effective_date=move_day,
    )
    assert (r.created, r.updated, r.moved, r.unchanged) == (0, 1, 1, 1)
    gu = GrassrootsUnion.objects.get(code="LB-011")
    assert gu.superior_union == org.hbt
    assert superior_union_on(grassroots_union=gu, on=move_day - timedelta(1)) == org.lb
    assert superior_union_on(grassroots_union=gu, on=move_day) == org.hbt
    assert GrassrootsUnionAffiliation.objects.filter(grassroots_union=gu).count() == 2
    assert AuditLog.objects.get(action="import_update").changes == {
        "contact_phone": ["+84912000111", "+84999888777"]
    }
    assert AuditLog.objects.filter(action="move").count() == 1


def test_superior_unions_import_both_ways(org):
    rows = [
        ["Mã", "Tên công đoàn cấp trên", "Loại", "Địa chỉ"],
        ["GD", "Công đoàn ngành Giáo dục Hà Nội", "Công đoàn ngành", "81 Thợ Nhuộm"],
        ["LB", "LĐLĐ quận Long Biên", "district", "Long Biên"],
    ]
    r = unions_import(fund=org.fund, data=to_csv(rows), format="csv", level="superior")
    assert (r.created, r.updated) == (1, 1)
    assert SuperiorUnion.objects.get(fund=org.fund, code="GD").kind == "industry"
    r = unions_import(fund=org.fund, data=to_csv(rows), format="csv", level="superior")
    assert not r.changed


def test_only_fund_officers_import(org, officers):
    for who in (officers.superior, officers.grassroots, officers.auditor, officers.other_fund):
        with pytest.raises(PermissionRefused):
            unions_import(
                fund=org.fund, data=to_csv(GOOD), format="csv", level="grassroots", actor=who
            )


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_is_scoped_and_reimports_unchanged(org, officers, fmt):
    unions_import(
        fund=org.fund, data=to_csv(GOOD), format=fmt if fmt == "csv" else "csv", level="grassroots"
    )

    def codes(data):
        if fmt == "csv":
            rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
        else:
            rows = [
                list(r) for r in load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True)
            ]
        assert rows[0] == GU_HEADER
        return [r[0] for r in rows[1:]]

    everything = unions_export(scope=scope_for(officers.fund), level="grassroots", format=fmt)
    assert codes(everything) == [
        "HBT-001",
        "HBT-002",
        "HBT-010",
        "LB-001",
        "LB-002",
        "LB-010",
        "LB-011",
    ]
    assert codes(
        unions_export(scope=scope_for(officers.superior), level="grassroots", format=fmt)
    ) == ["LB-001", "LB-002", "LB-010", "LB-011"]
    assert codes(
        unions_export(scope=scope_for(officers.grassroots), level="grassroots", format=fmt)
    ) == ["LB-001"]
    r = unions_import(fund=org.fund, data=everything, format=fmt, level="grassroots")
    assert not r.changed and r.unchanged == 7
    sup = unions_export(scope=scope_for(officers.auditor), level="superior", format=fmt)
    assert not unions_import(fund=org.fund, data=sup, format=fmt, level="superior").changed


def test_import_refusal_is_put_together_in_the_language_it_is_shown_in():
    e = ImportRejected([RowError(2, "Mã", "x"), *(RowError(n, "", "y") for n in range(3, 24))])
    assert e.field == "file" and e.as_dict()["code"] == "import_rejected"
    assert len(e.as_dict()["errors"]) == 22
    vi = str(e)
    assert vi.startswith("Không nhập được tệp: 22 lỗi, chưa nhập dòng nào. Dòng 2, cột Mã: x; ")
    assert vi.endswith("Dòng 21: y (và 2 lỗi khác)")
    with translation.override("en"):
        en = str(e)
    assert en.startswith("The file was not imported: 22 errors, no row was imported. Row 2, ")
    assert en.endswith("Row 21: y (and 2 more errors)")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_in_english_reimports_in_either_language(org, officers, fmt):
    """The export follows the reader's language (headers, kinds, the sheet's name); the import
    reads a file in either language whatever the reader's."""
    unions_import(fund=org.fund, data=to_csv(GOOD), format="csv", level="grassroots")
    with translation.override("en"):
        data = unions_export(scope=scope_for(officers.fund), level="grassroots", format=fmt)
        sup = unions_export(scope=scope_for(officers.fund), level="superior", format=fmt)
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    else:
        ws = load_workbook(io.BytesIO(data)).active
        assert ws.title == "Grassroots union"
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
    assert rows[0][:4] == ["Id", "Grassroots union name", "Type", "Superior union code"]
    assert rows[0][-2:] == ["Active from", "Inactive from"]
    assert not [h for h in rows[0] if VIETNAMESE.search(h)]
    with translation.override("en"):
        kinds = {str(label) for _v, label in GrassrootsUnion.Kind.choices}
    assert {r[2] for r in rows[1:]} <= kinds
    for language in ("vi", "en"):
        with translation.override(language):
            r = unions_import(fund=org.fund, data=data, format=fmt, level="grassroots")
            assert not r.changed and r.unchanged == 7
            assert not unions_import(fund=org.fund, data=sup, format=fmt, level="superior").changed
