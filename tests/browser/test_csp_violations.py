"""In real Chromium, with the Content Security Policy in force, no page of any role reports a
violation: nothing the app needs is blocked (a blocked style or script would break the page
silently, so the browser's own securitypolicyviolation events are collected)."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db(transaction=True)

# Runs in every new document before its own scripts (DevTools, so the policy does not apply to
# it) and keeps each violation the browser reports.
RECORD = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + e.sourceFile
                    + ':' + e.lineNumber);
});
"""


def _visit(browser, url: str) -> list[str]:
    browser.get(url)
    browser.find_element("tag name", "body")
    return list(browser.execute_script("return window.__csp || []"))


def test_no_page_reports_a_policy_violation(browser, live_server, login_as, screenshot):
    from django.contrib.auth import get_user_model

    from reports.tests.factories import two_funds

    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD})
    books = two_funds().main
    loan, app = books.loan, books.application
    pages = {
        books.officers.fund: [
            reverse("loans:dashboard"),
            reverse("loans:disbursements"),
            reverse("loans:change_request_list"),
            reverse("loans:loan_list"),
            reverse("loans:loan_detail", args=[loan.pk]),
            reverse("loans:loan_visit", args=[loan.pk]),
            reverse("loans:borrower_detail", args=[books.borrower.pk]),
            reverse("loans:application_detail", args=[app.pk]),
            reverse("fundweb:plans"),
            reverse("fundweb:capital"),
            reverse("loans:reminder_log"),
        ],
        books.officers.grassroots: [reverse("loans:collections"), reverse("loans:propose")],
        books.officers.auditor: [
            reverse("audit:trial_balance"),
            reverse("audit:general_ledger") + "?account=1283",
            reverse("audit:entry_detail", args=[books.entry.pk]),
            reverse("audit:chain"),
            reverse("audit:audit_log"),
            reverse("api:docs"),
            reverse("api:redoc"),
        ],
        get_user_model().objects.create_superuser("csp_admin", password="x-only-for-tests"): [
            "/admin/",
            "/admin/loans/loan/",
            f"/admin/loans/loan/{loan.pk}/change/",
        ],
    }
    seen = {}
    for user, urls in pages.items():
        browser.delete_all_cookies()
        login_as(user)
        for url in urls:
            violations = _visit(browser, live_server.url + url)
            if url == reverse("api:docs"):  # Swagger UI draws itself from its fetched script
                browser.find_element("css selector", ".swagger-ui")
            seen[url] = violations
    screenshot("admin-loan")
    assert not any(seen.values()), {u: v for u, v in seen.items() if v}
    assert len(seen) == sum(map(len, pages.values()))


def test_the_recorder_sees_a_violation(browser, live_server, login_as):
    """The check above is not blind: a page made to load an inline style reports it."""
    from reports.tests.factories import two_funds

    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD})
    books = two_funds().main
    login_as(books.officers.auditor)
    browser.get(live_server.url + reverse("audit:trial_balance"))
    browser.execute_script(
        "var s = document.createElement('style'); s.textContent = 'body{color:red}';"
        "document.head.appendChild(s);"
    )
    violations = browser.execute_script("return window.__csp")
    assert any(v.startswith("style-src") for v in violations), violations
