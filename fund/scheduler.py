"""The beat schedule run in-process: the scheduled jobs of the embedded default.

``settings.CELERY_BEAT_SCHEDULE`` says when each job runs (every minute, every night at 00:15…).
With Redis configured, ``celery beat`` reads it and workers run the jobs. On the embedded default
(SQLite, Celery eager: no broker) there is neither, so ``manage.py run_jobs``, which ``make run``
starts beside the web server, runs the same schedule in one process: each entry's task is called
at its times, eagerly, in that process.

Rules it keeps:

* Each entry runs when its schedule says it is due since the entry last ran (Celery's own
  ``schedule.is_due``, so an interval and a crontab mean here what they mean to ``celery beat``);
  an entry that has not run yet counts from the scheduler's start.
* A job that fails is logged and the others go on; it runs again at its next time.
* On start, before anything else, the close of business of every fund catches up each day
  missed while nothing ran, through yesterday (``CATCH_UP_TASK`` called directly, not through
  the nightly entry's outbox row: that row's key is the date, so a catch-up that failed, say on a
  database not yet migrated, would not run again for the same date after a restart); then
  ``START_ENTRIES`` run once (the outbox is relayed).

The clock is the Celery app's (``current_app.now()``: the fund's time zone, as ``celery beat``
reads it; a crontab compares a last run given in UTC against the wrong midnight), read on every
tick, so that a test moves time with a frozen clock instead of sleeping.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from celery import current_app
from celery.schedules import BaseSchedule, schedule

logger = logging.getLogger(__name__)

# Run once when the scheduler starts, after the close of business has caught up: what the
# outbox holds.
START_ENTRIES = ("outbox-relay",)
# The pinned name of the close of business's catch-up of one fund (fund id, through date).
CATCH_UP_TASK = "loans.tasks.close_of_business_catch_up_task"


def task_run(task_name: str, args=(), kwargs=None) -> None:
    """Run one task by its pinned name, as the beat would queue it (eager: in this process)."""
    current_app.loader.import_default_modules()
    current_app.tasks[task_name].apply_async(args=list(args), kwargs=dict(kwargs or {}))


@dataclass
class Entry:
    name: str
    task: str
    schedule: BaseSchedule
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    last_run_at: datetime | None = None


def _schedule_of(value) -> BaseSchedule:
    if isinstance(value, BaseSchedule):
        return value
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    return schedule(timedelta(seconds=seconds))


class Scheduler:
    """The entries of a beat schedule and when each last ran."""

    def __init__(self, beat_schedule: dict, *, run: Callable = task_run):
        self.run = run
        self.entries = [
            Entry(
                name=name,
                task=spec["task"],
                schedule=_schedule_of(spec["schedule"]),
                args=tuple(spec.get("args", ())),
                kwargs=dict(spec.get("kwargs", {})),
            )
            for name, spec in beat_schedule.items()
        ]

    def _call(self, entry: Entry, now: datetime) -> bool:
        entry.last_run_at = now
        try:
            self.run(entry.task, entry.args, entry.kwargs)
            return True
        except Exception:  # noqa: BLE001 - one failing job must not stop the others
            logger.exception("scheduled job %s (%s) failed", entry.name, entry.task)
            return False

    def catch_up(self) -> list[str]:
        """Close every fund's missed days through yesterday; return what ran."""
        from fund.models import Fund

        through = (current_app.now().date() - timedelta(days=1)).isoformat()
        ran = []
        for fund_id in Fund.objects.order_by("pk").values_list("pk", flat=True):
            catch = Entry(f"close-of-business:{fund_id}", CATCH_UP_TASK, schedule(60))
            catch.args = (fund_id, through)
            if self._call(catch, current_app.now()):
                ran.append(catch.name)
        return ran

    def start(self, *, catch_up: bool = True) -> list[str]:
        """Count every entry from now; catch the close of business up and run
        ``START_ENTRIES`` once (unless `catch_up` is off). Returns the names of what ran."""
        now = current_app.now()
        for entry in self.entries:
            entry.last_run_at = now
        ran = []
        if catch_up:
            ran += self.catch_up()
            for entry in self.entries:
                if entry.name in START_ENTRIES:
                    self._call(entry, now)
                    ran.append(entry.name)
        return ran

    def tick(self) -> list[str]:
        """Run every entry due now; return their names (in the schedule's order)."""
        now = current_app.now()
        ran = []
        for entry in self.entries:
            if entry.last_run_at is None:
                entry.last_run_at = now
                continue
            due, _next = entry.schedule.is_due(entry.last_run_at)
            if due:
                self._call(entry, now)
                ran.append(entry.name)
        return ran

    def seconds_to_next(self) -> float:
        """How long until the next entry falls due (at least a second)."""
        waits = [
            entry.schedule.is_due(entry.last_run_at)[1]
            for entry in self.entries
            if entry.last_run_at is not None
        ]
        return max(1.0, min(waits, default=60.0))
