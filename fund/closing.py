"""Year-end closing: a fund's income and expenses closed to the result and the surplus.

``year_close`` closes one fund's year in one closing entry dated 31 December:

* every income account (5xx, 7xx) is debited with its balance of the year and every expense
  account (6xx, 8xx) credited, against the result account 911 (``fund.accounts.RESULT``);
* 911 is then closed to the surplus of the year 4212 (credit for a surplus, debit for a
  deficit), so that after the entry no income, expense or 911 account holds a balance;
* the surplus is carried from 4212 to 4211 (surplus of prior years) by a second entry dated
  1 January of the next year: the next year opens with 4212 empty for its own result, and a
  balance sheet as of 31 December still shows the year's surplus on 4212.

The closing entry's document type is ``accounting.models.CLOSING_DOCUMENT_TYPE`` (the income
statement leaves it out; the auditor sees it flagged on the year-end page and in the journal).

Rules: a fund officer of the fund (or the system) closes; the year must be over in Hà Nội;
the years before it in which the fund posted must be closed first; a year is closed once (the
same idempotency key returns the first closing, another key is refused naming the closing); a
ledger period already locked over 31 December refuses, as the ledger does. When every fund
that posted up to 31 December has closed the year, the ledger is locked through that day
(``accounting.services.period_close``), so nothing can be posted into a closed year any more.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounting.dates import business_today
from accounting.errors import IdempotencyConflict
from accounting.formatting import format_vnd
from accounting.models import CLOSING_DOCUMENT_TYPE, Account, Posting
from accounting.selectors import balances_by_account
from accounting.services import (
    credit,
    debit,
    journal_entry_post,
    ledger_closed_through,
    period_close,
)
from fund.accounts import RESULT, SURPLUS_CURRENT_YEAR, SURPLUS_PRIOR_YEARS
from fund.audit import audit_record
from fund.errors import FundError
from fund.models import Fund, YearClose
from fund.scoping import actor_require_fund_officer, actor_user
from fund.services import capital_lock

ZERO = Decimal(0)
CARRY_DOCUMENT_TYPE = "year_carry"


class YearCloseRefused(FundError):
    code = "year_close_refused"
    default_field = "year"


def _leg(code: str, signed: Decimal, dims: dict):
    """A debit (signed > 0) or a credit (< 0) of the amount; None for zero."""
    if not signed:
        return None
    return debit(code, signed, **dims) if signed > 0 else credit(code, -signed, **dims)


def year_close_first_open(*, fund: Fund) -> int | None:
    """The earliest year of the fund not closed yet in which it could have posted: the year
    after its last closing, else the year of its first posting; None when it never posted."""
    last = YearClose.objects.filter(fund=fund).order_by("-year").values_list("year", flat=True)
    if last:
        return last[0] + 1
    first = Posting.objects.filter(fund_id=fund.pk).aggregate(d=Min("effective_date"))["d"]
    return first.year if first else None


def _results(fund: Fund, end: date) -> list[tuple[Account, Decimal]]:
    """The income and expense accounts (911 aside) with their signed balance at `end`."""
    balances = balances_by_account(as_of=end, fund_id=fund.pk)
    accounts = Account.objects.filter(
        pk__in=[pk for pk, b in balances.items() if b], account_type__in=("income", "expense")
    ).exclude(code=RESULT)
    return [(a, balances[a.pk]) for a in accounts.order_by("code")]


def year_close(*, fund: Fund, year: int, idempotency_key: str, actor=None) -> YearClose:
    """Close `year` of `fund` (see the module's rules); returns the closing."""
    actor_require_fund_officer(actor, fund_id=fund.pk, field="year")
    if isinstance(year, bool) or not isinstance(year, int) or not 1900 < year < 10000:
        raise YearCloseRefused(_("Năm khóa sổ không hợp lệ: %(year)s."), params={"year": year})
    today = business_today()
    end = date(year, 12, 31)
    with transaction.atomic():
        capital_lock(fund=fund)  # one closing of a fund at a time
        done = YearClose.objects.filter(fund=fund, year=year).select_related("closed_by").first()
        if done is not None:
            if done.idempotency_key == idempotency_key:
                return done
            raise IdempotencyConflict(
                _("Năm %(year)s của quỹ đã khóa sổ lúc %(at)s; không khóa sổ lần thứ hai."),
                field="year",
                params={"year": year, "at": f"{timezone.localtime(done.closed_at):%d/%m/%Y %H:%M}"},
            )
        if end >= today:
            raise YearCloseRefused(
                _("Năm %(year)s chưa kết thúc (hôm nay %(today)s); chỉ khóa sổ năm đã qua."),
                params={"year": year, "today": f"{today:%d/%m/%Y}"},
            )
        later = YearClose.objects.filter(fund=fund, year__gt=year).order_by("year").first()
        if later is not None:
            raise YearCloseRefused(
                _("Năm %(later)s của quỹ đã khóa sổ; không khóa sổ năm %(year)s trước nó nữa."),
                params={"later": later.year, "year": year},
            )
        first_open = year_close_first_open(fund=fund)
        if first_open is not None and first_open < year:
            raise YearCloseRefused(
                _(
                    "Năm %(open)s của quỹ chưa khóa sổ; phải khóa sổ năm %(open)s "
                    "trước năm %(year)s."
                ),
                params={"open": first_open, "year": year},
            )
        results = _results(fund, end)
        total_income = -sum((b for a, b in results if a.account_type == "income"), ZERO)
        total_expense = sum((b for a, b in results if a.account_type == "expense"), ZERO)
        surplus = total_income - total_expense
        closing = carry = None
        dims = {"fund_id": fund.pk}
        if results:
            # Signed (debit > 0): each account emptied; 911 takes income and expenses, then
            # hands the result to 4212.
            legs = [_leg(a.code, -b, dims) for a, b in results]
            legs += [
                _leg(RESULT, -total_income, dims),
                _leg(RESULT, total_expense, dims),
                _leg(RESULT, surplus, dims),
                _leg(SURPLUS_CURRENT_YEAR, -surplus, dims),
            ]
            legs = [leg for leg in legs if leg is not None]
            closing = journal_entry_post(
                effective_date=end,
                legs=legs,
                memo=f"Kết chuyển thu nhập, chi phí năm {year} sang kết quả (911) và chênh lệch "
                f"thu chi năm nay (4212): {format_vnd(surplus)}",
                idempotency_key=f"year_close:{fund.pk}:{year}",
                posted_by=actor_user(actor),
                document_type=CLOSING_DOCUMENT_TYPE,
                document_id=f"{fund.pk}:{year}",
            )
        if surplus:
            carry = journal_entry_post(
                effective_date=date(year + 1, 1, 1),
                legs=[
                    _leg(SURPLUS_CURRENT_YEAR, surplus, dims),
                    _leg(SURPLUS_PRIOR_YEARS, -surplus, dims),
                ],
                memo=f"Chuyển chênh lệch thu chi năm {year} sang chênh lệch năm trước (4211)",
                idempotency_key=f"year_carry:{fund.pk}:{year}",
                posted_by=actor_user(actor),
                document_type=CARRY_DOCUMENT_TYPE,
                document_id=f"{fund.pk}:{year}",
            )
        closed = YearClose.objects.create(
            fund=fund,
            year=year,
            surplus=surplus,
            total_income=total_income,
            total_expense=total_expense,
            closing_entry=closing,
            carry_entry=carry,
            idempotency_key=idempotency_key,
            closed_by=actor_user(actor),
        )
        audit_record(
            actor=actor,
            action="year_close",
            obj=fund,
            changes={
                "year": [None, year],
                "surplus": [None, str(surplus)],
                "closing_entry": [None, closing.pk if closing else None],
                "carry_entry": [None, carry.pk if carry else None],
            },
        )
        _lock_ledger_when_all_closed(year, end, actor)
    return closed


def _lock_ledger_when_all_closed(year: int, end: date, actor) -> None:
    """Lock the ledger through 31 December once every fund that posted by then closed the
    year (a fund alone in the database: at once)."""
    last = ledger_closed_through()
    if last is not None and last >= end:
        return
    closed = set(YearClose.objects.filter(year=year).values_list("fund_id", flat=True))
    for fund_id in Fund.objects.exclude(pk__in=closed).values_list("pk", flat=True):
        if Posting.objects.filter(fund_id=fund_id, effective_date__lte=end).exists():
            return
    period_close(through=end, closed_by=actor_user(actor), note=f"Khóa sổ cuối năm {year}")
