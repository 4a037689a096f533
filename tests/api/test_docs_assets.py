"""The API's browsable docs load Swagger UI and Redoc from our own static files, not a CDN."""

import re

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.urls import reverse

pytestmark = pytest.mark.django_db

ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|["']([^"'\s]+\.(?:js|css|png))["']""")


def _asset_urls(html: str) -> list[str]:
    return [a or b for a, b in ASSET.findall(html) if (a or b) not in ("#",)]


@pytest.mark.parametrize("name", ["api:docs", "api:redoc"])
def test_docs_pages_reference_only_local_static_files(client, name):
    r = client.get(reverse(name))
    assert r.status_code == 200
    html = r.content.decode()
    urls = _asset_urls(html)
    scripts = [u for u in urls if u.endswith(".js")]
    assert scripts, "the page loads its viewer's script"
    for url in urls:
        assert not re.match(r"^(?:[a-z]+:)?//", url), f"third-party URL in the docs page: {url}"
    static = [
        u
        for u in urls
        if u.startswith(
            settings.STATIC_URL
            if settings.STATIC_URL.startswith("/")
            else "/" + settings.STATIC_URL
        )
    ]
    assert static and all(finders.find(u.split("/static/", 1)[1].split("?")[0]) for u in static), (
        "each local asset exists among the static files"
    )
    assert "cdn.jsdelivr.net" not in html and "unpkg.com" not in html
