"""The OpenAPI schema of the API: operation ids named after the view (``LoanDetailApi`` →
``loan_detail``), one per operation, so that clients generated from the schema read well."""

import re

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
