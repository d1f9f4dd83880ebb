"""``/internal/metrics``: the registered gauges (core/metrics.py) for Prometheus, on the staff role only.

The scraper sends ``Authorization: Bearer <METRICS_TOKEN>``; the token is compared in constant time. With no
token configured the address does not exist (404), and a missing or wrong token gets 404 too, so nothing tells a
prober that it is there. The front door (deploy/nginx/site.conf.in) refuses ``/internal/`` from outside, and
the public role has no such address at all (helpline/urls.py).
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from core.metrics import CONTENT_TYPE, exposition


def token_accepted(request: HttpRequest) -> bool:
    expected = settings.METRICS_TOKEN
    if not expected:
        return False
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    # Both sides compared as bytes of the same kind, whatever the header held.
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), expected.encode())


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not token_accepted(request):
        raise Http404
    return HttpResponse(exposition(), content_type=CONTENT_TYPE)
