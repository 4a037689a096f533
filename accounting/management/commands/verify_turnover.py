from django.core.management.base import BaseCommand, CommandError

from accounting.selectors import turnover_verify
from accounting.services import ledger_turnover_compact


class Command(BaseCommand):
    help = (
        "Đối chiếu phát sinh theo ngày (AccountTurnover) với tổng định khoản thực tế; "
        "--compact gộp trước các dòng mới ghi."
    )

    def add_arguments(self, parser):
        parser.add_argument("--compact", action="store_true", help="Gộp các dòng mới trước.")

    def handle(self, *args, **options):
        if options["compact"]:
            merged = ledger_turnover_compact()
            self.stdout.write(f"Đã gộp {merged} dòng phát sinh.")
        r = turnover_verify()
        for d in r.differences:
            self.stderr.write(d.describe())
        if not r.ok:
            raise CommandError(
                f"{len(r.differences)} dòng phát sinh theo ngày sai lệch so với tổng định khoản "
                f"({r.keys_checked} tài khoản × ngày).",
                returncode=2,
            )
        self.stdout.write(
            f"Phát sinh theo ngày khớp với tổng định khoản: {r.keys_checked} tài khoản × ngày."
        )
