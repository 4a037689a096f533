"""Every message the services mark for translation has its English in a catalogue (the web
app's config/locale or the app's own locale/), so that a refusal never reaches the English UI
in Vietnamese. (The loan action pages have their own check in tests/web/test_loan_actions.py.)"""

import ast
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
CATALOGUES = ("config", "accounting", "fund", "loans", "reports")
# The modules whose refusals are translated; add a module here when its messages are marked.
MODULES = (
    "accounting/errors.py",
    "accounting/idempotency.py",
    "accounting/money.py",
    "accounting/dates.py",
    "accounting/forms.py",
    "accounting/services.py",
    "fund/access.py",
    "fund/closing.py",
    "fund/duties.py",
    "fund/attainment.py",
    "apicommon/errors.py",
    "apicommon/parsers.py",
    "apicommon/fields.py",
    "apicommon/idempotency.py",
    "apicommon/views.py",
    "fund/scoping.py",
    "fund/services.py",
    "fund/officers.py",
    "fund/union_io.py",
    "fund/validation.py",
    "fund/api/views.py",
    "loans/api/actions.py",
    "loans/origination/cccd.py",
    "loans/restructuring/change_requests.py",
    "loans/servicing/close_of_business.py",
    "loans/errors.py",
    "loans/documents/content.py",
    "loans/documents/services.py",
    "loans/documents/selectors.py",
    "loans/origination/member_import.py",
    "loans/reminders/planning.py",
    "loans/servicing/repayments.py",
    "loans/servicing/remittances.py",
    "loans/web/remittances.py",
    "loans/restructuring/decisions.py",
    "loans/schedules.py",
    "loans/origination/eligibility.py",
    "loans/servicing/reconciliation.py",
    "loans/origination/applications.py",
    "loans/origination/borrowers.py",
    "loans/origination/disbursement.py",
    "loans/origination/products.py",
    "loans/policy.py",
    "loans/validation.py",
    "loans/servicing/visits.py",
    "loans/terms.py",
)


def _english() -> dict:
    english = {}
    for app in CATALOGUES:
        with open(ROOT / app / "locale/en/LC_MESSAGES/django.po", "rb") as f:
            for m in read_po(f):
                if m.id and isinstance(m.id, str) and m.string:
                    english[(m.context, m.id)] = m.string
    return english


def _marked(path: Path):
    """(context, msgid, line) of every gettext_lazy / pgettext_lazy call with literal text."""
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = getattr(node.func, "id", None)
        texts = [a.value if isinstance(a, ast.Constant) else None for a in node.args[:2]]
        if name in ("_", "_l", "gettext", "gettext_lazy") and isinstance(texts[0], str):
            yield None, texts[0], node.lineno
        elif name == "pgettext_lazy" and len(texts) == 2 and all(texts):
            yield texts[0], texts[1], node.lineno


def test_every_marked_service_message_has_its_english():
    english = _english()
    wanted = [(m, ctx, msgid, line) for m in MODULES for ctx, msgid, line in _marked(ROOT / m)]
    assert len(wanted) > 150
    missing = [
        f"{m}:{line} {msgid!r}" for m, ctx, msgid, line in wanted if (ctx, msgid) not in english
    ]
    assert not missing


def test_english_keeps_the_placeholders():
    """A translation that drops or renames a %(name)s would fail when the message is shown."""
    import re

    bad = [
        msgid
        for (_ctx, msgid), text in _english().items()
        if sorted(re.findall(r"%\((\w+)\)s", msgid)) != sorted(re.findall(r"%\((\w+)\)s", text))
    ]
    assert not bad
