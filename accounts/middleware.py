"""Staff sessions end after 30 minutes idle and 12 hours in all."""

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse


class StaffSessionTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            started = request.session.get("signed_in_at", now)
            last_seen = request.session.get("last_seen_at", now)
            if now - last_seen > settings.SESSION_IDLE_SECONDS or now - started > settings.SESSION_COOKIE_AGE:
                logout(request)
                request.session["signed_out_reason"] = "timeout"
            else:
                request.session["signed_in_at"] = started
                request.session["last_seen_at"] = now
        return self.get_response(request)
