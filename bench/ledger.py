"""Ledger benchmark against PostgreSQL (`make bench-ledger`); prints one JSON line at the end.

(a) entries/s posted one per transaction through `journal_entry_post`, and through a raw
    psycopg INSERT of the same rows (entry + 2 postings), one commit each (INSERT … RETURNING
    id, INSERT, COMMIT), through every trigger (target: service ≥ 0.8 × raw); for reference,
    the raw rows sent as one two-statement query, as the service sends them, and the raw
    INSERT with no trigger at all;
(b) entries/s through `journal_entries_post_bulk`, against a bare COPY of the same rows into the
    same tables with no trigger and no foreign-key check (`session_replication_role = replica`),
    measured in the same run (target: bulk ≥ 1/3 of the bare COPY); for reference, the same COPY
    through every trigger;
(c) on a ledger of 1,000,000 postings: `account_balance` of one account and `trial_balance`,
    without checkpoints and after closing every past month (as a real ledger is closed).

The raw side does no validation and no idempotency look-up; its request MACs are computed
before the timing (the seal refuses rows without them). The 1,000,000 postings of (c) are
loaded by COPY with the triggers off (bench data, not a test of the triggers) and then ANALYZEd.

The database named in DATABASE_URL (default trovon_bench) is dropped, created, migrated and
dropped again at the end.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Production settings: DEBUG off (no query log in memory), so the service is timed as it runs.
os.environ["DEBUG"] = "0"
os.environ.setdefault("SECRET_KEY", "benchmark-only-" + "x" * 40)
# Sealing signs heads (docs/ledger.md §12): a key of the run's own; no high-water file, since the
# benchmark database is dropped or reused between runs.
if not os.environ.get("LEDGER_SIGNING_KEY") and not os.environ.get("LEDGER_SIGNING_KEY_FILE"):
    from accounting.signing import signing_key_generate

    os.environ["LEDGER_SIGNING_KEY"] = signing_key_generate()
os.environ.setdefault("LEDGER_HEAD_DIR", "")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/trovon_bench")

import psycopg  # noqa: E402
from psycopg.conninfo import conninfo_to_dict  # noqa: E402

N_SINGLE = int(os.environ.get("BENCH_SINGLE", 2000))
N_BULK = int(os.environ.get("BENCH_BULK", 20000))
N_POSTINGS = int(os.environ.get("BENCH_POSTINGS", 1_000_000))
SEED = 20260101


def log(msg: str) -> None:
    print(msg, flush=True)


def _conninfo() -> dict:
    info = conninfo_to_dict(os.environ["DATABASE_URL"])
    if info.get("dbname", "") in ("", "postgres"):
        raise SystemExit("DATABASE_URL must name a benchmark database (it is dropped)")
    return info


def recreate_database() -> dict:
    info = _conninfo()
    admin = {**info, "dbname": "postgres"}
    with psycopg.connect(**admin, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{info["dbname"]}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{info["dbname"]}"')
    return info


def drop_database(info: dict) -> None:
    with psycopg.connect(**{**info, "dbname": "postgres"}, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{info["dbname"]}" WITH (FORCE)')


def median_ms(fn, repeat: int) -> float:
    fn()  # warm the caches once, as a running server has them
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return round(statistics.median(times), 2)


def main() -> dict:  # noqa: C901, PLR0915 - a script, read top to bottom
    info = recreate_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)

    from accounting.models import Account
    from accounting.selectors import account_balance, checkpoints_verify, trial_balance
    from accounting.services import (
        EntrySpec,
        credit,
        debit,
        journal_entries_post_bulk,
        journal_entry_post,
        ledger_seal,
        period_close,
        request_hash_for,
    )

    def mac(day, memo, document_type, document_id, legs) -> str:
        """The request MAC the services would store: raw rows must carry it, or the sealer
        refuses them as written outside the services (docs/ledger.md §12)."""
        return request_hash_for(
            day=day,
            memo=memo,
            document_type=document_type,
            document_id=document_id,
            legs=[(code, Decimal(a), "VND", *dims) for code, a, *dims in legs],
        )

    ids = dict(Account.objects.values_list("code", "id"))
    today = date.today()
    day = today
    figures: dict = {"postgres": connection.pg_version, "n_single": N_SINGLE, "n_bulk": N_BULK}
    raw = psycopg.connect(**info)

    def raw_mac(amount: int) -> str:
        no_dims = (None, None, None, "")
        return mac(
            day, "Góp vốn", "", "", [("1121", amount, *no_dims), ("4111", -amount, *no_dims)]
        )

    def raw_one(key: str, amount: int, bare: bool = False) -> None:
        with raw.cursor() as cur:
            if bare:  # no trigger at all (nor foreign-key checks): the floor
                cur.execute("SET LOCAL session_replication_role = replica")
            cur.execute(
                "INSERT INTO accounting_journalentry (effective_date, recorded_at, memo, "
                "document_type, document_id, idempotency_key, request_hash) "
                "VALUES (%s, now(), %s, '', '', %s, %s) RETURNING id",
                [day, "Góp vốn", key, raw_mac(amount)],
            )
            entry_id = cur.fetchone()[0]
            cur.execute(
                "INSERT INTO accounting_posting (entry_id, account_id, amount, amount_currency, "
                "effective_date, subledger) VALUES (%s, %s, %s, 'VND', %s, ''), "
                "(%s, %s, %s, 'VND', %s, '')",
                [entry_id, ids["1121"], amount, day, entry_id, ids["4111"], -amount, day],
            )
        raw.commit()

    raw_auto = psycopg.connect(**info, autocommit=True)

    def raw_one_round_trip(key: str, amount: int) -> None:
        # The same rows as one two-statement query: the server runs it as one transaction.
        raw_auto.execute(
            "INSERT INTO accounting_journalentry (effective_date, recorded_at, memo, "
            "document_type, document_id, idempotency_key, request_hash) "
            f"VALUES ('{day}', now(), 'Góp vốn', '', '', '{key}', "
            f"'{raw_mac(amount)}'); "
            "INSERT INTO accounting_posting (entry_id, account_id, amount, amount_currency, "
            "effective_date, subledger) VALUES "
            f"(currval('accounting_journalentry_id_seq'), {ids['1121']}, {amount}, 'VND', "
            f"'{day}', ''), (currval('accounting_journalentry_id_seq'), {ids['4111']}, "
            f"{-amount}, 'VND', '{day}', '')"
        )

    def service_one(key: str, amount: int) -> None:
        journal_entry_post(
            effective_date=day,
            legs=[debit("1121", amount), credit("4111", amount)],
            memo="Góp vốn",
            idempotency_key=key,
        )

    # ---------------------------------------------------------------------------------------
    # (a) one entry per transaction
    log(f"(a) {N_SINGLE} entries one per transaction, service vs raw INSERT…")
    for i in range(200):  # warm-up: connections, plan caches, the chart cache
        service_one(f"warm-s-{i}", 1_000 + i)
        raw_one(f"warm-r-{i}", 1_000 + i)
        raw_one_round_trip(f"warm-o-{i}", 1_000 + i)
    rates = {"service": [], "raw": [], "raw1": [], "bare": []}
    for rnd in range(2):  # alternate, so that neither side gets the quieter half of the run
        for side, fn in (
            ("service", service_one),
            ("raw", raw_one),
            ("raw1", raw_one_round_trip),
            ("bare", lambda key, amount: raw_one(key, amount, bare=True)),
        ):
            t = time.perf_counter()
            for i in range(N_SINGLE // 2):
                fn(f"a-{side}-{rnd}-{i}", 10_000 + i)
            rates[side].append((N_SINGLE // 2) / (time.perf_counter() - t))
    svc, rw = statistics.mean(rates["service"]), statistics.mean(rates["raw"])
    figures["a_service_entries_per_s"] = round(svc, 1)
    figures["a_raw_insert_entries_per_s"] = round(rw, 1)
    rw1 = statistics.mean(rates["raw1"])
    figures["a_ratio"] = round(svc / rw, 3)
    figures["a_raw_one_round_trip_entries_per_s"] = round(rw1, 1)
    bare = statistics.mean(rates["bare"])
    figures["a_bare_insert_entries_per_s"] = round(bare, 1)
    figures["a_ratio_to_bare"] = round(svc / bare, 3)
    log(f"    service {svc:,.0f}/s, raw {rw:,.0f}/s, ratio {svc / rw:.2f} (target ≥ 0.8)")
    log(f"    (raw INSERT with no trigger at all: {bare:,.0f}/s, service / that {svc / bare:.2f})")
    log(f"    (raw as one two-statement query, the way the service sends it: {rw1:,.0f}/s)")

    # ---------------------------------------------------------------------------------------
    # (b) bulk
    log(f"(b) {N_BULK} entries in one batch, bulk service vs raw COPY…")
    inputs = [(f"{n}", 100_000 + n % 9_000) for n in range(N_BULK)]

    def bulk_service(prefix: str) -> float:
        t = time.perf_counter()
        specs = [
            EntrySpec(
                effective_date=day,
                legs=[debit("13881", amount), credit("5151", amount)],
                memo="Dự thu lãi",
                idempotency_key=f"{prefix}-{n}",
                document_type="loan",
                document_id=n,
            )
            for n, amount in inputs
        ]
        posted = journal_entries_post_bulk(entries=specs)
        assert posted == len(inputs)
        return time.perf_counter() - t

    def bulk_raw(prefix: str, bare: bool = False) -> float:
        no_dims = (None, None, None, "")
        macs = [  # computed before the clock starts: the baseline is the bare COPY
            mac(day, "Dự thu lãi", "loan", n, [("13881", a, *no_dims), ("5151", -a, *no_dims)])
            for n, a in inputs
        ]
        t = time.perf_counter()
        with raw.cursor() as cur:
            if bare:  # the bare COPY: no trigger, no foreign-key check, same tables and indexes
                cur.execute("SET LOCAL session_replication_role = replica")
            cur.execute(
                "SELECT nextval(pg_get_serial_sequence('accounting_journalentry', 'id')) "
                "FROM generate_series(1, %s)",
                [len(inputs)],
            )
            entry_ids = [r[0] for r in cur.fetchall()]
            with cur.copy(
                "COPY accounting_journalentry (id, effective_date, recorded_at, memo, "
                "document_type, document_id, idempotency_key, request_hash) FROM STDIN"
            ) as copy:
                now = time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime())
                for i, (n, _), h in zip(entry_ids, inputs, macs, strict=True):
                    copy.write_row((i, day, now, "Dự thu lãi", "loan", n, f"{prefix}-{n}", h))
            with cur.copy(
                "COPY accounting_posting (entry_id, account_id, amount, amount_currency, "
                "effective_date, subledger) FROM STDIN"
            ) as copy:
                for i, (_, amount) in zip(entry_ids, inputs, strict=True):
                    copy.write_row((i, ids["13881"], amount, "VND", day, ""))
                    copy.write_row((i, ids["5151"], -amount, "VND", day, ""))
        raw.commit()
        return time.perf_counter() - t

    bulk_service("warm-bs")  # warm-up at full size (plans, caches)
    bulk_raw("warm-br")
    bulk_raw("warm-bb", bare=True)
    t_svc = min(bulk_service("b-s1"), bulk_service("b-s2"))
    t_raw = min(bulk_raw("b-r1"), bulk_raw("b-r2"))
    t_bare = min(bulk_raw("b-b1", bare=True), bulk_raw("b-b2", bare=True))
    figures["b_bulk_service_entries_per_s"] = round(N_BULK / t_svc, 1)
    figures["b_raw_copy_entries_per_s"] = round(N_BULK / t_raw, 1)
    figures["b_bare_copy_entries_per_s"] = round(N_BULK / t_bare, 1)
    figures["b_ratio"] = round(t_bare / t_svc, 3)
    figures["b_ratio_to_copy_with_triggers"] = round(t_raw / t_svc, 3)
    log(
        f"    bare COPY (no trigger) {N_BULK / t_bare:,.0f}/s, bulk service "
        f"{N_BULK / t_svc:,.0f}/s, ratio {t_bare / t_svc:.2f} (target ≥ 0.33)"
    )
    log(f"    (COPY through every trigger: {N_BULK / t_raw:,.0f}/s)")
    # A re-run of a posted batch posts nothing (and costs a look-up of the keys).
    t = time.perf_counter()
    journal_entries_post_bulk(
        entries=[
            EntrySpec(
                effective_date=day,
                legs=[debit("13881", amount), credit("5151", amount)],
                memo="Dự thu lãi",
                idempotency_key=f"b-s1-{n}",
                document_type="loan",
                document_id=n,
            )
            for n, amount in inputs
        ]
    )
    figures["b_rerun_entries_per_s"] = round(N_BULK / (time.perf_counter() - t), 1)

    # Sealing what (a) and (b) posted.
    t = time.perf_counter()
    sealed = ledger_seal()
    figures["seal_entries_per_s"] = round(sealed / (time.perf_counter() - t), 1)
    log(f"    sealed {sealed:,} entries at {figures['seal_entries_per_s']:,.0f}/s")

    # ---------------------------------------------------------------------------------------
    # (c) a ledger of 1,000,000 postings
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM accounting_posting")
        existing = cur.fetchone()[0]
    to_add = max(0, N_POSTINGS - existing) // 2
    start = date(today.year - 3, today.month, 1)
    span = (today - start).days
    log(f"(c) loading {to_add * 2:,} more postings ({start} … {today}) by COPY, triggers off…")
    rng = random.Random(SEED)
    kinds = [  # (debit, credit, weight): a loan fund's daily life
        ("1283", "1121", 20),  # disbursement
        ("1121", "1283", 35),  # principal collected
        ("13881", "5151", 25),  # interest accrued
        ("1121", "13881", 15),  # interest collected
        ("1121", "4111", 2),  # capital
        ("6421", "1111", 3),  # expenses
    ]
    weights = [k[2] for k in kinds]
    t = time.perf_counter()
    dates = sorted(start + timedelta(days=rng.randrange(span + 1)) for _ in range(to_add))
    with connection.cursor() as cur:
        cur.execute(
            "SELECT nextval(pg_get_serial_sequence('accounting_journalentry', 'id')) "
            "FROM generate_series(1, %s)",
            [to_add],
        )
        entry_ids = [r[0] for r in cur.fetchall()]
        cur.execute("SET session_replication_role = replica")
        pg = cur.cursor
        now = time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime())
        rows = []  # (entry id, date, debit, credit, amount, dimensions), drawn in a fixed order
        for i, d, kind in zip(entry_ids, dates, rng.choices(kinds, weights, k=to_add), strict=True):
            amount = rng.randrange(1, 500) * 10_000
            su = rng.randrange(1, 46)
            gu = su * 1000 + rng.randrange(1, 209)
            rows.append(
                (i, d, kind[0], kind[1], amount, (1, su, gu, f"loan:{rng.randrange(1, 200_000)}"))
            )
        with pg.copy(
            "COPY accounting_journalentry (id, effective_date, recorded_at, memo, document_type, "
            "document_id, idempotency_key, request_hash) FROM STDIN"
        ) as copy:
            for i, d, dr, cr, amount, dims in rows:
                h = mac(d, "Bút toán mẫu", "loan", i, [(dr, amount, *dims), (cr, -amount, *dims)])
                copy.write(f"{i}\t{d}\t{now}\tBút toán mẫu\tloan\t{i}\tgen-{i}\t{h}\n")
        with pg.copy(
            "COPY accounting_posting (entry_id, account_id, amount, amount_currency, "
            "effective_date, fund_id, superior_union_id, grassroots_union_id, subledger) "
            "FROM STDIN"
        ) as copy:
            buf = []
            for i, d, dr, cr, amount, (fund, su, gu, loan) in rows:
                buf.append(
                    f"{i}\t{ids[dr]}\t{amount}\tVND\t{d}\t{fund}\t{su}\t{gu}\t{loan}\n"
                    f"{i}\t{ids[cr]}\t{-amount}\tVND\t{d}\t{fund}\t{su}\t{gu}\t{loan}\n"
                )
                if len(buf) >= 5000:
                    copy.write("".join(buf))
                    buf.clear()
            copy.write("".join(buf))
        cur.execute("SET session_replication_role = DEFAULT")
        cur.execute("ANALYZE accounting_journalentry")
        cur.execute("ANALYZE accounting_posting")
        cur.execute("SELECT count(*) FROM accounting_posting")
        total = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM accounting_posting WHERE account_id = %s", [ids["1121"]])
        in_1121 = cur.fetchone()[0]
    figures["c_postings"] = total
    figures["c_postings_in_account_1121"] = in_1121
    figures["c_load_s"] = round(time.perf_counter() - t, 1)
    log(f"    {total:,} postings ({in_1121:,} on 1121) in {figures['c_load_s']} s")

    def one_balance():
        account_balance(account="1121", as_of=today)

    def union_balance():
        account_balance(account="1283", as_of=today, superior_union_id=7)

    def tb():
        assert trial_balance(as_of=today).balanced

    figures["c_account_balance_ms_no_checkpoints"] = median_ms(one_balance, 7)
    figures["c_trial_balance_ms_no_checkpoints"] = median_ms(tb, 3)
    log(
        f"    without checkpoints: account_balance "
        f"{figures['c_account_balance_ms_no_checkpoints']} ms, trial_balance "
        f"{figures['c_trial_balance_ms_no_checkpoints']} ms"
    )

    log("    closing every past month (period_close writes the checkpoints)…")
    month_ends = []
    d = date(start.year, start.month, 1)
    while True:
        nxt = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
        if nxt > today.replace(day=1):
            break
        month_ends.append(nxt - timedelta(days=1))
        d = nxt
    t = time.perf_counter()
    for me in month_ends:
        period_close(through=me, note="benchmark")
    figures["c_months_closed"] = len(month_ends)
    figures["c_period_close_ms_per_month"] = round(
        (time.perf_counter() - t) * 1000 / len(month_ends), 1
    )
    with connection.cursor() as cur:
        cur.execute("ANALYZE accounting_accountcheckpoint")

    figures["c_account_balance_ms"] = median_ms(one_balance, 21)
    figures["c_trial_balance_ms"] = median_ms(tb, 7)
    figures["c_union_account_balance_ms"] = median_ms(union_balance, 7)
    log(
        f"    with checkpoints ({len(month_ends)} months closed): account_balance "
        f"{figures['c_account_balance_ms']} ms (target < 20), trial_balance "
        f"{figures['c_trial_balance_ms']} ms (target < 1000); balance of one superior union "
        f"{figures['c_union_account_balance_ms']} ms"
    )
    t = time.perf_counter()
    assert checkpoints_verify().ok
    figures["c_checkpoints_verify_s"] = round(time.perf_counter() - t, 2)
    log(f"    verify_checkpoints over the whole ledger: {figures['c_checkpoints_verify_s']} s")

    figures["targets_met"] = {
        "a": figures["a_ratio"] >= 0.8,
        "b": figures["b_ratio"] >= 1 / 3,
        "c_balance": figures["c_account_balance_ms"] < 20,
        "c_trial_balance": figures["c_trial_balance_ms"] < 1000,
    }
    raw.close()
    raw_auto.close()
    connection.close()
    drop_database(info)
    return figures


if __name__ == "__main__":
    started = time.perf_counter()
    result = main()
    result["run_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result, ensure_ascii=False, sort_keys=True), flush=True)
