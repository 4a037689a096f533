"""Every action code the services write into a history or the audit log has its words in
fund.labels.ACTIONS, and every reminder stage of the defaults reads as words (not its code)."""

import re
from pathlib import Path

from django.utils import translation

from fund.labels import ACTIONS, stage_label
from loans.origination.applications import REVIEW_DECISIONS
from loans.reminders.defaults import STAGES

ROOT = Path(__file__).resolve().parents[1]
WRITTEN = re.compile(r"""\baction\s*=\s*"([a-z_]+)\"""")


def _written_codes():
    for app in ("accounting", "fund", "loans", "reports"):
        for path in (ROOT / app).rglob("*.py"):
            if "tests" in path.parts or "management" in path.parts or "migrations" in path.parts:
                continue
            for code in WRITTEN.findall(path.read_text()):
                yield path.relative_to(ROOT), code
    for decision in REVIEW_DECISIONS:
        yield Path("loans/origination/applications.py"), f"review_{decision}"


def test_every_written_action_has_words():
    codes = list(_written_codes())
    assert len(codes) > 20
    missing = sorted({f"{path}: {code}" for path, code in codes if code not in ACTIONS})
    assert not missing, missing


def test_every_default_stage_reads_as_words_in_both_languages():
    for lang in ("vi", "en"):
        with translation.override(lang):
            for code, *_ in STAGES:
                assert stage_label(code) != code
