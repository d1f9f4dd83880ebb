"""core.clamd, the small clamd client (PING, VERSION, INSTREAM over the Unix socket), and `manage.py clamav_setup`.

Against a stand-in that records what it is sent (fast), and against the real clamd the tests start with the
project's configuration (slow).
"""

from __future__ import annotations

import hashlib
import io
import os
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from core import clamd as clamd_module
from core.clamd import Clamd, ScannerUnavailable, ScanResult, eicar, parse_scan, parse_version

# --- the protocol, against a stand-in -------------------------------------------------------------------------


class StandIn:
    """A Unix socket that reads one command (and an INSTREAM's chunks) per connection and answers ``reply``."""

    def __init__(self, path: Path, reply: Callable[[bytes, list[bytes]], bytes | None]) -> None:
        self.path = path
        self.reply = reply
        self.commands: list[bytes] = []
        self.chunks: list[bytes] = []
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(str(path))
        self.server.listen(4)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @staticmethod
    def _exactly(conn: socket.socket, size: int) -> bytes:
        data = b""
        while len(data) < size:
            more = conn.recv(size - len(data))
            if not more:
                raise ConnectionError
            data += more
        return data

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                command = b""
                while not command.endswith(b"\0"):
                    command += conn.recv(1)
                self.commands.append(command)
                chunks: list[bytes] = []
                if command == b"zINSTREAM\0":
                    while size := struct.unpack(">I", self._exactly(conn, 4))[0]:
                        chunks.append(self._exactly(conn, size))
                    self.chunks = chunks
                answer = self.reply(command, chunks)
                if answer is not None:
                    conn.sendall(answer)

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def stand_in(tmp_path: Path) -> Iterator[Callable[[Callable[[bytes, list[bytes]], bytes | None]], StandIn]]:
    made: list[StandIn] = []

    def make(reply: Callable[[bytes, list[bytes]], bytes | None]) -> StandIn:
        made.append(StandIn(tmp_path / f"clamd-{len(made)}.sock", reply))
        return made[-1]

    yield make
    for server in made:
        server.close()


def test_instream_sends_the_file_in_framed_pieces_and_reads_the_verdict(stand_in) -> None:  # type: ignore[no-untyped-def]
    server = stand_in(lambda command, chunks: b"stream: OK\0")
    data = [os.urandom(100_000), b"", os.urandom(10), os.urandom(64 * 1024)]
    result = Clamd(str(server.path), timeout=5).instream(iter(data))
    assert result == ScanResult(infected=False)
    assert server.commands == [b"zINSTREAM\0"]
    assert b"".join(server.chunks) == b"".join(data)
    assert max(len(chunk) for chunk in server.chunks) <= clamd_module.PIECE and b"" not in server.chunks


def test_a_found_signature_is_named(stand_in) -> None:  # type: ignore[no-untyped-def]
    server = stand_in(lambda command, chunks: b"stream: Win.Test.EICAR_HDB-1 FOUND\0")
    assert Clamd(str(server.path), timeout=5).instream([b"x"]) == ScanResult(True, "Win.Test.EICAR_HDB-1")


def test_ping_and_version(stand_in) -> None:  # type: ignore[no-untyped-def]
    answers = {b"zPING\0": b"PONG\0", b"zVERSION\0": b"ClamAV 1.4.6/27500/Tue Jan 14 08:23:45 2025\0"}
    server = stand_in(lambda command, chunks: answers[command])
    client = Clamd(str(server.path), timeout=5)
    assert client.ping() is True
    version = client.version()
    assert (version.engine, version.signatures_version) == ("ClamAV 1.4.6", 27500)
    assert version.signatures_built == datetime(2025, 1, 14, 8, 23, 45, tzinfo=UTC)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("ClamAV 1.4.6", ("ClamAV 1.4.6", None, None)),
        (
            "ClamAV 1.0.7/27001/Mon Sep  2 08:20:02 2024",
            ("ClamAV 1.0.7", 27001, datetime(2024, 9, 2, 8, 20, 2, tzinfo=UTC)),
        ),
        ("ClamAV 1.4.6/27500/not a date", ("ClamAV 1.4.6", 27500, None)),
    ],
)
def test_version_answers_with_and_without_clamavs_own_database(answer: str, expected: tuple[object, ...]) -> None:
    version = parse_version(answer)
    assert (version.engine, version.signatures_version, version.signatures_built) == expected


def test_an_error_answer_is_no_verdict() -> None:
    with pytest.raises(ScannerUnavailable, match="size limit"):
        parse_scan("INSTREAM size limit exceeded. ERROR")
    assert parse_scan("stream: OK") == ScanResult(False)


def test_no_socket_no_answer_or_a_silent_scanner_are_unavailable(stand_in, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ScannerUnavailable):
        Clamd(str(tmp_path / "missing.sock"), timeout=1).ping()
    closes = stand_in(lambda command, chunks: None)
    with pytest.raises(ScannerUnavailable):
        Clamd(str(closes.path), timeout=1).instream([b"data"])
    silent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    silent.bind(str(tmp_path / "silent.sock"))
    silent.listen(1)
    try:
        with pytest.raises(ScannerUnavailable):
            Clamd(str(tmp_path / "silent.sock"), timeout=0.5).ping()
    finally:
        silent.close()


def test_the_eicar_signature_is_md5_size_and_name() -> None:
    line = clamd_module.development_signatures()
    md5, size, name = line.strip().split(":")
    assert md5 == hashlib.md5(eicar()).hexdigest() == "44d88612fea8a8f36de82e1278abb02f"  # noqa: S324
    assert (int(size), name) == (68, "Helpline.Test.EICAR")


# --- manage.py clamav_setup -------------------------------------------------------------------------------------


def setup_into(tmp_path: Path, **options: object) -> str:
    call_command(
        "clamav_setup",
        config=str(tmp_path / "clamd.conf"),
        socket=str(tmp_path / "run" / "clamd.sock"),
        database_dir=str(tmp_path / "db"),
        temporary_dir=str(tmp_path / "spool"),
        stdout=io.StringIO(),
        **options,
    )
    return (tmp_path / "clamd.conf").read_text()


def config_values(text: str) -> dict[str, str]:
    lines = [line.split(None, 1) for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return {key: value for key, value in lines}


def test_the_configuration_has_its_own_socket_database_and_spool_and_takes_every_file_whole(
    tmp_path: Path,
    settings,  # type: ignore[no-untyped-def]
) -> None:
    settings.ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024
    values = config_values(setup_into(tmp_path))
    assert values["LocalSocket"] == str(tmp_path / "run" / "clamd.sock") and "TCPSocket" not in values
    assert values["DatabaseDirectory"] == str(tmp_path / "db")
    assert values["TemporaryDirectory"] == str(tmp_path / "spool")
    assert values["Foreground"] == "yes" and values["LogClean"] == "no"
    stream = int(values["StreamMaxLength"].removesuffix("M")) * 1024 * 1024
    assert stream >= settings.ATTACHMENT_MAX_BYTES
    assert int(values["MaxFileSize"].removesuffix("M")) * 1024 * 1024 >= settings.ATTACHMENT_MAX_BYTES
    assert (tmp_path / "spool").stat().st_mode & 0o777 == 0o700
    assert not (tmp_path / "db" / clamd_module.TEST_SIGNATURE_FILE).exists()


def test_a_larger_file_limit_raises_the_stream_limit(tmp_path: Path, settings) -> None:  # type: ignore[no-untyped-def]
    settings.ATTACHMENT_MAX_BYTES = 50 * 1024 * 1024 + 1
    assert config_values(setup_into(tmp_path))["StreamMaxLength"] == "52M"


def test_test_signatures_are_written_locally_and_refused_in_production(tmp_path: Path, settings) -> None:  # type: ignore[no-untyped-def]
    setup_into(tmp_path, test_signatures=True)
    assert (tmp_path / "db" / "helpline-test.hdb").read_text() == clamd_module.development_signatures()
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="freshclam"):
        setup_into(tmp_path / "production", test_signatures=True)


# --- the real clamd ---------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_real_clamd_answers_and_finds_eicar_even_split_across_chunks(clamd) -> None:  # type: ignore[no-untyped-def]
    client = Clamd(str(clamd.socket), timeout=30)
    assert client.ping()
    assert client.version().engine.startswith("ClamAV ")
    data = eicar()
    assert client.instream([data[:10], data[10:40], data[40:]]) == ScanResult(True, "Helpline.Test.EICAR.UNOFFICIAL")
    assert client.instream([os.urandom(300_000)]) == ScanResult(False)
    assert "Helpline.Test.EICAR.UNOFFICIAL FOUND" in clamd.log()


@pytest.mark.slow
def test_the_real_clamd_takes_a_file_at_the_limit_whole(clamd, settings) -> None:  # type: ignore[no-untyped-def]
    client = Clamd(str(clamd.socket), timeout=60)
    size = int(settings.ATTACHMENT_MAX_BYTES)
    pieces = (os.urandom(64 * 1024) for _ in range(size // (64 * 1024)))
    assert client.instream(pieces) == ScanResult(False)
    with pytest.raises(ScannerUnavailable, match="size limit"):
        client.instream(os.urandom(1024 * 1024) for _ in range(size // (1024 * 1024) + 2))
