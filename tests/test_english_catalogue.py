"""English is complete for what the pages show: every string marked for translation in the
models (names, choices, help texts: status badges, rates, methods, frequencies, purposes,
household status), the pages' Python and templates, the labels of codes and the API's shared
parts has its English in a catalogue. (The services' refusals are checked by
test_refusal_catalogues.py; the admin, used by the fund's administrators, is not walked here.)"""

import ast
import re
from pathlib import Path

from babel.messages.pofile import read_po

from tests.web.test_audit_english import VIETNAMESE

ROOT = Path(__file__).resolve().parents[1]
CATALOGUES = ("config", "accounting", "fund", "loans", "reports")
PYTHON = [
    *ROOT.glob("*/models.py"),
    *ROOT.glob("*/models/*.py"),
    *ROOT.glob("*/apps.py"),
    *ROOT.glob("*/web/*.py"),
    *ROOT.glob("*/templatetags/*.py"),
    ROOT / "fund/labels.py",
    ROOT / "fund/attainment.py",  # the indicators' names (pages, the quarterly PDF and XLSX)
    ROOT / "reports/quarterly.py",  # the quarterly headline and the debt groups' names
    ROOT / "reports/quarterly_render.py",  # the quarterly PDF's and XLSX's tables
    ROOT / "loans/servicing/portfolio.py",  # the ageing buckets (the PAR page and its exports)
    ROOT / "accounting/selectors.py",  # the balance sheet's surplus line
    ROOT / "config/navigation.py",
    ROOT / "config/error_views.py",
    *ROOT.glob("apicommon/*.py"),
]
# The code that writes the documents people download (PDFs, XLSX and CSV files): besides its
# marked strings, no Vietnamese literal of its own may reach a document unmarked.
DOCUMENTS = [
    ROOT / "reports/pdf.py",
    ROOT / "reports/sheets.py",
    ROOT / "reports/exports.py",
    ROOT / "reports/quarterly_render.py",
    *ROOT.glob("reports/web/*.py"),
    ROOT / "fund/union_io.py",  # the union register's export (and import)
]
PYTHON += [p for p in DOCUMENTS if p not in PYTHON]
# Vietnamese literals in that code that no reader sees as a label: {(file, literal): why}.
NOT_SHOWN = {
    (
        "reports/pdf.py",
        "Không tìm thấy phông DejaVu Sans để in tiếng Việt (cài gói "
        "fonts-dejavu-core hoặc đặt TROVON_PDF_FONT_DIR).",
    ): "the operator's error, in the log",
    ("reports/exports.py", "đ"): "a file name's letters made ASCII",
    ("reports/exports.py", "Đ"): "a file name's letters made ASCII",
    ("fund/union_io.py", "đ"): "folding a header to compare it",
    **{
        ("fund/union_io.py", alias): "a short header people type, read on import"
        for alias in ("Tên", "Loại hình", "Loại", "Mã CĐ cấp trên", "Mã cấp trên")
    },
}
GETTEXT = {"_", "_l", "gettext", "gettext_lazy", "gettext_noop", "pgettext", "pgettext_lazy"}
TEMPLATE_TAG = re.compile(r"""\{%\s*(?:translate|trans)\s+"([^"]+)"(?:\s+context\s+"([^"]+)")?""")


def _english() -> set:
    english = set()
    for app in CATALOGUES:
        with open(ROOT / app / "locale/en/LC_MESSAGES/django.po", "rb") as f:
            english |= {(m.context, m.id) for m in read_po(f) if isinstance(m.id, str) and m.string}
    return english


def _marked_in_python(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = getattr(node.func, "id", None)
        texts = [a.value if isinstance(a, ast.Constant) else None for a in node.args[:2]]
        marks = ("_", "_l", "gettext", "gettext_lazy", "gettext_noop")
        if name in marks and isinstance(texts[0], str):
            yield None, texts[0], node.lineno
        elif name in ("pgettext", "pgettext_lazy") and len(texts) == 2 and all(texts):
            yield texts[0], texts[1], node.lineno


def test_every_string_a_page_shows_has_its_english():
    english = _english()
    missing = []
    for path in PYTHON:
        for context, text, line in _marked_in_python(path):
            if (context, text) not in english:
                missing.append(f"{path.relative_to(ROOT)}:{line} {text!r}")
    templates = [p for p in ROOT.glob("**/templates/**/*.html") if ".venv" not in p.parts]
    assert len(templates) > 40
    for path in templates:
        for found in TEMPLATE_TAG.finditer(path.read_text()):
            key = (found.group(2), found.group(1))
            if key not in english:
                missing.append(f"{path.relative_to(ROOT)} {found.group(1)!r}")
    assert not missing, "\n".join(missing)


def test_no_catalogue_entry_is_left_empty():
    empty = []
    for app in CATALOGUES:
        with open(ROOT / app / "locale/en/LC_MESSAGES/django.po", "rb") as f:
            for m in read_po(f):
                text = m.string if isinstance(m.string, str) else all(m.string)
                if m.id and not m.fuzzy and not text:
                    empty.append(f"{app}: {m.id!r}")
    assert not empty, "\n".join(empty)


def _unmarked_vietnamese(path: Path):
    """The string literals of `path` with a Vietnamese letter outside any gettext call and
    outside docstrings (f-strings' literal parts included)."""
    tree = ast.parse(path.read_text())
    marked = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in GETTEXT:
            marked |= {id(sub) for sub in ast.walk(node)}
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            marked.add(id(body[0].value))  # a docstring
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and VIETNAMESE.search(node.value)
            and id(node) not in marked
        ):
            yield node.lineno, node.value


def test_documents_have_no_vietnamese_label_outside_gettext():
    """A PDF's or an export's title, header or footnote written as a bare Vietnamese literal
    would stay Vietnamese in English: each goes through gettext (and so has its English)."""
    assert len(DOCUMENTS) > 5
    found = []
    for path in DOCUMENTS:
        name = str(path.relative_to(ROOT))
        for line, text in _unmarked_vietnamese(path):
            if (name, text) not in NOT_SHOWN:
                found.append(f"{name}:{line} {text!r}")
    assert not found, "\n".join(found)


def test_the_literal_check_sees_a_bare_label(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from django.utils.translation import gettext as _\n"
        'def f(n):\n    """Bảng thu nợ."""\n'
        '    return [_("Tháng"), f"Lập lúc {n}", "Cộng", "plain"]\n'
    )
    assert sorted(t for _, t in _unmarked_vietnamese(sample)) == ["Cộng", "Lập lúc "]
