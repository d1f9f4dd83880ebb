"""Error answers for every role: GOV.UK pages for people, JSON for the API, never a raw error page.

Every error page is rendered without a request context (no session, no user, no form data), so it can be
shown from anywhere, even before the session middleware has run, and it can never echo what was sent. It is
told which side of the service the address is on (``/staff/`` or public, for the way back) and, from the
settings, the helpline's number and hours, which the public variants show (``error_context``).
The 500 page is also served from outside Django, by the WSGI wrapper and by gunicorn's own error path
(``helpline/gunicorn_hooks.py``), with the same security headers as every page.

When the database cannot be reached (restarted, failing over, refusing connections) the answer is a 503 with
``Retry-After`` instead: the "service unavailable" page, or ``{"detail": ...}`` under /api/. Django turns an
exception from a view (DRF's included: its handler passes these on) or from a middleware (loading a session)
into a call of the 500 handler, which answers 503 for these; one that escapes Django reaches
``LastResortErrorPage``, which does the same.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable, Iterable
from functools import lru_cache
from html import escape
from typing import Any

from django.conf import settings
from django.core.exceptions import BadRequest, RequestDataTooBig, SuspiciousOperation
from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.middleware.csrf import REASON_NO_CSRF_COOKIE
from django.template.loader import render_to_string

from helpline.context_processors import PUBLIC_SERVICE_NAME, STAFF_SIDE_SERVICE_NAME
from helpline.headers import headers_outside_django

logger = logging.getLogger("helpline.requests")

API_PREFIX = "/api/"
STAFF_PREFIX = "/staff/"
CHECK_PATH = "/check"
FORM_CONTENT_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}

TEMPLATES = {
    400: "400.html",
    403: "403.html",
    404: "404.html",
    413: "413.html",
    500: "500.html",
    503: "503.html",
}
API_DETAIL = {
    400: "The request could not be read.",
    403: "You do not have permission to do this.",
    404: "Not found.",
    413: "The request body is too large.",
    500: "Something went wrong on our side. Nothing you sent has been logged.",
    503: "The service is unavailable. Try again in a few minutes.",
}
# The staff side's name on an error page (STAFF_SIDE_SERVICE_NAME). The page is rendered without the request, so
# it cannot know whose workspace it is in: never the helpline's own name ("Helpline workspace"), which authority
# officers, partnerships and national oversight would read as someone else's service (helpline.context_processors
# names each role's).
# The database cannot be reached, or the connection broke under a query (a restart, a failover).
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)

# The last resort when even the template cannot be rendered: the same words and headers, GOV.UK's stylesheet
# named directly (no template tag), and the helpline's number from the settings.
FALLBACK_HEADINGS = {
    500: ("Sorry, there is a problem with the service", "Try again later."),
    503: ("Sorry, the service is unavailable", "Try again in a few minutes."),
}


def fallback_page(status: int, *, staff: bool = False) -> str:
    heading, advice = FALLBACK_HEADINGS[status]
    stylesheet = escape(f"{settings.STATIC_URL}vendor/govuk/govuk-frontend.min.css")
    way_back = (
        f'<a class="govuk-link" href="{STAFF_PREFIX}">Go to your workspace</a>'
        if staff
        else '<a class="govuk-link" href="/">Go to the start page</a>'
    )
    call = (
        ""
        if staff
        else f'<p class="govuk-body">Call the helpline on {escape(settings.HELPLINE_PHONE)} '
        f"({escape(settings.HELPLINE_HOURS)}).</p>"
    )
    return (
        f'<!DOCTYPE html><html lang="en" class="govuk-template"><head><meta charset="utf-8"><title>{heading}'
        f' – GOV.UK</title><link rel="stylesheet" href="{stylesheet}"></head><body class="govuk-template__body">'
        '<div class="govuk-width-container"><main class="govuk-main-wrapper" id="main-content">'
        f'<h1 class="govuk-heading-l">{heading}</h1><p class="govuk-body">{advice}</p>{call}'
        '<p class="govuk-body">If a child is in immediate danger, call 999.</p>'
        f'<p class="govuk-body">{way_back}</p>'
        "</main></div></body></html>"
    )


def error_context(*, staff: bool) -> dict[str, Any]:
    """What every error page is told: which side of the service it is on, and, from the settings, how to
    reach the helpline (shown on the public side only). Never who is asking or what they sent."""
    return {
        "staff": staff,
        # Not the helpline's name: the page cannot know whose workspace it is (an authority officer's, a partnership's).
        "service_name": STAFF_SIDE_SERVICE_NAME if staff else PUBLIC_SERVICE_NAME,
        "helpline_phone": settings.HELPLINE_PHONE,
        "helpline_hours": settings.HELPLINE_HOURS,
    }


def error_response(
    request: HttpRequest, status: int, template: str | None = None, extra: dict[str, bool] | None = None
) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": API_DETAIL[status]}, status=status)
    # Which side of the service the address belongs to is the only thing taken from the request (`extra`
    # holds flags derived the same way, to pick a way back): nothing the page shows was sent by the client.
    context = {**error_context(staff=request.path.startswith(STAFF_PREFIX)), **(extra or {})}
    return HttpResponse(render_to_string(template or TEMPLATES[status], context), status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # Django's default handler is decorated with requires_csrf_token, which reads request.POST again: a
    # body that could not be parsed once then fails again inside the handler, and the 400 becomes a 500.
    return error_response(request, 400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(request, 403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(request, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls this inside its `except` for the exception (django.core.handlers.exception), whether a view
    # or a middleware raised it, so the exception is at hand.
    exception = sys.exc_info()[1]
    if isinstance(exception, DATABASE_UNAVAILABLE):
        return database_unavailable(request, exception)
    return error_response(request, 500)


def retry_after() -> str:
    """Seconds a client should wait before trying again while the database is away."""
    return str(settings.DATABASE_UNAVAILABLE_RETRY_AFTER)


def database_unavailable_noted(exception: BaseException) -> None:
    """One log line with the exception's type only (its message can name hosts) and no request data at all;
    then this thread's broken connections are closed, so the next request connects afresh instead of
    failing again on a dead one. A connection that still works is left alone (inside a transaction, closing
    it would throw the transaction away)."""
    logger.warning("Database unavailable (%s): answered 503", type(exception).__name__)
    for connection in connections.all(initialized_only=True):
        if connection.connection is not None and not connection.is_usable():
            with contextlib.suppress(DatabaseError):
                connection.close()


def database_unavailable(request: HttpRequest, exception: BaseException) -> HttpResponse:
    database_unavailable_noted(exception)
    response = error_response(request, 503)
    response["Retry-After"] = retry_after()
    # Logged above, once. Django's own flag (django.utils.log.log_response): without it Django logs the
    # request's path again, with a traceback when the error came from a middleware.
    setattr(response, "_has_been_logged", True)  # noqa: B010 - not an attribute the stubs know
    return response


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form whose CSRF cookie has gone (the browser was closed, its cookies cleared) or no longer matches
    (the page was left open while the staff member signed in again). ``reason`` is one of Django's fixed
    messages; it only chooses the heading, and is never shown."""
    extra = {
        "session_ended": reason == REASON_NO_CSRF_COOKIE,
        # A reporter checking a concern is sent back to the reference and access code page, not the start.
        "checking": request.path == CHECK_PATH or request.path.startswith(CHECK_PATH + "/"),
    }
    return error_response(request, 403, template="403_csrf.html", extra=extra)


class MalformedBodyMiddleware:
    """Parse a form body once, before anything else reads it, and answer a body Django cannot read (a
    charset other than UTF-8, a broken multipart body, too many fields, too large) with one 400 or 413
    page and one log line. Without this, every later read of ``request.POST`` raises again: the CSRF check,
    then the 400 handler, and the answer is a 500 with a long traceback per request.

    The API is left to DRF, which parses its own bodies and answers with field errors."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.method not in SAFE_METHODS
            and request.content_type in FORM_CONTENT_TYPES
            and not request.path.startswith(API_PREFIX)
        ):
            try:
                request.POST  # noqa: B018 - parses the body and keeps the result on the request
            except RequestDataTooBig:
                logger.warning("Refused a form body over the size limit on %s", request.path)
                return error_response(request, 413)
            except (BadRequest, SuspiciousOperation, MultiPartParserError, UnicodeError, ValueError, OSError) as exc:
                logger.warning(
                    "Refused a form body that could not be read on %s (%s)", request.path, type(exc).__name__
                )
                return error_response(request, 400)
        return self.get_response(request)


@lru_cache(maxsize=4)
def static_page(status: int, *, staff: bool = False) -> bytes:
    """The 500 or 503 page as bytes, rendered once per process and side (its context is fixed). Gunicorn's
    own error path does not know the address and sends the public variant."""
    try:
        return render_to_string(TEMPLATES[status], error_context(staff=staff)).encode()
    except Exception:  # noqa: BLE001 - a broken template must not stop the error page from being sent
        return fallback_page(status, staff=staff).encode()


def static_500_page(*, staff: bool = False) -> bytes:
    return static_page(500, staff=staff)


def static_500_headers(length: int) -> list[tuple[str, str]]:
    return [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Length", str(length)),
        *headers_outside_django().items(),
    ]


StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class LastResortErrorPage:
    """WSGI wrapper: whatever escapes Django (an exception in a signal handler, a handler that fails)
    becomes the static 500 page with every security header, not gunicorn's bare "Internal Server Error";
    a database that cannot be reached becomes the static 503 page with ``Retry-After``."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    @staticmethod
    def on_staff_side(environ: dict[str, Any]) -> bool:
        path = environ.get("PATH_INFO")
        return isinstance(path, str) and path.startswith(STAFF_PREFIX)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            return self.app(environ, start_response)
        except DATABASE_UNAVAILABLE as exc:
            database_unavailable_noted(exc)
            body = static_page(503, staff=self.on_staff_side(environ))
            headers = [*static_500_headers(len(body)), ("Retry-After", retry_after())]
            start_response("503 Service Unavailable", headers, sys.exc_info())
            return [body]
        except Exception as exc:
            # The type only: an exception's message can quote what was sent.
            logger.error("Unhandled %s outside Django's handlers on %s", type(exc).__name__, environ.get("PATH_INFO"))
            body = static_500_page(staff=self.on_staff_side(environ))
            start_response("500 Internal Server Error", static_500_headers(len(body)), sys.exc_info())
            return [body]
