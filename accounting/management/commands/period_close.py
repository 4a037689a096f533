from datetime import date

from django.core.management.base import BaseCommand, CommandError

from accounting.errors import LedgerError
from accounting.models import AccountCheckpoint
from accounting.services import period_close


class Command(BaseCommand):
    help = "Khóa sổ đến hết một ngày: không ghi sổ vào ngày đó và trước đó; chốt số dư."

    def add_arguments(self, parser):
        parser.add_argument(
            "--through", type=date.fromisoformat, required=True, help="YYYY-MM-DD, ngày cuối kỳ"
        )
        parser.add_argument("--note", default="", help="ghi chú")

    def handle(self, *args, through, note, **options):
        try:
            pc = period_close(through=through, note=note)
        except LedgerError as e:
            raise CommandError(e.message) from None
        n = AccountCheckpoint.objects.filter(as_of=pc.closed_through).count()
        self.stdout.write(
            f"Đã khóa sổ đến hết ngày {pc.closed_through:%d/%m/%Y}; {n} số dư chốt đã ghi."
        )
