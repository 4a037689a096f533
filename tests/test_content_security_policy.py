"""The Content Security Policy: every page says where scripts and styles may come from, and the
app's own templates hold nothing inline that the policy would block."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

ROOT = Path(settings.BASE_DIR)
INLINE = [
    (re.compile(r"\sstyle\s*=", re.I), "a style attribute"),
    (re.compile(r"<style\b", re.I), "a <style> element"),
    (re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*application/json)", re.I), "inline script"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "an inline event handler"),
]


def _templates():
    dirs = [ROOT / "templates", *ROOT.glob("*/templates")]
    for d in dirs:
        for path in d.rglob("*.html"):
            if path.relative_to(d).parts[0] == "api":
                continue  # the bundled API docs UIs: their own, looser policy
            yield path


def test_the_policy_allows_only_our_own_origin_and_nothing_inline():
    policy = dict(
        (d.split()[0], d.split()[1:]) for d in settings.CONTENT_SECURITY_POLICY.split("; ")
    )
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in settings.CONTENT_SECURITY_POLICY
    assert "'unsafe-eval'" not in settings.CONTENT_SECURITY_POLICY


def test_no_template_of_the_app_holds_inline_script_or_style():
    found = []
    for path in _templates():
        text = path.read_text(encoding="utf-8")
        for pattern, what in INLINE:
            for m in pattern.finditer(text):
                line = text.count("\n", 0, m.start()) + 1
                found.append(f"{path.relative_to(ROOT)}:{line}: {what}")
    assert not found, "\n".join(found)


def test_no_html_built_in_python_holds_a_style_attribute():
    """Admin columns and template tags build HTML with format_html: no style= there either."""
    found = []
    for app in ["accounting", "fund", "loans", "reports", "config"]:
        for path in (ROOT / app).rglob("*.py"):
            if "tests" in path.parts or "migrations" in path.parts:
                continue
            text = path.read_text(encoding="utf-8")
            for m in re.finditer(r"""<[a-z][^<>]*\sstyle\s*=""", text):
                found.append(f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, m.start()) + 1}")
    assert not found, found


def test_the_template_check_catches_inline_style(tmp_path):
    """The check above is not blind: each pattern matches what it is meant to refuse."""
    samples = [
        '<td style="padding-left: 1em">',
        "<style>body{}</style>",
        "<script>alert(1)</script>",
        '<a onclick="go()">',
    ]
    for (pattern, _), sample in zip(INLINE, samples, strict=True):
        assert pattern.search(sample), sample
    assert not any(p.search('<script src="/static/x.js"></script>') for p, _ in INLINE)


@pytest.mark.django_db
def test_pages_carry_the_policy(client):
    from fund.models import Role
    from fund.tests.factories import OfficerFactory

    for url in [reverse("login"), "/admin/login/"]:
        r = client.get(url)
        assert r["Content-Security-Policy"] == settings.CONTENT_SECURITY_POLICY, url
    auditor = OfficerFactory(role=Role.AUDITOR).user
    client.force_login(auditor)
    r = client.get(reverse("audit:trial_balance"))
    assert r.status_code == 200
    assert r["Content-Security-Policy"] == settings.CONTENT_SECURITY_POLICY
    assert "style=" not in r.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["api:docs", "api:redoc"])
def test_api_docs_get_their_own_policy_with_scripts_still_from_our_origin(client, name):
    r = client.get(reverse(name))
    assert r.status_code == 200
    policy = r["Content-Security-Policy"]
    assert policy == settings.CONTENT_SECURITY_POLICY_API_DOCS
    assert "script-src 'self';" in policy
    html = r.content.decode()
    assert not re.search(r"<script\b(?![^>]*\bsrc=)", html), "no inline script on the docs page"


@pytest.mark.django_db
def test_swagger_start_up_script_is_served_from_the_docs_url(client):
    r = client.get(reverse("api:docs") + "?script=")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in r.content.decode()
