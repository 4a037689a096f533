"""The auditor's pages in English: switched with the language switch (Django's set_language)."""

import re
from html import unescape

import pytest
from django.urls import reverse

from tests.web.helpers import in_english

pytestmark = pytest.mark.django_db

# Letters only Vietnamese uses (English headings have none of them).
VIETNAMESE = re.compile(
    "[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]", re.IGNORECASE
)


def _texts(html: str, tag: str) -> list[str]:
    found = re.findall(rf"<{tag}\b[^>]*>(.*?)</{tag}>", html, flags=re.S)
    return [" ".join(unescape(re.sub(r"<[^>]+>", " ", t)).split()) for t in found]


def _headings(html: str) -> list[str]:
    """The page's own headings: its title, the audit menu, table headers and filter labels."""
    audit = html.split('<div class="audit">', 1)[1]
    nav = audit.split("</nav>", 1)[0]
    return [
        *_texts(audit, "h1"),
        *_texts(nav, "a"),
        *_texts(audit, "th"),
        *[t.split("<")[0] for t in re.findall(r"<label>([^<]+)<", audit)],
        *_texts(audit, "button"),
    ]


@pytest.mark.parametrize("who", ["auditor", "fund"])
def test_trial_balance_and_general_ledger_in_english(as_user, officers, loan, who):
    c = as_user(getattr(officers, who))
    tb_url = reverse("audit:trial_balance")
    vi = c.get(tb_url).content.decode()
    assert "Bảng cân đối số phát sinh" in vi and "Số dư đầu kỳ" in vi  # Vietnamese by default

    tb = in_english(c, tb_url).get(tb_url)
    html = tb.content.decode()
    assert tb.status_code == 200 and '<html lang="en">' in html
    heads = _headings(html)
    assert "Trial balance" in heads
    assert {"Account", "Account name", "Opening balance", "Closing balance", "Debit"} <= set(heads)
    assert "Balanced: total debits equal total credits." in html
    vietnamese = [h for h in heads if VIETNAMESE.search(h)]
    assert not vietnamese, vietnamese

    gl_url = f"{reverse('audit:general_ledger')}?account=1283&start=01/01/2000"
    gl = c.get(gl_url)
    html = gl.content.decode()
    heads = _headings(html)
    assert "General ledger" in heads
    assert {"Date", "Entry", "Description", "Document", "Balance"} <= set(heads)
    assert "Opening balance" in html and "Closing balance" in html and "Total movements" in html
    vietnamese = [h for h in heads if VIETNAMESE.search(h)]
    assert not vietnamese, vietnamese
    assert "Sổ cái tài khoản" not in html and "Số dư đầu kỳ" not in html

    # The chart's accounts by their English names (the ledger's page, the balance sheet).
    assert "1283 Loans to members" in html and "1283 Cho vay" not in html
    bs = c.get(reverse("audit:balance_sheet")).content.decode()
    assert "Fund capital" in bs and "Nguồn vốn quỹ" not in bs
    # The exports follow the page's language too.
    csv = c.get(tb_url, {"format": "csv"}).content.decode("utf-8-sig").splitlines()[0]
    assert csv.startswith("Account,Account name,Opening debit")
