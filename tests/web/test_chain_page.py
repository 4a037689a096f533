"""The auditor's chain page: the signed head, the last scheduled check, every check on demand,
and the heads an auditor kept checked against today's chain (upload or paste)."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounting.selectors import ledger_signed_head
from accounting.tests.factories import entry_post
from fund.integrity import integrity_check_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def sealed_books(org):
    for i in range(3):
        entry_post(1_000 + i, on=date(2025, 3, 10))
    return integrity_check_run()


@pytest.mark.parametrize("who", ["auditor", "fund"])
def test_the_page_shows_the_signed_head_and_the_last_check(as_user, officers, sealed_books, who):
    html = as_user(getattr(officers, who)).get(reverse("audit:chain")).content.decode()
    assert ledger_signed_head().line() in html
    assert 'id="last-check" class="ok"' in html
    assert "Chuỗi niêm phong nhật ký thay đổi" in html


def test_every_check_runs_on_demand(as_user, officers, sealed_books):
    html = as_user(officers.auditor).get(reverse("audit:chain"), {"run": 1}).content.decode()
    for check in ("check-ledger", "check-turnover", "checkpoint-result", "check-audit"):
        assert f'id="{check}" class="ok"' in html


def test_kept_heads_uploaded_are_found_in_the_chain(as_user, officers, sealed_books):
    kept = ledger_signed_head().line()
    forged = kept.replace(kept.split()[3], "0" * 64)
    upload = SimpleUploadedFile("heads.txt", f"{kept}\n".encode())
    c = as_user(officers.auditor)
    html = c.post(
        reverse("audit:chain"), {"heads_file": upload, "heads_text": forged}
    ).content.decode()
    results = html.split('id="published-results"', 1)[1]
    assert "còn nguyên trong chuỗi" in results and "KHÔNG KHỚP" in results


def test_an_upload_without_heads_is_refused_with_the_field_named(as_user, officers, sealed_books):
    c = as_user(officers.auditor)
    r = c.post(reverse("audit:chain"), {"heads_text": "không có gì"})
    assert r.status_code == 200
    assert r.context["heads_form"].errors["heads_file"]
    bad = SimpleUploadedFile("heads.txt", b"\xff\xfe\x00")
    r = c.post(reverse("audit:chain"), {"heads_file": bad})
    assert "UTF-8" in r.context["heads_form"].errors["heads_file"][0]


@pytest.mark.parametrize(
    "page", ["trial_balance", "balance_sheet", "income_statement", "general_ledger"]
)
def test_statement_exports_carry_the_signed_head(as_user, officers, sealed_books, page):
    from io import BytesIO

    from openpyxl import load_workbook

    query = (
        {"format": "xlsx", "account": "1121"} if page == "general_ledger" else {"format": "xlsx"}
    )
    r = as_user(officers.auditor).get(reverse(f"audit:{page}"), query)
    ws = load_workbook(BytesIO(r.getvalue())).active  # streamed or not
    assert ledger_signed_head().line() in ws["B1"].value
