"""Record and send the day's reminders here and now — the same result as the beat's job."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from accounting.dates import business_today
from fund.models import Fund
from loans.reminders.planning import reminders_run


class Command(BaseCommand):
    help = (
        "Lập và gửi tin nhắc nợ của một ngày nghiệp vụ (mặc định: hôm nay), cho một hoặc mọi quỹ."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", help="Ngày nghiệp vụ, dạng YYYY-MM-DD hoặc dd/mm/yyyy.")
        parser.add_argument("--fund", help="Mã quỹ (mặc định: mọi quỹ).")

    def handle(self, *args, date=None, fund=None, **options):
        business_date = _parse(date) if date else business_today()
        funds = Fund.objects.order_by("pk")
        if fund:
            funds = funds.filter(code=fund)
            if not funds.exists():
                raise CommandError(f"Không có quỹ mã {fund}.")
        for f in funds:
            run = reminders_run(fund_id=f.pk, business_date=business_date)
            s = run.send
            self.stdout.write(
                f"{f.code} {business_date:%d/%m/%Y}: lập {run.prepared} tin nhắc, "
                f"{run.digests} bản tổng hợp; đã gửi {s.sent}, bỏ qua {s.skipped}, "
                f"chờ gửi lại {s.retry}, không thành công {s.failed}."
            )


def _parse(text: str) -> dt.date:
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise CommandError(f"Ngày không hợp lệ: {text} (dùng YYYY-MM-DD hoặc dd/mm/yyyy).")
