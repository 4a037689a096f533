from django.core.management.base import BaseCommand, CommandError

from accounting.selectors import checkpoints_verify


class Command(BaseCommand):
    help = "Đối chiếu mọi số dư chốt với tổng định khoản thực tế; báo các chênh lệch."

    def handle(self, *args, **options):
        r = checkpoints_verify()
        for d in r.differences:
            self.stderr.write(d.describe())
        if not r.ok:
            raise CommandError(
                f"{len(r.differences)} số dư chốt sai lệch so với tổng định khoản "
                f"({r.checkpoints_checked} số dư chốt, {r.closes} kỳ khóa sổ).",
                returncode=2,
            )
        self.stdout.write(
            f"Số dư chốt khớp với tổng định khoản: {r.checkpoints_checked} số dư chốt, "
            f"{r.closes} kỳ khóa sổ."
        )
