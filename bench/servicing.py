"""Servicing benchmark (`python bench/servicing.py`, PostgreSQL); prints one JSON line at the end.

(a) repayments posted per second through the services: one ``repayment_post`` per transaction,
    and remittances of 500 lines (``repayment_batch_post``), on loans disbursed by the services;
(b) the daily arrears pass over BENCH_BOOK (default 1,000,000) active loans: ``loan_book_classify``
    then ``loan_provisions_post``, the first day (every overdue loan gets its first provision) and
    the next day (the steady state). The book is generated with set-based SQL (INSERT … SELECT
    generate_series) by cloning one loan made by the services: 6 monthly installments of
    1,000,000 đ each, disbursed 1–175 days before the business date, 10 % of the loans never
    paid (days past due 0–145, so every debt group up to 4 is present), the others paid up to date.

Takes DATABASE_URL (the server; default postgres://postgres@127.0.0.1:5432/trovon) and works in a
scratch database ``<name>_bench_servicing`` on that server, created, migrated and dropped again.
BENCH_TEMPLATE=<database> keeps the generated book for the next runs: the first run saves the
scratch database as that template just before the passes, later runs clone it (CREATE DATABASE …
TEMPLATE), migrate it and measure only the passes (the repayment figures need a fresh run).
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def scratch_url(suffix: str) -> str:
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/trovon")
    head, _, name = base.rpartition("/")
    name = name.split("?")[0] or "trovon"
    return f"{head}/{name}_{suffix}"


if __name__ == "__main__":
    os.environ["BENCH_DATABASE_URL"] = scratch_url("bench_servicing")


def _helpers():
    """bench/loans.py (its fund set-up, chain and database helpers), under another name: the
    file is called like the loans app."""
    spec = importlib.util.spec_from_file_location("bench_loans_helpers", ROOT / "bench/loans.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


N_BOOK = int(os.environ.get("BENCH_BOOK", 1_000_000))
N_SERVICE_LOANS = 500
N_SINGLE = 300
BATCH = 500
BASE_ID = 10_000_000
INSTALLMENTS = 6


def log(msg: str) -> None:
    print(msg, flush=True)


def service_loans(h, n: int):
    """`n` loans of one grassroots union made by the services; returns (fund, gu, loans)."""
    from loans.models import Borrower, Loan
    from loans.origination.member_import import members_import

    fund, gus, people, makers, product = h.setup_fund()
    members_import(fund=fund, data=h.members_csv(gus[:1], n), format="csv")
    borrowers = list(Borrower.objects.filter(fund=fund).order_by("pk"))
    apps = h.through_the_chain(borrowers, product, people, makers)
    h.disburse_all(apps, people["approver"])
    return fund, gus[0], list(Loan.objects.filter(fund=fund).order_by("pk"))


def repayments_per_second(gu, loans) -> dict:
    from loans.servicing.repayments import repayment_batch_post, repayment_post

    today = date.today()
    t = time.perf_counter()
    for loan in loans[:N_SINGLE]:
        repayment_post(loan=loan, amount=300_000, paid_on=today, idempotency_key=f"p-{loan.pk}")
    single = N_SINGLE / (time.perf_counter() - t)
    log(f"repayments one by one: {N_SINGLE} at {single:.1f}/s")
    from loans.models import Loan

    fresh = list(Loan.objects.filter(pk__in=[x.pk for x in loans[:BATCH]]).order_by("pk"))
    t = time.perf_counter()
    for b in range(2):
        repayment_batch_post(
            grassroots_union=gu,
            receipt_number=f"UNC-{b}",
            paid_on=today,
            lines=[(loan, 100_000) for loan in fresh],
            idempotency_key=f"batch-{b}",
        )
    batched = 2 * BATCH / (time.perf_counter() - t)
    log(f"repayments in batches of {BATCH}: {2 * BATCH} at {batched:.1f}/s")
    return {
        "repayments_per_second": round(single, 1),
        "repayments_per_second_batch_500": round(batched, 1),
    }


# --------------------------------------------------------------------------------------------
# The generated book


def _clone(cur, table: str, template_id: int, overrides: dict[str, str], series: str) -> int:
    cur.execute(f"SELECT * FROM {table} LIMIT 0")
    cols = [c.name for c in cur.description if c.name in overrides or c.name != "id"]
    select = ", ".join(overrides.get(c, f"t.{c}") for c in cols)
    cur.execute(
        f"INSERT INTO {table} ({', '.join(cols)}) SELECT {select} FROM {table} t, {series}"
        f" WHERE t.id = %s",
        [template_id],
    )
    return cur.rowcount


def generate_book(*, template, gu_ids: list[int], start: int, n: int, bd: date) -> None:
    """Loans start+1 … start+n (ids BASE_ID + g), each with borrower, application, schedule."""
    from django.db import connection, transaction

    gu = f"(ARRAY{gu_ids}::bigint[])[1 + (g / 10) %% {len(gu_ids)}]"  # %% : psycopg placeholders
    age = "(((g::bigint * 7919) %% 175)::int + 1)"
    arrears = "(g %% 10 = 0)"
    series = f"generate_series({start + 1}, {start + n}) g"
    bd_sql = f"DATE '{bd.isoformat()}'"
    disbursed = f"({bd_sql} - {age})"
    paid = f"(CASE WHEN {arrears} THEN 0 ELSE ({age} - 1) / 30 END)"
    inst = template.installments.order_by("number").first()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL session_replication_role = replica")  # no FK checks on bulk
        _clone(
            cur,
            "loans_borrower",
            template.borrower_id,
            {
                "id": f"{BASE_ID} + g",
                "national_id": "'9' || lpad(g::text, 11, '0')",
                "full_name": "'Thành viên ' || g",
                "grassroots_union_id": gu,
            },
            series,
        )
        _clone(
            cur,
            "loans_loanapplication",
            template.application_id,
            {"id": f"{BASE_ID} + g", "borrower_id": f"{BASE_ID} + g", "grassroots_union_id": gu},
            series,
        )
        _clone(
            cur,
            "loans_loan",
            template.pk,
            {
                "id": f"{BASE_ID} + g",
                "application_id": f"{BASE_ID} + g",
                "borrower_id": f"{BASE_ID} + g",
                "grassroots_union_id": gu,
                "disbursement_entry_id": "NULL",
                "principal": str(INSTALLMENTS * 1_000_000),
                "term": str(INSTALLMENTS),
                "disbursed_on": disbursed,
                "maturity_date": f"{disbursed} + {30 * INSTALLMENTS}",
                "outstanding_principal": f"{INSTALLMENTS * 1_000_000} - 1000000 * {paid}",
                "savings_withheld": "0",
                "status": "'active'",
                "schedule_version": "1",
                "reschedulings": "0",
                "days_past_due": "0",
                "debt_group": "1",
                "classified_on": "NULL",
                "overdue_principal": "0",
                "overdue_interest": "0",
                "penalty_outstanding": "0",
                "provision_held": "0",
                "closed_on": "NULL",
            },
            series,
        )
        is_paid = f"({paid} >= k)"
        _clone(
            cur,
            "loans_installment",
            inst.pk,
            {
                "loan_id": f"{BASE_ID} + g",
                "number": "k",
                "due_date": f"{disbursed} + 30 * k",
                "principal_due": "1000000",
                "interest_due": f"({INSTALLMENTS + 1} - k) * 5500",
                "savings_due": "0",
                "balance_after": f"({INSTALLMENTS} - k) * 1000000",
                "principal_paid": f"CASE WHEN {is_paid} THEN 1000000 ELSE 0 END",
                "interest_paid": (
                    f"CASE WHEN {is_paid} THEN ({INSTALLMENTS + 1} - k) * 5500 ELSE 0 END"
                ),
                "status": f"CASE WHEN {is_paid} THEN 'paid' ELSE 'pending' END",
                "paid_on": f"CASE WHEN {is_paid} THEN {disbursed} + 30 * k END",
                "schedule_version": "1",
                "savings_paid": "0",
                "penalty_due": "0",
                "penalty_paid": "0",
                "overdue": "FALSE",
                "penalty_accrued_through": "NULL",
            },
            f"{series}, generate_series(1, {INSTALLMENTS}) k",
        )
        for table in ("loans_borrower", "loans_loanapplication", "loans_loan"):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT max(id) FROM {table}))"
            )
    # As autovacuum would leave them before the first close of business: visibility and hint
    # bits set, statistics taken (otherwise the first pass pays for writing every page of the
    # freshly loaded tables once more).
    with connection.cursor() as cur:
        for table in ("loans_borrower", "loans_loanapplication", "loans_loan", "loans_installment"):
            cur.execute(f"VACUUM (ANALYZE) {table}")


def arrears_pass(fund, bd: date, label: str) -> dict:
    from django.db import transaction

    from loans.servicing.arrears import loan_book_classify, loan_provisions_post

    # In one transaction, as the close of business runs them (loans.servicing.close_of_business).
    with transaction.atomic():
        t = time.perf_counter()
        c = loan_book_classify(business_date=bd, fund_id=fund.pk)
        classify_s = time.perf_counter() - t
        t = time.perf_counter()
        p = loan_provisions_post(business_date=bd, fund_id=fund.pk, idempotency_key=f"prov-{bd}")
    provisions_s = time.perf_counter() - t  # with the commit
    log(
        f"{label}: classify {classify_s:.1f} s ({c.loans_processed} loans, "
        f"{c.newly_overdue_installments} newly overdue, groups {c.groups}), provisions "
        f"{provisions_s:.1f} s ({p.loans_changed} loans, {p.entries_posted} entries,"
        f" cumulative {p.timings}, then the commit); classify steps {c.timings}"
    )
    return {
        f"{label}_classify_s": round(classify_s, 2),
        f"{label}_provisions_s": round(provisions_s, 2),
        f"{label}_total_s": round(classify_s + provisions_s, 2),
        f"{label}_loans": c.loans_processed,
        f"{label}_newly_overdue": c.newly_overdue_installments,
        f"{label}_provision_loans_changed": p.loans_changed,
    }


def _between_days() -> None:
    """What autovacuum does during the day after a close of business (loans migration 0009 has
    it clean these tables at 2 % dead rows): the old row versions of the night's pass removed,
    so that the next night does not pay for it."""
    from django.db import connection

    with connection.cursor() as cur:
        for table in ("loans_loan", "loans_installment"):
            cur.execute(f"VACUUM (ANALYZE) {table}")


def _database_exists(info: dict, name: str) -> bool:
    import psycopg

    with psycopg.connect(**{**info, "dbname": "postgres"}, autocommit=True) as c:
        return bool(c.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone())


def _save_template(info: dict, name: str) -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(**{**info, "dbname": "postgres"}, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}" TEMPLATE "{info["dbname"]}"')
    log(f"saved the generated book as {name}")


def _from_template(h, info: dict, template: str, started: float) -> None:
    import psycopg
    from django.core.management import call_command
    from django.db import connections

    connections.close_all()
    with psycopg.connect(**{**info, "dbname": "postgres"}, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{info["dbname"]}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{info["dbname"]}" TEMPLATE "{template}"')
    figures: dict = {"template": template}
    try:
        call_command("migrate", verbosity=0)
        from fund.models import Fund

        fund = Fund.objects.order_by("pk").first()
        bd = date.today() - timedelta(days=1)
        figures.update(arrears_pass(fund, bd, "day1"))
        _between_days()
        figures.update(arrears_pass(fund, bd + timedelta(days=1), "day2"))
        figures["target_60s_met"] = figures["day1_total_s"] < 60
    finally:
        if not os.environ.get("BENCH_KEEP"):
            h.drop_database(info)
    figures["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps({"bench": "servicing", "book": N_BOOK, **figures}, ensure_ascii=False))


def main() -> None:
    started = time.perf_counter()
    h = _helpers()
    info = h._conninfo()
    h.recreate_database(info)
    import django

    django.setup()
    from django.core.management import call_command

    figures: dict = {}
    template = os.environ.get("BENCH_TEMPLATE")
    if template and _database_exists(info, template):
        return _from_template(h, info, template, started)
    try:
        call_command("migrate", verbosity=0)
        if os.environ.get("BENCH_SKIP_REPAYMENTS"):
            fund, gu, loans = service_loans(h, 1)
        else:
            fund, gu, loans = service_loans(h, N_SERVICE_LOANS)
            figures.update(repayments_per_second(gu, loans))

        from fund.models import GrassrootsUnion

        gu_ids = list(
            GrassrootsUnion.objects.filter(superior_union__fund=fund).values_list("pk", flat=True)
        )
        bd = date.today() - timedelta(days=1)
        t = time.perf_counter()
        generate_book(template=loans[-1], gu_ids=gu_ids, start=0, n=N_BOOK, bd=bd)
        figures["generate_s"] = round(time.perf_counter() - t, 1)
        log(f"generated {N_BOOK} loans in {figures['generate_s']} s")
        if template:
            _save_template(info, template)
        figures.update(arrears_pass(fund, bd, "day1"))
        _between_days()
        figures.update(arrears_pass(fund, bd + timedelta(days=1), "day2"))
        figures["target_60s_met"] = figures["day1_total_s"] < 60
    finally:
        if not os.environ.get("BENCH_KEEP"):
            h.drop_database(info)
    figures["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps({"bench": "servicing", "book": N_BOOK, **figures}, ensure_ascii=False))


if __name__ == "__main__":
    main()
