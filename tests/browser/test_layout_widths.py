"""The header at a phone's width (360 px) and a laptop's (1366 px), in Vietnamese and English:
nothing overflows the page sideways, sign-out and password change are always on screen, and on
a phone the menu folds behind its button. Screenshots in test-artifacts/browser/."""

import pytest
from django.urls import reverse
from selenium.webdriver.common.by import By

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


def _overflow(browser) -> list[str]:
    """What sticks out sideways: the page itself, or one of the menu's links."""
    return browser.execute_script(
        "const out = [];"
        "if (document.documentElement.scrollWidth > window.innerWidth) {"
        "  out.push('page ' + document.documentElement.scrollWidth + 'px');"
        "}"
        "for (const a of document.querySelectorAll('#site-nav a')) {"
        "  const r = a.getBoundingClientRect();"
        "  if (r.width > 0 && (r.left < 0 || r.right > window.innerWidth)) out.push(a.textContent);"
        "}"
        "return out;"
    )


def _first_row_link(browser, live_server_url) -> str | None:
    """The first link inside a table of the page's main part: a list's first row, which opens
    that row's own page (a loan, an application, a union, a journal entry…)."""
    for a in browser.find_elements(By.CSS_SELECTOR, "main table a[href]"):
        href = a.get_attribute("href") or ""
        path = href.removeprefix(live_server_url)
        if path.startswith("/") and "format=" not in path and "/download" not in path:
            return href.split("#")[0]
    return None


def _check_page(browser, live_server, screenshot, href, lang, menu_label) -> list[str]:
    """One page at 1366 px and at 360 px (menu folded, then open): what overflows sideways."""
    problems = []
    path = href.removeprefix(live_server.url)
    slug = path.strip("/").replace("/", "_").replace("?", "_") or "home"
    browser.set_window_size(1366, 900)
    browser.get(href)
    assert not browser.find_elements(By.CSS_SELECTOR, "[data-testid=error-page]"), path
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang, path
    problems += [f"{lang} 1366 {path}: {x}" for x in _overflow(browser)]
    screenshot(f"{lang}-1366-{slug}")
    browser.set_window_size(360, 900)
    toggle = browser.find_element(By.CSS_SELECTOR, "[data-testid=nav-toggle]")
    assert toggle.is_displayed() and menu_label in toggle.text, path
    problems += [f"{lang} 360 {path}: {x}" for x in _overflow(browser)]
    screenshot(f"{lang}-360-{slug}")
    toggle.click()
    assert browser.find_element(By.ID, "site-nav").is_displayed(), path
    problems += [f"{lang} 360 menu open {path}: {x}" for x in _overflow(browser)]
    return problems


@pytest.mark.parametrize("role", ["fund", "superior", "grassroots", "auditor"])
def test_every_page_of_every_role_fits_at_360_and_1366_in_both_languages(
    browser, live_server, login_as, screenshot, officers, federation, role
):
    """Every page of the role's menu and the page of each menu list's first row (a loan, an
    application, a union, an entry…), in Vietnamese and English, at a laptop's width and a
    phone's: no page and no menu link overflows sideways, the menu folds on the phone and opens,
    no page is an error page; a screenshot of each (test-artifacts/browser/)."""
    login_as(getattr(officers, role))
    problems = []
    for lang, menu_label in (("vi", "Danh mục"), ("en", "Menu")):
        browser.add_cookie({"name": "django_language", "value": lang, "path": "/"})
        browser.set_window_size(1366, 900)
        browser.get(live_server.url + "/")
        links = [
            a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "#site-nav a")
        ]
        assert len(links) >= 3, f"{role} has a menu of {len(links)} links"
        details = []
        for href in links:
            problems += _check_page(browser, live_server, screenshot, href, lang, menu_label)
            browser.set_window_size(1366, 900)
            row = _first_row_link(browser, live_server.url)
            if row and row not in links and row not in details:
                details.append(row)
        assert details, f"{role}: no list of the menu has a row to open"
        for href in details:
            problems += _check_page(browser, live_server, screenshot, href, lang, menu_label)
    assert not problems, "\n".join(problems)
