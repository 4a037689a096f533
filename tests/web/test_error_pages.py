"""403, 404 and 500 pages: in the site's layout (header, menu, sign-out), the user's language,
with a way back to the start page."""

from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation

from config import error_views
from tests.web.helpers import in_english


def test_forbidden_page_has_the_layout_and_a_way_back(as_user, officers):
    c = as_user(officers.grassroots)
    r = c.get(reverse("loans:dashboard"))  # a fund officer's page
    body = r.content.decode()
    assert r.status_code == 403
    assert 'data-testid="error-page"' in body and "Không được phép" in body
    assert 'class="nav"' in body and 'data-testid="sign-out"' in body
    assert f'href="{reverse("home")}"' in body and "Về trang chính" in body
    assert "403 Forbidden" not in body


def test_not_found_page_in_english(as_user, officers):
    c = as_user(officers.fund)
    in_english(c)
    r = c.get("/loans/no-such-page/")
    body = r.content.decode()
    assert r.status_code == 404
    assert "Page not found" in body and "Back to start" in body
    assert 'lang="en"' in body and "Không tìm thấy" not in body


def test_server_error_page_renders_with_the_request_and_without_it(officers, monkeypatch):
    request = RequestFactory().get("/loans/")
    request.user = officers.fund
    with translation.override("vi"):
        r = error_views.server_error(request)
    body = r.content.decode()
    assert r.status_code == 500 and "Có lỗi trong hệ thống" in body
    assert 'data-testid="sign-out"' in body
    # When the page in the layout cannot be rendered (the database is down, say), a plain one is.
    render = error_views.loader.render_to_string

    def broken(name, *args, **kwargs):
        if name == "error.html":
            raise RuntimeError("database is down")
        return render(name, *args, **kwargs)

    monkeypatch.setattr(error_views.loader, "render_to_string", broken)
    r = error_views.server_error(request)
    body = r.content.decode()
    assert r.status_code == 500 and 'data-testid="error-page"' in body
    assert "Có lỗi trong hệ thống" in body and 'class="nav"' not in body
