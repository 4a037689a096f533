"""The in-process scheduler of ``make run``: each entry at its times, with a frozen clock (no
sleeps); the close of business catches up missed days on start."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from celery.schedules import crontab

from fund.scheduler import CATCH_UP_TASK, START_ENTRIES, Scheduler

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
SCHEDULE = {
    "every-minute": {"task": "t.minute", "schedule": 60.0},
    "close-of-business": {"task": "t.cob", "schedule": crontab(hour=0, minute=15)},
    "outbox-relay": {"task": "t.relay", "schedule": 60.0},
    "morning": {"task": "t.morning", "schedule": crontab(hour=7, minute=0), "args": [1]},
}


def test_each_entry_runs_at_its_times():
    calls = []
    with time_machine.travel(datetime(2027, 3, 1, 23, 0, tzinfo=HANOI), tick=False) as clock:
        s = Scheduler(SCHEDULE, run=lambda task, args, kwargs: calls.append((task, args)))
        assert s.start(catch_up=False) == [] and calls == []
        assert s.tick() == []  # nothing is due at once
        clock.shift(timedelta(seconds=61))
        assert s.tick() == ["every-minute", "outbox-relay"]
        assert s.tick() == []  # not twice in the same minute
        clock.move_to(datetime(2027, 3, 2, 0, 15, 5, tzinfo=HANOI))
        assert s.tick() == ["every-minute", "close-of-business", "outbox-relay"]
        clock.shift(timedelta(seconds=30))
        assert s.tick() == []
        clock.move_to(datetime(2027, 3, 2, 7, 0, 1, tzinfo=HANOI))
        assert s.tick() == ["every-minute", "outbox-relay", "morning"]
        # The next night's close of business, not before.
        clock.move_to(datetime(2027, 3, 3, 0, 14, 0, tzinfo=HANOI))
        assert "close-of-business" not in s.tick()
        clock.move_to(datetime(2027, 3, 3, 0, 15, 1, tzinfo=HANOI))
        assert "close-of-business" in s.tick()
        assert 0 < s.seconds_to_next() <= 60
    assert ("t.morning", (1,)) in calls
    assert [c for c in calls if c[0] == "t.cob"] == [("t.cob", ()), ("t.cob", ())]


@pytest.mark.django_db
def test_start_catches_up_each_fund_and_a_failing_job_does_not_stop_the_others(org):
    calls = []

    def run(task, args, kwargs):
        calls.append((task, tuple(args)))
        if task == CATCH_UP_TASK and args[0] == org.fund.pk:
            raise RuntimeError("the database is away")

    with time_machine.travel(datetime(2027, 3, 1, 0, 30, tzinfo=HANOI), tick=False) as clock:
        s = Scheduler(SCHEDULE, run=run)
        # The fund whose catch-up failed is not listed; the other fund's ran, then the relay.
        assert s.start() == [f"close-of-business:{org.other_fund.pk}", *START_ENTRIES]
        # Through yesterday in Hà Nội (28 February), whatever the day in UTC.
        assert calls == [
            (CATCH_UP_TASK, (org.fund.pk, "2027-02-28")),
            (CATCH_UP_TASK, (org.other_fund.pk, "2027-02-28")),
            ("t.relay", ()),
        ]
        clock.shift(timedelta(minutes=1, seconds=1))
        assert s.tick() == ["every-minute", "outbox-relay"]


def test_every_task_of_the_settings_schedule_is_registered(settings):
    from celery import current_app

    current_app.loader.import_default_modules()
    names = [spec["task"] for spec in settings.CELERY_BEAT_SCHEDULE.values()] + [CATCH_UP_TASK]
    missing = [name for name in names if name not in current_app.tasks]
    assert not missing
