from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounting.selectors import ledger_signed_head, ledger_verify, published_heads_check
from accounting.services import ledger_seal


class Command(BaseCommand):
    help = (
        "Niêm phong các bút toán mới rồi kiểm tra chuỗi băm của sổ cái và các đầu chuỗi đã ký; "
        "với --published, kiểm tra từng đầu chuỗi kiểm toán viên đã giữ."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-seal", action="store_true", help="chỉ kiểm tra, không niêm phong")
        parser.add_argument(
            "--published",
            metavar="TỆP",
            help="tệp các đầu chuỗi đã công bố (mỗi dòng 'trovon-head …'), phải còn trong chuỗi",
        )

    def handle(self, *args, no_seal, published, **options):
        failures = []
        if published:
            path = Path(published)
            if not path.is_file():
                raise CommandError(f"Không đọc được tệp đầu chuỗi: {published}")
            results = published_heads_check(path.read_text(encoding="utf-8"))
            if not results:
                raise CommandError(f"Tệp {published} không có dòng đầu chuỗi 'trovon-head' nào.")
            for r in results:
                mark = "khớp" if r.ok else f"KHÔNG KHỚP: {r.problem}"
                self.stdout.write(f"Đầu chuỗi {r.head.chain} #{r.head.seq}: {mark}")
                if not r.ok:
                    failures.append(f"đầu chuỗi {r.head.chain} #{r.head.seq}: {r.problem}")
        sealed = 0 if no_seal else ledger_seal()
        r = ledger_verify()
        self.stdout.write(f"Đã niêm phong thêm: {sealed} bút toán")
        if not r.ok:
            where = (
                f" tại mắt xích #{r.first_broken_seq} (bút toán #{r.first_broken_entry_id})"
                if r.first_broken_seq
                else ""
            )
            failures.insert(0, f"CHUỖI BỊ PHÁ VỠ{where}: {r.problem}")
        if failures:
            # Exit status 2, message on stderr: the first broken link, with its entry.
            raise CommandError("\n".join(failures), returncode=2)
        self.stdout.write(
            f"Chuỗi niêm phong toàn vẹn: {r.links_checked} mắt xích, đầu chuỗi #{r.head_seq} "
            f"{r.head_hash[:16]}…; chưa niêm phong: {r.unsealed_entries}"
        )
        head = ledger_signed_head()
        if head is not None:
            self.stdout.write(f"Đầu chuỗi đã ký:\n{head.line()}")
