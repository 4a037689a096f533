"""Close a year of every fund (or one): ``manage.py close_year --year 2025 [--fund HN]``."""

from django.core.management.base import BaseCommand, CommandError

from accounting.errors import ApplicationError
from accounting.formatting import format_vnd
from fund.closing import year_close
from fund.models import Fund


class Command(BaseCommand):
    help = (
        "Khóa sổ cuối năm: kết chuyển thu nhập, chi phí sang 911 rồi 4212, chuyển chênh lệch "
        "sang 4211 ngày 01/01 năm sau (mỗi quỹ một bút toán; chạy lại không ghi gì thêm)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True, help="Năm khóa sổ, ví dụ 2025.")
        parser.add_argument("--fund", default=None, help="Mã quỹ (mặc định: mọi quỹ).")

    def handle(self, *args, year, fund=None, **options):
        funds = Fund.objects.order_by("code")
        if fund is not None:
            funds = funds.filter(code=fund)
            if not funds.exists():
                raise CommandError(f"Không có quỹ mã {fund}.")
        for f in funds:
            try:
                closed = year_close(
                    fund=f, year=year, idempotency_key=f"command:close_year:{f.pk}:{year}"
                )
            except ApplicationError as e:
                raise CommandError(f"{f.code}: {e.message}") from None
            entry = closed.closing_entry_id or "—"
            self.stdout.write(
                f"{f.code}: đã khóa sổ năm {year}; chênh lệch thu chi "
                f"{format_vnd(closed.surplus)} (bút toán kết chuyển #{entry})."
            )
