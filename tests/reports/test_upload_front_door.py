"""The front door at the upload addresses (issue 25): nginx takes one file's size there, and only there, with its
own GOV.UK page past that; each client may send only a few uploads at once, and the service only so many in all,
so the bodies nginx holds in memory stay bounded. Never a 500, never a request left hanging.

The real processes: deploy/nginx/proxy.py running Debian's nginx, in front of nothing (gunicorn down: what nginx
answers itself) or of gunicorn (a file just over the application's limit gets the application's field error).
"""

from __future__ import annotations

import json
import secrets
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from reports.models import Attachment, AttachmentChunk
from tests import live
from tests.attachment_files import files_holding, found_in
from tests.factories import submit_report
from tests.live import FrontDoor, free_port, start_front_door, start_nginx

pytestmark = pytest.mark.worker

proxy_pages = live.proxy_pages

MIB = 1024 * 1024
PROMPTLY = 5.0
UPLOADS = ("/report/documents", "/check/concern/files")
API_UPLOAD = "/api/v1/reports/attachments"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    def text(self) -> str:
        return self.body.decode()


def read_answer(sock: socket.socket, started: float) -> Answer:
    """One answer, read by its Content-Length (nginx keeps reading and dropping a refused body for a while)."""
    raw = b""
    while b"\r\n\r\n" not in raw:
        chunk = sock.recv(65536)
        assert chunk, f"the connection closed without an answer: {raw[:200]!r}"
        raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    while len(body) < int(headers.get("Content-Length", "0")):
        body += sock.recv(65536)
    return Answer(int(lines[0].split()[1]), headers, body, time.monotonic() - started)


def post_head(path: str, length: int, content_type: str = "multipart/form-data; boundary=x") -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\nContent-Length: {length}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()


def post(door: FrontDoor, path: str, *, length: int, send: int = 0, source: str = "127.0.0.1") -> Answer:
    """A POST whose head says ``length`` bytes, of which ``send`` are sent before the answer is read."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", door.port), timeout=30, source_address=(source, 0)) as sock:
        sock.sendall(post_head(path, length))
        if send:
            sock.sendall(b"-" * send)
        return read_answer(sock, started)


@pytest.fixture(scope="module")
def gunicorn_down(tmp_path_factory: pytest.TempPathFactory, proxy_pages: Path) -> Iterator[FrontDoor]:
    door = start_nginx(tmp_path_factory.mktemp("uploads-down"), f"127.0.0.1:{free_port()}", proxy_pages)
    yield door
    door.stop()


@pytest.mark.parametrize("path", UPLOADS)
def test_an_upload_over_one_files_size_gets_the_govuk_page_that_says_so(gunicorn_down: FrontDoor, path: str) -> None:
    answer = post(gunicorn_down, path, length=22 * MIB)
    assert answer.status == 413 and answer.seconds < PROMPTLY
    assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
    assert answer.headers["Cache-Control"] == "no-store"
    text = answer.text()
    assert '<h1 class="govuk-heading-l">The selected file is too large</h1>' in text
    assert "The selected file must be smaller than 20 MB. Nothing was saved." in text
    assert "govuk-frontend.min.css" in text


def test_the_api_upload_gets_json_from_nginx(gunicorn_down: FrontDoor) -> None:
    answer = post(gunicorn_down, API_UPLOAD, length=22 * MIB)
    assert answer.status == 413 and answer.headers["Content-Type"] == "application/json"
    assert json.loads(answer.body) == {
        "detail": "The request body is too large: the file must be smaller than 20 MB. Send one file at a time."
    }


def test_one_files_size_is_allowed_at_the_upload_addresses_only(gunicorn_down: FrontDoor) -> None:
    # 15 MiB: past the 11m every other address takes, within one file's size and the form's fields.
    elsewhere = post(gunicorn_down, "/report/what-happened", length=15 * MIB)
    assert elsewhere.status == 413 and "What you sent is too long" in elsewhere.text()
    for path in (*UPLOADS, API_UPLOAD):
        passed_on = post(gunicorn_down, path, length=15 * MIB, send=15 * MIB)
        assert passed_on.status == 502, (path, passed_on.status)  # read whole, then passed on (gunicorn is down)


@pytest.mark.parametrize(
    ("options", "other_address_refused"),
    [
        ({"uploads_per_client": "1", "uploads_in_all": "10"}, False),
        ({"uploads_per_client": "5", "uploads_in_all": "1"}, True),
    ],
    ids=["per-client", "in-all"],
)
def test_a_client_sending_too_many_uploads_at_once_gets_a_429_page_at_once(
    tmp_path: Path, proxy_pages: Path, options: dict[str, str], other_address_refused: bool
) -> None:
    door = start_nginx(tmp_path, f"127.0.0.1:{free_port()}", proxy_pages, client_body_timeout="5s", **options)
    try:
        with socket.create_connection(("127.0.0.1", door.port), timeout=30) as slow:
            # An upload still arriving: its body is held by nginx, not yet passed on.
            slow.sendall(post_head("/report/documents", MIB) + b"-" * 1000)
            time.sleep(0.3)
            second = post(door, "/check/concern/files", length=MIB)
            assert second.status == 429 and second.seconds < PROMPTLY
            assert "Too many files are being sent at once" in second.text()
            api = post(door, API_UPLOAD, length=MIB)
            assert api.status == 429 and api.headers["Content-Type"] == "application/json"
            # Another address: refused only by the limit in all.
            other = post(door, "/report/documents", length=10, send=10, source="127.0.0.2")
            assert other.status == (429 if other_address_refused else 502)
            # Any other address of the service is not limited.
            page = post(door, "/report/what-happened", length=10, send=10)
            assert page.status == 502
        # The slow upload has gone: the next is taken.
        time.sleep(0.3)
        assert post(door, "/report/documents", length=10, send=10).status == 502
        # Counted in memory, never logged: no log line names the address or the refusal.
        logs = door.logs()
        assert "127.0.0." not in logs and "limiting connections" not in logs, logs
    finally:
        door.stop()


@pytest.fixture
def behind_the_front_door(
    tmp_path: Path, proxy_pages: Path, test_broker: str, transactional_db: None, fast_kdf: None
) -> Iterator[FrontDoor]:
    door, server = start_front_door(
        tmp_path,
        proxy_pages,
        {"ATTACHMENT_MAX_BYTES": str(MIB), "ACCESS_CODE_KDF_OPSLIMIT": "1", "ACCESS_CODE_KDF_MEMLIMIT": str(8 * MIB)},
        max_body="1m",
        upload_max_body="2m",
    )
    try:
        yield door
    finally:
        door.stop()
        server.stop()


def test_a_file_just_over_the_limit_gets_the_applications_field_error_through_the_front_door(
    behind_the_front_door: FrontDoor,
) -> None:
    boundary = "canaryboundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="reference"\r\n\r\nHX7K-29QM\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="access_code"\r\n\r\na b c d e f g\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="long.txt"\r\n\r\n'
        ).encode()
        + b"a" * (MIB + MIB // 2)
        + f"\r\n--{boundary}--\r\n".encode()
    )
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", behind_the_front_door.port), timeout=30) as sock:
        sock.sendall(post_head(API_UPLOAD, len(body), f"multipart/form-data; boundary={boundary}") + body)
        answer = read_answer(sock, started)
    assert answer.status == 400, answer.body
    assert json.loads(answer.body) == {"file": ["The selected file must be smaller than 1 MB."]}
    assert not Attachment.objects.exists() and not AttachmentChunk.objects.exists()


def test_a_file_through_the_front_door_leaves_its_words_and_name_in_no_temporary_path(
    behind_the_front_door: FrontDoor, tmp_path: Path
) -> None:
    """nginx holds upload bodies in memory only: after a real upload through nginx and gunicorn, a canary in the
    file and in its name is in none of nginx's temporary folders (client bodies, proxy buffers), its logs,
    gunicorn's, /tmp or /dev/shm, and the database holds only the sealed file."""
    # Made at run time: a canary written in this file would be found in the checkout itself (CI clones into /tmp).
    words = f"CANARY-words-{secrets.token_hex(8)}".encode()
    name = f"canary-name-{secrets.token_hex(8)}.txt"
    submitted = submit_report()
    boundary = "b0undary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="reference"\r\n\r\n{submitted.report.reference}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="access_code"\r\n\r\n{submitted.access_code}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: text/plain\r\n\r\n"
        ).encode()
        + b"Minutes of the meeting. " * 2000
        + words
        + f"\r\n--{boundary}--\r\n".encode()
    )
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", behind_the_front_door.port), timeout=30) as sock:
        sock.sendall(post_head(API_UPLOAD, len(body), f"multipart/form-data; boundary={boundary}") + body)
        answer = read_answer(sock, started)
    assert answer.status == 201, answer.body
    assert Attachment.objects.filter(report=submitted.report).count() == 1
    roots = [behind_the_front_door.runtime(), tmp_path, Path("/tmp"), Path("/dev/shm")]
    for canary in (words, name.encode()):
        assert files_holding(roots, canary) == [], canary
        assert not found_in(behind_the_front_door.logs().encode(), canary)
        stored = b"".join(bytes(row) for row in AttachmentChunk.objects.values_list("data", flat=True))
        assert not found_in(stored, canary)
