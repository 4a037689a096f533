"""Each role through its inbox in real Chromium: the superior union's officer finds the
application to review in the inbox and returns it; the grassroots union's officer finds it
among the returned applications to complete and opens its edit page. (The fund officer's
journey through the inbox to the approval is in test_journeys.py.)"""

import pytest
from selenium.webdriver.common.by import By

from loans.models import ApplicationStatus
from loans.tests.factories import BorrowerFactory, application_to
from tests.browser.helpers import fill, wait_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("purge_ledger_after"),
]


def _count(browser, key: str) -> str:
    return browser.find_element(By.CSS_SELECTOR, f"[data-testid=inbox-{key}] .count").text


def test_superior_returns_through_the_inbox_and_grassroots_completes(
    browser, live_server, screenshot, login_as, click_through, org, officers, product
):
    member = BorrowerFactory(grassroots_union=org.lb1, full_name="Vũ Thị Hằng")
    app = application_to(
        "submitted", borrower=member, product=product, maker=officers.grassroots, approver=None
    )
    # Another superior union's application: never in this officer's inbox.
    application_to(
        "submitted",
        borrower=BorrowerFactory(grassroots_union=org.hbt1, full_name="Đinh Văn Tú"),
        product=product,
        approver=None,
    )

    login_as(officers.superior)
    browser.get(live_server.url + "/")
    assert "/loans/inbox/" in browser.current_url
    assert _count(browser, "reviews") == "1"
    assert browser.find_element(By.LINK_TEXT, "Chờ thẩm định").get_attribute("data-count") == "1"
    screenshot("1-superior-inbox")
    click_through(browser.find_element(By.CSS_SELECTOR, "[data-testid=inbox-reviews] a"))
    table = browser.find_element(By.CSS_SELECTOR, "[data-testid=applications]").text
    assert "Vũ Thị Hằng" in table and "Đinh Văn Tú" not in table
    click_through(browser.find_element(By.LINK_TEXT, f"#{app.pk}"))
    fill(browser, "decision", "return")
    fill(browser, "note", "Bổ sung giấy xác nhận hộ nghèo")
    click_through(browser.find_element(By.CSS_SELECTOR, "form[action*=review] button[type=submit]"))
    wait_for(browser, "Cấp trên trả lại để bổ sung")
    app.refresh_from_db()
    assert app.status == ApplicationStatus.RETURNED
    browser.get(live_server.url + "/loans/inbox/")
    assert _count(browser, "reviews") == "0"
    screenshot("2-superior-returned")

    login_as(officers.grassroots)
    browser.get(live_server.url + "/")
    assert "/loans/inbox/" in browser.current_url
    assert _count(browser, "returned") == "1"
    screenshot("3-grassroots-inbox")
    click_through(browser.find_element(By.CSS_SELECTOR, "[data-testid=inbox-returned] a"))
    click_through(browser.find_element(By.LINK_TEXT, f"#{app.pk}"))
    click_through(browser.find_element(By.CSS_SELECTOR, "[data-testid=application-edit]"))
    assert f"/loans/applications/{app.pk}/edit/" in browser.current_url
    screenshot("4-grassroots-edit")
