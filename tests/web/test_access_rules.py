"""Every page of the web app carries an explicit access rule (fund.access)."""

from django.urls import URLPattern, URLResolver, get_resolver

from fund.access import view_access_rule

OURS = ("loans", "fundweb")
TOP_LEVEL = {
    "home",
    "login",
    "logout",
    "password_change",
    "password_change_done",
    "collection_sheet_pdf",
    "set_language",
}


def _walk(patterns, namespace=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, p.namespace or namespace)
        elif isinstance(p, URLPattern):
            yield namespace, p


def test_every_web_page_has_an_access_rule():
    seen = 0
    missing = []
    for namespace, pattern in _walk(get_resolver().url_patterns):
        if namespace in OURS or (not namespace and pattern.name in TOP_LEVEL):
            seen += 1
            if view_access_rule(pattern.callback) is None:
                missing.append(f"{namespace}:{pattern.name}")
    assert seen > 25
    assert missing == []
