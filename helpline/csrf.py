"""CSRF checking that works with ``Referrer-Policy: no-referrer``.

Under that policy browsers send ``Origin: null`` on same-origin form posts, which Django's origin check
refuses. When the browser itself vouches that the request is same-origin (``Sec-Fetch-Site``, which
pages cannot set), the origin is taken to be this site; the CSRF token is still required as always.
"""

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponseForbidden
from django.http.response import HttpResponseBase
from django.middleware.csrf import CsrfViewMiddleware


class NoReferrerCsrfViewMiddleware(CsrfViewMiddleware):
    def process_view(
        self,
        request: HttpRequest,
        callback: Callable[..., HttpResponseBase],
        callback_args: tuple[Any, ...],
        callback_kwargs: dict[str, Any],
    ) -> HttpResponseForbidden | None:
        if request.META.get("HTTP_ORIGIN") == "null" and request.META.get("HTTP_SEC_FETCH_SITE") == "same-origin":
            request.META["HTTP_ORIGIN"] = f"{request.scheme}://{request.get_host()}"
        return super().process_view(request, callback, callback_args, callback_kwargs)
