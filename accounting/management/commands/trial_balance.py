from datetime import date

from django.core.management.base import BaseCommand, CommandError

from accounting.dates import business_today
from accounting.formatting import format_vnd
from accounting.selectors import trial_balance


class Command(BaseCommand):
    help = "In bảng cân đối số phát sinh (trial balance) tại một ngày."

    def add_arguments(self, parser):
        parser.add_argument(
            "--as-of", type=date.fromisoformat, default=None, help="YYYY-MM-DD (mặc định: hôm nay)"
        )
        parser.add_argument("--fund", type=int, default=None, help="chỉ một quỹ (fund_id)")

    def handle(self, *args, as_of, fund, **options):
        as_of = as_of or business_today()
        tb = trial_balance(as_of=as_of, fund_id=fund)
        w = self.stdout.write
        w(f"BẢNG CÂN ĐỐI TÀI KHOẢN đến ngày {as_of:%d/%m/%Y}")
        w(f"{'Số hiệu':<8} {'Tên tài khoản':<46} {'Dư Nợ':>22} {'Dư Có':>22}")
        for r in tb.rows:
            if not r.balance and r.depth:
                continue
            name = ("  " * r.depth + r.account.name)[:46]
            d = format_vnd(r.debit) if r.debit else ""
            c = format_vnd(r.credit) if r.credit else ""
            w(f"{r.account.code:<8} {name:<46} {d:>22} {c:>22}")
        w(
            f"{'':<8} {'Tổng cộng (tài khoản chi tiết)':<46} "
            f"{format_vnd(tb.total_debit):>22} {format_vnd(tb.total_credit):>22}"
        )
        w("Cân đối: " + ("CÓ" if tb.balanced else "KHÔNG — sổ cái có lỗi"))
        if not tb.balanced:
            raise CommandError("Bảng cân đối không cân: sổ cái có lỗi.", returncode=1)
