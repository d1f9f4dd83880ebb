"""A real clamd for the tests, started the way `make run` starts it: the project's own configuration written by
``manage.py clamav_setup --test-signatures`` (its own socket, database folder and memory-backed spool folder),
never the packaged service. One per test session: loading signatures takes clamd a few seconds.

Tests that use it start a process, so they are marked ``slow`` or ``worker`` (tests/conftest.py checks).
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.management import call_command

from core.clamd import Clamd, ScannerUnavailable

CLAMD = Path("/usr/sbin/clamd")


@dataclass
class ClamdServer:
    socket: Path
    database_dir: Path
    spool: Path
    log_path: Path
    popen: subprocess.Popen[bytes]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def answers(self) -> bool:
        try:
            return Clamd(str(self.socket), timeout=2).ping()
        except ScannerUnavailable:
            return False


@pytest.fixture(scope="session")
def clamd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClamdServer]:
    if not CLAMD.exists():
        pytest.fail(f"{CLAMD} is missing: `make setup-test` installs Debian's clamav-daemon")
    base = tmp_path_factory.mktemp("clamd")
    spool = Path(tempfile.mkdtemp(prefix="helpline-test-clamd-", dir="/dev/shm"))
    config = base / "clamd.conf"
    call_command(
        "clamav_setup",
        config=str(config),
        socket=str(base / "clamd.sock"),
        database_dir=str(base / "db"),
        temporary_dir=str(spool),
        test_signatures=True,
        stdout=io.StringIO(),
    )
    log_path = base / "clamd.log"
    with log_path.open("wb") as log:
        popen = subprocess.Popen(  # noqa: S603 - Debian's clamd with our configuration
            [str(CLAMD), "-c", str(config)], stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = ClamdServer(base / "clamd.sock", base / "db", spool, log_path, popen)
    try:
        deadline = time.monotonic() + 90
        while not server.answers():
            if popen.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"clamd did not start:\n{server.log()}")
            time.sleep(0.2)
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(popen.pid, signal.SIGTERM)
        try:
            popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(popen.pid, signal.SIGKILL)
            popen.wait(timeout=10)
        shutil.rmtree(spool, ignore_errors=True)


@pytest.fixture
def scanner(clamd: ClamdServer, settings) -> ClamdServer:  # type: ignore[no-untyped-def]
    """The session's clamd, as CLAMD_SOCKET (and its database folder) for this test."""
    settings.CLAMD_SOCKET = str(clamd.socket)
    settings.CLAMD_DATABASE_DIR = str(clamd.database_dir)
    return clamd
