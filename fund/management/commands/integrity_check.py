from django.core.management.base import BaseCommand, CommandError

from fund.integrity import integrity_check_run


class Command(BaseCommand):
    help = (
        "Niêm phong rồi chạy mọi phép kiểm tra toàn vẹn sổ sách (chuỗi sổ cái và đầu chuỗi đã "
        "ký, phát sinh theo ngày, số dư chốt, chuỗi nhật ký thay đổi), lưu kết quả; sai lệch "
        "được gửi thư ngay cho cán bộ quỹ và kiểm toán viên."
    )

    def handle(self, *args, **options):
        check = integrity_check_run()
        for r in check.results:
            mark = "khớp" if r["ok"] else f"KHÔNG KHỚP: {r['problem']}"
            self.stdout.write(f"{r['check']}: {r['checked']} đã kiểm — {mark}")
        if not check.ok:
            raise CommandError("Sổ sách KHÔNG toàn vẹn (đã báo tin).", returncode=2)
        self.stdout.write(f"Sổ sách toàn vẹn ({check.seconds} giây).")
