"""Session sign-in for the API that does not read the body before the access rule.

DRF's SessionAuthentication checks CSRF through Django's middleware, which looks for the token
in the POST body first, parsing a whole multipart upload before the view's role is known. The
API takes the session's CSRF token from the ``X-CSRFToken`` header only (what Swagger UI and any
script send): the check sees an empty form, so the body stays unread until the access rule
(``apicommon.permissions``) has passed and the bounded parsers (``apicommon.parsers``) read it.
"""

from __future__ import annotations

from django.http import QueryDict
from django.utils.datastructures import MultiValueDict
from drf_spectacular.authentication import SessionScheme
from rest_framework.authentication import SessionAuthentication


class HeaderCsrfSessionAuthentication(SessionAuthentication):
    def enforce_csrf(self, request):
        django_request = request._request
        had_post = hasattr(django_request, "_post")
        if not had_post:
            django_request._post, django_request._files = QueryDict(), MultiValueDict()
        try:
            return super().enforce_csrf(request)
        finally:
            if not had_post:
                del django_request._post, django_request._files


class HeaderCsrfSessionScheme(SessionScheme):
    """The schema's name for it: the same cookie sign-in as DRF's (drf-spectacular)."""

    target_class = "apicommon.authentication.HeaderCsrfSessionAuthentication"
