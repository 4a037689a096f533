"""DRF's throttles keyed on the client address of ``fund.signin`` (the trusted proxy's
view), never on a header the client writes: rotating ``X-Forwarded-For`` changes nothing."""

from __future__ import annotations

from rest_framework.throttling import ScopedRateThrottle

from fund.signin import client_ip


class ClientScopedRateThrottle(ScopedRateThrottle):
    def get_ident(self, request):
        return client_ip(request)
