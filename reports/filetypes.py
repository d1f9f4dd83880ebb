"""Which files the portal accepts, and what a file really is.

The accepted types are those Debian's mat2 (0.13) can strip of identifying metadata and staff commonly
need: PDF; JPEG, PNG and HEIC images; Word, Excel and PowerPoint documents (DOCX, XLSX, PPTX) and
OpenDocument text (ODT); plain text; MP3 audio. Email files (.eml) and M4A are not: mat2 cannot clean
them, and an email's headers are the most identifying thing about it.

Two checks, both on content, never on what the browser claims:
* ``sniff`` at upload, on the file's first bytes: the leading "magic" bytes must fit the name's extension,
  so an .exe named .pdf is refused there and then. The three Office formats are all ZIP files, and ODT
  too, so at upload a ZIP passes for any of them.
* ``identify`` in the worker, on the whole decrypted file: the ZIP's own parts tell DOCX, XLSX, PPTX and
  ODT apart. mat2 picks its parser by extension, so the worker names its temporary file by this type.
"""

from __future__ import annotations

import codecs
import zipfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class FileType:
    content_type: str
    extension: str  # the one mat2 is given, never the reporter's
    label: str  # what people read ("PDF", "Word document")
    extensions: tuple[str, ...]  # the names accepted for it


PDF = FileType("application/pdf", ".pdf", "PDF", (".pdf",))
JPEG = FileType("image/jpeg", ".jpg", "JPEG image", (".jpg", ".jpeg", ".jfif"))
PNG = FileType("image/png", ".png", "PNG image", (".png",))
HEIC = FileType("image/heic", ".heic", "HEIC image", (".heic", ".heif"))
DOCX = FileType(
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx", "Word document", (".docx",)
)
XLSX = FileType(
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx", "Excel spreadsheet", (".xlsx",)
)
PPTX = FileType(
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".pptx",
    "PowerPoint presentation",
    (".pptx",),
)
ODT = FileType("application/vnd.oasis.opendocument.text", ".odt", "OpenDocument text", (".odt",))
TEXT = FileType("text/plain", ".txt", "Text file", (".txt", ".text"))
MP3 = FileType("audio/mpeg", ".mp3", "MP3 audio", (".mp3",))

ACCEPTED: tuple[FileType, ...] = (PDF, JPEG, PNG, HEIC, DOCX, XLSX, PPTX, ODT, TEXT, MP3)
BY_CONTENT_TYPE = {kind.content_type: kind for kind in ACCEPTED}
ZIP_BASED = (DOCX, XLSX, PPTX, ODT)
IMAGES = (JPEG, PNG, HEIC)
# The file upload component's accept attribute, and the words the pages use.
ACCEPT_ATTRIBUTE = ",".join(extension for kind in ACCEPTED for extension in kind.extensions)
ACCEPTED_WORDS = "PDF, JPG, PNG, HEIC, DOCX, XLSX, PPTX, ODT, TXT or MP3"


def _a(label: str) -> str:
    """The label with its article: "a PDF", "an Excel spreadsheet"."""
    words = label[0].lower() + label[1:] if label.startswith("Text") else label
    return f"{'an' if label.startswith(('Excel', 'OpenDocument', 'MP3')) else 'a'} {words}"


class RefusedType(Exception):
    """Not a file the portal accepts, or not what its name says: the message says which, plainly."""


def by_name(name: str) -> FileType | None:
    lowered = name.lower().strip()
    for kind in ACCEPTED:
        if lowered.endswith(kind.extensions):
            return kind
    return None


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # The head may cut a character in two at its end: only an error before the last 3 bytes counts.
        return error.start >= len(head) - 3
    return True


def _is_mp3(head: bytes) -> bool:
    return head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0)


def _is_heic(head: bytes) -> bool:
    return head[4:8] == b"ftyp" and head[8:12] in {b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1"}


def _magic_fits(kind: FileType, head: bytes) -> bool:
    if kind is PDF:
        # PDF readers accept the header within the first 1,024 bytes.
        return b"%PDF-" in head[:1024]
    if kind is JPEG:
        return head.startswith(b"\xff\xd8\xff")
    if kind is PNG:
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if kind is HEIC:
        return _is_heic(head)
    if kind in ZIP_BASED:
        return head.startswith(b"PK\x03\x04")
    if kind is MP3:
        return _is_mp3(head)
    return _looks_like_text(head)


def sniff(name: str, head: bytes) -> FileType:
    """The type a file's name claims, when its first bytes fit it. Raises RefusedType otherwise."""
    kind = by_name(name)
    if kind is None:
        raise RefusedType(f"The selected file must be a {ACCEPTED_WORDS}")
    if not head:
        raise RefusedType("The selected file is empty")
    if not _magic_fits(kind, head):
        raise RefusedType(f"The selected file is not {_a(kind.label)}: its contents do not match its name")
    return kind


# The part each ZIP-based format must hold, and ODT's mimetype entry.
_OOXML_MAIN_PARTS = {DOCX: "word/document.xml", XLSX: "xl/workbook.xml", PPTX: "ppt/presentation.xml"}
_ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"


# How much of a text file the UTF-8 check reads at a time.
_TEXT_PIECE = 64 * 1024


def _utf8_check(path: Path) -> None:
    """Raise UnicodeDecodeError unless the whole file is UTF-8. Decoded a piece at a time, so the worker holds
    one piece whatever the file's size (reading it whole held the file twice over: bytes and text)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as file:
        while piece := file.read(_TEXT_PIECE):
            decoder.decode(piece)
    decoder.decode(b"", final=True)


def identify(claimed: FileType, path: Path) -> FileType:
    """The whole file's real type, checked in the worker on the decrypted file (in its private tmpfs folder);
    for ZIP-based formats, by the parts inside. Raises RefusedType when it is not what was claimed at upload."""
    if claimed not in ZIP_BASED:
        with path.open("rb") as file:
            head = file.read(8192)
        if not _magic_fits(claimed, head):
            raise RefusedType(f"The file is not {_a(claimed.label)}")
        if claimed is TEXT:
            try:
                _utf8_check(path)
            except UnicodeDecodeError as error:
                raise RefusedType("The file is not plain text") from error
        return claimed
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "mimetype" in names and archive.read("mimetype").strip() == _ODT_MIMETYPE:
                found: FileType | None = ODT
            else:
                found = next((kind for kind, part in _OOXML_MAIN_PARTS.items() if part in names), None)
    except (zipfile.BadZipFile, OSError, ValueError, KeyError) as error:
        raise RefusedType(f"The file is not {_a(claimed.label)}: it is damaged") from error
    if found is None:
        raise RefusedType(f"The file is not {_a(claimed.label)}")
    if found is not claimed:
        raise RefusedType(f"The file is {_a(found.label)}, not {_a(claimed.label)}")
    return found
