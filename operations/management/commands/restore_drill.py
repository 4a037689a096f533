"""`manage.py restore_drill [--backup DIR] [--keep-database]`: restore the newest backup into a
scratch database and run every verifier of the books there; print the result; exit 1 if any
check fails. Never touches the live database."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from operations.backups import BackupError, restore_drill


class Command(BaseCommand):
    help = "Diễn tập khôi phục: khôi phục bản sao lưu mới nhất vào CSDL tạm và kiểm tra sổ sách."

    def add_arguments(self, parser):
        parser.add_argument("--backup", help="thư mục của một bản sao lưu (mặc định: mới nhất)")
        parser.add_argument("--dir", help="thư mục sao lưu (mặc định: BACKUP_DIR)")
        parser.add_argument("--scratch", help="tên CSDL tạm (mặc định: <tên>_restore_drill)")
        parser.add_argument(
            "--keep-database", action="store_true", help="giữ CSDL tạm sau khi kiểm tra"
        )
        parser.add_argument("--json", action="store_true", help="kết quả dạng JSON")

    def handle(self, *args, backup=None, dir=None, scratch=None, keep_database=False, **options):
        try:
            result = restore_drill(
                backup=Path(backup) if backup else None,
                directory=Path(dir) if dir else None,
                scratch_name=scratch,
                keep_database=keep_database,
            )
        except BackupError as exc:
            raise CommandError(f"Diễn tập khôi phục thất bại: {exc}") from exc
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "ok": result.ok,
                        "backup": str(result.backup),
                        "database": result.database,
                        "media_files": result.media_files,
                        "verification": result.verification,
                    },
                    ensure_ascii=False,
                )
            )
        else:
            self.stdout.write(f"Bản sao lưu: {result.backup}")
            self.stdout.write(f"Khôi phục vào: {result.database}")
            self.stdout.write(f"Tệp đã lưu trong bản sao lưu: {result.media_files}")
            for check in result.verification["checks"]:
                mark = "ĐÚNG" if check["ok"] else "SAI "
                self.stdout.write(f"[{mark}] {check['name']}: {check['detail']}")
            self.stdout.write("KẾT QUẢ: " + ("ĐẠT" if result.ok else "KHÔNG ĐẠT"))
        if not result.ok:
            raise CommandError("Diễn tập khôi phục: có phép kiểm tra không đạt.", returncode=1)
