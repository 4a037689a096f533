"""The API's schema is the committed snapshot (docs/openapi.json): a change to the API shows up
here and in review as a diff of the snapshot, never by accident."""

import difflib

from apicommon.schema import SNAPSHOT, schema_document

HOW_TO_UPDATE = (
    "The API's OpenAPI schema differs from docs/openapi.json. If the change is intended, "
    "update the snapshot with `make openapi` and commit it with the change."
)


def test_the_schema_is_the_committed_snapshot():
    expected = SNAPSHOT.read_text(encoding="utf-8")
    actual = schema_document()
    if actual != expected:
        diff = difflib.unified_diff(
            expected.splitlines(),
            actual.splitlines(),
            "docs/openapi.json (committed)",
            "the schema of this code",
            lineterm="",
            n=2,
        )
        lines = list(diff)
        shown = "\n".join(lines[:200]) + ("\n…" if len(lines) > 200 else "")
        raise AssertionError(f"{HOW_TO_UPDATE}\n\n{shown}")
