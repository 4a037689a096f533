from django.core.management.base import BaseCommand

from fund.integrity import chain_heads_email, chain_heads_text


class Command(BaseCommand):
    help = (
        "Gửi thư các đầu chuỗi đã ký (sổ cái, nhật ký thay đổi) cho cán bộ quỹ và kiểm toán viên."
    )

    def handle(self, *args, **options):
        to = chain_heads_email()
        self.stdout.write(chain_heads_text() or "Chưa có đầu chuỗi đã ký.")
        self.stdout.write(f"Đã gửi cho: {', '.join(to)}" if to else "Không gửi thư nào.")
