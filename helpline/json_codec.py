"""JSON in and out of the API, safe for text that is not valid Unicode.

Text that cannot be encoded (a lone UTF-16 surrogate such as ``"\\ud800"`` in a JSON string) is refused
once, here at the parser, for every string in every body of every endpoint: the client gets a 400 naming
the field. The renderer is safe as well, so an error message that echoes input can always be encoded.
"""

from __future__ import annotations

import re
from typing import Any

from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.settings import api_settings

SURROGATE = re.compile("[\ud800-\udfff]")
UNENCODABLE_TEXT = "Text must not contain unpaired surrogate characters (this is not valid Unicode)."
UNENCODABLE_KEY = "A field name is not valid Unicode: it contains an unpaired surrogate character."


# No body of this API nests more than a few levels. Deeper than this, a bad string is reported once, for the
# whole value at this depth: error details as deep as the input (the decoder allows ~900 levels) exhausted the
# recursion limit in DRF's ValidationError, and the 400 became a 500.
MAX_ERROR_DEPTH = 32


def _holds_unencodable(data: Any) -> bool:
    """Whether any string or key anywhere in ``data`` holds an unpaired surrogate (iterative: any depth)."""
    pending = [data]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if SURROGATE.search(value):
                return True
        elif isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


def unencodable_fields(data: Any, depth: int = 0) -> dict[str, Any]:
    """Field errors, shaped as DRF's own (nested objects as objects, list items by index), for every string
    in ``data`` that holds an unpaired surrogate; empty when there is none. Past ``MAX_ERROR_DEPTH`` levels
    the error is given once, for the whole value at that depth."""
    if isinstance(data, str) or depth >= MAX_ERROR_DEPTH:
        return {"": [UNENCODABLE_TEXT]} if _holds_unencodable(data) else {}
    errors: dict[str, Any] = {}
    items: list[tuple[str, Any]]
    if isinstance(data, dict):
        items = []
        for key, value in data.items():
            if SURROGATE.search(key):
                errors.setdefault(api_settings.NON_FIELD_ERRORS_KEY, [UNENCODABLE_KEY])
                continue
            items.append((key, value))
    elif isinstance(data, list):
        items = [(str(index), value) for index, value in enumerate(data)]
    else:
        return {}
    for key, value in items:
        found = unencodable_fields(value, depth + 1)
        if found:
            errors[key] = found.get("") or found
    return errors


class SafeJSONParser(JSONParser):
    """JSON that exhausts the parser is a bad request, and so is text that is not valid Unicode."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise ParseError("JSON nested too deeply.") from error
        errors = unencodable_fields(data)
        if errors:
            if "" in errors:  # the whole body is one string
                errors = {api_settings.NON_FIELD_ERRORS_KEY: errors[""]}
            raise ValidationError(errors)
        return data


def _replace_surrogates(data: Any) -> Any:
    if isinstance(data, str):
        return SURROGATE.sub("\ufffd", data)
    if isinstance(data, dict):
        return {_replace_surrogates(key): _replace_surrogates(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [_replace_surrogates(value) for value in data]
    return data


class SafeJSONRenderer(JSONRenderer):
    """DRF's JSON renderer, except that a string that cannot be encoded as UTF-8 is rendered with U+FFFD in
    place of the bad character instead of raising (which would be a 500 from inside the error handler)."""

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except UnicodeEncodeError:
            return super().render(_replace_surrogates(data), accepted_media_type, renderer_context)
