"""`manage.py verify_all [--json]`: every verifier of the books (chain, turnover, checkpoints,
each fund's loan book); exit status 1 when any fails."""

import json

from django.core.management.base import BaseCommand, CommandError

from operations.verification import books_verify


class Command(BaseCommand):
    help = "Chạy mọi phép kiểm tra sổ sách: chuỗi niêm phong, phát sinh, điểm chốt, sổ cho vay."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="kết quả dạng JSON (một dòng)")

    def handle(self, *args, json=False, **options):
        result = books_verify()
        if json:
            self.stdout.write(_dumps(result.as_dict()))
        else:
            for check in result.checks:
                mark = "ĐÚNG" if check.ok else "SAI "
                self.stdout.write(f"[{mark}] {check.name}: {check.detail}")
        if not result.ok:
            raise CommandError("Có phép kiểm tra không đạt.", returncode=1)


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False)
