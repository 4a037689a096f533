"""Import of union members (borrowers) from CSV or XLSX.

The header row names the columns, in Vietnamese (``Họ và tên``, ``Số CCCD``, ``Mã CĐCS``…) or by
field name (``full_name``, ``national_id``, ``grassroots_code``…), in any order, with or without
diacritics. Dates are day first (``14/07/1988``) or ISO; a CCCD typed into a number cell that lost
its leading zeros is padded back to 12 digits.

Import is all or nothing: every row is checked first, and one wrong row refuses the whole file
with every error listed by row number (the header is row 1, as a spreadsheet shows it). Rows are
matched to the register by CCCD within the fund: new numbers are registered, changed rows
updated, a member whose grassroots union changed is transferred (history kept) as of the import's
effective date, and identical rows are left alone — importing the same file twice changes
nothing the second time.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _l

from accounting.dates import business_today
from accounting.errors import translatable
from fund.audit import audit_record_many, audit_value
from fund.errors import PermissionRefused
from fund.models import Fund, GrassrootsUnion
from fund.scoping import actor_scope, actor_user, scope_require_write
from fund.union_io import RowError, cell_text, fold_text, parse_date, read_table
from fund.validation import PHONE_INVALID, phone_e164
from loans.errors import LoanError, MemberImportRejected
from loans.models import Borrower, BorrowerMembership, HouseholdStatus, LoanApplication, Sex
from loans.origination.cccd import CCCDInvalid, cccd_validate

FORMATS = ("csv", "xlsx")
MAX_ROWS = 200_000

# (field, Vietnamese header, required, max length)
COLUMNS = [
    ("national_id", "Số CCCD", True, 12),
    ("full_name", "Họ và tên", True, 255),
    ("date_of_birth", "Ngày sinh", True, None),
    ("sex", "Giới tính", True, None),
    ("grassroots_code", "Mã CĐCS", True, 32),
    ("household_status", "Hoàn cảnh hộ", True, None),
    ("certificate_number", "Số giấy chứng nhận", False, 64),
    ("certificate_date", "Ngày cấp giấy chứng nhận", False, None),
    ("certificate_valid_to", "Giấy chứng nhận hiệu lực đến", False, None),
    ("phone", "Điện thoại", False, 32),
    ("address", "Địa chỉ", False, 255),
    ("notes", "Ghi chú", False, 5000),
]
LABELS = {name: header for name, header, _, _ in COLUMNS}
DATE_FIELDS = ("date_of_birth", "certificate_date", "certificate_valid_to")
# The borrower fields a row sets (a column the file lacks leaves the field as it is).
DATA_FIELDS = [
    "full_name",
    "date_of_birth",
    "sex",
    "household_status",
    "certificate_number",
    "certificate_date",
    "certificate_valid_to",
    "phone",
    "address",
    "notes",
]


@dataclass
class MemberImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    transferred: int = 0
    unchanged: int = 0
    changed_ids: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.transferred)


def _header_map() -> dict[str, str]:
    out = {}
    for name, header, _, _ in COLUMNS:
        out[fold_text(header)] = name
        out[fold_text(name)] = name
    for alias, name in (
        ("CCCD", "national_id"),
        ("Số CCCD/CMND", "national_id"),
        ("Số căn cước", "national_id"),
        ("Họ tên", "full_name"),
        ("Mã công đoàn cơ sở", "grassroots_code"),
        ("Hoàn cảnh hộ gia đình", "household_status"),
        ("Số GCN", "certificate_number"),
        ("Ngày cấp GCN", "certificate_date"),
        ("Hiệu lực đến", "certificate_valid_to"),
    ):
        out[fold_text(alias)] = name
    return out


def _choices(choices) -> dict[str, str]:
    out = {}
    for value, label in choices:
        out[fold_text(value)] = value
        out[fold_text(str(label))] = value
    return out


_SEXES = {**_choices(Sex.choices), "m": "male", "f": "female", "nu": "female"}
_STATUSES = {
    **_choices(HouseholdStatus.choices),
    "ngheo": "poor",
    "can ngheo": "near_poor",
    "moi thoat ngheo": "just_out_of_poverty",
    "thoat ngheo": "just_out_of_poverty",
    "thu nhap thap": "low_income",
}


def _national_id(value) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        # A number cell drops the leading zeros of a province code such as 001.
        return f"{int(value):012d}"
    return cell_text(value)


def _bad_format(fmt) -> LoanError:
    return LoanError(
        _l("Định dạng tệp không hỗ trợ: %(format)s."), field="format", params={"format": fmt}
    )


def _read_rows(data: bytes, fmt: str) -> list[list]:
    if fmt not in ("csv", "xlsx"):
        raise _bad_format(fmt)
    return read_table(data, fmt, rejected=MemberImportRejected)


@dataclass
class _Row:
    number: int
    values: dict


def _parse(table: list[list], *, today: date) -> tuple[list[_Row], list[RowError]]:
    if not table:
        return [], [RowError(1, "", _l("Tệp trống."))]
    hmap = _header_map()
    index: dict[str, int] = {}
    errors: list[RowError] = []
    for i, h in enumerate(table[0]):
        if cell_text(h) == "":
            continue
        name = hmap.get(fold_text(cell_text(h)))
        if name is None:
            errors.append(RowError(1, cell_text(h), _l("Cột không xác định.")))
        elif name in index:
            errors.append(RowError(1, cell_text(h), _l("Cột bị lặp.")))
        else:
            index[name] = i
    for name, header, required, _ in COLUMNS:
        if required and name not in index:
            errors.append(RowError(1, header, _l("Thiếu cột bắt buộc.")))
    if errors:
        return [], errors
    if len(table) - 1 > MAX_ROWS:
        too_many = translatable(_l("Tệp có quá %(max)s dòng; hãy chia nhỏ."), {"max": MAX_ROWS})
        return [], [RowError(1, "", too_many)]
    rows: list[_Row] = []
    seen: dict[str, int] = {}
    for n, raw in enumerate(table[1:], start=2):
        cells = {name: (raw[i] if i < len(raw) else None) for name, i in index.items()}
        if all(cell_text(v) == "" for v in cells.values()):
            continue
        values, row_errors = _parse_row(n, cells, today=today)
        errors += row_errors
        nid = values.get("national_id")
        if nid:
            if nid in seen:
                same = translatable(_l("Trùng số CCCD với dòng %(row)s."), {"row": seen[nid]})
                errors.append(RowError(n, LABELS["national_id"], same))
            else:
                seen[nid] = n
        if not row_errors:
            rows.append(_Row(n, values))
    return rows, errors


def _parse_row(n: int, cells: dict, *, today: date) -> tuple[dict, list[RowError]]:
    values: dict = {}
    errors: list[RowError] = []
    for name, header, required, max_len in COLUMNS:
        if name not in cells:
            continue
        raw = cells[name]
        if name in DATE_FIELDS:
            try:
                values[name] = parse_date(raw)
            except ValueError:
                bad_date = _l("Ngày không hợp lệ: '%(value)s' (dùng dd/mm/yyyy).")
                errors.append(RowError(n, header, translatable(bad_date, {"value": raw})))
                continue
            if required and values[name] is None:
                errors.append(RowError(n, header, _l("Không được để trống.")))
            elif values[name] is not None and values[name] > today:
                if name != "certificate_valid_to":
                    errors.append(RowError(n, header, _l("Ngày không được sau ngày hôm nay.")))
            continue
        text = _national_id(raw) if name == "national_id" else cell_text(raw)
        text = " ".join(text.split()) if name not in ("notes",) else text
        if required and not text:
            errors.append(RowError(n, header, _l("Không được để trống.")))
            continue
        if name == "sex":
            value = _SEXES.get(fold_text(text))
            if value is None:
                bad_sex = _l("Giới tính không hợp lệ: '%(value)s' (Nam/Nữ).")
                errors.append(RowError(n, header, translatable(bad_sex, {"value": text})))
                continue
            text = value
        elif name == "household_status":
            value = _STATUSES.get(fold_text(text))
            if value is None:
                bad_status = _l("Hoàn cảnh hộ không hợp lệ: '%(value)s'.")
                errors.append(RowError(n, header, translatable(bad_status, {"value": text})))
                continue
            text = value
        elif name == "phone" and text:
            try:
                text = phone_e164(text)
            except ValueError:
                bad_phone = translatable(PHONE_INVALID, {"label": header, "value": text})
                errors.append(RowError(n, header, bad_phone))
                continue
        elif name != "national_id" and max_len and len(text) > max_len:
            too_long = translatable(_l("Dài quá %(max)s ký tự."), {"max": max_len})
            errors.append(RowError(n, header, too_long))
            continue
        values[name] = text
    if not errors and "national_id" in values:
        try:
            values["national_id"] = cccd_validate(
                values["national_id"], date_of_birth=values["date_of_birth"], sex=values["sex"]
            )
        except CCCDInvalid as e:
            errors.append(RowError(n, LABELS["national_id"], e.args[0]))
    issued, valid_to = values.get("certificate_date"), values.get("certificate_valid_to")
    if issued and valid_to and valid_to < issued:
        errors.append(
            RowError(n, LABELS["certificate_valid_to"], _l("Ngày hết hiệu lực phải sau ngày cấp."))
        )
    return values, errors


def members_import(
    *,
    fund: Fund,
    data: bytes,
    format: str,
    actor=None,
    effective_date: date | None = None,
) -> MemberImportResult:
    """Import a member file into `fund`; all or nothing (``MemberImportRejected`` lists every
    wrong row, and then nothing was written).

    An officer imports members of the grassroots unions in their scope only. `effective_date`
    (default today) starts the memberships of new members and dates the transfers.
    """
    if format not in FORMATS:
        raise _bad_format(format)
    today = business_today()
    effective_date = effective_date or today
    if effective_date > today:
        raise LoanError(_l("Ngày hiệu lực không được sau ngày hôm nay."), field="effective_date")
    scope = actor_scope(actor)
    if scope is not None:
        scope_require_write(scope, field="actor")
        if scope.fund_id != fund.pk:
            raise PermissionRefused(_l("Bạn không thuộc quỹ này."), field="fund", code="other_fund")
    rows, errors = _parse(_read_rows(data, format), today=today)
    if errors:
        raise MemberImportRejected(errors)
    unions = {gu.code: gu for gu in GrassrootsUnion.objects.filter(fund=fund)}
    for row in rows:
        code = row.values["grassroots_code"]
        gu = unions.get(code)
        if gu is None:
            errors.append(
                RowError(
                    row.number,
                    LABELS["grassroots_code"],
                    translatable(_l("Không có CĐCS mã '%(code)s'."), {"code": code}),
                )
            )
        elif scope is not None and not (scope.can_write and scope.allows_grassroots_union(gu)):
            errors.append(
                RowError(
                    row.number,
                    LABELS["grassroots_code"],
                    translatable(
                        _l("%(union)s không thuộc phạm vi quản lý của bạn."), {"union": gu.name}
                    ),
                )
            )
    if errors:
        raise MemberImportRejected(errors)
    with transaction.atomic():
        return _import(fund, rows, unions, scope, actor, effective_date)


def _import(fund, rows, unions, scope, actor, effective_date) -> MemberImportResult:
    result = MemberImportResult(rows=len(rows))
    numbers = [r.values["national_id"] for r in rows]
    existing = {}
    for start in range(0, len(numbers), 5000):
        chunk = numbers[start : start + 5000]
        found = Borrower.objects.select_for_update(of=("self",)).filter(
            fund=fund, national_id__in=chunk
        )
        for b in found.select_related("grassroots_union"):
            existing[b.national_id] = b
    new, changed, moves, audit, errors = [], [], [], [], []
    for row in rows:
        v = row.values
        gu = unions[v["grassroots_code"]]
        b = existing.get(v["national_id"])
        data = {f: _value(f, v[f]) for f in DATA_FIELDS if f in v}
        if b is None:
            new.append(
                Borrower(fund=fund, grassroots_union=gu, national_id=v["national_id"], **data)
            )
            continue
        before = {f: audit_value(getattr(b, f)) for f in data}
        diff = {
            f: [before[f], audit_value(x)] for f, x in data.items() if before[f] != audit_value(x)
        }
        if diff:
            for f, x in data.items():
                setattr(b, f, x)
            if "date_of_birth" in diff or "sex" in diff:
                try:
                    cccd_validate(b.national_id, date_of_birth=b.date_of_birth, sex=b.sex)
                except CCCDInvalid as e:
                    errors.append(RowError(row.number, LABELS["national_id"], str(e)))
            changed.append(b)
            audit.append(("import_update", b, diff))
        if b.grassroots_union_id != gu.pk:
            moves.append((row, b, gu))
        if diff or b.grassroots_union_id != gu.pk:
            result.changed_ids.append(b.national_id)
        else:
            result.unchanged += 1
    open_memberships = {}
    if moves:
        open_memberships = {
            m.borrower_id: m
            for m in BorrowerMembership.objects.filter(
                borrower__in=[b for _, b, _ in moves], valid_to__isnull=True
            )
        }
        busy = set(
            LoanApplication.objects.filter(
                borrower__in=[b for _, b, _ in moves], status__in=LoanApplication.OPEN_STATUSES
            ).values_list("borrower_id", flat=True)
        )
        for row, b, _ in moves:
            m = open_memberships.get(b.pk)
            if scope is not None and not scope.allows_grassroots_union(b.grassroots_union):
                errors.append(
                    RowError(
                        row.number,
                        LABELS["national_id"],
                        _l(
                            "Số CCCD đã được đăng ký cho thành viên của một CĐCS ngoài phạm vi "
                            "quản lý của bạn."
                        ),
                    )
                )
            elif b.pk in busy:
                errors.append(
                    RowError(
                        row.number,
                        LABELS["grassroots_code"],
                        _l("Thành viên đang có hồ sơ vay chưa xử lý xong; chưa chuyển CĐCS được."),
                    )
                )
            elif m is not None and m.valid_from >= effective_date:
                errors.append(
                    RowError(
                        row.number,
                        LABELS["grassroots_code"],
                        translatable(
                            _l("Không chuyển được vào ngày %(day)s: đang sinh hoạt từ %(since)s."),
                            {
                                "day": f"{effective_date:%d/%m/%Y}",
                                "since": f"{m.valid_from:%d/%m/%Y}",
                            },
                        ),
                    )
                )
    if errors:
        raise MemberImportRejected(sorted(errors))
    for b in new:
        b.name_key_refresh()
    Borrower.objects.bulk_create(new, batch_size=2000)
    if any(b.pk is None for b in new):  # databases that do not return ids
        ids = dict(
            Borrower.objects.filter(
                fund=fund, national_id__in=[b.national_id for b in new]
            ).values_list("national_id", "pk")
        )
        for b in new:
            b.pk = ids[b.national_id]
    memberships = [
        BorrowerMembership(
            borrower=b, grassroots_union_id=b.grassroots_union_id, valid_from=effective_date
        )
        for b in new
    ]
    closing = []
    for _, b, gu in moves:
        m = open_memberships.get(b.pk)
        if m is not None:
            m.valid_to = effective_date
            closing.append(m)
        audit.append(
            (
                "transfer",
                b,
                {
                    "grassroots_union_id": [b.grassroots_union_id, gu.pk],
                    "effective_date": [None, effective_date.isoformat()],
                },
            )
        )
        b.grassroots_union = gu
        memberships.append(
            BorrowerMembership(borrower=b, grassroots_union=gu, valid_from=effective_date)
        )
    if closing:
        BorrowerMembership.objects.bulk_update(closing, ["valid_to"], batch_size=2000)
    BorrowerMembership.objects.bulk_create(memberships, batch_size=2000)
    to_update = {b.pk: b for b in changed}
    to_update.update({b.pk: b for _, b, _ in moves})
    if to_update:
        now = timezone.now()
        for b in to_update.values():
            b.updated_at = now
            b.name_key_refresh()
        Borrower.objects.bulk_update(
            list(to_update.values()),
            [*DATA_FIELDS, "grassroots_union", "name_key", "updated_at"],
            batch_size=2000,
        )
    created_audit = [
        (
            "import_create",
            b,
            {
                f: [None, audit_value(getattr(b, f))]
                for f in ["national_id", *DATA_FIELDS]
                if getattr(b, f) not in ("", None)
            },
        )
        for b in new
    ]
    audit_record_many(actor=actor_user(actor), records=created_audit + audit)
    result.created, result.updated, result.transferred = len(new), len(changed), len(moves)
    result.changed_ids += [b.national_id for b in new]
    return result


def _value(f: str, value):
    """The stored form of a parsed cell (blank text, no date)."""
    if f in DATE_FIELDS:
        return value
    return value or ""


def members_template(*, format: str = "csv") -> bytes:
    """An empty file with the header row, for officers to fill in."""
    headers = [header for _, header, _, _ in COLUMNS]
    if format == "csv":
        out = io.StringIO()
        csv.writer(out, lineterminator="\r\n").writerow(headers)
        return out.getvalue().encode("utf-8-sig")
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Thành viên")
    ws.append(headers)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
