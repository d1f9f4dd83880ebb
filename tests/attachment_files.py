"""Files for the attachment tests, and the ways to look for a canary in what the service stores.

The JPEG's pixels come from GdkPixbuf (the decoder mat2 itself uses; Pillow is not in the virtualenv) through
Debian's Python, and its EXIF (GPS position, camera serial number, owner) is written here byte by byte. The
DOCX is zipped by hand and the PDF written by hand, each with canaries in its metadata and visible text in
its content. Nothing here writes a file: everything stays in memory or goes through pipes.
"""

from __future__ import annotations

import base64
import io
import json
import struct
import subprocess
import zipfile
import zlib
from pathlib import Path

from django.db import transaction

from core import crypto
from reports import filetypes
from reports.attachments import Incoming, attachment_processing_start, incoming_keep
from reports.models import Attachment, Report

# Debian's own Python, which has the GObject bindings mat2 depends on (GdkPixbuf, Poppler).
SYSTEM_PYTHON = "/usr/bin/python3"
EXIFTOOL = "/usr/bin/exiftool"


def report_key(report: Report) -> bytes:
    return crypto.open_key_as_helpline(report.helpline_key_id, bytes(report.helpline_sealed_key))


def attach(report: Report, name: str, data: bytes, *, piece: int = 10_000) -> Attachment:
    """A file added to ``report`` as an upload adds it: sealed as it arrives, its type checked on its first
    bytes, kept with the report's data key, and its processing asked for in the same transaction."""
    kind = filetypes.sniff(name, data[:8192])
    with transaction.atomic():
        incoming = Incoming(name=name)
        for start in range(0, len(data), piece):
            incoming.write(data[start : start + piece])
        attachment = incoming_keep(
            incoming, content_type=kind.content_type, key=report_key(report), report_id=report.pk
        )
        attachment_processing_start(attachment)
    return attachment


def _system_python(script: str, stdin: bytes = b"") -> bytes:
    done = subprocess.run(  # noqa: S603 - Debian's Python with a script of ours
        [SYSTEM_PYTHON, "-c", script], input=stdin, capture_output=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout


# --- JPEG with EXIF ---------------------------------------------------------------------------------------------

_JPEG_SCRIPT = """
import sys, gi
gi.require_version('GdkPixbuf', '2.0')
from gi.repository import GdkPixbuf, GLib
width, height = 48, 32
pixels = bytes(v for y in range(height) for x in range(width) for v in ((x * 5) % 256, (y * 8) % 256, 160))
image = GdkPixbuf.Pixbuf.new_from_bytes(
    GLib.Bytes.new(pixels), GdkPixbuf.Colorspace.RGB, False, 8, width, height, width * 3
)
ok, data = image.save_to_bufferv('jpeg', ['quality'], ['90'])
sys.stdout.buffer.write(data)
"""

_DECODE_SCRIPT = """
import sys, gi
gi.require_version('GdkPixbuf', '2.0')
from gi.repository import GdkPixbuf
loader = GdkPixbuf.PixbufLoader()
loader.write(sys.stdin.buffer.read())
loader.close()
image = loader.get_pixbuf()
print(image.get_width(), image.get_height())
"""

ASCII, BYTE, LONG, RATIONAL = 2, 1, 4, 5
_SIZES = {BYTE: 1, ASCII: 1, LONG: 4, RATIONAL: 8}


def _ifd(entries: list[tuple[int, int, int, bytes]], start: int) -> bytes:
    """One TIFF IFD (little-endian) that begins at offset ``start``; values over 4 bytes follow its table."""
    table, data = b"", b""
    data_start = start + 2 + 12 * len(entries) + 4
    for tag, kind, count, value in sorted(entries):
        if len(value) <= 4:
            table += struct.pack("<HHI", tag, kind, count) + value.ljust(4, b"\0")
        else:
            table += struct.pack("<HHII", tag, kind, count, data_start + len(data))
            data += value + (b"\0" if len(value) % 2 else b"")
    return struct.pack("<H", len(entries)) + table + struct.pack("<I", 0) + data


def _ascii(text: str) -> tuple[int, int, bytes]:
    value = text.encode("ascii") + b"\0"
    return ASCII, len(value), value


def _rationals(*pairs: tuple[int, int]) -> tuple[int, int, bytes]:
    return RATIONAL, len(pairs), b"".join(struct.pack("<II", n, d) for n, d in pairs)


def exif_segment(*, serial: str, owner: str, make: str) -> bytes:
    """An APP1 Exif segment: camera make and owner, a body serial number, and a GPS position."""

    def ifd0(exif_at: int, gps_at: int) -> list[tuple[int, int, int, bytes]]:
        return [
            (0x010F, *_ascii(make)),
            (0x0110, *_ascii("Model 7")),
            (0x013B, *_ascii(owner)),  # Artist
            (0x8769, LONG, 1, struct.pack("<I", exif_at)),
            (0x8825, LONG, 1, struct.pack("<I", gps_at)),
        ]

    exif_entries = [(0xA430, *_ascii(owner)), (0xA431, *_ascii(serial))]  # CameraOwnerName, BodySerialNumber
    gps_entries = [
        (0x0000, BYTE, 4, bytes([2, 3, 0, 0])),
        (0x0001, *_ascii("N")),
        (0x0002, *_rationals((51, 1), (30, 1), (2684, 100))),
        (0x0003, *_ascii("W")),
        (0x0004, *_rationals((0, 1), (7, 1), (3999, 100))),
    ]
    first = _ifd(ifd0(0, 0), 8)
    exif_at = 8 + len(first)
    exif = _ifd(exif_entries, exif_at)
    gps_at = exif_at + len(exif)
    tiff = b"II*\0" + struct.pack("<I", 8) + _ifd(ifd0(exif_at, gps_at), 8) + exif + _ifd(gps_entries, gps_at)
    payload = b"Exif\0\0" + tiff
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def jpeg_with_exif(*, serial: str, owner: str, make: str = "CanonCorp") -> bytes:
    plain = _system_python(_JPEG_SCRIPT)
    assert plain.startswith(b"\xff\xd8")
    return plain[:2] + exif_segment(serial=serial, owner=owner, make=make) + plain[2:]


def jpeg_segments(data: bytes) -> list[tuple[int, bytes]]:
    """The marker segments before the image data: (marker, payload)."""
    assert data[:2] == b"\xff\xd8", "not a JPEG"
    segments, at = [], 2
    while at + 4 <= len(data) and data[at] == 0xFF:
        marker = data[at + 1]
        length = struct.unpack(">H", data[at + 2 : at + 4])[0]
        segments.append((marker, data[at + 4 : at + 2 + length]))
        if marker == 0xDA:  # start of scan: the image data follows
            break
        at += 2 + length
    return segments


def jpeg_decodes(data: bytes) -> tuple[int, int]:
    """Width and height, as GdkPixbuf decodes the whole image."""
    width, height = _system_python(_DECODE_SCRIPT, data).split()
    return int(width), int(height)


def exif_tags(data: bytes) -> dict[str, object]:
    """What exiftool reads in a file (given on its standard input, never written anywhere)."""
    done = subprocess.run(  # noqa: S603
        [EXIFTOOL, "-json", "-a", "-G1", "-"], input=data, capture_output=True, check=True, timeout=60
    )
    return dict(json.loads(done.stdout)[0])


# --- DOCX ------------------------------------------------------------------------------------------------------

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def docx_with_author(*, author: str, company: str, text: str) -> bytes:
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
            '<Override PartName="/docProps/core.xml" '
            'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
            '<Override PartName="/docProps/app.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'officeDocument" Target="word/document.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/'
            'core-properties" Target="docProps/core.xml"/>'
            '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'extended-properties" Target="docProps/app.xml"/>'
            "</Relationships>"
        ),
        "word/document.xml": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="{_W}"><w:body>'
            f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body></w:document>"
        ),
        "docProps/core.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f"<dc:creator>{author}</dc:creator><cp:lastModifiedBy>{author}</cp:lastModifiedBy>"
            '<dcterms:created xsi:type="dcterms:W3CDTF">2024-03-05T09:14:00Z</dcterms:created>'
            "</cp:coreProperties>"
        ),
        "docProps/app.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
            f"<Application>Microsoft Office Word</Application><Company>{company}</Company></Properties>"
        ),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def zip_members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


# --- PDF -------------------------------------------------------------------------------------------------------


def pdf_with_metadata(*, author: str, producer: str, text: str, pages: int = 1) -> bytes:
    """A PDF with ``text`` on each page; ``author`` and ``producer`` in its Info dictionary and its XMP."""
    content = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    page_numbers = [3, *range(8, 8 + pages - 1)]
    xmp = (
        '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">'
        f"<dc:creator><rdf:Seq><rdf:li>{author}</rdf:li></rdf:Seq></dc:creator><pdf:Producer>{producer}</pdf:Producer>"
        '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    ).encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /Metadata 6 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % n for n in page_numbers), pages),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Type /Metadata /Subtype /XML /Length %d >>\nstream\n" % len(xmp) + xmp + b"\nendstream",
        f"<< /Author ({author}) /Producer ({producer}) /Creator ({author}) >>".encode(),
    ]
    objects += [objects[2]] * (pages - 1)  # more pages (objects 8 onwards), each showing the same content
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 7 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


_PDF_SCRIPT = """
import json, sys, gi
gi.require_version('Poppler', '0.18')
from gi.repository import GLib, Poppler
document = Poppler.Document.new_from_bytes(GLib.Bytes.new(sys.stdin.buffer.read()), None)
print(json.dumps({
    "text": "".join(document.get_page(n).get_text() for n in range(document.get_n_pages())),
    "author": document.get_author(), "producer": document.get_producer(), "creator": document.get_creator(),
    "xmp": document.get_metadata(),
}))
"""


def pdf_read(data: bytes) -> dict[str, str | None]:
    """The text on a PDF's pages and its metadata, as Poppler extracts them."""
    return dict(json.loads(_system_python(_PDF_SCRIPT, data)))


def pdf_streams_inflated(data: bytes) -> bytes:
    """Every stream of a PDF, inflated where it is compressed: where a canary could hide from a plain search."""
    found = b""
    for part in data.split(b"stream")[1:]:
        body = part.split(b"endstream")[0].strip(b"\r\n")
        try:
            found += zlib.decompress(body)
        except zlib.error:
            found += body
    return found


# --- looking for a canary -----------------------------------------------------------------------------------------


def clear_forms(canary: bytes) -> list[bytes]:
    """The canary as it would appear if stored in clear: raw, hex (PostgreSQL's bytea), or base64 (at any
    alignment: how Celery's messages carry bodies in Redis)."""
    forms = [canary, canary.hex().encode(), canary.hex().upper().encode()]
    for skip in range(3):
        part = canary[skip:]
        forms.append(base64.b64encode(part[: len(part) // 3 * 3]))
    return forms


def found_in(data: bytes, canary: bytes) -> bool:
    return any(form in data for form in clear_forms(canary))


def files_holding(roots: list[Path], canary: bytes, *, limit: int = 256 * 1024 * 1024) -> list[str]:
    """Regular files under ``roots`` (symlinks not followed) that hold the canary in clear."""
    holding = []
    overlap = len(canary.hex()) * 2
    for root in roots:
        for path in root.rglob("*"):
            try:
                if path.is_symlink() or not path.is_file() or path.stat().st_size > limit:
                    continue
                with path.open("rb") as file:
                    tail = b""
                    while block := file.read(4 * 1024 * 1024):
                        if found_in(tail + block, canary):
                            holding.append(str(path))
                            break
                        tail = block[-overlap:]
            except OSError:
                continue
    return holding


# --- the other accepted formats ---------------------------------------------------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_with_text(*, author: str, width: int = 16, height: int = 8) -> bytes:
    """A PNG whose tEXt chunks name an author and a camera (pixels: a gradient)."""
    rows = b"".join(
        b"\0" + bytes(v for x in range(width) for v in (x * 16 % 256, y * 32 % 256, 90)) for y in range(height)
    )
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + _png_chunk(b"tEXt", b"Author\0" + author.encode())
        + _png_chunk(b"tEXt", b"Software\0" + author.encode())
        + _png_chunk(b"IDAT", zlib.compress(rows))
        + _png_chunk(b"IEND", b"")
    )


def _ooxml(parts: dict[str, str], *, author: str) -> bytes:
    parts = {
        **parts,
        "docProps/core.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f"<dc:creator>{author}</dc:creator><cp:lastModifiedBy>{author}</cp:lastModifiedBy></cp:coreProperties>"
        ),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()


_CORE_OVERRIDE = (
    '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
)
_RELS = '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
_PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def xlsx_with_author(*, author: str, text: str) -> bytes:
    main = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    return _ooxml(
        {
            "[Content_Types].xml": (
                '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                f'content-types">{_RELS}<Default Extension="xml" ContentType="application/xml"/>'
                f'<Override PartName="/xl/workbook.xml" ContentType="{main}.sheet.main+xml"/>'
                f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{main}.worksheet+xml"/>{_CORE_OVERRIDE}'
                "</Types>"
            ),
            "_rels/.rels": (
                f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PACKAGE_RELS}">'
                f'<Relationship Id="rId1" Type="{_DOC_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
            ),
            "xl/workbook.xml": (
                '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
                f'spreadsheetml/2006/main" xmlns:r="{_DOC_RELS}"><sheets><sheet name="Rota" sheetId="1" r:id="rId1"/>'
                "</sheets></workbook>"
            ),
            "xl/_rels/workbook.xml.rels": (
                f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PACKAGE_RELS}">'
                f'<Relationship Id="rId1" Type="{_DOC_RELS}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
            ),
            "xl/worksheets/sheet1.xml": (
                '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
                f'spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>{text}</t></is></c>'
                "</row></sheetData></worksheet>"
            ),
        },
        author=author,
    )


def pptx_with_author(*, author: str, text: str) -> bytes:
    main = "application/vnd.openxmlformats-officedocument.presentationml"
    return _ooxml(
        {
            "[Content_Types].xml": (
                '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                f'content-types">{_RELS}<Default Extension="xml" ContentType="application/xml"/>'
                f'<Override PartName="/ppt/presentation.xml" ContentType="{main}.presentation.main+xml"/>'
                f'<Override PartName="/ppt/slides/slide1.xml" ContentType="{main}.slide+xml"/>{_CORE_OVERRIDE}'
                "</Types>"
            ),
            "_rels/.rels": (
                f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PACKAGE_RELS}">'
                f'<Relationship Id="rId1" Type="{_DOC_RELS}/officeDocument" Target="ppt/presentation.xml"/>'
                "</Relationships>"
            ),
            "ppt/presentation.xml": (
                '<?xml version="1.0" encoding="UTF-8"?><p:presentation xmlns:p="http://schemas.openxmlformats.org/'
                f'presentationml/2006/main" xmlns:r="{_DOC_RELS}"><p:sldIdLst><p:sldId id="256" r:id="rId1"/>'
                "</p:sldIdLst></p:presentation>"
            ),
            "ppt/_rels/presentation.xml.rels": (
                f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PACKAGE_RELS}">'
                f'<Relationship Id="rId1" Type="{_DOC_RELS}/slide" Target="slides/slide1.xml"/></Relationships>'
            ),
            "ppt/slides/slide1.xml": (
                '<?xml version="1.0" encoding="UTF-8"?><p:sld xmlns:p="http://schemas.openxmlformats.org/'
                'presentationml/2006/main" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main">'
                f"<p:cSld><p:spTree><p:sp><p:txBody><a:p><a:r><a:t>{text}</a:t></a:r></a:p></p:txBody></p:sp>"
                "</p:spTree></p:cSld></p:sld>"
            ),
        },
        author=author,
    )


def odt_with_author(*, author: str, text: str) -> bytes:
    office = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text", compress_type=zipfile.ZIP_STORED)
        archive.writestr(
            "META-INF/manifest.xml",
            '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:'
            'xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" '
            'manifest:media-type="application/vnd.oasis.opendocument.text"/><manifest:file-entry '
            'manifest:full-path="content.xml" manifest:media-type="text/xml"/><manifest:file-entry '
            'manifest:full-path="meta.xml" manifest:media-type="text/xml"/></manifest:manifest>',
            compress_type=zipfile.ZIP_DEFLATED,
        )
        archive.writestr(
            "content.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="{office}" '
            'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body>'
            f"<office:text><text:p>{text}</text:p></office:text></office:body></office:document-content>",
            compress_type=zipfile.ZIP_DEFLATED,
        )
        archive.writestr(
            "meta.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><office:document-meta xmlns:office="{office}" '
            'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" xmlns:dc="http://purl.org/dc/elements/1.1/" '
            f'office:version="1.2"><office:meta><meta:initial-creator>{author}</meta:initial-creator>'
            f"<dc:creator>{author}</dc:creator></office:meta></office:document-meta>",
            compress_type=zipfile.ZIP_DEFLATED,
        )
    return buffer.getvalue()


def mp3_with_tags(*, artist: str, frames: int = 40) -> bytes:
    """An ID3v2.3 tag naming an artist and a comment, then silent MPEG-1 layer III frames (128 kbit/s, 44.1 kHz)."""

    def text_frame(frame_id: bytes, value: str) -> bytes:
        body = b"\x00" + value.encode("latin-1")
        return frame_id + struct.pack(">I", len(body)) + b"\0\0" + body

    frames_data = text_frame(b"TPE1", artist) + text_frame(b"TIT2", artist)
    size = len(frames_data)
    synchsafe = bytes([(size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F, size & 0x7F])
    tag = b"ID3\x03\x00\x00" + synchsafe + frames_data
    frame = b"\xff\xfb\x90\x00" + b"\0" * (417 - 4)
    return tag + frame * frames
