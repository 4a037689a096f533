from django.core.management.base import BaseCommand, CommandError

from accounting.selectors import ledger_verify
from accounting.services import ledger_seal


class Command(BaseCommand):
    help = "Niêm phong các bút toán mới rồi kiểm tra chuỗi băm của sổ cái."

    def add_arguments(self, parser):
        parser.add_argument("--no-seal", action="store_true", help="chỉ kiểm tra, không niêm phong")

    def handle(self, *args, no_seal, **options):
        sealed = 0 if no_seal else ledger_seal()
        r = ledger_verify()
        self.stdout.write(f"Đã niêm phong thêm: {sealed} bút toán")
        if not r.ok:
            # Exit status 2, message on stderr: the first broken link, with its entry.
            raise CommandError(
                f"CHUỖI BỊ PHÁ VỠ tại mắt xích #{r.first_broken_seq} "
                f"(bút toán #{r.first_broken_entry_id}): {r.problem}",
                returncode=2,
            )
        self.stdout.write(
            f"Chuỗi niêm phong toàn vẹn: {r.links_checked} mắt xích, đầu chuỗi #{r.head_seq} "
            f"{r.head_hash[:16]}…; chưa niêm phong: {r.unsealed_entries}"
        )
