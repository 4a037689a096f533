"""`make demo`: start over on the embedded database and run the demo fund.

Until the servicing and reporting issues land it loads the chart of accounts and a demo
federation modelled on Hanoi's (unions, officers, capital from three sources, this year's plan),
seals the ledger and prints the trial balance and the chain verification.
"""

from datetime import date
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from fund.demo import demo_federation_load


class Command(BaseCommand):
    help = "Chạy dữ liệu mẫu trên cơ sở dữ liệu nhúng (SQLite), bắt đầu lại từ đầu."

    def add_arguments(self, parser):
        parser.add_argument("--keep", action="store_true", help="không xóa cơ sở dữ liệu cũ")
        parser.add_argument("--size", choices=["full", "small"], default="full")

    def handle(self, *args, keep, size, **options):
        db = settings.DATABASES["default"]
        if not keep:
            if db["ENGINE"] != "django.db.backends.sqlite3":
                raise CommandError(
                    "make demo chỉ chạy trên SQLite nhúng (bỏ DATABASE_URL), để không xóa dữ liệu "
                    "thật."
                )
            connections["default"].close()
            Path(db["NAME"]).unlink(missing_ok=True)
        self.stdout.write("1/3 Tạo cơ sở dữ liệu và hệ thống tài khoản…")
        call_command("migrate", verbosity=0)
        self.stdout.write("2/3 Nạp liên đoàn mẫu: công đoàn, cán bộ, vốn ba nguồn, kế hoạch năm…")
        today = date.today()
        fund = demo_federation_load(year=today.year, size=size)
        self.stdout.write(
            f"    {fund.name}: {fund.superior_unions.count()} công đoàn cấp trên, "
            f"{fund.grassroots_unions.count()} công đoàn cơ sở"
        )
        self.stdout.write("3/3 Bảng cân đối và kiểm tra chuỗi niêm phong:\n")
        call_command("trial_balance", as_of=today, stdout=self.stdout)
        call_command("verify_ledger", stdout=self.stdout)
        self.stdout.write(
            "\nChạy ứng dụng web: make run, rồi mở http://127.0.0.1:8000/admin/ và đăng nhập bằng "
            "tài khoản mẫu quy (cán bộ quỹ), capten (công đoàn cấp trên), cdcs (công đoàn cơ sở) "
            "hoặc kiemtoan (kiểm toán), mật khẩu trovon-demo."
        )
