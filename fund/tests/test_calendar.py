"""The fund's working days: weekends and Vietnam's public holidays (Tết computed from the lunar
calendar) are off; the fund adds days off or working days, audited, fund officers only."""

from datetime import date

import pytest

from fund.calendar import days_off_between, is_working_day, year_calendar
from fund.errors import FundError, PermissionRefused
from fund.models import AuditLog, CalendarDay
from fund.services import calendar_day_clear, calendar_day_set

pytestmark = pytest.mark.django_db


def test_weekends_and_tet_are_days_off(org):
    off = days_off_between(org.fund.pk, date(2026, 2, 9), date(2026, 2, 27))
    # Tết Bính Ngọ: 16–20/02/2026 (Giao thừa to the 4th day), between two weekends.
    assert sorted(d.day for d in off) == [14, 15, 16, 17, 18, 19, 20, 21, 22]
    # Tết Đinh Mùi: 04–10/02/2027.
    off = days_off_between(org.fund.pk, date(2027, 2, 1), date(2027, 2, 12))
    assert sorted(d.day for d in off) == [4, 5, 6, 7, 8, 9, 10]
    assert not is_working_day(org.fund.pk, date(2026, 9, 2))  # National Day
    assert is_working_day(org.fund.pk, date(2026, 9, 3))


def test_the_fund_adds_a_day_off_and_a_working_day_audited(org, officers):
    calendar_day_set(
        fund=org.fund, day=date(2026, 1, 2), working=False, note="Nghỉ bù", actor=officers.fund
    )
    calendar_day_set(
        fund=org.fund, day=date(2026, 1, 10), working=True, note="Làm bù", actor=officers.fund
    )
    off = days_off_between(org.fund.pk, date(2026, 1, 1), date(2026, 1, 11))
    assert sorted(d.day for d in off) == [1, 2, 3, 4, 11]  # the 10th (a Saturday) is worked
    rows = {r["day"]: r for r in year_calendar(org.fund.pk, 2026)}
    assert rows[date(2026, 1, 2)]["own"].note == "Nghỉ bù" and rows[date(2026, 1, 1)]["holiday"]
    assert AuditLog.objects.filter(content_type__model="calendarday", action="create").count() == 2
    calendar_day_clear(fund=org.fund, day=date(2026, 1, 2), actor=officers.fund)
    assert is_working_day(org.fund.pk, date(2026, 1, 2))
    assert AuditLog.objects.filter(content_type__model="calendarday", action="delete").exists()


def test_only_fund_officers_change_the_calendar_and_bad_input_is_named(org, officers):
    for who in (officers.superior, officers.grassroots, officers.auditor):
        with pytest.raises(PermissionRefused):
            calendar_day_set(fund=org.fund, day=date(2026, 1, 2), working=False, actor=who)
    with pytest.raises(FundError) as e:
        calendar_day_set(fund=org.fund, day="02/01/2026", working=False, actor=officers.fund)
    assert e.value.field == "day"
    with pytest.raises(FundError) as e:
        calendar_day_set(fund=org.fund, day=date(2026, 1, 2), working="no", actor=officers.fund)
    assert e.value.field == "working"
    assert not CalendarDay.objects.exists()
