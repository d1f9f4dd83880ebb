"""Request hygiene for every role: nothing identifying about a client survives past this point."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from core import crypto
from core.http import client_set
from helpline.headers import PAGE_HEADERS

# Headers that identify or fingerprint a client. Removed before any view, logger or error handler runs.
IDENTIFYING_META = (
    "REMOTE_ADDR",
    "REMOTE_HOST",
    "HTTP_USER_AGENT",
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_REAL_IP",
    "HTTP_FORWARDED",
    "HTTP_CF_CONNECTING_IP",
    "HTTP_TRUE_CLIENT_IP",
    "HTTP_REFERER",
    "HTTP_SEC_CH_UA",
    "HTTP_SEC_CH_UA_PLATFORM",
    "HTTP_SEC_CH_UA_MOBILE",
)


class PrivacyHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        address = request.META.get(settings.CLIENT_ADDRESS_HEADER) or request.META.get("REMOTE_ADDR") or ""
        # Only a keyed hash survives, for throttling; the address itself is dropped here.
        client_set(request, crypto.client_hash(str(address).split(",")[0].strip()))
        for key in (*IDENTIFYING_META, settings.CLIENT_ADDRESS_HEADER):
            request.META.pop(key, None)
        request.META["REMOTE_ADDR"] = "0.0.0.0"  # noqa: S104 - a placeholder, never an address
        response = self.get_response(request)
        for name, value in PAGE_HEADERS.items():
            if name == "Content-Security-Policy" and getattr(response, "own_content_security_policy", False):
                continue  # a file served as a download keeps its stricter, sandboxed policy (core/files.py)
            response[name] = value
        return response
