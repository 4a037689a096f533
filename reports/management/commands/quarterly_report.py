"""`manage.py quarterly_report --year 2024 --quarter 1 [--fund HN] [--superior-union LB] [--all]`

Generates, stores and e-mails the quarterly report(s) through the same service as the Celery
tasks, and prints each headline and the paths of its PDF and XLSX.
"""

from django.core.management.base import BaseCommand, CommandError

from accounting.errors import ApplicationError
from fund.models import Fund, SuperiorUnion
from reports.services import quarterly_report_generate, quarterly_report_generate_and_email


class Command(BaseCommand):
    help = "Lập (và gửi thư) báo cáo kết quả cho vay, thực hiện kế hoạch theo quý."

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True, help="năm")
        parser.add_argument("--quarter", type=int, required=True, choices=[1, 2, 3, 4])
        parser.add_argument("--fund", help="mã quỹ (bỏ trống khi chỉ có một quỹ)")
        parser.add_argument("--superior-union", help="mã công đoàn cấp trên (chỉ báo cáo đó)")
        parser.add_argument(
            "--all", action="store_true", help="báo cáo toàn quỹ và của mọi công đoàn cấp trên"
        )
        parser.add_argument("--no-email", action="store_true", help="không gửi thư")

    def handle(self, *args, year, quarter, fund, superior_union, all, no_email, **options):
        funds = Fund.objects.all() if fund is None else Fund.objects.filter(code=fund)
        if funds.count() != 1:
            raise CommandError(
                "Không tìm thấy quỹ." if fund else "Có nhiều quỹ: chọn một bằng --fund MÃ."
            )
        the_fund = funds.get()
        units: list[int | None]
        if superior_union:
            su = SuperiorUnion.objects.filter(fund=the_fund, code=superior_union).first()
            if su is None:
                raise CommandError(f"Không tìm thấy công đoàn cấp trên mã {superior_union}.")
            units = [su.pk]
        else:
            units = [None]
            if all:
                units += list(
                    SuperiorUnion.objects.filter(fund=the_fund)
                    .order_by("code")
                    .values_list("pk", flat=True)
                )
        make = quarterly_report_generate if no_email else quarterly_report_generate_and_email
        for su_id in units:
            try:
                report = make(
                    fund_id=the_fund.pk, year=year, quarter=quarter, superior_union_id=su_id
                )
            except ApplicationError as e:
                raise CommandError(str(e)) from e
            self.stdout.write(report.headline)
            self.stdout.write(f"  PDF:  {report.pdf.path}")
            self.stdout.write(f"  XLSX: {report.xlsx.path}")
            if report.emailed_to:
                self.stdout.write(f"  Đã gửi tới: {', '.join(report.emailed_to)}")
