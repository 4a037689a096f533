"""A union remits, the fund imports the bank's statement and confirms the receipt, in real
headless Chromium: the money moves from 1131 (in transit) to 1121 (the bank)."""

import pytest
from selenium.webdriver.common.by import By

from accounting.selectors import account_balance
from loans.models import BankStatementLine, RepaymentBatch
from loans.tests.factories import BorrowerFactory, today
from loans.tests.helpers import disbursed_loan
from tests.browser.helpers import fill, wait_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("purge_ledger_after"),
]


def test_a_union_remits_and_the_fund_confirms_it_against_the_bank(
    browser, live_server, login_as, screenshot, org, officers, product, capital, tmp_path
):
    disbursed_loan(
        borrower=BorrowerFactory(grassroots_union=org.lb1, full_name="Nguyễn Thị Hoa"),
        product=product,
        officers=officers,
    )
    login_as(officers.grassroots)
    browser.get(live_server.url + "/loans/collections/")
    fill(browser, "receipt_number", "UNC-0712")
    browser.find_element(By.ID, "collection-submit").click()
    wait_for(browser, "Xác nhận đợt nộp tiền")
    browser.find_element(By.ID, "confirm-submit").click()
    wait_for(browser, "Đã ghi đợt nộp UNC-0712")
    batch = RepaymentBatch.objects.get()
    amount = batch.amount.amount
    fund_id = org.fund.pk
    assert account_balance(account="1131", as_of=today(), fund_id=fund_id) == amount

    browser.delete_all_cookies()
    login_as(officers.fund)
    browser.get(live_server.url + "/loans/bank/")
    grouped = f"{int(amount):,}".replace(",", ".")
    statement = tmp_path / "saoke.csv"
    statement.write_text(
        "Sao kê tài khoản 0011004\n\n"
        "Ngày giao dịch,Số tiền,Số tham chiếu,Nội dung\n"
        f'{today():%d/%m/%Y},"{grouped}",FT0712,LB-001 nop tien UNC-0712\n',
        encoding="utf-8",
    )
    browser.find_element(By.NAME, "file").send_keys(str(statement))
    screenshot("1-statement")
    browser.find_element(By.ID, "statement-submit").click()
    wait_for(browser, "Đã nhập 1 giao dịch mới")
    unmatched = browser.find_element(By.CSS_SELECTOR, "[data-testid=unmatched]").text
    assert "FT0712" in unmatched and "UNC-0712" in unmatched
    screenshot("2-unmatched")
    browser.find_element(By.LINK_TEXT, "Đối chiếu").click()
    browser.find_element(By.ID, "match-submit").click()  # the exact match is chosen already
    wait_for(browser, "Nợ TK 1121 / Có TK 1131")
    screenshot("3-confirm")
    browser.find_element(By.ID, "confirm-submit").click()
    wait_for(browser, "Đã xác nhận đợt nộp UNC-0712")
    screenshot("4-confirmed")
    assert BankStatementLine.objects.get().batch_id == batch.pk
    assert account_balance(account="1131", as_of=today(), fund_id=fund_id) == 0
