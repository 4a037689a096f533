"""English is complete for what the pages show: every string marked for translation in the
models (names, choices, help texts: status badges, rates, methods, frequencies, purposes,
household status), the pages' Python and templates, the labels of codes and the API's shared
parts has its English in a catalogue. (The services' refusals are checked by
test_refusal_catalogues.py; the admin, used by the fund's administrators, is not walked here.)"""

import ast
import re
from pathlib import Path

from babel.messages.pofile import read_po

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
    ROOT / "config/navigation.py",
    ROOT / "config/error_views.py",
    *ROOT.glob("apicommon/*.py"),
]
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
        if name in ("_", "_l", "gettext", "gettext_lazy") and isinstance(texts[0], str):
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
