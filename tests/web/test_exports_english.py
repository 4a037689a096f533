"""Every export of the site (XLSX and CSV), downloaded in English: its title, its headers and
its own words in the rows (totals, statuses, buckets, codes' words, the chart's accounts by
their English names) are English; what is left with a Vietnamese letter is data (names of
people, unions, the fund, products, capital sources, what people wrote). The audit log's rows
keep what was stored when the change was made (the object as it was then named, the values
written): only its title and headers are checked."""

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from accounting.models import Account, JournalEntry
from fund.models import CapitalSource
from tests.web.helpers import data_names, in_english
from tests.web.test_audit_english import VIETNAMESE

pytestmark = pytest.mark.django_db

# (role, URL name, query): every view that answers ?format=xlsx|csv (the union pages' exports
# are checked with their pages).
EXPORTS = [
    ("fund", "reports:loans_export", {}),
    ("fund", "reports:borrowers_export", {}),
    ("fund", "reports:overdue_export", {}),
    ("grassroots", "reports:collection_history_export", {}),
    ("fund", "reports:portfolio_at_risk", {"by": "grassroots_union"}),
    ("auditor", "audit:trial_balance", {}),
    ("auditor", "audit:balance_sheet", {}),
    ("auditor", "audit:income_statement", {}),
    ("auditor", "audit:general_ledger", {"account": "1283", "start": "01/01/2000"}),
    ("auditor", "audit:entry_detail", None),
    ("auditor", "audit:chain", {}),
    ("auditor", "audit:audit_log", {}),
    ("auditor", "audit:backdated", {}),
]


def _download(client, url_name, query, fmt):
    if query is None:  # the first entry of the books
        url = reverse(url_name, args=[JournalEntry.objects.order_by("pk").first().pk])
        query = {}
    else:
        url = reverse(url_name)
    r = client.get(url, {**query, "format": fmt})
    assert r.status_code == 200, (url_name, r.status_code)
    return b"".join(r.streaming_content) if r.streaming else r.content


def _xlsx_texts(data: bytes, rows: int | None) -> list[str]:
    """The texts of the first `rows` rows (all: None) of the sheet (title, headers, body).
    (The sheet's name is its title cut at 31 characters: a name may be cut in the middle.)"""
    ws = load_workbook(io.BytesIO(data)).active
    return [
        c for row in ws.iter_rows(max_row=rows, values_only=True) for c in row if isinstance(c, str)
    ]


def _csv_texts(data: bytes, rows: int | None) -> list[str]:
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    return [c for row in table[:rows] for c in row]


def vietnamese_left(texts) -> list[str]:
    names = data_names() + [
        # An account without an English name is shown by its Vietnamese one.
        *Account.objects.filter(name_en="").values_list("name", flat=True),
        *CapitalSource.objects.values_list("name", flat=True),
    ]
    text = " ".join(texts)
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, " ")
    return sorted({w for w in text.split() if VIETNAMESE.search(w)})


@pytest.mark.parametrize(("role", "url_name", "query"), EXPORTS, ids=[e[1] for e in EXPORTS])
def test_each_export_in_english_has_no_vietnamese_of_its_own(
    as_user, officers, loan, role, url_name, query
):
    c = in_english(as_user(getattr(officers, role)))
    stored = url_name == "audit:audit_log"
    xlsx = _xlsx_texts(_download(c, url_name, query, "xlsx"), 2 if stored else None)
    csv_ = _csv_texts(_download(c, url_name, query, "csv"), 1 if stored else None)
    assert xlsx and csv_
    assert not vietnamese_left(xlsx), vietnamese_left(xlsx)
    assert not vietnamese_left(csv_), vietnamese_left(csv_)
