"""Publish the outbox's pending tasks to the broker; with --loop, keep doing it (a service)."""

import time
from pathlib import Path

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from fund.outbox import outbox_relay


class Command(BaseCommand):
    help = "Gửi các tác vụ còn chờ trong outbox vào hàng đợi Celery (--loop: chạy liên tục)."

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Chạy liên tục.")
        parser.add_argument(
            "--interval", type=float, default=2.0, help="Số giây nghỉ giữa hai lượt (mặc định 2)."
        )
        parser.add_argument("--limit", type=int, default=500, help="Số tác vụ tối đa mỗi lượt.")
        parser.add_argument(
            "--heartbeat",
            help="Tệp được chạm vào sau mỗi lượt (kiểm tra sức khỏe của dịch vụ).",
        )

    def handle(self, *args, loop=False, interval=2.0, limit=500, heartbeat=None, **options):
        while True:
            if heartbeat:
                Path(heartbeat).touch()
            try:
                published = outbox_relay(limit=limit)
            except Exception as exc:  # noqa: BLE001 - the database may be restarting
                if not loop:
                    raise
                self.stderr.write(f"outbox_relay: {exc}")
                close_old_connections()
                published = 0
            if published or not loop:
                self.stdout.write(f"Đã gửi {published} tác vụ vào hàng đợi.")
            if not loop:
                return
            if published < limit:
                time.sleep(interval)
