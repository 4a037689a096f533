"""The header's navigation is resolved once per role, and each request gets its own entries."""

from unittest import mock

from config import navigation
from fund.models import Role


def test_entries_are_resolved_once_and_handed_out_fresh():
    navigation._RESOLVED.clear()
    with mock.patch.object(navigation, "reverse", wraps=navigation.reverse) as rev:
        first = navigation.navigation_for(Role.FUND_OFFICER)
        calls = rev.call_count
        assert calls > 0
        first[0]["active"] = True  # what the context processor does for the current page
        second = navigation.navigation_for(Role.FUND_OFFICER)
        assert rev.call_count == calls  # no reverse() on the second request
    assert "active" not in second[0]
    assert [e["url"] for e in first] == [e["url"] for e in second]
    assert second[0]["url"] == navigation.reverse(second[0]["url_name"])
