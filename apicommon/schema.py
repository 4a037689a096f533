"""The OpenAPI schema of the API: operation ids named after the view (``LoanDetailApi`` →
``loan_detail``), one per operation, so that clients generated from the schema read well."""

import json
import re
from pathlib import Path

from django.utils import translation
from drf_spectacular.openapi import AutoSchema


class ApiAutoSchema(AutoSchema):
    def get_operation_id(self):
        if not type(self.view).__name__.endswith("Api"):  # not one of ours (schema views)
            return super().get_operation_id()
        return operation_name(type(self.view))


def operation_name(view_class: type) -> str:
    """``LoanDetailApi`` → ``loan_detail``: the operation id in the schema, and the URL name."""
    name = view_class.__name__.removesuffix("Api")
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


SNAPSHOT = Path(__file__).resolve().parents[1] / "docs" / "openapi.json"


def schema_document() -> str:
    """The API's OpenAPI schema as the committed snapshot holds it: JSON with sorted keys, in
    Vietnamese (the language of the descriptions), so that the same code gives the same bytes."""
    from drf_spectacular.generators import SchemaGenerator

    with translation.override("vi"):
        schema = SchemaGenerator().get_schema(request=None, public=True)
        text = json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    return text + "\n"


def snapshot_write() -> None:
    """Write the schema to ``docs/openapi.json`` (``make openapi``)."""
    SNAPSHOT.write_text(schema_document(), encoding="utf-8")
