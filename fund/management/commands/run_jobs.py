"""Run the scheduled jobs: in this process on the embedded default, else celery beat and a worker.

``make run`` starts it beside the web server. Without a broker (SQLite, Celery eager) it runs
the beat schedule itself (``fund.scheduler``), catching up the close of business on start; with
a broker configured it hands over to ``celery worker --beat``, which does the same with Redis.
"""

from __future__ import annotations

import os
import shutil
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from fund.scheduler import Scheduler


class Command(BaseCommand):
    help = "Chạy các việc theo lịch (khóa sổ cuối ngày, nhắc nợ, niêm phong sổ…)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--once",
            action="store_true",
            help="Chạy bù khi khởi động và các việc đến hạn rồi thoát.",
        )
        parser.add_argument(
            "--no-catch-up", action="store_true", help="Không chạy bù khóa sổ khi khởi động."
        )

    def handle(self, *args, once=False, no_catch_up=False, **options):
        if not settings.CELERY_TASK_ALWAYS_EAGER and not once:
            celery = shutil.which("celery") or os.path.join(
                os.path.dirname(sys.executable), "celery"
            )
            self.stdout.write("Có Redis: chạy celery worker --beat.")
            os.execv(celery, [celery, "-A", "config", "worker", "--beat", "-l", "info"])
        scheduler = Scheduler(settings.CELERY_BEAT_SCHEDULE)
        ran = scheduler.start(catch_up=not no_catch_up)
        if ran:
            self.stdout.write("Khởi động: " + ", ".join(ran))
        if once:
            ran = scheduler.tick()
            if ran:
                self.stdout.write("Đến hạn: " + ", ".join(ran))
            return
        self.stdout.write(f"Đang chạy {len(scheduler.entries)} việc theo lịch (Ctrl-C để dừng).")
        try:
            while True:
                for name in scheduler.tick():
                    self.stdout.write(f"{name}")
                time.sleep(min(scheduler.seconds_to_next(), 30.0))
        except KeyboardInterrupt:
            return
