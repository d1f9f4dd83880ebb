"""A small client for clamd, ClamAV's scanning daemon, over its Unix socket: PING, VERSION and INSTREAM.

The Python clients on the package index are unmaintained, and the protocol is small (clamd(8)): a command
is ``z<NAME>\\0`` and its answer ends with ``\\0``. INSTREAM sends the file as chunks, each after its length
(4 bytes, network order), and a zero length ends it; clamd answers ``stream: OK``, ``stream: <signature>
FOUND`` or ``<reason> ERROR``. A stream carries no name, so clamd never learns or logs one.

Anything short of a clear answer (no socket, a timeout, an ERROR) raises ScannerUnavailable: the caller
keeps the file and tries again later. Nothing here logs what it scans.
"""

from __future__ import annotations

import hashlib
import socket
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings

# The largest piece sent in one INSTREAM chunk (clamd accepts up to StreamMaxLength in all).
PIECE = 64 * 1024
ANSWER_LIMIT = 64 * 1024


class ScannerUnavailable(Exception):
    """clamd did not give a clear answer: not running, too slow, or it refused the command."""


@dataclass(frozen=True)
class ScanResult:
    infected: bool
    signature: str = ""  # clamd's name for what it found, e.g. "Eicar-Signature"


@dataclass(frozen=True)
class ScannerVersion:
    engine: str  # "ClamAV 1.4.6"
    signatures_version: int | None  # the daily database's version, when clamd loaded one
    signatures_built: datetime | None  # when that database was built (UTC)

    @property
    def name(self) -> str:
        return self.engine


def parse_version(answer: str) -> ScannerVersion:
    """``ClamAV 1.4.6/27500/Tue Jan 14 08:23:45 2025`` or, with no official database loaded, ``ClamAV 1.4.6``."""
    engine, _, rest = answer.partition("/")
    number, _, built = rest.partition("/")
    built_at = None
    if built:
        try:
            built_at = datetime.strptime(" ".join(built.split()), "%a %b %d %H:%M:%S %Y").replace(tzinfo=UTC)
        except ValueError:
            built_at = None
    return ScannerVersion(
        engine=engine.strip(),
        signatures_version=int(number) if number.strip().isdigit() else None,
        signatures_built=built_at,
    )


def parse_scan(answer: str) -> ScanResult:
    body = answer.removeprefix("stream:").strip()
    if body == "OK":
        return ScanResult(infected=False)
    if body.endswith(" FOUND"):
        return ScanResult(infected=True, signature=body.removesuffix(" FOUND").strip())
    # "INSTREAM size limit exceeded. ERROR", "... ERROR": no verdict.
    raise ScannerUnavailable(f"clamd gave no verdict: {body[:200]}")


class Clamd:
    """One clamd, reached at ``socket_path`` (CLAMD_SOCKET). Each call opens its own connection."""

    def __init__(self, socket_path: str | None = None, timeout: float | None = None) -> None:
        self.socket_path = socket_path or str(settings.CLAMD_SOCKET)
        self.timeout = float(timeout if timeout is not None else settings.CLAMD_TIMEOUT_SECONDS)

    def _connect(self) -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.socket_path)
        except OSError as error:
            sock.close()
            raise ScannerUnavailable(f"clamd is not answering ({type(error).__name__})") from error
        return sock

    @staticmethod
    def _answer(sock: socket.socket) -> str:
        received = b""
        while b"\0" not in received and len(received) < ANSWER_LIMIT:
            try:
                data = sock.recv(4096)
            except OSError as error:
                raise ScannerUnavailable(f"clamd did not answer ({type(error).__name__})") from error
            if not data:
                break
            received += data
        if not received:
            raise ScannerUnavailable("clamd closed the connection without an answer")
        return received.split(b"\0", 1)[0].decode("utf-8", errors="replace").strip()

    def _command(self, name: str) -> str:
        with self._connect() as sock:
            try:
                sock.sendall(b"z" + name.encode("ascii") + b"\0")
            except OSError as error:
                raise ScannerUnavailable(f"clamd did not take the command ({type(error).__name__})") from error
            return self._answer(sock)

    def ping(self) -> bool:
        """True when clamd answers PONG. Raises ScannerUnavailable when it does not answer at all."""
        return self._command("PING") == "PONG"

    def version(self) -> ScannerVersion:
        return parse_version(self._command("VERSION"))

    def instream(self, chunks: Iterable[bytes]) -> ScanResult:
        """Scan a stream of bytes (any number of chunks of any size), never holding more than one chunk."""
        with self._connect() as sock:
            try:
                sock.sendall(b"zINSTREAM\0")
                for chunk in chunks:
                    view = memoryview(chunk)
                    for start in range(0, len(view), PIECE):
                        piece = view[start : start + PIECE]
                        sock.sendall(struct.pack(">I", len(piece)))
                        sock.sendall(piece)
                sock.sendall(struct.pack(">I", 0))
            except (BrokenPipeError, ConnectionResetError):
                # clamd stops reading when the stream is over StreamMaxLength and says so: read why.
                pass
            except OSError as error:
                raise ScannerUnavailable(f"clamd did not take the stream ({type(error).__name__})") from error
            return parse_scan(self._answer(sock))


# --- the development and test signature database -----------------------------------------------------------

# EICAR's anti-malware test file: harmless, and detected by every scanner by agreement. Built from two halves so
# that this source file is not itself reported by a scanner on a developer's machine.
_EICAR_HALVES = (r"X5O!P%@AP[4\PZX54(P^)7CC)7}$", "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*")
TEST_SIGNATURE_NAME = "Helpline.Test.EICAR"
TEST_SIGNATURE_FILE = "helpline-test.hdb"


def eicar() -> bytes:
    return "".join(_EICAR_HALVES).encode("ascii")


def development_signatures() -> str:
    """The signature database development and tests use (there is no internet to fetch ClamAV's): one .hdb
    line, ``MD5:size:name``, matching the EICAR test file. clamd reports it as ``<name>.UNOFFICIAL``."""
    data = eicar()
    return f"{hashlib.md5(data).hexdigest()}:{len(data)}:{TEST_SIGNATURE_NAME}\n"  # noqa: S324 - ClamAV's format
