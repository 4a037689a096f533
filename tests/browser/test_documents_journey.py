"""A grassroots union's officer attaches the household certificate on the application's page in
real headless Chromium: the page named it missing before review, and no longer does."""

import pytest
from selenium.webdriver.common.by import By

from loans.models import Document
from loans.tests.factories import application_to
from loans.tests.helpers import pdf_bytes
from tests.browser.helpers import fill, wait_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("purge_ledger_after"),
]


def test_an_officer_uploads_the_missing_certificate_on_the_application_page(
    browser, live_server, login_as, screenshot, chain, officers, tmp_path
):
    chain.product.required_document_kinds = ["household_certificate"]
    chain.product.save()
    app = application_to(
        "submitted",
        borrower=chain.borrower,
        product=chain.product,
        maker=chain.maker,
        approver=None,
    )
    login_as(officers.grassroots)
    browser.get(f"{live_server.url}/loans/applications/{app.pk}/")
    missing = browser.find_element(By.CSS_SELECTOR, "[data-testid=documents-missing]").text
    assert "Giấy chứng nhận hộ nghèo" in missing
    certificate = tmp_path / "Giấy chứng nhận hộ nghèo.pdf"
    certificate.write_bytes(pdf_bytes("Giay chung nhan ho ngheo"))
    fill(browser, "kind", "household_certificate")
    browser.find_element(By.NAME, "file").send_keys(str(certificate))
    screenshot("1-chosen")
    browser.find_element(By.ID, "document-submit").click()
    wait_for(browser, "Đã tải lên tài liệu.")
    screenshot("2-uploaded")
    assert not browser.find_elements(By.CSS_SELECTOR, "[data-testid=documents-missing]")
    link = browser.find_element(By.CSS_SELECTOR, "[data-testid=document-download]")
    assert link.text == "Giấy chứng nhận hộ nghèo.pdf"
    doc = Document.objects.get()
    assert doc.application_id == app.pk and doc.uploaded_by == officers.grassroots
    assert doc.kind == "household_certificate" and doc.content_type == "application/pdf"
