"""The OpenAPI schema of the API: operation ids named after the view (``LoanDetailApi`` →
``loan_detail``), one per operation, so that clients generated from the schema read well."""

import re

from drf_spectacular.openapi import AutoSchema


class ApiAutoSchema(AutoSchema):
    def get_operation_id(self):
        name = type(self.view).__name__.removesuffix("Api")
        if name == type(self.view).__name__:  # not one of ours (token, schema views)
            return super().get_operation_id()
        return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
