"""Import and export of the union register as CSV or XLSX.

One file holds one level: superior unions, or grassroots unions (which name their superior
union by code, so superior unions are imported first). The header row names the columns, in
Vietnamese as exported (``Mã``, ``Tên``, ``Loại hình``…) or by field name (``code``, ``name``…),
in any order.

Import is all or nothing: every row is checked first, and one wrong row refuses the whole file
with every error listed by row number (the header is row 1, as a spreadsheet shows it). Rows are
matched to the register by code: new codes are created, changed rows updated, a grassroots union
whose superior union changed is moved (history kept) as of the import's effective date, and
identical rows are left alone — importing the same file twice changes nothing the second time.
"""

from __future__ import annotations

import csv
import io
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _l

from accounting.dates import business_today
from accounting.errors import translatable
from accounting.formatting import spreadsheet_text, spreadsheet_text_read
from fund.audit import audit_record_many
from fund.errors import FundError, ImportRejected
from fund.models import Fund, GrassrootsUnion, GrassrootsUnionAffiliation, SuperiorUnion
from fund.scoping import (
    Scope,
    actor_require_fund_officer,
    scope_filter,
    superior_union_scope_filter,
)
from fund.services import AFFILIATION_SINCE_ALWAYS, UNION_FIELDS
from fund.validation import PHONE_INVALID, phone_e164

SUPERIOR = "superior"
GRASSROOTS = "grassroots"
LEVELS = (SUPERIOR, GRASSROOTS)
FORMATS = ("csv", "xlsx")

# (field, Vietnamese header, required, max length). The headers are written in the reader's
# language (``gettext(header)``: an export in English has English headers) and read in either.
_COMMON_TAIL = [
    ("address", gettext_noop("Địa chỉ"), False, 255),
    ("contact_name", gettext_noop("Cán bộ phụ trách"), False, 255),
    ("contact_phone", gettext_noop("Điện thoại"), False, 32),
    ("contact_email", gettext_noop("Thư điện tử"), False, 254),
    ("active_from", gettext_noop("Hoạt động từ"), False, None),
    ("active_to", gettext_noop("Ngừng hoạt động từ"), False, None),
]
SUPERIOR_CODE_HEADER = gettext_noop("Mã công đoàn cấp trên")
COLUMNS = {
    SUPERIOR: [
        ("code", gettext_noop("Mã"), True, 32),
        ("name", gettext_noop("Tên công đoàn cấp trên"), True, 255),
        ("kind", gettext_noop("Loại"), True, None),
        *_COMMON_TAIL,
    ],
    GRASSROOTS: [
        ("code", gettext_noop("Mã"), True, 32),
        ("name", gettext_noop("Tên công đoàn cơ sở"), True, 255),
        ("kind", gettext_noop("Loại hình"), True, None),
        ("superior_code", SUPERIOR_CODE_HEADER, True, 32),
        *_COMMON_TAIL,
    ],
}
# The languages a file's headers and kinds are read in (whatever the reader's language).
FILE_LANGUAGES = ("vi", "en")
# What a file row sets on a union besides its code (the key it is found by).
DATA_FIELDS = [f for f in UNION_FIELDS if f != "code"]


class RowError(NamedTuple):
    row: int
    column: str
    message: str

    def __str__(self):
        # A column of ours is named in the reader's language; one the file made up as written.
        column = gettext(self.column) if self.column else ""
        params = {"row": self.row, "column": column, "message": self.message}
        if self.column:
            return gettext("Dòng %(row)s, cột %(column)s: %(message)s") % params
        return gettext("Dòng %(row)s: %(message)s") % params


@dataclass
class ImportResult:
    level: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    moved: int = 0
    unchanged: int = 0
    changed_codes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.moved)


def fold_text(text: str) -> str:
    """Lower case, no diacritics, single spaces: 'Loại hình' -> 'loai hinh'."""
    text = str(text).strip().lower().replace("đ", "d")
    text = unicodedata.normalize("NFD", text)
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    return " ".join(text.replace("_", " ").split())


def unions_matching(qs, text: str):
    """The unions of `qs` (superior or grassroots) whose code or name contains `text`, ignoring
    case and Vietnamese accents ("ha noi" finds "Hà Nội", "dien" finds "Điện"). A fund has a
    few hundred unions: they are folded here rather than in SQL, the same on SQLite and
    PostgreSQL. Blank `text`: `qs` unchanged."""
    needle = fold_text(text or "")
    if not needle:
        return qs
    ids = [
        pk
        for pk, code, name in qs.values_list("pk", "code", "name")
        if needle in fold_text(f"{code} {name}")
    ]
    return qs.filter(pk__in=ids)


def _header_map(level: str) -> dict[str, str]:
    out = {}
    for name, header, _, _ in COLUMNS[level]:
        for language in FILE_LANGUAGES:
            with translation.override(language):
                out[fold_text(gettext(header))] = name
        out[fold_text(name)] = name
    # Short forms people type.
    out[fold_text("Tên")] = "name"
    out[fold_text("Loại hình" if level == SUPERIOR else "Loại")] = "kind"
    if level == GRASSROOTS:
        out[fold_text("Mã CĐ cấp trên")] = "superior_code"
        out[fold_text("Mã cấp trên")] = "superior_code"
    out[fold_text("Email")] = "contact_email"
    return out


def _kinds(level: str) -> dict[str, str]:
    choices = (SuperiorUnion if level == SUPERIOR else GrassrootsUnion).Kind.choices
    out = {}
    for value, label in choices:
        out[fold_text(value)] = value
        for language in FILE_LANGUAGES:
            with translation.override(language):
                out[fold_text(str(label))] = value
    return out


def cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return spreadsheet_text_read(str(value).strip())


def parse_date(value) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for fmt in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


# --------------------------------------------------------------------------------------------
# Reading


def _too_big(rejected, message, params):
    return rejected([RowError(1, "", translatable(message, params))])


def _rows_limited(rows, rejected):
    """The rows, refused past ``IMPORT_MAX_ROWS`` (a header and that many rows)."""
    limit = settings.IMPORT_MAX_ROWS
    out = []
    for row in rows:
        if len(out) > limit:
            raise _too_big(
                rejected,
                _l("Tệp có quá nhiều dòng: tối đa %(limit)s dòng mỗi lần nhập."),
                {"limit": f"{limit:,}".replace(",", ".")},
            )
        out.append(list(row))
    return out


def _xlsx_check(data: bytes, rejected) -> None:
    """Refuse a workbook that would expand past ``IMPORT_XLSX_MAX_UNCOMPRESSED`` bytes (a zip
    bomb) before openpyxl opens it; its XML is read through defusedxml (entities refused)."""
    import openpyxl

    if not openpyxl.DEFUSEDXML:  # installed with trovon; refuse rather than read unsafely
        raise _too_big(rejected, _l("Không đọc được tệp XLSX một cách an toàn."), {})
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            expanded = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError):
        raise rejected([RowError(1, "", _l("Tệp không phải bảng tính XLSX hợp lệ."))]) from None
    limit = settings.IMPORT_XLSX_MAX_UNCOMPRESSED
    if expanded > limit:
        raise _too_big(
            rejected,
            _l("Tệp XLSX giải nén quá lớn: tối đa %(limit)s MB."),
            {"limit": limit // (1024 * 1024)},
        )


def read_table(data: bytes, fmt: str, *, rejected=ImportRejected) -> list[list]:
    """Rows of a CSV (UTF-8, comma or semicolon) or XLSX file; `rejected` is raised for a bad file.

    Shared by every importer (unions here, members in the loans layer). Bounded: the file's
    size is checked at the door (``apicommon.parsers``), the rows are read one at a time and
    refused past ``IMPORT_MAX_ROWS``, a workbook is checked for its expanded size first.
    """
    if len(data) > settings.IMPORT_FILE_MAX_BYTES:
        raise _too_big(
            rejected,
            _l("Tệp quá lớn: tối đa %(limit)s MB."),
            {"limit": settings.IMPORT_FILE_MAX_BYTES // (1024 * 1024)},
        )
    if fmt == "csv":
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise rejected([RowError(1, "", _l("Tệp CSV phải mã hóa UTF-8."))]) from None
        sample = text[:4096]
        delimiter = ";" if sample.count(";") > sample.count(",") else ","
        try:
            return _rows_limited(csv.reader(io.StringIO(text), delimiter=delimiter), rejected)
        except csv.Error:
            raise rejected([RowError(1, "", _l("Tệp CSV không đọc được."))]) from None
    if fmt == "xlsx":
        from openpyxl import load_workbook

        _xlsx_check(data, rejected)
        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception:  # openpyxl raises many kinds on a file that is not a workbook
            raise rejected([RowError(1, "", _l("Tệp không phải bảng tính XLSX hợp lệ."))]) from None
        try:
            return _rows_limited(wb.worksheets[0].iter_rows(values_only=True), rejected)
        except rejected:
            raise
        except Exception:  # defusedxml's refusal of an entity, a broken sheet
            raise rejected([RowError(1, "", _l("Tệp không phải bảng tính XLSX hợp lệ."))]) from None
        finally:
            wb.close()
    raise FundError(
        _l("Định dạng tệp không hỗ trợ: %(format)s."), field="format", params={"format": fmt}
    )


@dataclass
class _Row:
    number: int
    values: dict


def _parse(level: str, table: list[list]) -> tuple[list[_Row], list[RowError]]:
    errors: list[RowError] = []
    if not table:
        return [], [RowError(1, "", _l("Tệp trống."))]
    hmap = _header_map(level)
    index: dict[str, int] = {}
    for i, h in enumerate(table[0]):
        if h is None or cell_text(h) == "":
            continue
        name = hmap.get(fold_text(cell_text(h)))
        if name is None:
            errors.append(RowError(1, cell_text(h), _l("Cột không xác định.")))
        elif name in index:
            errors.append(RowError(1, cell_text(h), _l("Cột bị lặp.")))
        else:
            index[name] = i
    labels = {name: header for name, header, _, _ in COLUMNS[level]}
    for name, header, required, _ in COLUMNS[level]:
        if required and name not in index:
            errors.append(RowError(1, header, _l("Thiếu cột bắt buộc.")))
    if errors:
        return [], errors
    kinds = _kinds(level)
    rows: list[_Row] = []
    seen: dict[str, int] = {}
    for n, raw in enumerate(table[1:], start=2):
        cells = {name: (raw[i] if i < len(raw) else None) for name, i in index.items()}
        if all(cell_text(v) == "" for v in cells.values()):
            continue
        values: dict = {}
        for name, _, required, max_len in COLUMNS[level]:
            if name not in index:
                continue
            value = cells[name]
            label = labels[name]
            if name in ("active_from", "active_to"):
                try:
                    values[name] = parse_date(value)
                except ValueError:
                    bad_date = _l("Ngày không hợp lệ: '%(value)s' (dùng dd/mm/yyyy).")
                    errors.append(RowError(n, label, translatable(bad_date, {"value": value})))
                continue
            text = cell_text(value)
            if required and not text:
                errors.append(RowError(n, label, _l("Không được để trống.")))
                continue
            if max_len and len(text) > max_len:
                too_long = translatable(_l("Dài quá %(max)s ký tự."), {"max": max_len})
                errors.append(RowError(n, label, too_long))
                continue
            if name == "kind":
                kind = kinds.get(fold_text(text))
                if kind is None:
                    bad_kind = translatable(_l("Loại không hợp lệ: '%(kind)s'."), {"kind": text})
                    errors.append(RowError(n, label, bad_kind))
                    continue
                text = kind
            if name == "contact_phone" and text:
                try:
                    text = phone_e164(text)
                except ValueError:
                    bad_phone = translatable(PHONE_INVALID, {"label": label, "value": text})
                    errors.append(RowError(n, label, bad_phone))
                    continue
            if name == "contact_email" and text:
                try:
                    validate_email(text)
                except ValidationError:
                    bad_email = _l("Địa chỉ thư không hợp lệ: '%(email)s'.")
                    errors.append(RowError(n, label, translatable(bad_email, {"email": text})))
                    continue
            values[name] = text
        start, end = values.get("active_from"), values.get("active_to")
        if start and end and end <= start:
            errors.append(
                RowError(
                    n, labels["active_to"], _l("Ngày ngừng hoạt động phải sau ngày hoạt động.")
                )
            )
        code = values.get("code")
        if code:
            if code in seen:
                same = translatable(_l("Trùng mã với dòng %(row)s."), {"row": seen[code]})
                errors.append(RowError(n, labels["code"], same))
            else:
                seen[code] = n
        rows.append(_Row(n, values))
    return rows, errors


# --------------------------------------------------------------------------------------------
# Import


def unions_import(
    *,
    fund: Fund,
    data: bytes,
    format: str,
    level: str,
    actor=None,
    effective_date: date | None = None,
) -> ImportResult:
    """Import a file of superior or grassroots unions into `fund` (fund officers only).

    Raises ImportRejected listing every wrong row; then nothing was written. `effective_date`
    (default today) dates the moves of grassroots unions whose superior union changed.
    """
    if level not in LEVELS:
        raise FundError(
            translatable(_l("Cấp công đoàn không hợp lệ: %(level)s."), {"level": level}),
            field="level",
        )
    if format not in FORMATS:
        raise FundError(
            translatable(_l("Định dạng tệp không hỗ trợ: %(format)s."), {"format": format}),
            field="format",
        )
    actor_require_fund_officer(actor, fund_id=fund.pk)
    effective_date = effective_date or business_today()
    rows, errors = _parse(level, read_table(data, format))
    if errors:
        raise ImportRejected(errors)
    with transaction.atomic():
        if level == SUPERIOR:
            return _import_superior(fund, rows, actor)
        return _import_grassroots(fund, rows, actor, effective_date)


def _diff(obj, values: dict) -> dict:
    changes = {}
    for f in DATA_FIELDS:
        if f not in values:
            continue  # a column the file does not have is left as it is
        new = values[f]
        old = getattr(obj, f)
        if f not in ("active_from", "active_to"):
            new = new or ""
        if old != new:
            changes[f] = [
                old.isoformat() if isinstance(old, date) else old,
                new.isoformat() if isinstance(new, date) else new,
            ]
    return changes


def _new_values(values: dict) -> dict:
    return {
        f: values.get(f) if f in ("active_from", "active_to") else (values.get(f) or "")
        for f in DATA_FIELDS
    }


def _created_changes(obj) -> dict:
    out = {"code": [None, obj.code]}
    for f in DATA_FIELDS:
        v = getattr(obj, f)
        if v not in ("", None):
            out[f] = [None, v.isoformat() if isinstance(v, date) else v]
    return out


def _import_superior(fund: Fund, rows: list[_Row], actor) -> ImportResult:
    result = ImportResult(SUPERIOR, rows=len(rows))
    existing = {su.code: su for su in SuperiorUnion.objects.filter(fund=fund)}
    new, changed, audit = [], [], []
    for row in rows:
        v = row.values
        su = existing.get(v["code"])
        if su is None:
            su = SuperiorUnion(fund=fund, code=v["code"], **_new_values(v))
            new.append(su)
            continue
        changes = _diff(su, v)
        if changes:
            for f, (_, _new) in changes.items():
                setattr(su, f, v[f] if f in ("active_from", "active_to") else (v[f] or ""))
            changed.append(su)
            audit.append(("update", su, changes))
            result.changed_codes.append(su.code)
        else:
            result.unchanged += 1
    SuperiorUnion.objects.bulk_create(new, batch_size=2000)
    if any(su.pk is None for su in new):  # databases that do not return ids
        ids = dict(
            SuperiorUnion.objects.filter(fund=fund, code__in=[s.code for s in new]).values_list(
                "code", "pk"
            )
        )
        for su in new:
            su.pk = ids[su.code]
    if changed:
        SuperiorUnion.objects.bulk_update(changed, DATA_FIELDS, batch_size=2000)
    audit = [("import_create", su, _created_changes(su)) for su in new] + [
        ("import_update", o, c) for _, o, c in audit
    ]
    audit_record_many(actor=actor, records=audit)
    result.created, result.updated = len(new), len(changed)
    result.changed_codes += [su.code for su in new]
    return result


def _import_grassroots(fund: Fund, rows: list[_Row], actor, effective_date: date) -> ImportResult:
    result = ImportResult(GRASSROOTS, rows=len(rows))
    superiors = {su.code: su for su in SuperiorUnion.objects.filter(fund=fund)}
    errors = [
        RowError(
            r.number,
            SUPERIOR_CODE_HEADER,
            translatable(_l("Không có công đoàn cấp trên mã '%(code)s'."), {"code": code}),
        )
        for r in rows
        if (code := r.values["superior_code"]) not in superiors
    ]
    if errors:
        raise ImportRejected(errors)
    existing = {gu.code: gu for gu in GrassrootsUnion.objects.filter(fund=fund)}
    new, changed, moves = [], [], []
    audit = []
    for row in rows:
        v = row.values
        su = superiors[v["superior_code"]]
        gu = existing.get(v["code"])
        if gu is None:
            new.append(
                GrassrootsUnion(fund=fund, superior_union=su, code=v["code"], **_new_values(v))
            )
            continue
        changes = _diff(gu, v)
        if changes:
            for f in changes:
                setattr(gu, f, v[f] if f in ("active_from", "active_to") else (v[f] or ""))
            changed.append(gu)
            audit.append(("import_update", gu, changes))
        if gu.superior_union_id != su.pk:
            moves.append((row, gu, su))
        if changes or gu.superior_union_id != su.pk:
            result.changed_codes.append(gu.code)
        else:
            result.unchanged += 1
    # Moves: the current affiliation must have begun before the move date.
    open_affs = {}
    if moves:
        open_affs = {
            a.grassroots_union_id: a
            for a in GrassrootsUnionAffiliation.objects.filter(
                grassroots_union__in=[gu for _, gu, _ in moves], valid_to__isnull=True
            )
        }
        bad = [
            RowError(
                row.number,
                SUPERIOR_CODE_HEADER,
                translatable(
                    _l("Không chuyển được vào ngày %(day)s: đang trực thuộc từ %(since)s."),
                    {
                        "day": f"{effective_date:%d/%m/%Y}",
                        "since": f"{open_affs[gu.pk].valid_from:%d/%m/%Y}",
                    },
                ),
            )
            for row, gu, _ in moves
            if gu.pk in open_affs and open_affs[gu.pk].valid_from >= effective_date
        ]
        if bad:
            raise ImportRejected(bad)
    GrassrootsUnion.objects.bulk_create(new, batch_size=2000)
    if any(gu.pk is None for gu in new):
        ids = dict(
            GrassrootsUnion.objects.filter(fund=fund, code__in=[g.code for g in new]).values_list(
                "code", "pk"
            )
        )
        for gu in new:
            gu.pk = ids[gu.code]
    affiliations = [
        GrassrootsUnionAffiliation(
            grassroots_union=gu,
            superior_union_id=gu.superior_union_id,
            valid_from=gu.active_from or AFFILIATION_SINCE_ALWAYS,
        )
        for gu in new
    ]
    closing = []
    for _, gu, su in moves:
        aff = open_affs.get(gu.pk)
        if aff is not None:
            aff.valid_to = effective_date
            closing.append(aff)
        audit.append(
            (
                "move",
                gu,
                {
                    "superior_union_id": [gu.superior_union_id, su.pk],
                    "effective_date": [None, effective_date.isoformat()],
                },
            )
        )
        gu.superior_union = su
        affiliations.append(
            GrassrootsUnionAffiliation(
                grassroots_union=gu, superior_union=su, valid_from=effective_date
            )
        )
    if closing:
        GrassrootsUnionAffiliation.objects.bulk_update(closing, ["valid_to"], batch_size=2000)
    GrassrootsUnionAffiliation.objects.bulk_create(affiliations, batch_size=2000)
    to_update = {gu.pk: gu for gu in changed}
    to_update.update({gu.pk: gu for _, gu, _ in moves})
    if to_update:
        GrassrootsUnion.objects.bulk_update(
            list(to_update.values()), [*DATA_FIELDS, "superior_union"], batch_size=2000
        )
    audit = [("import_create", gu, _created_changes(gu)) for gu in new] + audit
    audit_record_many(actor=actor, records=audit)
    result.created, result.updated, result.moved = len(new), len(changed), len(moves)
    result.changed_codes += [gu.code for gu in new]
    return result


# --------------------------------------------------------------------------------------------
# Export


def _export_rows(level: str, scope: Scope):
    for row in _export_values(level, scope):
        yield [spreadsheet_text(v) for v in row]


def _export_values(level: str, scope: Scope):
    if level == SUPERIOR:
        qs = superior_union_scope_filter(SuperiorUnion.objects.all(), scope).order_by("code")
        for su in qs.iterator(chunk_size=2000):
            yield [su.code, su.name, su.get_kind_display(), *_tail(su)]
    else:
        qs = (
            scope_filter(GrassrootsUnion.objects.all(), scope, grassroots_field="")
            .select_related("superior_union")
            .order_by("code")
        )
        for gu in qs.iterator(chunk_size=2000):
            yield [
                gu.code,
                gu.name,
                gu.get_kind_display(),
                gu.superior_union.code,
                *_tail(gu),
            ]


def _tail(obj) -> list:
    def d(v):
        return v.strftime("%d/%m/%Y") if v else ""

    return [
        obj.address,
        obj.contact_name,
        obj.contact_phone,
        obj.contact_email,
        d(obj.active_from),
        d(obj.active_to),
    ]


def unions_export(*, scope: Scope, level: str, format: str) -> bytes:
    """The unions the scope may see, in the import's layout (re-importable as is), in the
    language active (headers and kinds; the import reads both languages)."""
    if level not in LEVELS:
        raise FundError(
            translatable(_l("Cấp công đoàn không hợp lệ: %(level)s."), {"level": level}),
            field="level",
        )
    headers = [gettext(header) for _, header, _, _ in COLUMNS[level]]
    if format == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(headers)
        writer.writerows(_export_rows(level, scope))
        # With a BOM, so that Excel opens the Vietnamese text as UTF-8.
        return out.getvalue().encode("utf-8-sig")
    if format == "xlsx":
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet(
            gettext("Công đoàn cấp trên") if level == SUPERIOR else gettext("Công đoàn cơ sở")
        )
        ws.append(headers)
        for row in _export_rows(level, scope):
            ws.append(row)
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue()
    raise FundError(
        translatable(_l("Định dạng tệp không hỗ trợ: %(format)s."), {"format": format}),
        field="format",
    )
