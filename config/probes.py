"""The operational endpoints, answered before the rest of the middleware.

``/healthz``, ``/readyz`` (config/health.py) and ``/metrics`` (config/metrics.py) are called by
compose's healthchecks and by Prometheus over the internal network, by host name or address and
over plain HTTP: they answer before ``ALLOWED_HOSTS`` and the HTTPS redirect apply, and do not
need a session. Their answers are JSON (the metrics: Prometheus' text format) and never cached.
``/metrics`` wants ``Authorization: Bearer <METRICS_TOKEN>``; without a token configured it does
not exist (404). The TLS proxy (deploy/caddy/Caddyfile) does not forward ``/metrics``.
"""

from __future__ import annotations

import hmac
import json

from django.conf import settings
from django.http import HttpResponse


def _json(status: int, body: dict) -> HttpResponse:
    response = HttpResponse(json.dumps(body), status=status, content_type="application/json")
    response["Cache-Control"] = "no-store"
    return response


class ProbeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if path == "/healthz":
            return _json(200, {"status": "ok"})
        if path == "/readyz":
            from config.health import readiness

            status, body = readiness()
            if request.GET.get("strict") and body["status"] != "ok":
                status = 503
            return _json(status, body)
        if path == "/metrics":
            return self._metrics(request)
        return self.get_response(request)

    def _metrics(self, request):
        token = settings.METRICS_TOKEN
        if not token:
            return _json(404, {"status": "not found"})
        given = request.META.get("HTTP_AUTHORIZATION", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            response = _json(401, {"status": "unauthorized"})
            response["WWW-Authenticate"] = "Bearer"
            return response
        from config.metrics import render

        body, content_type = render()
        response = HttpResponse(body, content_type=content_type)
        response["Cache-Control"] = "no-store"
        return response
