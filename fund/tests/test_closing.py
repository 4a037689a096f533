"""Year-end closing (``fund.closing.year_close``): income and expenses to 911 and on to 4212 in
one entry, the surplus carried to 4211 on 1 January, once per fund and year, in order."""

from datetime import date

import pytest
from django.utils import timezone

from accounting.errors import IdempotencyConflict
from accounting.models import CLOSING_DOCUMENT_TYPE, JournalEntry, PeriodClose
from accounting.selectors import account_balance, balance_sheet, income_statement
from accounting.services import credit, debit, journal_entry_post
from fund.closing import YearCloseRefused, year_close
from fund.errors import PermissionRefused
from fund.models import AuditLog, YearClose

pytestmark = pytest.mark.django_db
LAST = timezone.localdate().year - 1


def post(org, amount, dr, cr, on, key):
    return journal_entry_post(
        effective_date=on,
        legs=[debit(dr, amount, fund_id=org.fund.pk), credit(cr, amount, fund_id=org.fund.pk)],
        memo=key,
        idempotency_key=key,
    )


def books(org, year):
    post(org, 100_000_000, "1121", "4111", date(year, 1, 5), f"cap{year}")
    post(org, 3_000_000, "1121", "5151", date(year, 6, 30), f"int{year}")
    post(org, 400_000, "1121", "5152", date(year, 7, 31), f"pen{year}")
    post(org, 1_000_000, "6422", "2293", date(year, 12, 31), f"prov{year}")


def balance(code, org, on):
    return account_balance(account=code, as_of=on, fund_id=org.fund.pk)


def test_closing_moves_the_year_to_4212_and_carries_it_to_4211(org, officers):
    books(org, LAST)
    end = date(LAST, 12, 31)
    assert balance_sheet(as_of=end, fund_id=org.fund.pk)["equity"][-1].code == ""  # unclosed

    closed = year_close(fund=org.fund, year=LAST, idempotency_key="y1", actor=officers.fund)
    assert closed.surplus.amount == 2_400_000
    entry = closed.closing_entry
    assert entry.document_type == CLOSING_DOCUMENT_TYPE and entry.effective_date == end
    for code in ("5151", "5152", "6422", "911"):
        assert balance(code, org, end) == 0
    assert balance("4212", org, end) == -2_400_000  # a credit: the year's surplus
    assert closed.carry_entry.effective_date == date(LAST + 1, 1, 1)
    assert balance("4212", org, date(LAST + 1, 1, 1)) == 0
    assert balance("4211", org, date(LAST + 1, 1, 1)) == -2_400_000

    sheet = balance_sheet(as_of=end, fund_id=org.fund.pk)
    assert all(line.code for line in sheet["equity"])  # no "unclosed difference" line
    assets = sum(x.amount for x in sheet["asset"])
    assert assets == sum(x.amount for x in sheet["liability"] + sheet["equity"])
    # The income statement of the closed year still shows what the year earned.
    stmt = income_statement(start=date(LAST, 1, 1), end=end, fund_id=org.fund.pk)
    assert stmt["surplus"] == 2_400_000
    assert AuditLog.objects.filter(action="year_close").count() == 1
    # The only fund closed the year: the ledger is locked through 31 December.
    assert PeriodClose.objects.get().closed_through == end


def test_closing_is_once_per_year(org, officers):
    books(org, LAST)
    first = year_close(fund=org.fund, year=LAST, idempotency_key="y1", actor=officers.fund)
    assert year_close(fund=org.fund, year=LAST, idempotency_key="y1") == first
    entries = JournalEntry.objects.count()
    with pytest.raises(IdempotencyConflict) as refused:
        year_close(fund=org.fund, year=LAST, idempotency_key="y2", actor=officers.fund)
    assert refused.value.field == "year" and "lần thứ hai" in str(refused.value)
    assert JournalEntry.objects.count() == entries and YearClose.objects.count() == 1


def test_refused_while_an_earlier_year_is_open_or_the_year_is_not_over(org, officers):
    books(org, LAST - 1)
    books(org, LAST)
    with pytest.raises(YearCloseRefused) as refused:
        year_close(fund=org.fund, year=LAST, idempotency_key="y", actor=officers.fund)
    assert refused.value.field == "year" and str(LAST - 1) in str(refused.value)
    with pytest.raises(YearCloseRefused):
        year_close(fund=org.fund, year=LAST + 1, idempotency_key="now", actor=officers.fund)
    assert YearClose.objects.count() == 0 and not JournalEntry.objects.filter(
        document_type=CLOSING_DOCUMENT_TYPE
    )
    year_close(fund=org.fund, year=LAST - 1, idempotency_key="a", actor=officers.fund)
    closed = year_close(fund=org.fund, year=LAST, idempotency_key="b", actor=officers.fund)
    # The prior year's surplus was carried on 1 January; this year's goes to 4212 then 4211.
    assert balance("4211", org, date(LAST + 1, 1, 1)) == -4_800_000
    assert closed.surplus.amount == 2_400_000


def test_a_deficit_and_an_empty_year(org, officers):
    post(org, 700_000, "6421", "1111", date(LAST, 3, 3), "cost")
    closed = year_close(fund=org.fund, year=LAST, idempotency_key="d", actor=officers.fund)
    assert closed.surplus.amount == -700_000
    assert balance("4211", org, date(LAST + 1, 1, 1)) == 700_000  # a debit: a deficit
    with pytest.raises(YearCloseRefused):  # before a closed year
        year_close(fund=org.fund, year=LAST - 5, idempotency_key="e")
    nothing = year_close(fund=org.other_fund, year=LAST, idempotency_key="f")
    assert nothing.closing_entry is None and nothing.carry_entry is None


def test_only_a_fund_officer_of_the_fund_closes(org, officers):
    books(org, LAST)
    for who in (officers.auditor, officers.superior, officers.other_fund):
        with pytest.raises(PermissionRefused):
            year_close(fund=org.fund, year=LAST, idempotency_key="x", actor=who)
    assert YearClose.objects.count() == 0
