"""A sealed file given back as a download: streamed as it is opened, never whole in memory, never rendered.

Whoever downloads a file gets it as an attachment (``Content-Disposition: attachment``), typed by what the
service detected (reports.filetypes), never by a name or a browser's claim, with ``nosniff`` and a CSP whose
``sandbox`` keeps a browser that opens it anyway from running anything in it with this site's origin.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.http import StreamingHttpResponse
from django.utils.http import content_disposition_header

from reports.attachments import FileMeta, attachment_meta, attachment_open
from reports.filetypes import BY_CONTENT_TYPE
from reports.models import Attachment

SANDBOX = "sandbox"


class SandboxedDownload(StreamingHttpResponse):
    """A streamed download whose Content-Security-Policy always carries ``sandbox``: the privacy middleware
    sets every page's policy on every response (helpline.middleware), and this keeps ``sandbox`` added to it
    rather than dropped."""

    def __setitem__(self, header: str, value: Any) -> None:
        if header.lower() == "content-security-policy":
            parts = [part.strip() for part in str(value).split(";") if part.strip()]
            if SANDBOX not in parts:
                parts.append(SANDBOX)
            value = "; ".join(parts)
        super().__setitem__(header, value)


def stored_size(attachment: Attachment, meta: FileMeta) -> int:
    """The size of the file as it is now stored: the cleaned one once the workers have replaced the original."""
    if attachment.generation > 0 and meta.cleaned_size is not None:
        return meta.cleaned_size
    return meta.size


def attachment_download(attachment: Attachment, key: bytes) -> SandboxedDownload:
    """The file's current generation, opened with ``key`` (the report's data key) chunk by chunk as it is sent."""
    meta = attachment_meta(attachment, key)
    chunks: Iterator[bytes] = attachment_open(attachment, key)
    content_type = meta.content_type if meta.content_type in BY_CONTENT_TYPE else "application/octet-stream"
    response = SandboxedDownload(chunks, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=meta.name)
    response["Content-Length"] = str(stored_size(attachment, meta))
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = f"default-src 'none'; {SANDBOX}"
    return response
