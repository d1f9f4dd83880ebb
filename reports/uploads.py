"""Django's upload handler for this service: every uploaded file is sealed chunk by chunk as it arrives.

Django's own handlers keep a file in memory or spool it to a temporary file in clear; this one hands each
chunk to reports.attachments.Incoming, which seals it with the file's own random key and stores it in
PostgreSQL at once. Memory holds one chunk whatever the size; nothing reaches /tmp. A view then finds in
``request.FILES`` a ``SealedUpload`` whose ``incoming`` it keeps (once the access code or draft key is
known) or discards; a file nobody keeps expires with its key long gone.

A file over ATTACHMENT_MAX_BYTES stops being stored as soon as it passes the limit and arrives marked
``too_large``, so the page can say so plainly (Django's memory handler silently dropped such a file).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopFutureHandlers

from reports.attachments import Incoming, incoming_discard

# A name longer than this is cut (keeping its extension): file names are sealed, but a page must show them.
NAME_MAX = 120


def _short_name(name: str) -> str:
    name = name.replace("\x00", "").strip() or "file"
    if len(name) <= NAME_MAX:
        return name
    stem, dot, extension = name.rpartition(".")
    if not dot or len(extension) > 10:
        return name[:NAME_MAX]
    return f"{stem[: NAME_MAX - len(extension) - 1]}.{extension}"


if TYPE_CHECKING:
    _Uploaded = UploadedFile[bytes]
else:
    _Uploaded = UploadedFile


class SealedUpload(_Uploaded):
    """An uploaded file already sealed in the database: read nothing from it, keep or discard ``incoming``."""

    def __init__(self, incoming: Incoming, *, field_name: str, content_type: str | None) -> None:
        super().__init__(file=None, name=incoming.name, content_type=content_type, size=incoming.size)
        self.field_name = field_name
        self.incoming = incoming

    @property
    def too_large(self) -> bool:
        return self.incoming.too_large

    @property
    def head(self) -> bytes:
        """The file's first bytes (reports.attachments.HEAD_BYTES), for the type check."""
        return self.incoming.head

    def open(self, *args: Any, **kwargs: Any) -> SealedUpload:
        raise OSError("A sealed upload is not read back in the web tier")

    def chunks(self, chunk_size: int | None = None) -> Any:
        raise OSError("A sealed upload is not read back in the web tier")

    def read(self, *args: Any, **kwargs: Any) -> bytes:
        raise OSError("A sealed upload is not read back in the web tier")

    def close(self) -> None:
        return None


class SealingUploadHandler(FileUploadHandler):
    """Seal every file of a multipart body as it arrives (settings.FILE_UPLOAD_HANDLERS)."""

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.incoming = Incoming(name=_short_name(str(self.file_name or "")))
        raise StopFutureHandlers()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.incoming.write(raw_data)

    def upload_interrupted(self) -> None:
        incoming = getattr(self, "incoming", None)
        if incoming is not None:
            incoming_discard(incoming)

    def file_complete(self, file_size: int) -> SealedUpload:
        self.incoming.close()
        return SealedUpload(self.incoming, field_name=str(self.field_name), content_type=self.content_type)
