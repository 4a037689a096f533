"""Quarterly report benchmark (`python bench/jobs_report.py`); prints one JSON line at the end.

Builds, on PostgreSQL, a federation of 45 superior unions and 9,360 grassroots unions with
100,000 loans disbursed from January of the year before to the reported quarter (bulk_create,
not the services: the report reads the loan book and the ledger, not how they were written),
a plan split by superior union, follow-up visits, a debt-group spread, and the ledger behind
it (per superior union one disbursement entry with a 1283 leg per grassroots union, one
provision entry on 2293, capital from three sources). Then it times, through
``quarterly_report_generate`` (figures, PDF, XLSX, stored files):

* the fund's report (target under 30 s), with the figures alone timed too;
* all 45 superior unions' reports (target under 2 minutes on the 2-core machine), one after
  another in this process, and again spread over two processes as the beat's group spreads
  them over a worker's two processes.

The database named in BENCH_DATABASE_URL (default trovon_bench_report) is dropped, created,
migrated and dropped again at the end (kept with BENCH_KEEP=1). Sizes: BENCH_SUPERIOR_UNIONS (45),
BENCH_GRASSROOTS_UNIONS (9,360), BENCH_REPORT_LOANS (100,000).
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import random
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ["DEBUG"] = "0"  # no query log in memory
os.environ.setdefault("SECRET_KEY", "benchmark-only-" + "x" * 40)
# Sealing signs heads (docs/ledger.md §12): a key of the run's own; no high-water file, since the
# benchmark database is dropped or reused between runs.
if not os.environ.get("LEDGER_SIGNING_KEY") and not os.environ.get("LEDGER_SIGNING_KEY_FILE"):
    from accounting.signing import signing_key_generate

    os.environ["LEDGER_SIGNING_KEY"] = signing_key_generate()
os.environ.setdefault("LEDGER_HEAD_DIR", "")
os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/trovon_bench_report"
)
os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="trovon-bench-media-"))

import psycopg  # noqa: E402
from psycopg.conninfo import conninfo_to_dict  # noqa: E402

N_SU = int(os.environ.get("BENCH_SUPERIOR_UNIONS", 45))
N_GU = int(os.environ.get("BENCH_GRASSROOTS_UNIONS", 9_360))
N_LOANS = int(os.environ.get("BENCH_REPORT_LOANS", 100_000))
YEAR, QUARTER = 2025, 1
BATCH = 5_000
WORKERS = int(os.environ.get("BENCH_WORKERS", 2))
KEEP = os.environ.get("BENCH_KEEP") == "1"  # keep the database (to profile); else dropped


def log(msg: str) -> None:
    print(msg, flush=True)


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


def build_federation() -> dict:
    """The federation, its loan book and its ledger, in bulk."""
    from accounting.services import credit, debit, journal_entry_post, ledger_seal
    from fund.models import CapitalSource, Fund, GrassrootsUnion, SuperiorUnion
    from fund.services import (
        annual_plan_set,
        capital_contribution_post,
        capital_source_create,
        plan_split_set,
    )
    from loans.models import Borrower, FollowUpVisit, Loan, LoanApplication, LoanProduct
    from loans.terms import default_allocation_order, default_debt_groups

    rnd = random.Random(2025)
    # Past quarters are posted through the services: back-dating needs no reason here.
    fund = Fund.objects.create(
        code="HN",
        name="Quỹ Trợ vốn CNVCLĐ nghèo Hà Nội",
        federation_name="LĐLĐ TP Hà Nội",
        backdate_open_months=120,
    )
    sus = SuperiorUnion.objects.bulk_create(
        SuperiorUnion(fund=fund, code=f"SU{i:02d}", name=f"LĐLĐ quận số {i:02d}")
        for i in range(1, N_SU + 1)
    )
    gus = GrassrootsUnion.objects.bulk_create(
        (
            GrassrootsUnion(
                fund=fund,
                superior_union=sus[i % N_SU],
                code=f"{sus[i % N_SU].code}-{i:05d}",
                name=f"CĐCS Công ty số {i:05d}",
                kind="private_enterprise",
            )
            for i in range(N_GU)
        ),
        batch_size=BATCH,
    )
    product = LoanProduct.objects.create(
        fund=fund,
        code="TVL",
        name="Cho vay tạo việc làm",
        min_amount=Decimal(2_000_000),
        max_amount=Decimal(50_000_000),
        min_term=6,
        max_term=36,
        rate=Decimal("0.55"),
        rate_period="month",
        method="equal_principal",
        frequency="monthly",
        penalty_rate=Decimal("0.275"),
        penalty_rate_period="month",
    )
    n_borrowers = int(N_LOANS * 0.8)  # a fifth of the loans go to members who borrowed before
    borrower_gu = [gus[rnd.randrange(N_GU)] for _ in range(n_borrowers)]
    borrowers = Borrower.objects.bulk_create(
        (
            Borrower(
                fund=fund,
                grassroots_union=borrower_gu[i],
                full_name=f"Nguyễn Thị Thành Viên {i}",
                date_of_birth=date(1985, 5, 17),
                sex="female",
                national_id=f"001{185:03d}{i:06d}",
                household_status="poor",
                certificate_number=f"GCN-{i}",
                certificate_date=date(2023, 1, 1),
            )
            for i in range(n_borrowers)
        ),
        batch_size=BATCH,
    )
    start = date(YEAR - 1, 1, 1)
    span = (date(YEAR, 3, 31) - start).days
    specs = []
    for i in range(N_LOANS):
        b = borrowers[i] if i < n_borrowers else borrowers[rnd.randrange(n_borrowers)]
        gu = b.grassroots_union
        on = start + timedelta(days=rnd.randrange(span + 1))
        amount = Decimal(rnd.randrange(4, 51) * 1_000_000)
        specs.append((b, gu, on, amount, rnd.randrange(0, 4)))
    apps = LoanApplication.objects.bulk_create(
        (
            LoanApplication(
                fund=fund,
                borrower=b,
                product=product,
                grassroots_union=gu,
                superior_union_id=gu.superior_union_id,
                amount=amount,
                term=24,
                purpose_kind="crafts",
                purpose="Mua máy may",
                planned_jobs=jobs,
                security_kind="group",
                status="disbursed",
            )
            for b, gu, on, amount, jobs in specs
        ),
        batch_size=BATCH,
    )
    order, groups = default_allocation_order(), default_debt_groups()
    group_of = [1] * 90 + [2] * 5 + [3] * 3 + [4] + [5]
    rate = {1: 0, 2: 2, 3: 25, 4: 50, 5: 100}
    loans = []
    for app, (b, gu, on, amount, jobs) in zip(apps, specs, strict=True):
        outstanding = (amount * Decimal(rnd.randrange(30, 101)) / 100).quantize(Decimal(1))
        g = rnd.choice(group_of)
        loans.append(
            Loan(
                fund=fund,
                application=app,
                borrower=b,
                product=product,
                grassroots_union=gu,
                superior_union_id=gu.superior_union_id,
                principal=amount,
                disbursed_on=on,
                maturity_date=on + timedelta(days=730),
                term=24,
                rate=Decimal("0.55"),
                rate_period="month",
                method="equal_principal",
                frequency="monthly",
                penalty_rate=Decimal("0.275"),
                penalty_rate_period="month",
                savings_kind="none",
                allocation_order=order,
                debt_groups=groups,
                purpose_kind="crafts",
                planned_jobs=jobs,
                outstanding_principal=outstanding,
                debt_group=g,
                days_past_due=0 if g == 1 else 15 * g,
                overdue_principal=Decimal(0) if g == 1 else (outstanding / 4).quantize(Decimal(1)),
                provision_held=(outstanding * rate[g] / 100).quantize(Decimal(1)),
                classified_on=date(YEAR, 3, 31),
            )
        )
    loans = Loan.objects.bulk_create(loans, batch_size=BATCH)
    FollowUpVisit.objects.bulk_create(
        (
            FollowUpVisit(
                loan=loan,
                visited_on=loan.disbursed_on + timedelta(days=30),
                purpose_verified=True,
                jobs_confirmed=loan.planned_jobs,
            )
            for loan in loans[::5]
        ),
        batch_size=BATCH,
    )
    # The ledger: capital, then per superior union its loans (1283) and provisions (2293) by
    # grassroots union, dated at the quarter's end so that the figures read them.
    total_out = sum((x.outstanding_principal.amount for x in loans), Decimal(0))
    for code, name, kind, share in (
        ("NS", "Ngân sách thành phố", CapitalSource.Kind.CITY_BUDGET, Decimal("0.6")),
        ("CD", "Quỹ của tổ chức công đoàn", CapitalSource.Kind.UNION_FUNDS, Decimal("0.3")),
        ("TT", "Tài trợ, ủng hộ", CapitalSource.Kind.DONORS, Decimal("0.2")),
    ):
        src = capital_source_create(fund=fund, code=code, name=name, kind=kind)
        capital_contribution_post(
            fund=fund,
            source=src,
            amount=(total_out * share).quantize(Decimal(1)),
            effective_date=date(YEAR - 1, 1, 1),
            idempotency_key=f"bench-capital-{code}",
            # The book's opening capital, dated before the open period: back-dated, with why.
            backdate_reason="Vốn đầu kỳ của sổ dữ liệu đo hiệu năng",
        )
    out_by_gu: dict = defaultdict(lambda: Decimal(0))
    prov_by_gu: dict = defaultdict(lambda: Decimal(0))
    for x in loans:
        out_by_gu[(x.superior_union_id, x.grassroots_union_id)] += x.outstanding_principal.amount
        prov_by_gu[(x.superior_union_id, x.grassroots_union_id)] += x.provision_held.amount
    for su in sus:
        for account, contra, figures, key in (
            ("1283", "1121", out_by_gu, "loans"),
            ("6422", "2293", prov_by_gu, "provision"),
        ):
            legs, total = [], Decimal(0)
            for (su_id, gu_id), amount in sorted(figures.items()):
                if su_id != su.pk or not amount:
                    continue
                dims = dict(fund_id=fund.pk, superior_union_id=su_id, grassroots_union_id=gu_id)
                if key == "loans":
                    legs.append(debit(account, amount, **dims))
                else:
                    legs.append(credit(contra, amount, **dims))
                total += amount
            if not legs:
                continue
            other = (
                credit(contra, total, fund_id=fund.pk, superior_union_id=su.pk)
                if key == "loans"
                else debit(account, total, fund_id=fund.pk, superior_union_id=su.pk)
            )
            journal_entry_post(
                effective_date=date(YEAR, 3, 31),
                legs=[*legs, other],
                memo=f"Số dư {key} {su.code}",
                idempotency_key=f"bench-{key}-{su.code}",
            )
    ledger_seal()
    plan = annual_plan_set(
        fund=fund,
        year=YEAR,
        disbursed_amount=Decimal(N_LOANS) * 27_000_000 * 4 // 5,
        borrowers=N_LOANS // 2,
        loans=N_LOANS // 2,
        grassroots_unions=N_GU // 2,
        jobs=N_LOANS,
    )
    for q in range(1, 5):
        plan_split_set(plan=plan, quarter=q, disbursed_amount=plan.disbursed_amount / 4)
    for su in sus:
        plan_split_set(plan=plan, superior_union=su, disbursed_amount=plan.disbursed_amount / N_SU)
    return {"fund": fund, "sus": sus}


def _su_report(ids) -> None:
    from django.db import connections

    from reports.services import quarterly_report_generate

    fund_id, su_id = ids
    quarterly_report_generate(fund_id=fund_id, year=YEAR, quarter=QUARTER, superior_union_id=su_id)
    connections.close_all()


def main() -> None:
    started = time.perf_counter()
    info = _conninfo()
    recreate_database(info)
    import django

    django.setup()
    from django.core.management import call_command

    figures: dict = {}
    try:
        call_command("migrate", verbosity=0)
        t = time.perf_counter()
        built = build_federation()
        figures["build_seconds"] = round(time.perf_counter() - t, 1)
        from loans.models import Loan
        from reports.quarterly import quarterly_report_figures
        from reports.services import quarterly_report_generate

        fund, sus = built["fund"], built["sus"]
        figures["superior_unions"] = len(sus)
        figures["grassroots_unions"] = fund.grassroots_unions.count()
        figures["loans"] = Loan.objects.count()
        log(
            f"built {figures['superior_unions']} superior unions, "
            f"{figures['grassroots_unions']} grassroots unions, {figures['loans']} loans in "
            f"{figures['build_seconds']} s"
        )
        from django.db import connection

        with connection.cursor() as cur:
            cur.execute("ANALYZE")

        t = time.perf_counter()
        f = quarterly_report_figures(fund_id=fund.pk, year=YEAR, quarter=QUARTER)
        figures["fund_figures_seconds"] = round(time.perf_counter() - t, 2)
        t = time.perf_counter()
        report = quarterly_report_generate(fund_id=fund.pk, year=YEAR, quarter=QUARTER)
        figures["fund_pdf_seconds"] = round(time.perf_counter() - t, 2)
        figures["fund_pdf_bytes"] = report.pdf.size
        log(f"{f.headline}\nfund report (figures, PDF, XLSX): {figures['fund_pdf_seconds']} s")

        t = time.perf_counter()
        slowest = 0.0
        for su in sus:
            t1 = time.perf_counter()
            quarterly_report_generate(
                fund_id=fund.pk, year=YEAR, quarter=QUARTER, superior_union_id=su.pk
            )
            slowest = max(slowest, time.perf_counter() - t1)
        figures["superior_union_pdfs_seconds"] = round(time.perf_counter() - t, 1)
        figures["superior_union_pdf_slowest_seconds"] = round(slowest, 2)
        log(
            f"{len(sus)} superior-union reports, one process: "
            f"{figures['superior_union_pdfs_seconds']} s "
            f"(slowest {figures['superior_union_pdf_slowest_seconds']} s)"
        )
        # As the beat runs them: a group spread over a worker with two processes.
        from django.db import connections

        connections.close_all()
        t = time.perf_counter()
        with ProcessPoolExecutor(WORKERS, mp_context=mp.get_context("fork")) as pool:
            list(pool.map(_su_report, [(fund.pk, su.pk) for su in sus]))
        figures[f"superior_union_pdfs_seconds_{WORKERS}_processes"] = round(
            time.perf_counter() - t, 1
        )
        log(
            f"{len(sus)} superior-union reports, {WORKERS} processes: "
            f"{figures[f'superior_union_pdfs_seconds_{WORKERS}_processes']} s"
        )
        figures["fund_pdf_under_30s"] = figures["fund_pdf_seconds"] < 30
        figures["superior_union_pdfs_under_2min"] = (
            min(
                figures["superior_union_pdfs_seconds"],
                figures[f"superior_union_pdfs_seconds_{WORKERS}_processes"],
            )
            < 120
        )
    finally:
        if not KEEP:
            drop_database(info)
    figures["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps({"bench": "jobs_report", **figures}, ensure_ascii=False))


if __name__ == "__main__":
    main()
