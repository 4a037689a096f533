"""`make demo`: start over on the embedded database and run a quarter of the demo fund.

Loads the chart of accounts and a demo federation modelled on Hanoi's (unions, officers, capital
from three sources, the plans), runs the first quarter of last year and of this year day by day
(``demo.quarter``: applications, approvals, disbursements, follow-up visits,
repayments), then prints the quarter's headline, the trial balance, the chain verification, the
loan book's reconciliation with the ledger, where the report's files are, and how to log in.
"""

import hashlib
import shutil
import sys
import threading
import time
from datetime import date
from pathlib import Path

import django
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from django.db.backends.signals import connection_created
from django.test.utils import override_settings

from accounting.dates import business_today
from accounting.formatting import format_date_vi, format_vnd
from demo.documents import demo_documents_attach
from demo.fund import demo_federation_load
from demo.quarter import demo_headline, demo_quarter_run, demo_year
from loans.models import BankStatementLine, CloseOfBusinessRun, Loan, ReminderDelivery
from loans.servicing.reconciliation import loan_book_reconcile
from loans.servicing.remittances import remittances_open
from loans.servicing.selectors import business_date

BAR_WIDTH = 30
DEMO_OUT = Path(settings.BASE_DIR) / "var" / "demo"
DEMO_SCHEMA_DIR = Path(settings.BASE_DIR) / "var"
ROLES = [
    ("quy", "cán bộ quỹ (duyệt hồ sơ, báo cáo toàn quỹ)"),
    ("ketoan", "cán bộ quỹ thứ hai — kế toán (giải ngân, xác nhận nghiệp vụ vốn trên ngưỡng)"),
    ("capten", "cán bộ LĐLĐ quận Long Biên (thẩm định hồ sơ của các CĐCS trong quận)"),
    ("cdcs", "cán bộ công đoàn cơ sở (lập hồ sơ, thu nợ)"),
    ("kiemtoan", "kiểm toán viên (chỉ xem)"),
]


class ProgressBar:
    """A one-line text bar, redrawn in place: `[#####-----]  52% 15/03/2025`."""

    def __init__(self, stream, label: str):
        self.stream, self.label, self.started = stream, label, time.monotonic()
        self.last = -1

    def __call__(self, done: int, total: int, day: date) -> None:
        filled = BAR_WIDTH * done // total
        if filled == self.last and done != total:
            return
        self.last = filled
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        self.stream.write(
            f"\r    {self.label} [{bar}] {100 * done // total:3d}% {format_date_vi(day)}"
            f" {time.monotonic() - self.started:5.1f} s"
        )
        if done == total:
            self.stream.write("\n")
        self.stream.flush()


def _migrations_key() -> str:
    """A digest of Django's version and every installed app's migration files."""
    digest = hashlib.sha256(django.get_version().encode())
    for app in apps.get_app_configs():
        folder = Path(app.path) / "migrations"
        for path in sorted(folder.glob("*.py")) if folder.is_dir() else ():
            digest.update(f"{app.label}/{path.name}".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _sqlite_for_bulk_work(sender, connection, **kwargs) -> None:
    """The demo's database is thrown away and rebuilt on every run: no fsync per commit (a
    crash loses the run, which the next `make demo` starts over anyway), and a write-ahead log
    so that each day's commit appends instead of rewriting the rollback journal."""
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=OFF")


def _remove_in_background(path: Path) -> threading.Thread:
    """Move `path` aside at once (the run writes a fresh one) and delete the old tree in a
    thread while the demo runs: a full run leaves some 5,000 message files, whose deletion
    otherwise holds up the start by several seconds."""
    trash = path.with_name(f"{path.name}.old-{time.time_ns()}")
    try:
        path.rename(trash)
    except FileNotFoundError:
        pass
    leftovers = [trash, *path.parent.glob(f"{path.name}.old-*")]
    thread = threading.Thread(
        target=lambda: [shutil.rmtree(p, ignore_errors=True) for p in dict.fromkeys(leftovers)],
        name="demo-cleanup",
        daemon=True,
    )
    thread.start()
    return thread


class Command(BaseCommand):
    help = "Chạy dữ liệu mẫu trên cơ sở dữ liệu nhúng (SQLite), bắt đầu lại từ đầu."

    def add_arguments(self, parser):
        parser.add_argument("--keep", action="store_true", help="không xóa cơ sở dữ liệu cũ")
        parser.add_argument("--size", choices=["full", "small"], default="full")

    def handle(self, *args, keep, size, **options):
        self.verbosity = options.get("verbosity", 1)
        db = settings.DATABASES["default"]
        started = time.monotonic()
        if not keep:
            if db["ENGINE"] != "django.db.backends.sqlite3":
                raise CommandError(
                    "make demo chỉ chạy trên SQLite nhúng (bỏ DATABASE_URL), để không xóa dữ liệu "
                    "thật."
                )
            connections["default"].close()
            for suffix in ("", "-journal", "-wal", "-shm"):
                Path(f"{db['NAME']}{suffix}").unlink(missing_ok=True)
            cleanup = _remove_in_background(DEMO_OUT)  # the last run's texts and mails
        connection_created.connect(_sqlite_for_bulk_work)
        try:
            self._run(keep=keep, size=size, started=started)
        finally:
            connection_created.disconnect(_sqlite_for_bulk_work)
            if not keep:
                cleanup.join()

    def _migrate(self, *, keep: bool) -> None:
        """Create the schema. Migrating an empty database renders Django's model states for
        every operation (about 12 s of CPU); the result depends only on the migration files,
        so the first run keeps a copy of the freshly migrated database under a key of those
        files and later runs start from it. ``migrate`` runs anyway: on the copy it has
        nothing to do but the post-migrate checks."""
        name = settings.DATABASES["default"]["NAME"]
        template = None
        if not keep:
            template = DEMO_SCHEMA_DIR / f"demo-schema-{_migrations_key()}.sqlite3"
            if template.exists():
                shutil.copyfile(template, name)
        call_command("migrate", verbosity=0)
        if template is not None and not template.exists():
            for old in DEMO_SCHEMA_DIR.glob("demo-schema-*.sqlite3"):
                old.unlink(missing_ok=True)
            partial = template.with_suffix(".partial")
            partial.unlink(missing_ok=True)
            with connections["default"].cursor() as cursor:
                cursor.execute("VACUUM INTO %s", [str(partial)])
            partial.replace(template)

    def _cpu(self, what: str, since: float) -> None:
        if self.verbosity >= 2:
            self.stdout.write(f"    Thời gian CPU {what}: {time.process_time() - since:.1f} giây")

    def _run(self, *, keep, size, started):
        out = self.stdout
        out.write("1/4 Tạo cơ sở dữ liệu và hệ thống tài khoản…")
        clock = time.process_time()
        self._migrate(keep=keep)
        self._cpu("migrate", clock)
        year = demo_year(business_today())
        out.write("2/4 Nạp liên đoàn mẫu: công đoàn, cán bộ, vốn ba nguồn, kế hoạch năm…")
        clock = time.process_time()
        fund = demo_federation_load(year=year, size=size)
        self._cpu("load", clock)
        out.write(
            f"    {fund.name}: {fund.superior_unions.count()} công đoàn cấp trên, "
            f"{fund.grassroots_unions.count()} công đoàn cơ sở"
        )
        out.write(
            f"3/4 Chạy từng ngày làm việc quý I/{year - 1} đến hết quý I/{year}: hồ sơ vay, "
            "thẩm định, phê duyệt, giải ngân, kiểm tra sau vay, thu nợ…"
        )
        if Loan.objects.filter(fund=fund).exists():
            # --keep on a database where the demo already ran: report on what is there.
            out.write("    Đã chạy trước đó: giữ nguyên sổ cho vay.")
            headline, end, report = demo_headline(fund=fund, year=year), date(year, 3, 31), None
        else:
            stream = getattr(self.stderr, "_out", sys.stderr)
            # No query log in memory for the thousands of service calls (DEBUG keeps them all).
            # Reminders and reports are mailed and texted for real, into files one can read.
            with override_settings(
                DEBUG=False,
                EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
                EMAIL_FILE_PATH=str(DEMO_OUT / "mail"),
                SMS_BACKEND="loans.reminders.channels.FileSmsBackend",
                SMS_FILE_PATH=str(DEMO_OUT / "sms"),
            ):
                run = demo_quarter_run(
                    fund=fund, year=year, size=size, progress=ProgressBar(stream, "ngày")
                )
            counts = run.plan.counts
            out.write(
                f"    {run.days} ngày làm việc: {counts['loans']} khoản vay giải ngân, "
                f"{counts['repayments']} lượt trả nợ ({counts['remittances']} lần CĐCS nộp "
                f"tiền, {counts['remittances_confirmed']} lần đã đối chiếu sao kê ngân hàng)."
            )
            pending = remittances_open(fund_id=fund.pk)
            out.write(
                f"    Tiền đang chuyển (TK 1131): {pending.count()} đợt nộp chưa thấy trên sao kê; "
                f"{BankStatementLine.objects.filter(fund=fund, batch__isnull=True).count()} "
                "giao dịch ngân hàng chưa đối chiếu."
            )
            if self.verbosity >= 2:
                out.write(
                    "    Thời gian CPU (giây): "
                    + ", ".join(f"{name} {sec:.1f}" for name, sec in run.cpu_seconds.items())
                )
            headline, end, report = run.headline, run.plan.end, run.report
            attached = demo_documents_attach(fund=fund)
            out.write(
                f"    Tài liệu mẫu: {attached} tệp (CCCD, giấy chứng nhận hộ, hợp đồng, ảnh kiểm "
                "tra) của các thành viên CĐCS mẫu; sản phẩm vay yêu cầu CCCD và giấy chứng nhận "
                "trước thẩm định."
            )
            cob = CloseOfBusinessRun.objects.filter(fund=fund, status="done")
            sent = ReminderDelivery.objects.filter(fund=fund)
            out.write(
                f"    Khóa sổ cuối ngày: {cob.count()} ngày; nhắc nợ: {sent.count()} lượt "
                f"({sent.filter(status='sent').count()} đã gửi, "
                f"{sent.filter(kind='digest').count()} bản tổng hợp cho cán bộ CĐCS) — "
                f"tin nhắn trong {DEMO_OUT / 'sms'}, thư trong {DEMO_OUT / 'mail'}."
            )
            as_of = business_date(fund_id=fund.pk)
            out.write(
                f"    Số liệu đến ngày {format_date_vi(as_of)} (ngày nghiệp vụ: lần khóa sổ cuối "
                "ngày gần nhất); `make run` chạy bù khóa sổ đến hôm qua."
            )
        out.write("4/4 Kết quả:\n")
        out.write(self.style.SUCCESS(headline.text))
        out.write(
            f"    {headline.loans} khoản vay; việc làm theo dự án vay {headline.jobs_created}, "
            f"đã xác nhận khi kiểm tra sau vay {headline.jobs_confirmed}; cùng kỳ năm trước "
            f"giải ngân {format_vnd(headline.previous_amount)}."
        )
        out.write("")
        call_command("trial_balance", as_of=end, stdout=out)
        call_command("verify_ledger", stdout=out)
        book = loan_book_reconcile(fund=fund, as_of=end)
        if book.ok:
            out.write(
                f"Sổ cho vay khớp sổ cái: {book.loans_checked} khoản vay, dư nợ "
                f"{format_vnd(book.book_total)} = số dư TK 1283."
            )
        else:
            out.write(self.style.ERROR("Sổ cho vay KHÔNG khớp sổ cái:"))
            for line in book.lines():
                out.write("    " + line)
        if report is not None:
            out.write("\nBáo cáo quý:")
            for f in _report_files(report):
                out.write(f"    {f}")
        out.write(f"\nHoàn thành trong {time.monotonic() - started:.0f} giây.")
        out.write(
            "\nChạy ứng dụng web: make run, rồi mở http://127.0.0.1:8000/ và đăng nhập "
            "(mật khẩu trovon-demo) bằng một trong các tài khoản mẫu:"
        )
        for username, role in ROLES:
            out.write(f"    {username:<9} {role}")
        out.write(
            "    (và cán bộ của từng công đoàn khác: capten_<mã công đoàn>, cdcs_<mã công đoàn>)"
        )
        out.write(
            "Xác thực hai bước (bắt buộc với cán bộ quỹ 'quy' và kiểm soát viên 'kiemtoan'): lần "
            "đăng nhập đầu, trang cài đặt hiện khóa TOTP; thêm khóa vào ứng dụng xác thực "
            "(Google/Microsoft Authenticator) rồi nhập mã 6 số, và cất các mã khôi phục được "
            "hiện một lần. Các lần sau: mật khẩu, rồi mã 6 số (hoặc một mã khôi phục)."
        )


def _report_files(report) -> list[str]:
    """The paths of the report's stored files (whatever file fields it has)."""
    paths = []
    for name in ("pdf", "xlsx", "pdf_file", "xlsx_file"):
        f = getattr(report, name, None)
        if f:
            paths.append(getattr(f, "path", None) or str(f))
    return paths
