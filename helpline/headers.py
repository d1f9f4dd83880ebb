"""The security headers of every response, in one place.

Django's own middleware sends some of them (``SecurityMiddleware``, ``XFrameOptionsMiddleware``); the
privacy middleware sends the full set on every response Django makes, and the pages served from outside
Django (gunicorn's own error pages, the last-resort 500 page) send the same set from here. This module
imports nothing from Django at import time, so ``settings.py`` can name ``static_file_headers``.
"""

from __future__ import annotations

from typing import Any

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "style-src 'self'",
        "script-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), interest-cohort=()"

# Sent on every page and API answer. Nothing is cached: a shared device keeps no copy of a report.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Permissions-Policy": PERMISSIONS_POLICY,
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}

# Stylesheets, scripts, fonts and images: cacheable, but only this site may load them.
STATIC_HEADERS = {
    "Cross-Origin-Resource-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def hsts_value(seconds: int, *, include_subdomains: bool, preload: bool) -> str:
    """The Strict-Transport-Security value, written as Django's SecurityMiddleware writes it."""
    value = f"max-age={seconds}"
    if include_subdomains:
        value += "; includeSubDomains"
    if preload:
        value += "; preload"
    return value


def headers_outside_django() -> dict[str, str]:
    """The full set for a page that Django does not serve, HSTS included where production sends it."""
    from django.conf import settings

    headers = dict(PAGE_HEADERS)
    seconds = getattr(settings, "SECURE_HSTS_SECONDS", 0)
    if seconds:
        headers["Strict-Transport-Security"] = hsts_value(
            seconds,
            include_subdomains=settings.SECURE_HSTS_INCLUDE_SUBDOMAINS,
            preload=settings.SECURE_HSTS_PRELOAD,
        )
    return headers


def static_file_headers(headers: Any, path: str, url: str) -> None:
    """WhiteNoise's ``add_headers_function``: the static-file headers on every file it serves."""
    for name, value in STATIC_HEADERS.items():
        headers[name] = value
