"""Serving a decrypted file to a browser or an API client, streamed and never rendered as a page.

A file somebody uploaded is never trusted to be what it says: it is sent as a download
(``Content-Disposition: attachment``) with ``X-Content-Type-Options: nosniff`` and a Content-Security-Policy
whose ``sandbox`` gives it no origin, no scripts and no forms even if a browser shows it. An image preview is
the same but ``inline``, and may show only itself. The privacy middleware keeps this policy instead of the
pages' (helpline/middleware.py), because the response says so (``own_content_security_policy``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from django.http import StreamingHttpResponse
from django.utils.http import content_disposition_header

# A download: nothing in it may load, run, submit or be framed.
DOWNLOAD_POLICY = "sandbox; default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
# An image shown on its own (a preview): only the image itself.
PREVIEW_POLICY = (
    "sandbox; default-src 'none'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
# Characters never kept in a file name sent back: path separators, quotes and what Windows refuses.
UNSAFE_IN_NAMES = frozenset('\\/:*?"<>|')
NAME_MAX = 150


class FileResponse(StreamingHttpResponse):
    """A streamed file with the headers above (the privacy middleware leaves its policy alone)."""

    own_content_security_policy = True


def download_name(name: str, *, extension: str, extensions: tuple[str, ...] = ()) -> str:
    """A file name safe to send back: printable characters only (no control or direction-changing
    characters, which can disguise an extension), no path or quote characters, and ending with one of
    ``extensions`` (the detected type's), else with ``extension``."""
    kept = "".join(
        character
        for character in unicodedata.normalize("NFC", name)
        if character.isprintable() and character not in UNSAFE_IN_NAMES
    )
    kept = kept.strip(" .") or "file"
    if not kept.lower().endswith(extensions or (extension,)):
        kept = f"{kept}{extension}"
    if len(kept) > NAME_MAX:
        ending = kept[kept.rfind(".") :] if "." in kept else ""
        kept = kept[: NAME_MAX - len(ending)] + ending
    return kept


def file_response(
    chunks: Iterable[bytes], *, name: str, content_type: str, size: int | None, inline: bool = False
) -> FileResponse:
    """Stream ``chunks`` (the plaintext, as it is decrypted) as a download, or as an inline preview."""
    response = FileResponse(chunks, content_type=content_type)
    if size is not None:
        response["Content-Length"] = str(size)
    response["Content-Disposition"] = content_disposition_header(as_attachment=not inline, filename=name) or (
        "inline" if inline else "attachment"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = PREVIEW_POLICY if inline else DOWNLOAD_POLICY
    return response
