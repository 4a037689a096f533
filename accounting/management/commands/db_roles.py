import os

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from accounting.roles import app_role, owner_role, roles_create


class Command(BaseCommand):
    help = (
        "Tạo (hoặc cập nhật) hai vai trò PostgreSQL: trovon_owner sở hữu lược đồ và chạy migrate, "
        "trovon_app là ứng dụng (chỉ thêm và đọc sổ cái). Chạy một lần với tài khoản superuser "
        "(DATABASE_URL của superuser); mật khẩu lấy từ TROVON_DB_OWNER_PASSWORD và "
        "TROVON_DB_APP_PASSWORD."
    )

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError(
                "db_roles chỉ dùng với PostgreSQL (DATABASE_URL chưa trỏ tới PostgreSQL)."
            )
        passwords = {}
        for name in ("TROVON_DB_OWNER_PASSWORD", "TROVON_DB_APP_PASSWORD"):
            passwords[name] = os.environ.get(name, "")
            if not passwords[name]:
                raise CommandError(f"Thiếu biến môi trường {name} (mật khẩu của vai trò).")
        with connection.cursor() as cur:
            cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            if not cur.fetchone()[0]:
                raise CommandError("db_roles phải chạy với vai trò superuser của PostgreSQL.")
        for sql in roles_create(
            owner_password=passwords["TROVON_DB_OWNER_PASSWORD"],
            app_password=passwords["TROVON_DB_APP_PASSWORD"],
        ):
            self.stdout.write(sql)
        self.stdout.write(
            self.style.SUCCESS(
                f"Vai trò {owner_role()} (migrate) và {app_role()} (ứng dụng) đã sẵn sàng."
            )
        )
