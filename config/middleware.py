"""Project middleware: the language rule and the Content Security Policy."""

from django.conf import settings


class IgnoreAcceptLanguageMiddleware:
    """Vietnamese unless the user chose otherwise.

    The fund's officers expect Vietnamese whatever their browser or phone is set to (many phones
    ship set to English), so on the pages the browser's Accept-Language is not consulted: the
    language is the one chosen with the switch in the header (Django's language cookie),
    Vietnamese by default. The REST API (``/api/``) is called by programs, whose Accept-Language
    is a choice made on purpose: there it chooses the language of the messages (the codes never
    change).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path_info.startswith("/api/"):
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    """Sends the Content-Security-Policy of settings.CONTENT_SECURITY_POLICY on every response
    that does not carry its own (the API docs pages set a looser one for their bundled UIs).

    The app's pages load scripts, styles, fonts and images from our own origin only, and hold no
    inline script or style, so an injected ``<script>`` or ``style=`` would not run."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = settings.CONTENT_SECURITY_POLICY
        if policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy
        return response
