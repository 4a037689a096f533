"""The remittance form's row refusals in Chromium at a phone's width (360 px) and a laptop's
(1366 px): the refusal of row 2 shows on row 2 ("Dòng 2", though it is the first line with an
amount), in a line of its own below the row, and the amount inputs stay where they were and on
screen. Screenshots in test-artifacts/browser/."""

from datetime import timedelta

import pytest
from selenium.webdriver.common.by import By

from loans.models import RepaymentBatch
from loans.tests.factories import BorrowerFactory, today
from loans.tests.helpers import disbursed_loan
from tests.browser.helpers import fill, wait_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("purge_ledger_after"),
]

BOX = "const r = arguments[0].getBoundingClientRect(); return [r.left, r.right, window.innerWidth];"


def test_a_row_refusal_stays_on_its_row_and_the_inputs_in_place(
    browser, live_server, login_as, screenshot, org, officers, product, capital
):
    disbursed_loan(
        borrower=BorrowerFactory(grassroots_union=org.lb1, full_name="Nguyễn Thị Hoa"),
        product=product,
        officers=officers,
        days_ago=45,
    )
    late = disbursed_loan(
        borrower=BorrowerFactory(grassroots_union=org.lb1, full_name="Trần Thị Út"),
        product=product,
        officers=officers,
        days_ago=40,
    )
    login_as(officers.fund)
    url = f"{live_server.url}/loans/remittance/?union={org.lb1.pk}"
    for width in (360, 1366):
        browser.set_window_size(width, 900)
        browser.get(url)
        inputs = browser.find_elements(By.CSS_SELECTOR, "[data-testid=collection-sheet] input")
        before = [browser.execute_script(BOX, el) for el in inputs]
        assert all(0 <= left and right <= inner for left, right, inner in before), (width, before)
        fill(browser, inputs[0].get_attribute("name"), "")
        fill(browser, f"amount_{late.pk}", "500.000")
        fill(browser, "receipt_number", f"UNC-{width}")
        fill(browser, "paid_on", (today() - timedelta(days=42)).isoformat())
        browser.find_element(By.ID, "collection-submit").click()
        wait_for(browser, "500.000 ₫")  # the confirmation, its total added up by the server
        browser.find_element(By.ID, "confirm-submit").click()
        wait_for(browser, "Dòng 2: Ngày trả nợ không được trước ngày giải ngân")
        screenshot(f"row-error-{width}")
        error = browser.find_element(By.CSS_SELECTOR, "[data-row-error='2']")
        assert "Dòng 2" in error.text and not browser.find_elements(
            By.CSS_SELECTOR, "[data-row-error='1']"
        )
        inputs = browser.find_elements(By.CSS_SELECTOR, "[data-testid=collection-sheet] input")
        after = [browser.execute_script(BOX, el) for el in inputs]
        for (l0, r0, _w), (l1, r1, inner) in zip(before, after, strict=True):
            assert abs(l1 - l0) <= 1 and abs(r1 - r0) <= 1, (width, before, after)
            assert 0 <= l1 and r1 <= inner
        assert browser.execute_script(
            "return document.documentElement.scrollWidth <= window.innerWidth;"
        ), f"the page scrolls sideways at {width} px"
    assert not RepaymentBatch.objects.exists()
