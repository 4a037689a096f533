"""The fund's working days: which days are off, and a day moved off a day off.

Saturdays and Sundays are off, and so are Vietnam's public holidays, the lunar ones (Tết, the
Hùng Kings' day) included, as the ``holidays`` library computes them; a fund adds days off (the
Government's extended Tết break, bridge days) or working days (a Saturday worked in exchange)
as ``CalendarDay`` rows, which win over the rule. Schedules ask for the days off between two
dates once (`days_off_between`), then move due dates with the pure ``loans.schedules`` rule.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays
from django.utils.translation import get_language

from fund.models import CalendarDay

COUNTRY = "VN"
WEEKEND = frozenset({5, 6})  # Saturday, Sunday (date.weekday())


@lru_cache(maxsize=128)
def _holidays(year: int, language: str) -> dict[date, str]:
    return dict(holidays.country_holidays(COUNTRY, years=year, language=language).items())


def public_holidays(year: int) -> dict[date, str]:
    """Vietnam's public holidays of `year`: {day: name in the reader's language}."""
    language = "en_US" if (get_language() or "vi").startswith("en") else "vi"
    return _holidays(year, language)


def days_off_between(fund_id: int, start: date, end: date) -> frozenset[date]:
    """Every day off of the fund from `start` to `end` (both included): one query."""
    off = set()
    for year in range(start.year, end.year + 1):
        off.update(d for d in public_holidays(year) if start <= d <= end)
    day = start
    while day <= end:
        if day.weekday() in WEEKEND:
            off.add(day)
        day += timedelta(days=1)
    for d, working in CalendarDay.objects.filter(
        fund_id=fund_id, day__gte=start, day__lte=end
    ).values_list("day", "working"):
        (off.discard if working else off.add)(d)
    return frozenset(off)


def is_working_day(fund_id: int, day: date) -> bool:
    return day not in days_off_between(fund_id, day, day)


def year_calendar(fund_id: int, year: int) -> list[dict]:
    """The year's days that are not ordinary (holidays, the fund's own days), in order: what a
    fund officer checks and changes on the calendar page."""
    own = {c.day: c for c in CalendarDay.objects.filter(fund_id=fund_id, day__year=year)}
    rows = []
    for day in sorted(set(public_holidays(year)) | set(own)):
        holiday = public_holidays(year).get(day, "")
        entry = own.get(day)
        rows.append(
            {
                "day": day,
                "holiday": holiday,
                "weekend": day.weekday() in WEEKEND,
                "own": entry,
                "working": entry.working if entry else False,
            }
        )
    return rows
