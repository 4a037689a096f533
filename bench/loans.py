"""Loans benchmark (`python bench/loans.py`); prints one JSON line at the end.

(a) schedules generated per second for each method (equal principal, annuity, flat): a typical
    loan of 20,000,000 đồng over 36 months at 6.6 %/year disbursed on the 31st, and a weekly one
    of 156 weeks with 2 weeks of principal grace — pure Python, no database;
(b) on PostgreSQL, through the services exactly as in production (roles, idempotency keys,
    audit log, ledger triggers): members imported per second (one CSV file), applications taken
    through the chain per second (create, submit, review, approve: four transactions each), and
    disbursements posted per second — one per transaction, each with its schedule, its ledger
    entry (Dr 1283 / Cr 1121, Cr 33881 for savings withheld) and its loan-book rows; then the same
    with 4 threads (disbursements of one fund serialise on its capital lock, by design); and the
    time to reconcile the whole loan book with the ledger.

The database named in BENCH_DATABASE_URL (default trovon_bench_loans) is dropped, created,
migrated with ``call_command("migrate")`` and dropped again at the end. Sizes: BENCH_LOANS
(default 600 disbursements one by one, and as many again in threads).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Production settings: DEBUG off (no query log in memory), so the services run as in production.
os.environ["DEBUG"] = "0"
os.environ.setdefault("SECRET_KEY", "benchmark-only-" + "x" * 40)
os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/trovon_bench_loans"
)

import psycopg  # noqa: E402
from psycopg.conninfo import conninfo_to_dict  # noqa: E402

N_LOANS = int(os.environ.get("BENCH_LOANS", 600))
THREADS = 4
# Applications are decided long before the loans the bench disburses (the earliest in 2025).
DECIDED_ON = date(2025, 1, 1)
SCHEDULE_SECONDS = float(os.environ.get("BENCH_SCHEDULE_SECONDS", 1.0))


def log(msg: str) -> None:
    print(msg, flush=True)


# --------------------------------------------------------------------------------------------
# (a) schedules


def schedules_per_second() -> dict:
    from loans.schedules import Frequency, Method, RatePeriod, ScheduleTerms, schedule_generate

    shapes = {
        "monthly_36": dict(
            principal=Decimal(20_000_000),
            installments=36,
            rate=Decimal("6.6"),
            rate_period=RatePeriod.YEAR,
            frequency=Frequency.MONTHLY,
            disbursed_on=date(2025, 1, 31),
        ),
        "weekly_156": dict(
            principal=Decimal(30_000_000),
            installments=156,
            rate=Decimal("0.65"),
            rate_period=RatePeriod.MONTH,
            frequency=Frequency.WEEKLY,
            disbursed_on=date(2025, 1, 31),
            principal_grace=2,
        ),
    }
    out = {}
    for shape, fields in shapes.items():
        for method in Method:
            terms = ScheduleTerms(method=method, **fields)
            schedule_generate(terms)  # warm up
            done, started = 0, time.perf_counter()
            while time.perf_counter() - started < SCHEDULE_SECONDS:
                for _ in range(20):
                    schedule_generate(terms)
                done += 20
            rate = round(done / (time.perf_counter() - started))
            out[f"{method.value}_{shape}"] = rate
            log(f"schedules/s {method.value:16} {shape:11} {rate:>8}")
    return out


# --------------------------------------------------------------------------------------------
# (b) the database


def _conninfo() -> dict:
    info = conninfo_to_dict(os.environ["DATABASE_URL"])
    if info.get("dbname", "") in ("", "postgres"):
        raise SystemExit("BENCH_DATABASE_URL must name a benchmark database (it is dropped)")
    return info


def recreate_database(info: dict) -> None:
    with psycopg.connect(**{**info, "dbname": "postgres"}, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{info["dbname"]}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{info["dbname"]}"')


def drop_database(info: dict) -> None:
    from django.db import connections

    connections.close_all()
    with psycopg.connect(**{**info, "dbname": "postgres"}, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{info["dbname"]}" WITH (FORCE)')


def setup_fund():
    """A fund with capital, a product, one superior union with ten grassroots unions, and the
    officers of the chain (a grassroots officer enters, the superior union reviews, a fund
    officer who entered nothing approves and disburses)."""
    from django.contrib.auth import get_user_model

    from fund.models import CapitalSource, Fund, Role
    from fund.services import (
        capital_contribution_post,
        capital_source_create,
        grassroots_union_create,
        officer_profile_set,
        superior_union_create,
    )
    from loans.origination.products import loan_product_create

    User = get_user_model()
    # The benchmark posts a past year through the services: its window of postings dated back
    # without a reason (docs/ledger.md, "Value dates") is opened wide.
    fund = Fund.objects.create(
        code="BENCH", name="Quỹ thử tải", federation_name="LĐLĐ", backdate_open_months=120
    )
    su = superior_union_create(fund=fund, code="LB", name="LĐLĐ quận Long Biên")
    gus = [
        grassroots_union_create(
            superior_union=su, code=f"LB-{i:03d}", name=f"CĐCS số {i}", kind="school"
        )
        for i in range(10)
    ]
    source = capital_source_create(fund=fund, code="NS", name="Ngân sách", kind="city_budget")
    assert source.kind == CapitalSource.Kind.CITY_BUDGET
    capital_contribution_post(
        fund=fund,
        source=source,
        amount=10**13,
        effective_date=date.today() - timedelta(days=30),
        idempotency_key="bench-capital",
    )

    def officer(name, role, **unit):
        user = User.objects.create(username=name)
        officer_profile_set(user=user, fund=fund, role=role, **unit)
        return user

    people = {
        "reviewer": officer("capten", Role.SUPERIOR_OFFICER, superior_union=su),
        "approver": officer("quy", Role.FUND_OFFICER),
    }
    makers = {
        gu.pk: officer(f"cdcs{i}", Role.GRASSROOTS_OFFICER, grassroots_union=gu)
        for i, gu in enumerate(gus)
    }
    product = loan_product_create(
        fund=fund,
        code="TVL",
        name="Cho vay tạo việc làm",
        min_amount=2_000_000,
        max_amount=50_000_000,
        min_term=6,
        max_term=36,
        rate="0.55",
        rate_period="month",
        method="equal_principal",
        frequency="monthly",
        savings_kind="percent_of_loan",
        savings_percent="2",
        actor=people["approver"],
    )
    return fund, gus, people, makers, product


def members_csv(gus, n: int) -> bytes:
    from loans.origination.cccd import cccd_build

    issued = (date.today() - timedelta(days=30)).strftime("%d/%m/%Y")
    lines = ["Số CCCD;Họ và tên;Ngày sinh;Giới tính;Mã CĐCS;Hoàn cảnh hộ;Số GCN;Ngày cấp GCN"]
    for i in range(n):
        dob = date(1970 + i % 30, 1 + i % 12, 1 + i % 28)
        sex = "female" if i % 3 else "male"
        number = cccd_build(province="001", sex=sex, date_of_birth=dob, serial=i)
        lines.append(
            f"{number};Thành viên {i};{dob:%d/%m/%Y};{'Nữ' if sex == 'female' else 'Nam'};"
            f"{gus[i % len(gus)].code};Hộ nghèo;GCN-{i};{issued}"
        )
    return ("\n".join(lines) + "\n").encode("utf-8-sig")


def through_the_chain(borrowers, product, people, makers) -> list:
    from loans.origination.applications import (
        application_approve,
        application_create,
        application_review,
        application_submit,
    )

    apps = []
    for i, b in enumerate(borrowers):
        maker = makers[b.grassroots_union_id]
        app = application_create(
            borrower=b,
            product=product,
            amount=5_000_000 + 1_000 * (i % 7919),
            term=6 + i % 31,
            purpose_kind="crafts",
            purpose="Mua máy may",
            planned_jobs=1 + i % 3,
            security_kind="group",
            group_name="Tổ vay vốn",
            actor=maker,
        )
        app = application_submit(application=app, idempotency_key=f"s-{app.pk}", actor=maker)
        app = application_review(
            application=app,
            decision="approve",
            idempotency_key=f"r-{app.pk}",
            actor=people["reviewer"],
            decided_on=DECIDED_ON,
        )
        app = application_approve(
            application=app,
            idempotency_key=f"a-{app.pk}",
            actor=people["approver"],
            decided_on=DECIDED_ON,
        )
        apps.append(app)
    return apps


def disburse_all(apps, approver, *, threads: int = 1) -> tuple[int, int]:
    """Disburse every application, one per transaction, in `threads` threads."""
    from django.db import connection

    from loans.origination.disbursement import loan_disburse

    on = date.today()
    done, errors = [0], []
    lock = threading.Lock()

    def work(part):
        try:
            for app in part:
                loan_disburse(
                    application=app,
                    disbursed_on=on,
                    idempotency_key=f"d-{app.pk}",
                    actor=approver,
                )
                with lock:
                    done[0] += 1
        except Exception as e:  # reported in the figures, never hidden
            errors.append(repr(e))
        finally:
            if threads > 1:
                connection.close()

    if threads == 1:
        work(apps)
    else:
        parts = [apps[i::threads] for i in range(threads)]
        workers = [threading.Thread(target=work, args=(p,)) for p in parts]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    if errors:
        log(f"errors: {errors[:3]}")
    return done[0], len(errors)


def main() -> None:
    started = time.perf_counter()
    figures: dict = {"schedules_per_second": schedules_per_second()}

    info = _conninfo()
    recreate_database(info)
    import django

    django.setup()
    from django.core.management import call_command

    try:
        call_command("migrate", verbosity=0)
        from loans.models import Borrower, Installment, Loan
        from loans.origination.member_import import members_import
        from loans.servicing.reconciliation import loan_book_reconcile

        fund, gus, people, makers, product = setup_fund()
        total = 2 * N_LOANS

        t = time.perf_counter()
        result = members_import(fund=fund, data=members_csv(gus, total), format="csv")
        elapsed = time.perf_counter() - t
        figures["members_imported_per_second"] = round(result.created / elapsed)
        log(f"members imported: {result.created} in {elapsed:.2f} s")

        borrowers = list(Borrower.objects.filter(fund=fund).order_by("pk"))
        t = time.perf_counter()
        apps = through_the_chain(borrowers, product, people, makers)
        elapsed = time.perf_counter() - t
        figures["applications_through_chain_per_second"] = round(len(apps) / elapsed, 1)
        log(f"applications create→approve: {len(apps)} in {elapsed:.2f} s")

        t = time.perf_counter()
        done, errors = disburse_all(apps[:N_LOANS], people["approver"])
        elapsed = time.perf_counter() - t
        figures["disbursements_per_second"] = round(done / elapsed, 1)
        figures["disbursement_ms"] = round(elapsed * 1000 / max(done, 1), 2)
        log(f"disbursements, one thread: {done} in {elapsed:.2f} s ({errors} errors)")

        t = time.perf_counter()
        done_t, errors_t = disburse_all(apps[N_LOANS:], people["approver"], threads=THREADS)
        elapsed = time.perf_counter() - t
        figures[f"disbursements_per_second_{THREADS}_threads"] = round(done_t / elapsed, 1)
        log(f"disbursements, {THREADS} threads: {done_t} in {elapsed:.2f} s ({errors_t} errors)")

        t = time.perf_counter()
        report = loan_book_reconcile(fund=fund, as_of=date.today())
        figures["reconcile_ms"] = round((time.perf_counter() - t) * 1000, 1)
        figures["reconciled_ok"] = report.ok
        figures["loans"] = Loan.objects.count()
        figures["installments"] = Installment.objects.count()
        figures["errors"] = errors + errors_t
        log(
            f"reconciled {report.loans_checked} loans in {figures['reconcile_ms']} ms: "
            f"{'ok' if report.ok else 'DIFFERENCES'}"
        )
    finally:
        drop_database(info)
    figures["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps({"bench": "loans", **figures}, ensure_ascii=False))


if __name__ == "__main__":
    main()
