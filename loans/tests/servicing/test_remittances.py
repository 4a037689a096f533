"""Remittances confirmed against the bank: statement parsing, import, matching, confirmation."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from openpyxl import Workbook

from accounting.models import JournalEntry
from accounting.selectors import account_balance
from fund.errors import PermissionRefused
from fund.models import AuditLog
from fund.scoping import scope_for
from loans.errors import LoanError, StatementRejected
from loans.models import BankStatement, BankStatementLine
from loans.servicing.remittances import (
    bank_statement_import,
    receipt_candidates,
    receipts_unmatched,
    remittance_receipt_confirm,
    remittances_not_received,
    statement_amount,
    statement_parse,
)
from loans.servicing.repayments import repayment_batch_post, repayment_reverse
from loans.tests.factories import new_key, today
from loans.tests.helpers import make_loan

pytestmark = pytest.mark.django_db

HEADER = "Ngày giao dịch,Số tiền,Số tham chiếu,Nội dung\n"


def csv_of(*rows, preamble="") -> bytes:
    return (preamble + HEADER + "".join(",".join(r) + "\n" for r in rows)).encode()


def d(day) -> str:
    return f"{day:%d/%m/%Y}"


@pytest.mark.parametrize(
    "text, amount",
    [
        ("1.500.000", 1_500_000),
        ("1500000", 1_500_000),
        ("1.000", 1_000),
        (" 2.000.000 ₫", 2_000_000),
        ("3.000.000 VND", 3_000_000),
        (1_500_000, 1_500_000),
        (1_500_000.0, 1_500_000),
        ("-1.000.000", None),  # money going out: not a receipt
        (-5, None),
    ],
)
def test_statement_amounts_read_the_vietnamese_way(text, amount):
    got = statement_amount(text)
    assert got == (None if amount is None else Decimal(amount))


@pytest.mark.parametrize(
    "text", ["1.5", "1.00", "1,000", "1e6", "+1000", "1_000", "١٠٠٠", "１０００", "", "abc", 1.5]
)
def test_statement_amounts_refuse_anything_else(text):
    with pytest.raises(ValueError):
        statement_amount(text)


def test_a_statement_with_the_banks_preamble_and_outgoing_lines_is_read():
    day = today()
    data = csv_of(
        [d(day), '"1.500.000"', "FT001", "LB-001 nop tien UNC-1"],
        [d(day), "-200.000", "FT002", "Phi ngan hang"],
        preamble="Sao kê tài khoản 0011004\nTừ ngày,01/01/2026\n\n",
    )
    read = statement_parse(data, "csv")
    assert [(x.row, x.amount, x.reference) for x in read.lines] == [(5, 1_500_000, "FT001")]
    assert read.outgoing == 1


def test_an_xlsx_statement_is_read_with_date_and_number_cells():
    wb = Workbook()
    ws = wb.active
    ws.append(["Ngân hàng Công Thương"])
    ws.append(["Ngày GD", "Ghi có", "Mã giao dịch", "Diễn giải"])
    ws.append([today(), 2_000_000, 9001, "CĐCS LB-001"])
    buf = io.BytesIO()
    wb.save(buf)
    read = statement_parse(buf.getvalue(), "xlsx")
    assert [(x.booked_on, x.amount, x.reference) for x in read.lines] == [
        (today(), 2_000_000, "9001")
    ]


def test_a_wrong_statement_names_every_wrong_row_and_column():
    future = today() + timedelta(days=2)
    data = csv_of(
        [d(today()), "1.5", "FT1", ""],
        [d(future), "1.000", "FT2", ""],
        ["2026/13/40", "1.000", "", ""],
        [d(today()), "1.000", "FT2", ""],
    )
    with pytest.raises(StatementRejected) as e:
        statement_parse(data, "csv")
    got = [(x.row, str(x.column)) for x in e.value.errors]
    assert got == [
        (2, "Số tiền"),
        (3, "Ngày giao dịch"),
        (4, "Ngày giao dịch"),
        (4, "Số tham chiếu"),
        (5, "Số tham chiếu"),
    ]


def test_a_file_without_the_columns_is_refused():
    with pytest.raises(StatementRejected):
        statement_parse(b"a,b,c\n1,2,3\n", "csv")


# --------------------------------------------------------------------------------------------
# Import, matching and confirmation


@pytest.fixture
def loans(chain, capital):
    return [make_loan(chain) for _ in range(2)]


def remit(org, loans, amounts, receipt, *, on=None, actor=None):
    return repayment_batch_post(
        grassroots_union=org.lb1,
        receipt_number=receipt,
        paid_on=on or today(),
        lines=list(zip(loans, amounts, strict=True)),
        idempotency_key=new_key("remit"),
        actor=actor,
    )


def test_importing_the_same_statement_twice_adds_its_lines_once(org, officers):
    data = csv_of([d(today()), "1.000.000", "FT1", ""], [d(today()), "2.000", "FT2", ""])
    first = bank_statement_import(fund=org.fund, data=data, format="csv", actor=officers.fund)
    again = bank_statement_import(fund=org.fund, data=data, format="csv", actor=officers.fund)
    assert (first.added, again.added, again.already) == (2, 0, 2)
    assert again.statement is None
    assert BankStatement.objects.count() == 1 and BankStatementLine.objects.count() == 2
    # The same reference with another amount is refused, the row named, nothing written.
    changed = csv_of([d(today()), "1.000.001", "FT1", ""], [d(today()), "5.000", "FT3", ""])
    with pytest.raises(StatementRejected) as e:
        bank_statement_import(fund=org.fund, data=changed, format="csv", actor=officers.fund)
    assert e.value.errors[0].row == 2
    assert BankStatementLine.objects.count() == 2


def test_only_a_fund_officer_imports_a_statement(org, officers):
    data = csv_of([d(today()), "1.000.000", "FT1", ""])
    for user in (officers.superior, officers.grassroots, officers.auditor):
        with pytest.raises(PermissionRefused):
            bank_statement_import(fund=org.fund, data=data, format="csv", actor=user)
    assert BankStatementLine.objects.count() == 0


def _line(org, ref, amount, description="", on=None):
    data = csv_of([d(on or today()), str(amount), ref, description])
    bank_statement_import(fund=org.fund, data=data, format="csv")
    return BankStatementLine.objects.get(bank_reference=ref)


def test_exact_match_first_then_fuzzy_candidates(org, loans):
    a = remit(org, loans[:1], [1_000_000], "UNC-1")
    b = remit(org, loans[1:], [1_000_000], "UNC-2")
    line = _line(org, "FT9", 1_000_000, "CD LB-001 nop UNC-2")
    got = receipt_candidates(line)
    assert [(c.batch.pk, c.exact) for c in got] == [(b.pk, True), (a.pk, False)]
    other = _line(org, "FT10", 999_999)
    assert receipt_candidates(other) == []


def test_confirming_moves_the_money_from_transit_to_the_bank_once(org, loans, officers):
    batch = remit(org, loans, [1_000_000, 500_000], "UNC-1")
    assert account_balance(account="1131", as_of=today(), fund_id=org.fund.pk) == 1_500_000
    line = _line(org, "FT1", "1.500.000", "UNC-1")
    bank_before = account_balance(account="1121", as_of=today(), fund_id=org.fund.pk)
    done = remittance_receipt_confirm(
        line=line, batch=batch, idempotency_key="xn-1", actor=officers.fund
    )
    assert done.batch_id == batch.pk and done.confirmed_by == officers.fund
    # The auditor's trail: the import and the confirmation, by whom.
    actions = set(AuditLog.objects.filter(actor=officers.fund).values_list("action", flat=True))
    assert {"remittance_receipt_confirm"} <= actions
    assert AuditLog.objects.filter(action="bank_statement_import").exists()
    assert account_balance(account="1131", as_of=today(), fund_id=org.fund.pk) == 0
    assert (
        account_balance(account="1121", as_of=today(), fund_id=org.fund.pk)
        == bank_before + 1_500_000
    )
    # The same request again: the same result, no second entry.
    entries = JournalEntry.objects.count()
    remittance_receipt_confirm(line=line, batch=batch, idempotency_key="xn-1", actor=officers.fund)
    assert JournalEntry.objects.count() == entries
    # Another key: the receipt is taken, refused by name.
    with pytest.raises(LoanError) as e:
        remittance_receipt_confirm(
            line=line, batch=batch, idempotency_key="xn-2", actor=officers.fund
        )
    assert e.value.field == "line" and JournalEntry.objects.count() == entries
    # A second receipt for the same remittance is refused too.
    second = _line(org, "FT2", "1.500.000")
    with pytest.raises(LoanError) as e:
        remittance_receipt_confirm(
            line=second, batch=batch, idempotency_key="xn-3", actor=officers.fund
        )
    assert e.value.field == "batch"


def test_a_receipt_of_another_amount_is_refused(org, loans, officers):
    batch = remit(org, loans[:1], [1_000_000], "UNC-1")
    line = _line(org, "FT1", "900.000", "UNC-1")
    with pytest.raises(LoanError) as e:
        remittance_receipt_confirm(line=line, batch=batch, idempotency_key="k", actor=officers.fund)
    assert e.value.field == "batch"
    assert BankStatementLine.objects.get(pk=line.pk).batch_id is None
    assert not JournalEntry.objects.filter(document_type="remittance_receipt").exists()


def test_only_a_fund_officer_confirms(org, loans, officers):
    batch = remit(org, loans[:1], [1_000_000], "UNC-1")
    line = _line(org, "FT1", "1.000.000")
    for user in (officers.superior, officers.auditor):
        with pytest.raises(PermissionRefused):
            remittance_receipt_confirm(line=line, batch=batch, idempotency_key="k", actor=user)


def test_a_line_reversed_before_the_bank_lowers_what_is_expected(org, loans, officers):
    batch = remit(org, loans, [1_000_000, 400_000], "UNC-1")
    rep = batch.repayments.get(loan=loans[1])
    repayment_reverse(repayment=rep, reason="Ghi nhầm", idempotency_key="h1")
    line = _line(org, "FT1", "1.000.000")
    assert [c.batch.pk for c in receipt_candidates(line)] == [batch.pk]
    remittance_receipt_confirm(line=line, batch=batch, idempotency_key="k", actor=officers.fund)
    assert account_balance(account="1131", as_of=today(), fund_id=org.fund.pk) == 0
    # After the bank confirmed it, a reversal gives the money back from the bank account.
    rep0 = batch.repayments.get(loan=loans[0])
    repayment_reverse(repayment=rep0, reason="Ghi nhầm", idempotency_key="h2")
    rep0.refresh_from_db()
    codes = set(rep0.reversal_entry.postings.values_list("account__code", flat=True))
    assert "1121" in codes and "1131" not in codes


def test_lists_of_unmatched_receipts_and_remittances_not_received(org, loans, officers):
    late = remit(org, loans[:1], [1_000_000], "UNC-1", on=today() - timedelta(days=6))
    remit(org, loans[1:], [1_000_000], "UNC-2", on=today() - timedelta(days=1))
    _line(org, "FT1", "7.000")
    fund, superior = scope_for(officers.fund), scope_for(officers.superior)
    assert [b.pk for b in remittances_not_received(scope=fund, on=today())] == [late.pk]
    assert [b.pk for b in remittances_not_received(scope=superior, on=today())] == [late.pk]
    assert remittances_not_received(scope=scope_for(officers.superior_hbt), on=today()) == []
    assert [x.bank_reference for x in receipts_unmatched(scope=fund)] == ["FT1"]
    assert list(receipts_unmatched(scope=superior)) == []
    org.fund.remittance_receipt_days = 7
    org.fund.save()
    assert remittances_not_received(scope=fund, on=today()) == []


def test_a_unions_months_show_due_remitted_and_confirmed(org, loans, officers):
    from loans.servicing.collection_sheets import union_months

    a = remit(org, loans[:1], [700_000], "UNC-1")
    remit(org, loans[1:], [300_000], "UNC-2")
    line = _line(org, "FT1", "700.000", "UNC-1")
    remittance_receipt_confirm(line=line, batch=a, idempotency_key="k", actor=officers.fund)
    day = today()
    months = union_months(
        scope=scope_for(officers.fund), grassroots_union=org.lb1, year=day.year, month=day.month
    )
    assert len(months) == 6 and (months[-1].year, months[-1].month) == (day.year, day.month)
    last = months[-1]
    assert (last.remitted, last.confirmed, last.in_transit) == (1_000_000, 700_000, 300_000)
    assert sum(m.due for m in months) > 0  # the loans' installments of the last months
    other = union_months(
        scope=scope_for(officers.superior_hbt),
        grassroots_union=org.lb1,
        year=day.year,
        month=day.month,
    )
    assert all(m.due == m.remitted == 0 for m in other)  # another superior union sees nothing
