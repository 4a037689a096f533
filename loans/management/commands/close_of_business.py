from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError

from accounting.dates import business_today
from accounting.errors import ApplicationError
from fund.models import Fund
from loans.servicing.close_of_business import close_of_business_catch_up, close_of_business_run


class Command(BaseCommand):
    help = (
        "Khóa sổ cuối ngày: đánh dấu kỳ quá hạn, tính số ngày quá hạn, nhóm nợ, lãi phạt và "
        "trích lập dự phòng cho một ngày nghiệp vụ (mặc định: hôm qua). Chạy mỗi ngày một lần; "
        "--catch-up chạy bù mọi ngày còn thiếu đến ngày đó theo thứ tự."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", type=date.fromisoformat, help="ngày nghiệp vụ YYYY-MM-DD")
        parser.add_argument("--fund", help="mã hoặc số hiệu quỹ (mặc định: mọi quỹ)")
        parser.add_argument(
            "--catch-up", action="store_true", help="chạy bù các ngày chưa khóa sổ, theo thứ tự"
        )

    def _funds(self, fund):
        funds = Fund.objects.order_by("code")
        if fund:
            funds = funds.filter(pk=int(fund)) if fund.isdigit() else funds.filter(code=fund)
            if not funds.exists():
                raise CommandError(f"Không có quỹ {fund}.")
        return list(funds)

    def handle(self, *args, date=None, fund=None, catch_up=False, **options):
        business_date = date or business_today() - timedelta(days=1)
        for f in self._funds(fund):
            try:
                if catch_up:
                    runs = close_of_business_catch_up(fund_id=f.pk, through_date=business_date)
                else:
                    runs = [close_of_business_run(fund_id=f.pk, business_date=business_date)]
            except ApplicationError as e:
                raise CommandError(f"{f.code}: {e.message}") from None
            if not runs:
                self.stdout.write(f"{f.code}: đã khóa sổ đến ngày {business_date:%d/%m/%Y}.")
            for run in runs:
                s = run.summary
                self.stdout.write(
                    f"{f.code} ngày {run.business_date:%d/%m/%Y}: {run.get_status_display()} — "
                    f"{s.get('loans_processed', 0)} khoản vay, "
                    f"{s.get('newly_overdue_installments', 0)} kỳ mới quá hạn, "
                    f"lãi phạt {s.get('penalty_accrued', 0)} đ, "
                    f"thay đổi dự phòng {s.get('provision_change', 0)} đ."
                )
