"""The 403, 404 and 500 pages: in the app's layout, in the user's language, with a way back.

Django's own handlers render a bare page (500 without the request, so without the header). These
render `error.html` inside the site's layout. The 500 page must not fail in its turn: the header
reads the officer's profile from the database, which may be what failed, so on any error while
rendering the full page a plain page without the header is returned.
"""

from __future__ import annotations

import logging

from django.http import HttpResponse
from django.template import loader
from django.utils.translation import gettext as _

from apicommon.errors import api_error_page

log = logging.getLogger(__name__)


def _page(request, status: int, title: str, text: str, detail: str = "") -> HttpResponse:
    context = {
        "error_code": status,
        "error_title": title,
        "error_text": text,
        "exception_text": detail,
    }
    try:
        body = loader.render_to_string("error.html", context, request=request)
    except Exception:  # the page of last resort must render whatever broke
        log.exception("error page %s rendered without the layout", status)
        body = loader.render_to_string("error_plain.html", context)
    return HttpResponse(body, status=status)


def forbidden(request, exception=None):
    # A refusal raised with a message of ours (the access rules' translatable text) is shown;
    # Django's own bare PermissionDenied() has none.
    detail = str(exception.args[0]) if exception is not None and exception.args else ""
    return _page(
        request,
        403,
        _("Không được phép"),
        _("Tài khoản của bạn không được mở trang này."),
        detail,
    )


def not_found(request, exception=None):
    return _page(
        request,
        404,
        _("Không tìm thấy trang"),
        _("Trang bạn tìm không có, hoặc không thuộc đơn vị của bạn."),
    )


def server_error(request):
    if (api := api_error_page(request, 500)) is not None:
        return api
    return _page(
        request,
        500,
        _("Có lỗi trong hệ thống"),
        _("Yêu cầu chưa làm được và không có gì bị ghi dở. Hãy thử lại sau ít phút."),
    )


def bad_request(request, exception=None):
    if (api := api_error_page(request, 400, exception)) is not None:
        return api  # under /api/: the API's JSON shape (413 for a body over the limit)
    return _page(
        request,
        400,
        _("Yêu cầu không hợp lệ"),
        _("Trình duyệt đã gửi một yêu cầu không đọc được. Hãy quay lại và thử lại."),
    )
