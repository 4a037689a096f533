"""Each report test writes its files to a temporary MEDIA_ROOT of its own.

The federation the report tests build on (``federation``, ``emails``) is in
``reports.tests.fixtures``, loaded for the whole suite by the root conftest.
"""

import pytest


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Report files of each test go to its own temporary MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT
