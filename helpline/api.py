"""API error handling: every failure a client can cause is a 4xx with field errors, never a 500."""

from typing import Any

from django.core.exceptions import RequestDataTooBig
from rest_framework import status
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, RequestDataTooBig):
        return Response({"detail": "The request body is too large."}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, UnicodeDecodeError | ValueError) and not isinstance(exc, ParseError):
        return Response({"detail": "The request could not be read."}, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)


class SafeJSONParser(JSONParser):
    """JSON whose nesting exhausts the parser is a bad request, not a server error."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise ParseError("JSON nested too deeply.") from error
