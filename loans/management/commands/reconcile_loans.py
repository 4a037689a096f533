from datetime import date

from django.core.management.base import BaseCommand, CommandError

from accounting.dates import business_today
from accounting.formatting import format_vnd
from fund.models import Fund
from loans.servicing.reconciliation import loan_book_reconcile


class Command(BaseCommand):
    help = (
        "Đối chiếu sổ cho vay với sổ cái: dư nợ gốc từng khoản vay = số dư TK 1283 sổ chi tiết "
        "loan:<id>, tổng các khoản vay = TK 1283 của quỹ. In chênh lệch; thoát mã 1 khi có."
    )

    def add_arguments(self, parser):
        parser.add_argument("--fund", help="mã quỹ (mặc định: mọi quỹ)")
        parser.add_argument(
            "--as-of", type=date.fromisoformat, help="ngày đối chiếu YYYY-MM-DD (mặc định: hôm nay)"
        )

    def handle(self, *args, fund=None, as_of=None, **options):
        as_of = as_of or business_today()
        funds = Fund.objects.order_by("code")
        if fund:
            funds = funds.filter(code=fund)
            if not funds.exists():
                raise CommandError(f"Không có quỹ mã {fund}.")
        failed = []
        for f in funds:
            r = loan_book_reconcile(fund=f, as_of=as_of)
            self.stdout.write(
                f"{f.code} ngày {as_of:%d/%m/%Y}: {r.loans_checked} khoản vay, dư nợ sổ cho vay "
                f"{format_vnd(r.book_total)}, TK 1283 {format_vnd(r.control_total)} — "
                + ("khớp." if r.ok else "CÓ CHÊNH LỆCH:")
            )
            for line in r.lines():
                self.stdout.write(f"  {line}")
            if not r.ok:
                failed.append(f.code)
        if failed:
            raise CommandError(
                f"Sổ cho vay và sổ cái không khớp: quỹ {', '.join(failed)}.", returncode=1
            )
