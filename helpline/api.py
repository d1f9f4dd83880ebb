"""API error handling: every failure a client can cause is a 4xx with field errors, never a 500.

The JSON parser and renderer that refuse and survive text that is not valid Unicode are in
``helpline/json_codec.py`` (kept apart so that DRF's settings can import them while its views load).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig
from rest_framework import status
from rest_framework.exceptions import ParseError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, RequestDataTooBig):
        return Response({"detail": "The request body is too large."}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, UnicodeDecodeError | ValueError) and not isinstance(exc, ParseError):
        return Response({"detail": "The request could not be read."}, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)
