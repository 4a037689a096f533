"""`manage.py quarterly_report --year 2024 --quarter 1 [--fund HN] [--superior-union LB] [--all]
[--queue]`

With --queue the reports are queued for the workers through the outbox (the fund's, then every
superior union's), as the scheduled run does, instead of being made in this process.

Generates, stores and e-mails the quarterly report(s) through the same service as the Celery
tasks, and prints each headline and the paths of its PDF and XLSX.
"""

from django.core.management.base import BaseCommand, CommandError

from accounting.errors import ApplicationError
from fund.models import Fund, SuperiorUnion
from reports.services import (
    quarterly_report_generate,
    quarterly_report_generate_and_email,
    quarterly_reports_queue,
)


class Command(BaseCommand):
    help = "Lập (và gửi thư) báo cáo kết quả cho vay, thực hiện kế hoạch theo quý."

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True, help="năm")
        parser.add_argument("--quarter", type=int, required=True, choices=[1, 2, 3, 4])
        parser.add_argument("--fund", help="mã quỹ (bỏ trống: mọi quỹ, như lịch chạy tự động)")
        parser.add_argument("--superior-union", help="mã công đoàn cấp trên (chỉ báo cáo đó)")
        parser.add_argument(
            "--all", action="store_true", help="báo cáo toàn quỹ và của mọi công đoàn cấp trên"
        )
        parser.add_argument("--no-email", action="store_true", help="không gửi thư")
        parser.add_argument(
            "--queue",
            action="store_true",
            help="giao cho tiến trình nền (qua outbox) thay vì lập ngay: toàn quỹ rồi mọi "
            "công đoàn cấp trên",
        )

    def handle(self, *args, year, quarter, fund, superior_union, all, no_email, queue, **options):
        funds = Fund.objects.order_by("code")
        if fund is not None:
            funds = funds.filter(code=fund)
            if not funds.exists():
                raise CommandError(f"Không tìm thấy quỹ mã {fund}.")
        if queue:
            n = quarterly_reports_queue(
                year=year, quarter=quarter, fund_ids=list(funds.values_list("pk", flat=True))
            )
            self.stdout.write(f"Đã giao lập báo cáo quý {quarter}/{year} của {n} quỹ.")
            return
        # (fund id, superior union id or None), in the order the tasks run them.
        units: list[tuple[int, int | None]] = []
        if superior_union:
            sus = list(SuperiorUnion.objects.filter(fund__in=funds, code=superior_union))
            if not sus:
                raise CommandError(f"Không tìm thấy công đoàn cấp trên mã {superior_union}.")
            if len(sus) > 1:
                raise CommandError(
                    f"Nhiều quỹ có công đoàn cấp trên mã {superior_union}: chọn quỹ bằng --fund."
                )
            units = [(sus[0].fund_id, sus[0].pk)]
        else:
            for f in funds:
                units.append((f.pk, None))
                if all:
                    units += [
                        (f.pk, su)
                        for su in SuperiorUnion.objects.filter(fund=f)
                        .order_by("code")
                        .values_list("pk", flat=True)
                    ]
        make = quarterly_report_generate if no_email else quarterly_report_generate_and_email
        for fund_id, su_id in units:
            try:
                report = make(fund_id=fund_id, year=year, quarter=quarter, superior_union_id=su_id)
            except ApplicationError as e:
                raise CommandError(str(e)) from e
            self.stdout.write(report.headline)
            self.stdout.write(f"  PDF:  {report.pdf.path}")
            self.stdout.write(f"  XLSX: {report.xlsx.path}")
            if report.emailed_to:
                self.stdout.write(f"  Đã gửi tới: {', '.join(report.emailed_to)}")
