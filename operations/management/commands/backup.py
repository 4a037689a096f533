"""`manage.py backup [--dir D] [--keep N] [--loop --at 01:30]`: the database and the stored files.

Once, or (--loop, the compose `backup` service) every day at --at, Hà Nội time. See
operations/backups.py and docs/operations.md.
"""

import time
from datetime import timedelta
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections
from django.utils import timezone

from operations.backups import BackupError, backup_create

HEARTBEAT = Path("/tmp/backup.alive")


class Command(BaseCommand):
    help = "Sao lưu cơ sở dữ liệu và các tệp đã lưu (báo cáo), giữ N bản gần nhất."

    def add_arguments(self, parser):
        parser.add_argument("--dir", help="thư mục sao lưu (mặc định: BACKUP_DIR)")
        parser.add_argument("--keep", type=int, help="số bản giữ lại (mặc định: BACKUP_KEEP)")
        parser.add_argument("--loop", action="store_true", help="chạy hằng ngày (dịch vụ)")
        parser.add_argument("--at", default="01:30", help="giờ sao lưu hằng ngày, HH:MM (--loop)")

    def handle(self, *args, dir=None, keep=None, loop=False, at="01:30", **options):
        if not loop:
            self._once(dir, keep)
            return
        hour, minute = (int(x) for x in at.split(":"))
        while True:
            now = timezone.localtime()
            due = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
            if due <= now:
                due += timedelta(days=1)
            self.stdout.write(f"Lần sao lưu tới: {due:%d/%m/%Y %H:%M}")
            while timezone.localtime() < due:
                HEARTBEAT.touch()
                time.sleep(min(60.0, max(1.0, (due - timezone.localtime()).total_seconds())))
            try:
                self._once(dir, keep)
            except (BackupError, CommandError, OSError) as exc:
                self.stderr.write(f"Sao lưu lỗi: {exc}")
            close_old_connections()

    def _once(self, directory, keep):
        started = time.monotonic()
        try:
            path = backup_create(directory=Path(directory) if directory else None, keep=keep)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        took = time.monotonic() - started
        self.stdout.write(f"Đã sao lưu vào {path} ({took:.1f} giây).")
