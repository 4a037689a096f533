"""Benchmark: import 10,000 grassroots unions from CSV and XLSX (target: under 10 s each).

    python bench/fund_import.py [--rows 10000]

Uses DATABASE_URL when set (e.g. postgres://postgres@127.0.0.1:5432/trovon_bench), else a
throw-away SQLite file. Each run creates its own funds (codes with a timestamp), so it can run
again on the same database. Prints the figures, then one JSON line with all of them.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "1")
if not os.environ.get("DATABASE_URL"):
    _tmp = tempfile.mkdtemp(prefix="trovon-bench-")
    os.environ["DATABASE_URL"] = f"sqlite:///{_tmp}/bench.sqlite3"

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from openpyxl import Workbook  # noqa: E402

from fund.models import Fund, GrassrootsUnion, OfficerProfile, Role  # noqa: E402
from fund.scoping import scope_for  # noqa: E402
from fund.union_io import COLUMNS, unions_export, unions_import  # noqa: E402

TARGET_SECONDS = 10.0
KINDS = [
    "Cơ quan hành chính, sự nghiệp",
    "Trường học",
    "Doanh nghiệp ngoài nhà nước",
    "Doanh nghiệp nhà nước",
    "Khác",
]


def superior_rows(n: int) -> list[list]:
    header = [h for _, h, _, _ in COLUMNS["superior"]]
    rows = [header]
    for i in range(n):
        rows.append(
            [f"CT{i:02d}", f"LĐLĐ quận số {i}", "LĐLĐ quận, huyện, thị xã", "", "", "", "", "", ""]
        )
    return rows


def grassroots_rows(n: int, n_superior: int) -> list[list]:
    header = [h for _, h, _, _ in COLUMNS["grassroots"]]
    rows = [header]
    for i in range(n):
        rows.append(
            [
                f"CS{i:06d}",
                f"CĐCS đơn vị số {i}",
                KINDS[i % len(KINDS)],
                f"CT{i % n_superior:02d}",
                f"Số {i % 300 + 1} phố Nguyễn Văn Cừ",
                f"Cán bộ {i}",
                f"09{i:08d}",
                f"cdcs{i}@example.vn",
                f"{i % 28 + 1:02d}/{i % 12 + 1:02d}/{2000 + i % 20}",
                "",
            ]
        )
    return rows


def as_csv(rows) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8")


def as_xlsx(rows) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def timed(label, fn, figures, key):
    t0 = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - t0
    figures[key] = round(seconds, 3)
    print(f"  {label:<48} {seconds:7.2f} s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--superior", type=int, default=45)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    stamp = time.strftime("%Y%m%d%H%M%S")
    print(f"Nhập {args.rows:,} CĐCS, {args.superior} CĐ cấp trên — {connection.vendor}")
    figures: dict = {
        "rows": args.rows,
        "superior_unions": args.superior,
        "database": connection.vendor,
        "target_seconds": TARGET_SECONDS,
    }
    sup = superior_rows(args.superior)
    gr = grassroots_rows(args.rows, args.superior)
    files = {"csv": as_csv(gr), "xlsx": as_xlsx(gr)}
    for fmt, data in files.items():
        fund = Fund.objects.create(
            code=f"B{stamp}{fmt}", name=f"Bench {fmt}", federation_name="Bench"
        )
        unions_import(fund=fund, data=as_csv(sup), format="csv", level="superior")
        print(f"{fmt.upper()} ({len(data) / 1e6:.1f} MB)")
        r = timed(
            "lần đầu (tạo mới)",
            partial(unions_import, fund=fund, data=data, format=fmt, level="grassroots"),
            figures,
            f"{fmt}_first",
        )
        assert r.created == args.rows, r
        r = timed(
            "nhập lại cùng tệp (không đổi gì)",
            partial(unions_import, fund=fund, data=data, format=fmt, level="grassroots"),
            figures,
            f"{fmt}_again",
        )
        assert not r.changed, r
        changed = [list(x) for x in gr]
        for row in changed[1::100]:  # 1% change a phone, 1% move
            row[6] = "0900000000"
        for row in changed[2::100]:
            row[3] = "CT00" if row[3] != "CT00" else "CT01"
        data2 = as_csv(changed) if fmt == "csv" else as_xlsx(changed)
        r = timed(
            "nhập tệp sửa 1% và chuyển 1%",
            partial(unions_import, fund=fund, data=data2, format=fmt, level="grassroots"),
            figures,
            f"{fmt}_changes",
        )
        figures[f"{fmt}_changes_updated"], figures[f"{fmt}_changes_moved"] = r.updated, r.moved
        user = get_user_model().objects.create(username=f"bench{stamp}{fmt}")
        OfficerProfile.objects.create(user=user, fund=fund, role=Role.AUDITOR)
        out = timed(
            "xuất toàn bộ",
            partial(unions_export, scope=scope_for(user), level="grassroots", format=fmt),
            figures,
            f"{fmt}_export",
        )
        assert GrassrootsUnion.objects.filter(fund=fund).count() == args.rows
        figures[f"{fmt}_export_bytes"] = len(out)
    worst = max(figures[f"{f}_first"] for f in files)
    figures["ok"] = worst < TARGET_SECONDS
    print(
        f"Chậm nhất: {worst:.2f} s (mục tiêu < {TARGET_SECONDS:.0f} s) — "
        f"{'ĐẠT' if figures['ok'] else 'KHÔNG ĐẠT'}"
    )
    print(json.dumps({"bench": "fund_import", **figures}, ensure_ascii=False))


if __name__ == "__main__":
    main()
