"""One way to hand any table of the site to a spreadsheet: XLSX or CSV, chosen by ``?format=``.

A table is headers plus rows of plain values. In XLSX, amounts (``Decimal``/``int``) stay numbers
with a whole-đồng number format, so totals can be re-added in Excel, and dates stay dates; in CSV
they are written plainly (``15220000000``, ``2024-03-31``) in UTF-8 with a BOM, so that Excel
opens the Vietnamese text correctly.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal

from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.utils.translation import gettext as _

from accounting.formatting import LOCAL_TZ, spreadsheet_text

FORMATS = ("xlsx", "csv")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
# Thousands separated, no decimals: whole đồng (Excel shows the separator of the user's locale).
VND_NUMBER_FORMAT = '#,##0 "₫";-#,##0 "₫"'
PERCENT_NUMBER_FORMAT = "0.00%"
DATE_NUMBER_FORMAT = "dd/mm/yyyy"
DATETIME_NUMBER_FORMAT = "dd/mm/yyyy hh:mm:ss"


def export_format(request) -> str | None:
    """The export asked for by ``?format=xlsx|csv``, or None for the HTML page."""
    fmt = (request.GET.get("format") or "").lower()
    return fmt if fmt in FORMATS else None


def export_filename(stem: str, *parts) -> str:
    """An ASCII file name: ``can-doi-so-phat-sinh_2024-01-01_2024-03-31``."""
    pieces = [stem, *(p.isoformat() if isinstance(p, date) else str(p) for p in parts if p)]
    text = "_".join(pieces).replace("đ", "d").replace("Đ", "D")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "bang"


class Share(Decimal):
    """A share as a fraction (0.2516 for 25,16 %): an XLSX cell with a percent format, so that
    a formula on it is right; a CSV cell with the fraction."""

    @classmethod
    def of_percent(cls, percent) -> Share | None:
        """The share of a percentage (25.16 → 0.2516); None stays None (no base)."""
        return None if percent is None else cls(Decimal(percent) / 100)


def chain_state_text(seq: int, head_hash: str) -> str:
    """The sealed ledger a document was read from, short (a PDF's footer, an XLSX's line)."""
    if not seq:
        return _("sổ cái chưa niêm phong")
    return _("chuỗi niêm phong #%(seq)s · %(hash)s…") % {"seq": seq, "hash": head_hash[:12]}


def chain_head_text(head) -> str:
    """The signed head in full (link number, hash, key id, signature), for auditors to keep:
    the ``trovon-head`` line that ``verify_ledger --published`` and the chain page read back."""
    if head is None:
        return _("Sổ cái chưa có đầu chuỗi đã ký.")
    return _("Đầu chuỗi niêm phong đã ký (lưu để đối chiếu): %(line)s") % {"line": head.line()}


def _plain(value):
    """A cell's value: local time without zone, Money as its amount, text that a spreadsheet
    would run as a formula neutralised (``accounting.formatting.spreadsheet_text``)."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(LOCAL_TZ).replace(tzinfo=None)
    if hasattr(value, "amount") and hasattr(value, "currency"):  # djmoney Money
        value = value.amount
    return spreadsheet_text(value)


def _csv_cell(v):
    v = _plain(v)
    if v is None:
        return ""
    if isinstance(v, Share):
        return format(Decimal(v).quantize(Decimal("0.000001")), "f")
    if isinstance(v, Decimal):
        return format(v.quantize(Decimal(1)) if v == v.to_integral_value() else v, "f")
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, date):
        return v.isoformat()
    return v


def table_csv_chunks(headers: Sequence[str], rows: Iterable[Sequence], *, chunk_rows: int = 500):
    """The CSV as UTF-8 chunks (a BOM first), `chunk_rows` rows each: a long table is written
    as it is read and never held whole."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_plain(h) for h in headers])
    first = True
    for n, row in enumerate(rows, 1):
        writer.writerow([_csv_cell(v) for v in row])
        if n % chunk_rows == 0:
            yield out.getvalue().encode("utf-8-sig" if first else "utf-8")
            first = False
            out.seek(0)
            out.truncate()
    yield out.getvalue().encode("utf-8-sig" if first else "utf-8")


def table_csv(headers: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    return b"".join(table_csv_chunks(headers, rows))


def table_xlsx(
    headers: Sequence[str],
    rows: Iterable[Sequence],
    *,
    title: str = "",
    sheet: str = "",
    note: str = "",
    target=None,
) -> bytes | None:
    """The XLSX of the table: its bytes, or written to `target` (a path or a binary file) with
    the rows consumed one at a time (openpyxl's write-only mode keeps none of them)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(re.sub(r"[\[\]:*?/\\]", "-", sheet)[:31] or _("Bảng"))
    bold = Font(bold=True)
    if title or note:
        cell = WriteOnlyCell(ws, value=_plain(title))
        cell.font = bold
        ws.append([cell, _plain(note)] if note else [cell])
    head = []
    for h in headers:
        cell = WriteOnlyCell(ws, value=_plain(h))
        cell.font = bold
        head.append(cell)
    ws.append(head)
    for row in rows:
        cells = []
        for v in row:
            v = _plain(v)
            if isinstance(v, bool):
                cells.append(v)
                continue
            cell = WriteOnlyCell(ws, value=v)
            if isinstance(v, Share):
                cell.value = Decimal(v)
                cell.number_format = PERCENT_NUMBER_FORMAT
            elif isinstance(v, Decimal):  # an amount in đồng; plain ints (ids, counts) stay plain
                cell.value = int(v) if v == v.to_integral_value() else v
                cell.number_format = VND_NUMBER_FORMAT
            elif isinstance(v, datetime):
                cell.number_format = DATETIME_NUMBER_FORMAT
            elif isinstance(v, date):
                cell.number_format = DATE_NUMBER_FORMAT
            cells.append(cell)
        ws.append(cells)
    if target is not None:
        wb.save(target)
        return None
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _sheet_xlsx(headers, rows, *, title: str, chain_head: str, target=None):
    """The XLSX of an export: its sheet named after its title, the chain head beside it."""
    return table_xlsx(
        headers,
        rows,
        title=title,
        sheet=title,
        note=chain_head,
        target=target,
    )


def _attachment(filename: str, format: str) -> str:
    return f'attachment; filename="{filename}.{format}"'


def table_response(
    *,
    format: str,
    filename: str,
    headers: Sequence[str],
    rows: Iterable[Sequence],
    title: str = "",
    chain_head: str = "",
) -> HttpResponse:
    """The table as an attachment: ``<filename>.xlsx`` or ``<filename>.csv``.

    `chain_head`: the ledger's signed head, printed beside the title of a ledger statement's XLSX
    (the title row's second cell) so that the export says which sealed ledger it was read from;
    the CSV stays a bare table for machines.

    Amounts in `rows` must be ``Decimal`` (whole đồng), counts and ids ``int``, dates ``date``; text
    goes as is. `title` is a first line of the XLSX sheet (the report's name and period).
    """
    headers = [str(h) for h in headers]  # lazily translated headers, in the page's language
    title = str(title)

    if format == "xlsx":
        data = _sheet_xlsx(headers, rows, title=title, chain_head=chain_head)
        content_type = XLSX_CONTENT_TYPE
    elif format == "csv":
        data = table_csv(headers, rows)
        content_type = CSV_CONTENT_TYPE
    else:
        raise ValueError(f"unknown export format {format!r}")
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = _attachment(filename, format)
    return response


def table_streaming_response(
    *,
    format: str,
    filename: str,
    headers: Sequence[str],
    rows: Iterable[Sequence],
    title: str = "",
    chain_head: str = "",
):
    """:func:`table_response` for a table too long to hold in memory (a general ledger of two
    years): `rows` is read once, lazily. The CSV streams chunk by chunk as the rows are read;
    the XLSX (a zip, written whole) goes through a temporary file and streams from it."""
    headers = [str(h) for h in headers]
    title = str(title)
    if format == "csv":
        response = StreamingHttpResponse(
            table_csv_chunks(headers, rows), content_type=CSV_CONTENT_TYPE
        )
    elif format == "xlsx":
        tmp = tempfile.TemporaryFile()  # closed (and removed) by the response when sent
        _sheet_xlsx(headers, rows, title=title, chain_head=chain_head, target=tmp)
        tmp.seek(0)
        response = FileResponse(
            tmp, as_attachment=True, filename=f"{filename}.xlsx", content_type=XLSX_CONTENT_TYPE
        )
    else:
        raise ValueError(f"unknown export format {format!r}")
    response["Content-Disposition"] = _attachment(filename, format)
    return response
