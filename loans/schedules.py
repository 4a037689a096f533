"""Exact repayment schedules: pure functions, whole đồng, no floats, no database.

A schedule is the list of installments a borrower owes, computed once at disbursement from the
loan's terms (a loan keeps the terms it was granted, whatever later happens to its product).

Conventions (the invariants the tests check):

- **Periods.** Installment ``i`` (1-based) falls due ``i`` periods after the disbursement date.
  Monthly due dates keep the day of the month of the disbursement, clamped to the month's end,
  and are always counted from the disbursement date, never from the previous (clamped) due date:
  disbursed 31 January → 28/29 February, 31 March, 30 April, 31 May… Weekly due dates are every
  7 days.
- **Rate per period** (`periodic_rate`). ``rate`` is a percentage (``Decimal("0.55")`` = 0.55 %)
  per month or per year. Monthly: per-month rate as is, per-year rate / 12. Weekly: per-year rate
  / 52, per-month rate × 12 / 52 (so a year of weekly interest equals a year of monthly interest).
  Interest is charged per period, not per day: February's interest equals March's. The engine
  works with the exact rational rate; `periodic_rate` shows it as a Decimal (34 digits).
- **Days off.** A product's ``day_off_rule`` moves a due date that falls on one of the fund's
  days off (``ScheduleTerms.days_off``) to the next working day (``following``) or the one before
  (``preceding``), or keeps it (``keep``); the dates stay strictly increasing
  (`move_off_days_off`). Interest is per period, so moving a date never changes an amount.
- **Whole đồng.** Every amount is a `Decimal` with exponent 0. Each period's interest is rounded
  ROUND_HALF_UP to the đồng. Each period's principal is rounded down to the đồng and the residue
  goes to the LAST installment, so the principal column sums exactly to the loan amount and the
  last ``balance_after`` is 0.
- **Methods.**
  - ``equal_principal`` (dư nợ giảm dần, gốc đều): principal ``P // m`` each amortising period
    (``m`` = installments − principal grace), the last one takes ``P − (m − 1)·(P // m)``;
    interest on the balance outstanding during the period (before that period's repayment).
  - ``annuity`` (dư nợ giảm dần, trả góp đều): the level payment ``A = P·r / (1 − (1 + r)^−m)``
    computed exactly and rounded down to the đồng; each amortising period's interest is the
    rounded interest on the outstanding balance and its principal is ``A − interest``; the last
    installment repays the whole remaining balance, so its total absorbs the residue: rounding
    ``A`` down leaves about half a đồng a period to it (1 đồng over 6 months, about 10 over 36
    months, at most about 200 over 156 weeks). With a zero rate, ``A = P // m``.
  - ``flat`` (lãi phẳng): principal as for equal principal; interest on the ORIGINAL principal
    every period, ``round(P·r)``.
- **Principal grace** ``k``: no principal in the first ``k`` periods; interest is still charged on
  the full principal for those periods. The method then amortises over the remaining periods.
- **Interest grace** ``g``: the interest of the first ``g`` periods is not collected then; it is
  deferred, never forgiven, and added to installment ``g + 1`` (the first after the grace). The
  principal column and each period's computed interest are those of the same terms without
  interest grace, so the total interest of a schedule never depends on ``g``
  (`interest_total_expected`).
- **Bad terms** raise `ScheduleError` (an `ApplicationError` naming the ``field``) from
  `schedule_validate`, which `schedule_generate` calls first.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, localcontext
from enum import StrEnum
from math import gcd

from accounting.errors import ApplicationError

# accounting.errors' gettext_lazy, not Django's: this module must import without Django.
from accounting.errors import gettext_lazy as _

# The ledger holds at most 20 digits per amount (accounting.money.MAX_AMOUNT); a schedule never
# needs more. Kept here as a literal so this module stays free of Django imports.
MAX_PRINCIPAL = Decimal(10) ** 20 - 1
# 50 years of monthly installments, about 11.5 years weekly: far beyond any product, but keeps a
# typo (12000 instead of 12) from computing a schedule for centuries.
MAX_INSTALLMENTS = 600
# Percent per rate period. A rate above 100 % a month or a year is a typing error, not a product.
MAX_RATE = Decimal(100)


class Method(StrEnum):
    EQUAL_PRINCIPAL = "equal_principal"
    ANNUITY = "annuity"
    FLAT = "flat"


class Frequency(StrEnum):
    MONTHLY = "monthly"
    WEEKLY = "weekly"


class RatePeriod(StrEnum):
    MONTH = "month"
    YEAR = "year"


class DayOffRule(StrEnum):
    """What a product does with a due date that falls on a day off (weekend, holiday)."""

    KEEP = "keep"
    FOLLOWING = "following"  # the next working day
    PRECEDING = "preceding"  # the working day before


class ScheduleError(ApplicationError):
    """Terms from which no schedule can be computed; ``field`` names the bad term."""

    code = "schedule_invalid"


@dataclass(frozen=True)
class ScheduleTerms:
    """The terms a schedule is computed from (a loan keeps these once disbursed)."""

    principal: Decimal
    installments: int
    method: Method
    rate: Decimal
    rate_period: RatePeriod
    frequency: Frequency
    disbursed_on: date
    principal_grace: int = 0
    interest_grace: int = 0
    # Due dates on a day off move by this rule; `days_off` holds the fund's days off from the
    # disbursement to beyond the last due date (``fund.calendar.days_off_between``).
    day_off_rule: DayOffRule = DayOffRule.KEEP
    days_off: frozenset[date] = frozenset()


@dataclass(frozen=True)
class Installment:
    """One due date: whole-đồng principal and interest, and the principal balance after it."""

    number: int
    due_date: date
    principal: Decimal
    interest: Decimal
    balance_after: Decimal

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest


@dataclass(frozen=True)
class ScheduleTotals:
    count: int
    principal: Decimal
    interest: Decimal
    total: Decimal


# --- due dates -------------------------------------------------------------------------------


_MONTH_LENGTHS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def add_months(start: date, months: int) -> date:
    """`start` moved by whole months, clamped to the month's end (31/01 + 1 → 28 or 29/02)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    day = start.day
    if day > 28:  # only the 29th–31st can fall off a month's end
        length = 29 if month == 2 and calendar.isleap(year) else _MONTH_LENGTHS[month - 1]
        day = min(day, length)
    return date(year, month, day)


def due_dates(*, start: date, count: int, frequency: Frequency) -> list[date]:
    """The ``count`` due dates after ``start`` (``start`` itself excluded), strictly increasing.

    Monthly dates keep ``start``'s day of the month, clamped to each month's last day, and are
    always counted from ``start`` (so 31 Jan → 29 Feb 2024 → 31 Mar, not 29 Mar).
    """
    if Frequency(frequency) is Frequency.WEEKLY:
        return [start + timedelta(days=7 * i) for i in range(1, count + 1)]
    return [add_months(start, i) for i in range(1, count + 1)]


def due_dates_span_end(*, start: date, count: int, frequency: Frequency) -> date:
    """The last day a due date of the schedule can move to: the last nominal due date plus a
    month (longer than any run of days off), for asking the calendar once."""
    return due_dates(start=start, count=count, frequency=frequency)[-1] + timedelta(days=31)


def move_off_days_off(
    dates: list[date], *, start: date, days_off: frozenset[date], rule: DayOffRule
) -> list[date]:
    """`dates` with each one on a day off moved to a working day by `rule`, still strictly
    increasing and after `start`: a date moved back (``preceding``) that would reach the
    previous due date (or the disbursement) moves forward instead, and a date moved forward
    that would reach the previous one (a weekly schedule across a long Tết break) goes to the
    first working day after it. With ``keep`` (or no days off) the dates are as given."""
    rule = DayOffRule(rule)
    if rule is DayOffRule.KEEP or not days_off:
        return list(dates)

    def forward(day: date) -> date:
        while day in days_off:
            day += timedelta(days=1)
        return day

    out: list[date] = []
    previous = start
    for due in dates:
        moved = due
        if due in days_off:
            if rule is DayOffRule.PRECEDING:
                moved = due - timedelta(days=1)
                while moved in days_off:
                    moved -= timedelta(days=1)
                if moved <= previous:
                    moved = forward(due)
            else:
                moved = forward(due)
        if moved <= previous:
            moved = forward(previous + timedelta(days=1))
        out.append(moved)
        previous = moved
    return out


# --- rates -----------------------------------------------------------------------------------


def _rate_ratio(terms: ScheduleTerms) -> tuple[int, int]:
    """The exact rate per period as a reduced fraction ``(numerator, denominator)``."""
    num, den = Decimal(terms.rate).as_integer_ratio()
    den *= 100  # the rate is a percentage
    weekly = Frequency(terms.frequency) is Frequency.WEEKLY
    per_year = RatePeriod(terms.rate_period) is RatePeriod.YEAR
    if weekly and per_year:
        den *= 52
    elif weekly:
        num, den = num * 12, den * 52
    elif per_year:
        den *= 12
    common = gcd(num, den)
    return num // common, den // common


def periodic_rate(terms: ScheduleTerms) -> Decimal:
    """The rate per period as a fraction (0.55 %/month monthly → ``Decimal("0.0055")``).

    Monthly: per-month rate, or per-year rate / 12. Weekly: per-year rate / 52, or per-month
    rate × 12 / 52. Exact when the fraction terminates, otherwise to 34 significant digits (the
    schedule itself is computed from the exact fraction).
    """
    num, den = _rate_ratio(terms)
    with localcontext() as ctx:
        ctx.prec = 34
        return Decimal(num) / Decimal(den)


def _interest(balance: int, num: int, den: int) -> int:
    """``balance × num / den`` rounded half up to the đồng (``balance`` ≥ 0), exactly."""
    return (2 * balance * num + den) // (2 * den)


def _annuity_payment(principal: int, periods: int, num: int, den: int) -> int:
    """The level payment ``P·r / (1 − (1 + r)^−m)`` for ``r = num/den``, rounded down."""
    if num == 0:
        return principal // periods
    growth_num, growth_den = (den + num) ** periods, den**periods
    # P·(num/den)·g / (g − 1) with g = growth_num / growth_den
    return (principal * num * growth_num) // (den * (growth_num - growth_den))


# --- validation ------------------------------------------------------------------------------


def _whole_count(value, *, field: str, label: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ScheduleError(_("%(label)s phải là số nguyên."), field=field, params={"label": label})
    return value


def _decimal(value, *, field: str, label: str) -> Decimal:
    # Floats are refused: a float cannot be trusted to hold an amount or a rate exactly.
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise ScheduleError(
            _("%(label)s phải là số thập phân (Decimal), không dùng số thực."),
            field=field,
            params={"label": label},
        )
    value = Decimal(value)
    if not value.is_finite():
        raise ScheduleError(
            _("%(label)s không hợp lệ: %(value)s."),
            field=field,
            params={"label": label, "value": value},
        )
    return value


def schedule_validate(terms: ScheduleTerms) -> None:
    """Refuse terms from which no exact schedule can be computed, naming the bad ``field``.

    Refused: a principal that is not a whole number of đồng, not positive or beyond 20 digits; a
    number of installments below 1 or above `MAX_INSTALLMENTS`; a negative rate or one above
    100 % per rate period; an unknown method, frequency or rate period; a disbursement date that
    is not a plain `date`; negative grace periods or grace periods that leave no installment
    (grace ≥ installments); due dates beyond the calendar (year 9999).
    """
    principal = _decimal(terms.principal, field="principal", label=_("Số tiền vay"))
    if principal != principal.to_integral_value():
        raise ScheduleError(
            _("Số tiền vay %(principal)s có phần lẻ của đồng; VND không có đơn vị nhỏ hơn đồng."),
            field="principal",
            params={"principal": principal},
        )
    if principal <= 0:
        raise ScheduleError(_("Số tiền vay phải lớn hơn 0."), field="principal")
    if principal > MAX_PRINCIPAL:
        raise ScheduleError(_("Số tiền vay vượt quá 20 chữ số."), field="principal")

    count = _whole_count(terms.installments, field="installments", label=_("Số kỳ trả nợ"))
    if count < 1:
        raise ScheduleError(_("Số kỳ trả nợ phải từ 1 trở lên."), field="installments")
    if count > MAX_INSTALLMENTS:
        raise ScheduleError(
            _("Số kỳ trả nợ %(count)s vượt quá giới hạn %(max)s kỳ."),
            field="installments",
            params={"count": count, "max": MAX_INSTALLMENTS},
        )

    rate = _decimal(terms.rate, field="rate", label=_("Lãi suất"))
    if rate < 0:
        raise ScheduleError(_("Lãi suất không được âm."), field="rate")
    if rate > MAX_RATE:
        raise ScheduleError(
            _("Lãi suất %(rate)s%% vượt quá %(max)s%% một kỳ."),
            field="rate",
            params={"rate": rate, "max": MAX_RATE},
        )

    for field, enum, label in (
        ("method", Method, _("Phương thức tính lãi")),
        ("rate_period", RatePeriod, _("Kỳ lãi suất")),
        ("frequency", Frequency, _("Định kỳ trả nợ")),
    ):
        value = getattr(terms, field)
        if not isinstance(value, str) or value not in {member.value for member in enum}:
            raise ScheduleError(
                _("%(label)s không hợp lệ: %(value)s."),
                field=field,
                params={"label": label, "value": repr(value)},
            )

    for field, label, label_count in (
        ("principal_grace", _("Ân hạn gốc"), _("Ân hạn gốc (số kỳ)")),
        ("interest_grace", _("Ân hạn lãi"), _("Ân hạn lãi (số kỳ)")),
    ):
        grace = _whole_count(getattr(terms, field), field=field, label=label_count)
        if grace < 0:
            raise ScheduleError(_("%(label)s không được âm."), field=field, params={"label": label})
        if grace >= count:
            raise ScheduleError(
                _("%(label)s %(grace)s kỳ phải ít hơn số kỳ trả nợ (%(count)s)."),
                field=field,
                params={"label": label, "grace": grace, "count": count},
            )

    if isinstance(terms.disbursed_on, datetime) or not isinstance(terms.disbursed_on, date):
        raise ScheduleError(_("Ngày giải ngân phải là một ngày (date)."), field="disbursed_on")
    try:
        due_dates(start=terms.disbursed_on, count=1, frequency=terms.frequency)
        if Frequency(terms.frequency) is Frequency.WEEKLY:
            terms.disbursed_on + timedelta(days=7 * count)
        else:
            add_months(terms.disbursed_on, count)
    except (OverflowError, ValueError):
        raise ScheduleError(
            _("Ngày đến hạn cuối cùng vượt quá lịch (năm 9999)."), field="disbursed_on"
        ) from None


# --- generation ------------------------------------------------------------------------------


def _columns(terms: ScheduleTerms) -> tuple[list[int], list[int]]:
    """Principal and (undeferred) interest per period, in whole đồng, before interest grace."""
    principal = int(terms.principal)
    count, grace = terms.installments, terms.principal_grace
    periods = count - grace
    num, den = _rate_ratio(terms)
    method = Method(terms.method)

    principals = [0] * grace
    interests = [_interest(principal, num, den)] * grace
    if method is Method.ANNUITY:
        payment = _annuity_payment(principal, periods, num, den)
        balance = principal
        for i in range(periods):
            interest = _interest(balance, num, den)
            if i == periods - 1:
                part = balance
            else:
                # Clamped only for absurd terms (a few đồng over many periods) where the
                # rounded-down payment does not cover the rounded interest.
                part = min(max(payment - interest, 0), balance)
            principals.append(part)
            interests.append(interest)
            balance -= part
        return principals, interests

    share = principal // periods
    principals += [share] * (periods - 1) + [principal - share * (periods - 1)]
    if method is Method.FLAT:
        interests += [_interest(principal, num, den)] * periods
    else:
        interests += [_interest(principal - share * i, num, den) for i in range(periods)]
    return principals, interests


def schedule_generate(terms: ScheduleTerms) -> list[Installment]:
    """The installments of ``terms``, numbered from 1.

    Invariants: every amount is a whole number of đồng ≥ 0; principals sum exactly to the loan
    amount; ``balance_after`` never increases and is 0 after the last installment; due dates
    strictly increase; total interest equals `interest_total_expected` whatever the interest
    grace. Raises `ScheduleError` for bad terms.
    """
    schedule_validate(terms)
    principals, interests = _columns(terms)
    grace = terms.interest_grace
    if grace:
        deferred = sum(interests[:grace])
        interests = [0] * grace + [interests[grace] + deferred] + interests[grace + 1 :]
    dates = move_off_days_off(
        due_dates(start=terms.disbursed_on, count=terms.installments, frequency=terms.frequency),
        start=terms.disbursed_on,
        days_off=terms.days_off,
        rule=terms.day_off_rule,
    )
    balance = int(terms.principal)
    installments = []
    rows = zip(dates, principals, interests, strict=True)
    for number, (due, part, interest) in enumerate(rows, start=1):
        balance -= part
        installments.append(
            Installment(
                number=number,
                due_date=due,
                principal=Decimal(part),
                interest=Decimal(interest),
                balance_after=Decimal(balance),
            )
        )
    return installments


def schedule_totals(installments: Iterable[Installment]) -> ScheduleTotals:
    """Count and sums of principal, interest and total over ``installments``."""
    count, principal, interest = 0, Decimal(0), Decimal(0)
    for installment in installments:
        count += 1
        principal += installment.principal
        interest += installment.interest
    return ScheduleTotals(
        count=count, principal=principal, interest=interest, total=principal + interest
    )


def interest_total_expected(terms: ScheduleTerms) -> Decimal:
    """The total interest ``terms`` must produce, computed without the schedule's deferral.

    Flat: ``installments × round(P·r)``. Equal principal: the rounded interest on each period's
    outstanding balance, from the closed form of the balances. Annuity: the interest depends on
    the path of rounded balances, so it is the sum of the per-period interest before interest
    grace moves it (the tests bound it against the exact rational value separately).
    """
    schedule_validate(terms)
    principal = int(terms.principal)
    count, grace = terms.installments, terms.principal_grace
    periods = count - grace
    num, den = _rate_ratio(terms)
    method = Method(terms.method)
    if method is Method.FLAT:
        return Decimal(count * _interest(principal, num, den))
    if method is Method.EQUAL_PRINCIPAL:
        share = principal // periods
        during_grace = grace * _interest(principal, num, den)
        amortising = sum(_interest(principal - share * i, num, den) for i in range(periods))
        return Decimal(during_grace + amortising)
    return Decimal(sum(_columns(terms)[1]))
