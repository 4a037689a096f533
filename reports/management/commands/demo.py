"""`make demo`: start over on the embedded database and run the demo fund.

Until the loan issues land it loads the chart of accounts, posts capital contributions from
three sources, seals the ledger and prints the trial balance and chain verification.
"""

from datetime import date
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from accounting.services import credit, debit, journal_entry_post


class Command(BaseCommand):
    help = "Chạy dữ liệu mẫu trên cơ sở dữ liệu nhúng (SQLite), bắt đầu lại từ đầu."

    def add_arguments(self, parser):
        parser.add_argument("--keep", action="store_true", help="không xóa cơ sở dữ liệu cũ")

    def handle(self, *args, keep, **options):
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
        self.stdout.write("2/3 Ghi nhận vốn góp từ ba nguồn…")
        today = date.today()
        for key, account, amount, memo in [
            ("demo-capital-city", "4111", 30_000_000_000, "Ngân sách thành phố cấp vốn"),
            ("demo-capital-union", "4112", 25_000_000_000, "LĐLĐ thành phố bổ sung vốn"),
            ("demo-capital-donor", "4113", 5_500_000_000, "Doanh nghiệp ủng hộ quỹ"),
        ]:
            journal_entry_post(
                effective_date=date(today.year, 1, 2),
                legs=[debit("1121", amount), credit(account, amount)],
                memo=memo,
                idempotency_key=key,
                document_type="capital_contribution",
                document_id=key,
            )
        self.stdout.write("3/3 Bảng cân đối và kiểm tra chuỗi niêm phong:\n")
        call_command("trial_balance", as_of=today)
        call_command("verify_ledger")
