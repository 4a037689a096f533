"""The guard of a page that takes a file upload (a bank statement, a member's document): the
officer's role first, then the size the request declares, then the CSRF token (which reads the
body), then the upload. A request declaring more than the page's limit is answered before
anything reads its body: Django's CSRF middleware would parse it first, so the view is exempt
from it and checks the token itself once the role and the size are known.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.views.decorators.csrf import csrf_exempt, csrf_protect

from fund.access import access

# Room for a multipart upload's boundaries and its small fields around the one file.
MULTIPART_OVERHEAD = 64 * 1024


def declared_length(request) -> int:
    """The body's length as the request declares it (0 when it does not, or not as a number)."""
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def upload_view(view, *, roles, max_bytes: Callable[[], int], too_large):
    """`view` behind the upload guard: `roles` (``fund.access.access``), then a request
    declaring more than ``max_bytes()`` (read at each request, so that a setting's limit is the
    current one) and the multipart envelope answered by ``too_large(request, *args, **kwargs)``
    with its body unread, then the CSRF token."""
    protected = csrf_protect(view)

    @wraps(view)
    def limited(request, *args, **kwargs):
        if declared_length(request) > max_bytes() + MULTIPART_OVERHEAD:
            return too_large(request, *args, **kwargs)
        return protected(request, *args, **kwargs)

    return csrf_exempt(access(roles)(limited))
