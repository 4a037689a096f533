"""The header at a phone's width (360 px) and a laptop's (1366 px), in Vietnamese and English:
nothing overflows the page sideways, sign-out and password change are always on screen, and on
a phone the menu folds behind its button. Screenshots in test-artifacts/browser/.

Then every kind of page each role can reach, at both widths in both languages. Where the time
goes (a profile of WebDriver's commands): a ``find_elements`` that finds nothing waits out the
browser fixture's implicit wait (2 s), and the old walk asked twice a page for something absent
(the error page, a list's table), about 85% of its nine minutes. The walk now waits for nothing
(the page is loaded when ``get`` returns), reads each width's state in one script, and resizes
the window rather than loading a page twice."""

from urllib.parse import urlsplit

import pytest
from django.urls import Resolver404, resolve, reverse
from selenium.webdriver.common.by import By

from fund.models import CapitalSource
from loans.servicing.repayments import repayment_batch_post
from loans.tests.factories import BorrowerFactory, application_to, new_key, today
from tests.web.helpers import bank_statement_line, capital_move_waiting, reschedule_requested

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("purge_ledger_after"),
]

WIDTHS = (360, 1366)


def _visible_in_viewport(browser, element) -> bool:
    return browser.execute_script(
        "const r = arguments[0].getBoundingClientRect();"
        "return r.width > 0 && r.left >= 0 && r.right <= window.innerWidth;",
        element,
    )


def _check_header(browser, width, menu_label):
    assert browser.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth;"
    ), f"the page scrolls sideways at {width} px"
    for testid in ("sign-out", "password-change"):
        el = browser.find_element(By.CSS_SELECTOR, f"[data-testid={testid}]")
        assert _visible_in_viewport(browser, el), f"{testid} off screen at {width} px"
    nav = browser.find_element(By.ID, "site-nav")
    toggle = browser.find_element(By.CSS_SELECTOR, "[data-testid=nav-toggle]")
    if width < 900:
        assert not nav.is_displayed() and toggle.is_displayed()
        assert menu_label in toggle.text
        toggle.click()
        assert nav.is_displayed()
    links = nav.find_elements(By.TAG_NAME, "a")
    assert links and all(_visible_in_viewport(browser, a) for a in links)


def _chart_text(browser) -> list[dict]:
    """Each chart drawn on the page: the size its smallest text is drawn at (px) and the texts
    whose boxes overlap."""
    return browser.execute_script(
        "const out = [];"
        "for (const svg of document.querySelectorAll('svg.chart')) {"
        "  if (!svg.getBoundingClientRect().width) continue;"
        "  const texts = [...svg.querySelectorAll('text')];"
        "  const px = texts.map(t => t.getScreenCTM().a * parseFloat(t.getAttribute('font-size')));"
        "  const boxes = texts.map(t => t.getBoundingClientRect());"
        "  const overlaps = [];"
        "  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {"
        "    const a = boxes[i], b = boxes[j];"
        "    if (a.left < b.right - 0.5 && b.left < a.right - 0.5"
        "        && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5)"
        "      overlaps.push(texts[i].textContent + ' / ' + texts[j].textContent);"
        "  }"
        "  out.push({testid: svg.dataset.testid, smallest: Math.min(...px), overlaps: overlaps,"
        "            inside: svg.getBoundingClientRect().right <= window.innerWidth});"
        "}"
        "return out;"
    )


def test_fund_officer_header_fits_at_360_and_1366_in_both_languages(
    browser, live_server, login_as, screenshot, officers
):
    login_as(officers.fund)
    for lang, menu_label, forbidden_word in (("vi", "Danh mục", None), ("en", "Menu", "Đăng")):
        browser.add_cookie({"name": "django_language", "value": lang, "path": "/"})
        for width in WIDTHS:
            browser.set_window_size(width, 900)
            browser.get(live_server.url + "/loans/dashboard/")
            _check_header(browser, width, menu_label)
            if forbidden_word:
                header = browser.find_element(By.CSS_SELECTOR, "header").text
                assert forbidden_word not in header, header
            # The dashboard's chart: the phone's drawing at 360 px, its text readable (11 px
            # at least) and apart; the wide one at 1366 px.
            (chart,) = _chart_text(browser)
            assert chart["testid"] == ("chart-narrow" if width < 640 else "chart"), chart
            assert chart["smallest"] >= 11 and chart["inside"] and not chart["overlaps"], chart
            screenshot(f"fund-{lang}-{width}")
    # The error pages wear the same header: a fund officer on a grassroots officer's page.
    browser.set_window_size(360, 900)
    browser.get(live_server.url + reverse("loans:propose"))
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid=error-page]").is_displayed()
    sign_out = browser.find_element(By.CSS_SELECTOR, "[data-testid=sign-out]")
    assert _visible_in_viewport(browser, sign_out)
    screenshot("forbidden-en-360")


# What one page shows at the window's width, read in one script: an error page, the page's
# language, what sticks out sideways (the page itself or a menu link), the menu button, and the
# links of the page (same site) with, for a link in a table's row, the row's state (the cell
# under "Trạng thái"/"Status"), so that a loan or an application in each state is its own kind.
PAGE_STATE = """
const out = {error: !!document.querySelector('[data-testid=error-page]'),
             lang: document.documentElement.lang, overflow: [], toggle: null, links: []};
if (document.documentElement.scrollWidth > window.innerWidth) {
  out.overflow.push('page ' + document.documentElement.scrollWidth + 'px');
}
for (const a of document.querySelectorAll('#site-nav a')) {
  const r = a.getBoundingClientRect();
  if (r.width > 0 && (r.left < 0 || r.right > window.innerWidth)) out.overflow.push(a.textContent);
}
const toggle = document.querySelector('[data-testid=nav-toggle]');
if (toggle && toggle.getBoundingClientRect().width > 0) out.toggle = toggle.innerText;
if (arguments[0]) {
  for (const a of document.querySelectorAll('main a[href], #site-nav a[href]')) {
    if (a.hasAttribute('download')) continue;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin) continue;
    let state = '';
    const tr = a.closest('tr'), table = a.closest('table');
    if (tr && table) {
      const heads = [...table.querySelectorAll('thead th')].map(th => th.textContent.trim());
      const i = heads.findIndex(h => h === 'Trạng thái' || h === 'Status');
      if (i >= 0 && tr.cells[i]) state = tr.cells[i].textContent.trim();
    }
    out.links.push([url.pathname + url.search, state]);
  }
}
return out;
"""
# Not pages: files, exports, signing out, the language switch, Django's admin.
NOT_PAGES = {
    "logout",
    "set_language",
    "collection_sheet_pdf",
    "reports:report_download",
    "loans:document_download",
}


def _kind(path: str, state: str) -> tuple | None:
    """The kind of page a link opens: its URL's name (and the row's state), or None when the
    link is not a page of the app to look at."""
    parts = urlsplit(path)
    if "format=" in parts.query or "download" in parts.path:
        return None
    try:
        match = resolve(parts.path)
    except Resolver404:
        return None
    name = match.view_name
    if name in NOT_PAGES or name.endswith("_export") or name.startswith("admin:"):
        return None
    return name, state


def _check(browser, live_server, screenshot, path, lang, menu_label, *, links=False):
    """One page at 1366 px and at 360 px (menu folded, then open): (what is wrong, the links
    the page offers). Loaded once: the window is resized."""
    browser.set_window_size(1366, 900)
    browser.get(live_server.url + path)
    wide = browser.execute_script(PAGE_STATE, links)
    assert not wide["error"], f"{lang} {path}: an error page"
    assert wide["lang"] == lang, path
    problems = [f"{lang} 1366 {path}: {x}" for x in wide["overflow"]]
    slug = path.strip("/").replace("/", "_").replace("?", "_") or "home"
    screenshot(f"{lang}-1366-{slug}")
    browser.set_window_size(360, 900)
    narrow = browser.execute_script(PAGE_STATE, False)
    assert narrow["toggle"] and menu_label in narrow["toggle"], path
    problems += [f"{lang} 360 {path}: {x}" for x in narrow["overflow"]]
    screenshot(f"{lang}-360-{slug}")
    browser.find_element(By.CSS_SELECTOR, "[data-testid=nav-toggle]").click()
    opened = browser.execute_script(PAGE_STATE, False)
    assert browser.find_element(By.ID, "site-nav").is_displayed(), path
    problems += [f"{lang} 360 menu open {path}: {x}" for x in opened["overflow"]]
    return problems, wide["links"]


@pytest.fixture
def reachable(federation, chain):
    """The federation, and one of every page kind's rows: applications in each state, a
    change request, a capital move waiting for its confirmation, a remittance and the bank
    statement's line that may match it."""
    org, officers = federation.org, federation.officers
    for status, union, name in (
        ("submitted", org.lb1, "Lê Thị Một"),
        ("reviewed", org.lb1, "Lê Thị Bốn"),
        ("approved", org.lb1, "Lê Thị Năm"),
    ):
        application_to(
            status,
            borrower=BorrowerFactory(grassroots_union=union, full_name=name),
            product=chain.product,
            maker=officers.grassroots,
            reviewer=officers.superior,
            approver=officers.checker,
        )
    loan = federation.loans[3]  # LB-001's, active
    reschedule_requested(loan, officers.grassroots)
    repayment_batch_post(
        grassroots_union=org.lb1,
        receipt_number="UNC-15",
        paid_on=today(),
        lines=[(loan, 300_000)],
        idempotency_key=new_key("remit"),
    )
    source = CapitalSource.objects.filter(fund=org.fund).first()
    capital_move_waiting(org.fund, source, officers.checker)
    bank_statement_line(org.fund, 300_000, "UNC-15 nop tien")  # the remittance's, to match
    return federation


@pytest.mark.parametrize("role", ["fund", "superior", "grassroots", "auditor"])
def test_every_page_of_every_role_fits_at_360_and_1366_in_both_languages(
    browser, live_server, login_as, screenshot, officers, reachable, role
):
    """Every kind of page the role can reach, in Vietnamese and English, at a laptop's width
    and a phone's: its menu's pages, then every page their links open and the links of those,
    one of each kind (a URL's name, and for a list's row its state: a loan, an application in
    each state, a change request, a remittance's receipt, a bank line, a capital move, an
    officer, a union…). No page and no menu link overflows sideways, the menu folds on the
    phone and opens, no page is an error page; a screenshot of each (test-artifacts/browser/).
    The pages are found in Vietnamese and the same ones opened in English."""
    browser.implicitly_wait(0)  # nothing is waited for: a page is loaded when get() returns
    login_as(getattr(officers, role))
    browser.add_cookie({"name": "django_language", "value": "vi", "path": "/"})
    browser.set_window_size(1366, 900)
    browser.get(live_server.url + "/")
    menu = browser.execute_script(
        "return [...document.querySelectorAll('#site-nav a')].map(a => a.getAttribute('href'));"
    )
    menu = list(dict.fromkeys(p for p in menu if _kind(p, "")))
    assert len(menu) >= 3, f"{role} has a menu of {len(menu)} links"
    seen = {_kind(p, "") for p in menu}
    queue, visited, problems = list(menu), [], []
    while queue:  # in Vietnamese: every page kind reachable from the menu
        path = queue.pop(0)
        found, links = _check(browser, live_server, screenshot, path, "vi", "Danh mục", links=True)
        problems += found
        visited.append(path)
        for href, state in links:
            kind = _kind(href, state)
            if kind and kind not in seen:
                seen.add(kind)
                queue.append(href)
    assert len(visited) > len(menu), f"{role}: no page of the menu opens another"
    browser.add_cookie({"name": "django_language", "value": "en", "path": "/"})
    for path in visited:  # the same pages in English
        problems += _check(browser, live_server, screenshot, path, "en", "Menu")[0]
    assert not problems, "\n".join(problems)
    print(f"{role}: {len(visited)} pages, {len(menu)} of the menu")
