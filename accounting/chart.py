"""Loading the chart of accounts, shared by the data migration and `chart_load`.

Takes the Account model as an argument so that the migration can pass its historical model.
"""

import csv
from collections.abc import Iterable
from pathlib import Path

CHART_FILE = Path(__file__).parent / "data" / "chart_of_accounts.csv"
_NORMAL = {
    "asset": "debit",
    "expense": "debit",
    "liability": "credit",
    "equity": "credit",
    "income": "credit",
}


def read_chart_rows() -> list[dict]:
    with CHART_FILE.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def load_chart(Account, rows: Iterable[dict] | None = None) -> int:
    """Create or update accounts by code; idempotent. Parents must precede their children."""
    if rows is None:
        rows = read_chart_rows()
    count = 0
    for row in rows:
        parent = Account.objects.get(code=row["parent"]) if row.get("parent") else None
        contra = str(row.get("contra", "0")) in ("1", "true", "True")
        side = _NORMAL[row["type"]]
        if contra:
            side = "credit" if side == "debit" else "debit"
        Account.objects.update_or_create(
            code=row["code"],
            defaults={
                "name": row["name"],
                "name_en": row.get("name_en", ""),
                "parent": parent,
                "path": (parent.path if parent else "/") + row["code"] + "/",
                "account_type": row["type"],
                "normal_side": side,
                "is_contra": contra,
                "currency": row.get("currency") or "VND",
            },
        )
        count += 1
    return count
