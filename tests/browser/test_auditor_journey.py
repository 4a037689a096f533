"""An auditor's journey in real Chromium: trial balance, exports, an entry, the chain check."""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
import time
from pathlib import Path

import pytest
from openpyxl import load_workbook
from selenium.webdriver.common.by import By

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def downloads():
    path = Path(tempfile.mkdtemp(prefix="trovon-downloads-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def chromium_prefs(downloads):
    """The harness's Chromium, downloading into a temporary folder without asking."""
    return {
        "intl.accept_languages": "vi-VN,vi",
        "download.default_directory": str(downloads),
        "download.prompt_for_download": False,
        "download.directory_upgrade": True,
    }


def wait_for_file(folder: Path, suffix: str, timeout: float = 20) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [p for p in folder.glob(f"*{suffix}") if p.stat().st_size > 0]
        if done and not list(folder.glob("*.crdownload")):
            return done[0]
        time.sleep(0.2)
    raise AssertionError(f"no {suffix} downloaded into {folder}: {list(folder.iterdir())}")


def test_auditor_checks_the_trial_balance_exports_it_and_verifies_the_chain(
    browser, live_server, login_as, screenshot, downloads, purge_ledger_after, click_through
):
    from loans.tests.factories import today
    from reports.tests.factories import two_funds
    from reports.web.audit import quarter_of

    books = two_funds()
    login_as(books.main.officers.auditor)

    # The trial balance, for a period typed day first (the quarter's first day to today).
    browser.get(live_server.url + "/audit/trial-balance/")
    start = browser.find_element(By.ID, "id_start")
    assert start.get_attribute("value") == quarter_of(today())[0].strftime("%d/%m/%Y")
    start.clear()
    start.send_keys(books.disbursed_on.strftime("%d/%m/%Y"))
    end = browser.find_element(By.ID, "id_end")
    end.clear()
    end.send_keys(today().strftime("%d/%m/%Y"))
    click_through(browser.find_element(By.ID, "show"))
    label = browser.find_element(By.CSS_SELECTOR, ".period-label").text
    assert f"{books.disbursed_on:%d/%m/%Y} – {today():%d/%m/%Y}" in label
    assert browser.find_element(By.ID, "balanced").text == "Cân đối: tổng Nợ bằng tổng Có."
    totals = [c.text for c in browser.find_elements(By.CSS_SELECTOR, "#totals td.num")]
    assert totals[4] == totals[5] and totals[4].endswith(" ₫")
    assert "1.000.000.000 ₫" in browser.find_element(By.ID, "trial-balance").text
    screenshot("1-trial-balance")

    # Exported to XLSX: the totals are numbers equal to the page's.
    browser.find_element(By.ID, "export-xlsx").click()
    xlsx = wait_for_file(downloads, ".xlsx")
    assert xlsx.name.startswith("can-doi-so-phat-sinh_")
    rows = [list(r) for r in load_workbook(xlsx).active.iter_rows(values_only=True)]
    assert rows[-1][1] == "Tổng cộng" and rows[-1][6] == rows[-1][7]
    assert f"{rows[-1][6]:,}".replace(",", ".") + " ₫" == totals[4]

    # And to CSV, readable as UTF-8 with its Vietnamese names.
    browser.find_element(By.ID, "export-csv").click()
    text = wait_for_file(downloads, ".csv").read_bytes().decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert table[0][1] == "Tên tài khoản" and "Vốn ngân sách thành phố" in text
    screenshot("2-exported")

    # From the account to its general ledger, and from a line to the entry.
    click_through(browser.find_element(By.CSS_SELECTOR, "#trial-balance a[href*='account=1283']"))
    assert "1283 Cho vay" in browser.find_element(By.TAG_NAME, "h2").text
    screenshot("3-general-ledger")
    click_through(browser.find_elements(By.CSS_SELECTOR, "a.entry-link")[0])
    assert browser.find_element(By.ID, "memo").text == books.main.entry.memo
    assert books.main.entry.chain_link.link_hash in browser.find_element(By.ID, "chain-link").text
    screenshot("4-entry")

    # The chain verification, run on demand.
    click_through(browser.find_element(By.CSS_SELECTOR, ".audit-nav a[href$='/audit/chain/']"))
    click_through(browser.find_element(By.ID, "run-verify"))
    result = browser.find_element(By.ID, "chain-result").text
    assert result.startswith("Chuỗi toàn vẹn")
    assert "khớp" in browser.find_element(By.ID, "checkpoint-result").text
    screenshot("5-chain-verified")
