"""Remittances confirmed against the bank: statement import, matching, confirmation, lists.

A grassroots union's remittance (``repayment_batch_post``) settles the loans at once and puts
its money in transit (Dr 1131, sub-ledger ``remittance:<id>``): the union says it paid. The
fund officer imports the bank's statement (CSV or XLSX as Vietnamese banks export it) and the
receipts on it are matched to the remittances; a confirmed match moves the money from 1131 to
the bank account 1121 in one entry. Nothing here posts without a fund officer's confirmation:
an exact match (same amount, the union's receipt number as the bank's reference or in the
description) is proposed first, the fuzzy candidates (same amount and a close date, or the
union's code in the description) are shown below it, and the officer chooses.

What a remittance is expected to bring is what it still holds in transit: its amount less the
lines reversed before the bank confirmed it (``remittance_expected``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import DecimalField, F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounting.dates import business_today
from accounting.errors import InvalidAmount, translatable
from accounting.formatting import format_vnd
from accounting.idempotency import command_once
from accounting.models import Posting
from accounting.money import amount_of, parse_amount_cell
from accounting.services import credit, debit, journal_entry_post
from fund.accounts import BANK, IN_TRANSIT
from fund.audit import audit_record
from fund.models import Fund
from fund.scoping import Scope, actor_require_fund_officer, actor_user, actor_user_id, scope_filter
from fund.union_io import RowError, fold_text, parse_date, read_table
from fund.validation import backdate_reason_clean
from loans.errors import LoanError, StatementRejected
from loans.models import BankStatement, BankStatementLine, Repayment, RepaymentBatch
from loans.servicing.repayments import remittance_subledger

ZERO = Decimal(0)
FORMATS = ("csv", "xlsx")
STATEMENT_MAX_BYTES = 2 * 1024 * 1024  # a month of a fund's account is a few hundred kB
STATEMENT_MAX_LINES = 20_000
HEADER_SEARCH_ROWS = 30  # banks put the account's details above the table

# The columns of a statement, by the headers Vietnamese banks' exports use (folded: lower case,
# no diacritics) and the field names.
COLUMNS = {
    "booked_on": (
        "Ngày giao dịch",
        "Ngày GD",
        "Ngày hiệu lực",
        "Ngày",
        "Transaction date",
        "Date",
        "booked_on",
    ),
    "amount": ("Số tiền", "Số tiền ghi có", "Ghi có", "Phát sinh có", "Amount", "Credit"),
    "reference": (
        "Số tham chiếu",
        "Mã giao dịch",
        "Số bút toán",
        "Số chứng từ",
        "Reference",
        "Ref",
    ),
    "description": ("Nội dung", "Diễn giải", "Nội dung giao dịch", "Mô tả", "Description"),
}
LABELS = {
    "booked_on": _("Ngày giao dịch"),
    "amount": _("Số tiền"),
    "reference": _("Số tham chiếu"),
    "description": _("Nội dung"),
}
_HEADERS = {fold_text(h): name for name, headers in COLUMNS.items() for h in headers}
_REQUIRED = ("booked_on", "amount", "reference")


def statement_amount(value) -> Decimal | None:
    """A statement cell's amount in whole đồng, read by the one amount rule
    (`accounting.money.parse_amount_cell`); None for money going out (a negative amount, a
    minus before an amount the rule reads) and for zero; ValueError for anything else."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
        value = -value
        outgoing = True
    elif isinstance(value, str) and value.strip().startswith("-"):
        value, outgoing = value.strip()[1:], True
    else:
        outgoing = False
    try:
        amount = parse_amount_cell(value, field="amount")
    except InvalidAmount:
        raise ValueError(value) from None
    return None if outgoing or amount == 0 else amount


@dataclass(frozen=True)
class StatementLine:
    row: int
    booked_on: date
    amount: Decimal
    reference: str
    description: str


@dataclass
class StatementRead:
    lines: list[StatementLine] = field(default_factory=list)
    outgoing: int = 0  # lines of money going out: not receipts, skipped


def _header(table: list[list]) -> tuple[int, dict[str, int]]:
    for i, row in enumerate(table[:HEADER_SEARCH_ROWS]):
        columns = {}
        for j, cell in enumerate(row):
            name = _HEADERS.get(fold_text(cell or ""))
            if name and name not in columns:
                columns[name] = j
        if all(name in columns for name in _REQUIRED):
            return i, columns
    missing = ", ".join(str(LABELS[n]) for n in _REQUIRED)
    raise StatementRejected(
        [
            RowError(
                1,
                "",
                translatable(
                    _("Không tìm thấy dòng tiêu đề có các cột %(columns)s."), {"columns": missing}
                ),
            )
        ]
    )


def statement_parse(data: bytes, format: str, *, today: date | None = None) -> StatementRead:
    """The receipts of a statement file, or ``StatementRejected`` listing every wrong line by
    its row number in the file and its column."""
    if format not in FORMATS:
        raise LoanError(
            _("Định dạng tệp không hỗ trợ: %(format)s."), field="format", params={"format": format}
        )
    if len(data) > STATEMENT_MAX_BYTES:
        raise LoanError(
            _("Tệp sao kê lớn quá %(size)s MB."),
            field="file",
            params={"size": STATEMENT_MAX_BYTES // (1024 * 1024)},
        )
    today = today or business_today()
    table = read_table(data, format, rejected=StatementRejected)
    start, columns = _header(table)
    body = table[start + 1 :]
    if len(body) > STATEMENT_MAX_LINES:
        raise LoanError(
            _("Tệp sao kê có quá %(n)s dòng."), field="file", params={"n": STATEMENT_MAX_LINES}
        )
    read, errors, seen = StatementRead(), [], {}

    def cell(row, name):
        j = columns.get(name)
        return row[j] if j is not None and j < len(row) else None

    for n, row in enumerate(body, start=start + 2):
        if not any(str(c or "").strip() for c in row):
            continue
        wrong = []
        try:
            amount = statement_amount(cell(row, "amount"))
        except ValueError:
            amount = None
            wrong.append(
                (
                    "amount",
                    translatable(
                        _(
                            "“%(value)s” không phải số tiền nguyên đồng "
                            "(ví dụ 1.500.000 hoặc 1500000)."
                        ),
                        {"value": str(cell(row, "amount"))[:40]},
                    ),
                )
            )
        else:
            if amount is None:
                read.outgoing += 1
                continue
        try:
            booked_on = parse_date(cell(row, "booked_on"))
        except ValueError:
            booked_on = None
            wrong.append(("booked_on", _("Ngày phải theo dạng dd/mm/yyyy.")))
        else:
            if booked_on is None:
                wrong.append(("booked_on", _("Thiếu ngày giao dịch.")))
            elif booked_on > today:
                wrong.append(("booked_on", _("Ngày giao dịch sau ngày hôm nay.")))
        reference = "".join(str(cell(row, "reference") or "").split())
        if isinstance(cell(row, "reference"), float) and cell(row, "reference").is_integer():
            reference = str(int(cell(row, "reference")))
        if not reference or len(reference) > 64:
            wrong.append(("reference", _("Số tham chiếu phải có, tối đa 64 ký tự.")))
        elif reference in seen:
            wrong.append(
                (
                    "reference",
                    translatable(
                        _("Số tham chiếu %(ref)s đã có ở dòng %(row)s."),
                        {"ref": reference, "row": seen[reference]},
                    ),
                )
            )
        else:
            seen[reference] = n
        description = " ".join(str(cell(row, "description") or "").split())[:500]
        for name, message in wrong:
            errors.append(RowError(n, LABELS[name], message))
        if not wrong:
            read.lines.append(StatementLine(n, booked_on, amount, reference, description))
    if errors:
        raise StatementRejected(errors)
    return read


@dataclass
class StatementImportResult:
    statement: BankStatement | None
    read: int  # receipts on the file
    added: int  # new receipts stored
    already: int  # receipts imported before (by their bank reference)
    outgoing: int  # lines of money going out, skipped


def bank_statement_import(
    *, fund: Fund, data: bytes, format: str, file_name: str = "", actor=None
) -> StatementImportResult:
    """Store the receipts of a bank statement for `fund`, all or nothing.

    A receipt whose bank reference is already stored is not stored again (importing the same
    statement, or overlapping ones, adds only the new lines); the same reference with another
    date or amount refuses the file, naming the line. A file adding nothing stores no statement.
    """
    actor_require_fund_officer(actor, fund_id=fund.pk, field="file")
    parsed = statement_parse(data, format)
    with transaction.atomic():
        Fund.objects.select_for_update().filter(pk=fund.pk).first()  # one import at a time
        known = {
            x.bank_reference: x
            for x in BankStatementLine.objects.filter(
                fund=fund, bank_reference__in=[x.reference for x in parsed.lines]
            )
        }
        errors, new = [], []
        for x in parsed.lines:
            prior = known.get(x.reference)
            if prior is None:
                new.append(x)
            elif prior.booked_on != x.booked_on or amount_of(prior.amount) != x.amount:
                errors.append(
                    RowError(
                        x.row,
                        LABELS["reference"],
                        translatable(
                            _(
                                "Số tham chiếu %(ref)s đã nhập ngày %(date)s với số tiền khác "
                                "hoặc ngày khác."
                            ),
                            {"ref": x.reference, "date": f"{prior.booked_on:%d/%m/%Y}"},
                        ),
                    )
                )
        if errors:
            raise StatementRejected(errors)
        statement = None
        if new:
            statement = BankStatement.objects.create(
                fund=fund,
                file_name=(file_name or "")[:255],
                file_sha256=hashlib.sha256(data).hexdigest(),
                lines_read=len(parsed.lines),
                lines_added=len(new),
                imported_by=actor_user(actor),
            )
            BankStatementLine.objects.bulk_create(
                BankStatementLine(
                    statement=statement,
                    fund=fund,
                    row_number=x.row,
                    booked_on=x.booked_on,
                    amount=x.amount,
                    bank_reference=x.reference,
                    description=x.description,
                )
                for x in new
            )
            audit_record(
                actor=actor_user(actor),
                action="bank_statement_import",
                obj=statement,
                changes={
                    "file_name": [None, statement.file_name],
                    "lines_added": [None, len(new)],
                    "total": [None, str(sum((x.amount for x in new), ZERO))],
                },
            )
    return StatementImportResult(
        statement=statement,
        read=len(parsed.lines),
        added=len(new),
        already=len(parsed.lines) - len(new),
        outgoing=parsed.outgoing,
    )


# --------------------------------------------------------------------------------------------
# Reads: what is expected, what is open


def _reversed_sum():
    return Coalesce(
        Subquery(
            Repayment.objects.filter(batch=OuterRef("pk"), reversal_entry__isnull=False)
            .order_by()
            .values("batch")
            .annotate(s=Sum("amount"))
            .values("s")[:1],
            output_field=DecimalField(max_digits=20, decimal_places=0),
        ),
        Value(ZERO),
        output_field=DecimalField(max_digits=20, decimal_places=0),
    )


def remittances_open(*, fund_id: int):
    """The fund's remittances still in transit (no bank receipt confirmed), each annotated with
    ``reversed_amount``; ``remittance_expected`` gives what the bank should show."""
    return (
        RepaymentBatch.objects.filter(fund_id=fund_id, in_transit=True, bank_line__isnull=True)
        .annotate(reversed_amount=_reversed_sum())
        .select_related("grassroots_union")
    )


def remittance_expected(batch: RepaymentBatch) -> Decimal:
    """What a remittance should bring to the bank: its amount less the lines reversed."""
    reversed_amount = getattr(batch, "reversed_amount", None)
    if reversed_amount is None:
        reversed_amount = (
            Repayment.objects.filter(batch=batch, reversal_entry__isnull=False).aggregate(
                s=Sum("amount")
            )["s"]
            or ZERO
        )
    return amount_of(batch.amount) - amount_of(reversed_amount)


def _token(text: str) -> str:
    return "".join(ch for ch in fold_text(text).upper() if ch.isalnum())


@dataclass
class Candidate:
    batch: RepaymentBatch
    expected: Decimal
    exact: bool
    reasons: list = field(default_factory=list)


def receipt_candidates(
    line: BankStatementLine, *, open_batches=None, window_days: int | None = None
) -> list[Candidate]:
    """The remittances a receipt may be, best first: exact (same amount and the union's receipt
    number is the bank's reference or stands in the description), then fuzzy (same amount, and
    a date within the fund's window or the union's code in the description). Never posts."""
    if window_days is None:
        window_days = Fund.objects.values_list("remittance_receipt_days", flat=True).get(
            pk=line.fund_id
        )
    if open_batches is None:
        open_batches = list(remittances_open(fund_id=line.fund_id))
    amount = amount_of(line.amount)
    reference = _token(line.bank_reference)
    words = set(re.findall(r"[A-Z0-9]+", fold_text(line.description).upper()))
    description = _token(line.description)
    out = []
    for batch in open_batches:
        expected = remittance_expected(batch)
        if expected != amount or expected <= 0:
            continue
        receipt = _token(batch.receipt_number)
        exact = bool(receipt) and (receipt == reference or receipt in description)
        reasons = [_("cùng số tiền")]
        if exact:
            reasons.append(_("số chứng từ của công đoàn khớp"))
        days = abs((line.booked_on - batch.paid_on).days)
        if days <= window_days:
            reasons.append(translatable(_("ngày lệch %(days)s ngày"), {"days": days}))
        code = fold_text(batch.grassroots_union.code).upper()
        if code and code in words:
            reasons.append(translatable(_("nội dung có mã %(code)s"), {"code": code}))
        if exact or len(reasons) > 1:
            out.append(Candidate(batch=batch, expected=expected, exact=exact, reasons=reasons))
    out.sort(key=lambda c: (not c.exact, -len(c.reasons), c.batch.paid_on, c.batch.pk))
    return out


def receipts_unmatched(*, scope: Scope):
    """The fund's bank receipts not confirmed as any remittance (fund officers and auditors:
    the bank account is the fund's), oldest first."""
    if not scope.is_fund_wide:
        return BankStatementLine.objects.none()
    return BankStatementLine.objects.filter(fund_id=scope.fund_id, batch__isnull=True).order_by(
        "booked_on", "id"
    )


def remittance_wait_date(*, fund_id: int) -> date:
    """The date a remittance's waiting days count to: the fund's business date, as every list
    of the fund (a remittance posted after it is not late yet); today before the fund's first
    close of business, when there is no business date."""
    from loans.servicing.selectors import business_date

    return business_date(fund_id=fund_id) or business_today()


def _not_received(*, scope: Scope, on: date):
    days = Fund.objects.values_list("remittance_receipt_days", flat=True).get(pk=scope.fund_id)
    qs = remittances_open(fund_id=scope.fund_id).filter(paid_on__lte=on - timedelta(days=days))
    # What is left to receive (the amount less the lines reversed) is above zero.
    return scope_filter(qs, scope).filter(amount__gt=0).filter(amount__gt=F("reversed_amount"))


def remittances_not_received(*, scope: Scope, on: date):
    """Remittances of the scope still in transit `N` days after they were paid (the fund's
    ``remittance_receipt_days``): the fund's, or a superior union's own unions'."""
    return list(_not_received(scope=scope, on=on).order_by("paid_on", "id"))


def remittances_not_received_count(*, scope: Scope, on: date) -> int:
    """How many remittances ``remittances_not_received`` lists, counted in the database."""
    return _not_received(scope=scope, on=on).order_by().count()


# --------------------------------------------------------------------------------------------
# Confirmation


def remittance_receipt_confirm(
    *,
    line: BankStatementLine,
    batch: RepaymentBatch,
    idempotency_key: str,
    actor=None,
    backdate_reason: str = "",
) -> BankStatementLine:
    """Confirm that the bank receipt `line` is the remittance `batch`: Dr 1121 / Cr 1131 for what
    the remittance holds in transit, per union, in one entry dated the later of the receipt and
    the remittance. A receipt is confirmed once and a remittance once (both rows are locked,
    so of two confirmations racing for either, one wins and the other is refused). When that
    date is before the fund's open window the confirming officer gives `backdate_reason` (a
    refusal without it names ``booked_on``), kept on the entry and in the audit record."""
    actor_require_fund_officer(actor, fund_id=line.fund_id, field="line")
    backdated = backdate_reason_clean(
        Fund.objects.get(pk=line.fund_id),
        max(line.booked_on, batch.paid_on),
        backdate_reason,
        field="booked_on",
        label=_("Ngày giao dịch"),
        error=LoanError,
    )

    def run():
        current = BankStatementLine.objects.select_for_update().get(pk=line.pk)
        if current.batch_id is not None:
            raise LoanError(
                _("Giao dịch %(ref)s đã được xác nhận cho đợt nộp #%(batch)s."),
                field="line",
                params={"ref": current.bank_reference, "batch": current.batch_id},
            )
        held = RepaymentBatch.objects.select_for_update().select_related("grassroots_union")
        held = held.filter(pk=batch.pk, fund_id=current.fund_id).first()
        if held is None or not held.in_transit:
            raise LoanError(_("Đợt nộp này không chờ xác nhận của ngân hàng."), field="batch")
        if BankStatementLine.objects.filter(batch_id=held.pk).exists():
            raise LoanError(
                _("Đợt nộp %(receipt)s đã được xác nhận với một giao dịch khác."),
                field="batch",
                params={"receipt": held.receipt_number},
            )
        sub = remittance_subledger(held.pk)
        rows = (
            Posting.objects.filter(account__code=IN_TRANSIT, subledger=sub)
            .values("fund_id", "superior_union_id", "grassroots_union_id")
            .annotate(s=Sum("amount"))
            .order_by("superior_union_id", "grassroots_union_id")
        )
        parts = [(r, amount_of(r["s"])) for r in rows if r["s"]]
        total = sum((a for _r, a in parts), ZERO)
        amount = amount_of(current.amount)
        if total != amount:
            raise LoanError(
                _(
                    "Số tiền ngân hàng nhận %(amount)s khác số tiền đợt nộp %(receipt)s còn chờ "
                    "về tài khoản (%(expected)s)."
                ),
                field="batch",
                params={
                    "amount": format_vnd(amount),
                    "receipt": held.receipt_number,
                    "expected": format_vnd(total),
                },
            )
        legs = []
        for r, a in parts:
            dims = {k: r[k] for k in ("fund_id", "superior_union_id", "grassroots_union_id")}
            legs.append(debit(BANK, a, **dims))
            legs.append(credit(IN_TRANSIT, a, subledger=sub, **dims))
        entry = journal_entry_post(
            effective_date=max(current.booked_on, held.paid_on),
            legs=legs,
            memo=(
                f"Ngân hàng xác nhận đợt nộp {held.receipt_number} của {held.grassroots_union.name}"
                f" (giao dịch {current.bank_reference})"
            )[:500],
            idempotency_key=f"loans.remittance_receipt:{current.pk}",
            posted_by=actor_user(actor),
            document_type="remittance_receipt",
            document_id=str(held.pk),
            backdated_reason=backdated,
        )
        current.batch = held
        current.journal_entry = entry
        current.confirmed_by = actor_user(actor)
        current.confirmed_at = timezone.now()
        try:
            with transaction.atomic():
                current.save(
                    update_fields=["batch", "journal_entry", "confirmed_by", "confirmed_at"]
                )
        except IntegrityError:  # the one-to-one: the remittance was confirmed meanwhile
            raise LoanError(
                _("Đợt nộp %(receipt)s đã được xác nhận với một giao dịch khác."),
                field="batch",
                params={"receipt": held.receipt_number},
            ) from None
        audit_record(
            actor=actor_user(actor),
            action="remittance_receipt_confirm",
            obj=held,
            changes={
                "bank_reference": [None, current.bank_reference],
                "amount": [None, str(amount)],
                "journal_entry": [None, entry.pk],
                **({"backdated_reason": [None, backdated]} if backdated else {}),
            },
        )
        return current

    payload = {"line": line.pk, "batch": batch.pk, "actor": actor_user_id(actor)}
    if backdated:
        payload["backdate_reason"] = backdated
    with transaction.atomic():
        return command_once(
            scope="loans.remittance_receipt_confirm",
            key=idempotency_key,
            payload=payload,
            run=run,
            load=lambda pk: BankStatementLine.objects.get(pk=pk),
        )


__all__ = [
    "bank_statement_import",
    "receipt_candidates",
    "receipts_unmatched",
    "remittance_expected",
    "remittance_receipt_confirm",
    "remittances_not_received",
    "remittances_open",
    "statement_amount",
    "statement_parse",
]
