"""Vietnamese unless the user chose otherwise.

The fund's officers expect Vietnamese whatever their browser or phone is set to (many phones
ship set to English), so on the pages the browser's Accept-Language is not consulted: the
language is the one chosen with the switch in the header (Django's language cookie), Vietnamese
by default. The REST API (``/api/``) is called by programs, whose Accept-Language is a choice
made on purpose: there it chooses the language of the messages (the codes never change).
"""


class IgnoreAcceptLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path_info.startswith("/api/"):
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
