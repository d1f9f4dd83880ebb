"""The front door (issue 21, point 3): Debian's nginx in front of gunicorn, started as `make run` starts it.

Gunicorn's two sync workers each hold a connection for as long as its client takes to send it. Two clients
sending a body one byte at a time held both: /healthz took 31 s, then gunicorn killed both workers, again and
again. Through nginx a slow client holds an nginx connection only, and gunicorn sees whole requests.

Every test here runs the real processes: deploy/nginx/proxy.py (which renders the configuration and runs
/usr/sbin/nginx), gunicorn with gunicorn.conf.py, and, for the temporary-file tests, a stand-in for gunicorn
that holds a request until it is told to answer.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import runpy
import select
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from helpline.headers import PAGE_HEADERS, STATIC_HEADERS
from tests import live
from tests.live import (
    NGINX,
    PROXY,
    FrontDoor,
    Process,
    child_pids,
    free_port,
    start_front_door,
    start_nginx,
    start_process,
    wait_for,
)

pytestmark = pytest.mark.worker

# tests/conftest.py does not load tests/live.py's front-door fixtures: this module uses its session-wide pages.
proxy_pages = live.proxy_pages

# Short timeouts, so that what takes nginx's defaults (10 s, 30 s) takes seconds here.
HEADER_TIMEOUT = 2
BODY_TIMEOUT = 2
NGINX_OPTIONS = {"client_header_timeout": f"{HEADER_TIMEOUT}s", "client_body_timeout": f"{BODY_TIMEOUT}s"}
# A gunicorn worker that is silent for this long is killed; the slow clients keep going for longer than that.
GUNICORN_TIMEOUT = 5
ATTACK_SECONDS = GUNICORN_TIMEOUT + 1
# Answered "promptly": generous against the 30 s and more the attack used to cost, never a micro-timing.
PROMPTLY = 5.0
SUBMISSION_LIMIT = 1

REPORT = {
    "anonymity": "anonymous",
    "reporter_sector": "police",
    "concern_types": ["information_not_shared"],
    "postcode": "",
    "organisation_name": "Northside Academy",
    "summary": "Records changed after a disclosure",
    "details": "A disclosure was recorded and later removed from the system.",
    "child_at_immediate_risk": False,
    "raised_internally": "no",
    "internal_response": "",
    "contact": None,
}


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, proxy_pages: Path, django_db_setup: None
) -> Iterator[tuple[FrontDoor, Process]]:
    """One gunicorn (one sync worker: a single slow client would hold it) behind nginx, for the tests that need
    gunicorn. Each test is transactional, so the rows gunicorn writes (reports, limits) go when it ends."""
    nginx, server = start_front_door(
        tmp_path_factory.mktemp("front-door"),
        proxy_pages,
        {
            "GUNICORN_TIMEOUT": str(GUNICORN_TIMEOUT),
            "SUBMISSION_LIMIT": str(SUBMISSION_LIMIT),
            # Access lines for public requests too, so the tests can count what reached gunicorn.
            "ACCESS_LOG_PUBLIC": "true",
            "ACCESS_CODE_KDF_OPSLIMIT": "1",
            "ACCESS_CODE_KDF_MEMLIMIT": str(8 * 1024 * 1024),
        },
        **NGINX_OPTIONS,
    )
    try:
        yield nginx, server
    finally:
        nginx.stop()
        server.stop()


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body)


def request(
    nginx: FrontDoor,
    method: str,
    path: str,
    body: bytes | None = None,
    *,
    source: str = "127.0.0.1",
    headers: dict[str, str] | None = None,
) -> Answer:
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", nginx.port, timeout=60, source_address=(source, 0))
    try:
        connection.request(method, path, body, {"Host": f"127.0.0.1:{nginx.port}", **(headers or {})})
        response = connection.getresponse()
        return Answer(response.status, dict(response.getheaders()), response.read(), time.monotonic() - started)
    finally:
        connection.close()


def submit(nginx: FrontDoor, *, source: str, headers: dict[str, str] | None = None) -> Answer:
    return request(
        nginx,
        "POST",
        "/api/v1/reports",
        json.dumps(REPORT).encode(),
        source=source,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


# --- slow clients ----------------------------------------------------------------------------------------------


@dataclass
class SlowClient:
    """A connection that sends `head` and then `trickle`, one byte every 0.2 s until `stop` (or to its end), and
    notes when nginx closed it and what, if anything, nginx answered."""

    port: int
    source: str
    head: bytes
    trickle: bytes
    stop: threading.Event
    answer: bytes = b""
    sent: int = 0
    stopped_at: float | None = None
    closed_at: float | None = None
    error: str = ""
    thread: threading.Thread = field(init=False)

    def __post_init__(self) -> None:
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        try:
            with socket.create_connection(
                ("127.0.0.1", self.port), timeout=30, source_address=(self.source, 0)
            ) as sock:
                sock.sendall(self.head)
                for byte in self.trickle:
                    if self.stop.is_set() or self.closed(sock, wait=0.2):
                        break
                    sock.sendall(bytes([byte]))
                    self.sent += 1
                self.stopped_at = time.monotonic()
                deadline = self.stopped_at + 15
                while self.closed_at is None and time.monotonic() < deadline:
                    self.closed(sock, wait=0.1)
        except OSError as error:  # a reset while sending: nginx closed it
            self.closed_at = self.closed_at or time.monotonic()
            self.error = repr(error)

    def closed(self, sock: socket.socket, *, wait: float) -> bool:
        readable, _, _ = select.select([sock], [], [], wait)
        if readable:
            data = sock.recv(65536)
            self.answer += data
            if not data:
                self.closed_at = time.monotonic()
                return True
        return False


def slow_body(port: int, source: str, stop: threading.Event) -> SlowClient:
    """A whole request head, then the body one byte at a time."""
    head = (
        b"POST /api/v1/reports HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100000\r\n\r\n"
    )
    return SlowClient(port, source, head, b" " * 100000, stop)


def slow_head(port: int, source: str, stop: threading.Event) -> SlowClient:
    """The request head itself one byte at a time, never finished."""
    head = b"POST /api/v1/reports HTTP/1.1\r\n"
    return SlowClient(port, source, head, b"X-Slow: " + b"x" * 100000, stop)


def gunicorn_workers(server: Process) -> list[int]:
    return child_pids(server.popen.pid)


SLOW_SOURCE = "127.0.0.86"
SUBMITTER = "127.0.0.87"


@pytest.mark.slow
def test_slow_clients_wait_in_nginx_and_never_hold_a_gunicorn_worker(
    stack: tuple[FrontDoor, Process], transactional_db: None
) -> None:
    nginx, server = stack
    workers = gunicorn_workers(server)
    assert len(workers) == 1
    stop = threading.Event()
    bodies = [slow_body(nginx.port, SLOW_SOURCE, stop) for _ in range(4)]
    heads = [slow_head(nginx.port, SLOW_SOURCE, stop) for _ in range(2)]
    attack_started = time.monotonic()
    time.sleep(0.5)

    # While they trickle, the service answers: /healthz, and a report (one Argon2 derivation and the database).
    health = request(nginx, "GET", "/healthz")
    assert health.status == 200 and health.json()["status"] in {"ok", "degraded"}
    assert health.seconds < PROMPTLY, health.seconds
    report = submit(nginx, source=SUBMITTER)
    assert report.status == 201, report.body
    assert report.seconds < PROMPTLY, report.seconds

    # Past gunicorn's timeout: a worker held by a slow client all this time would now be killed.
    time.sleep(max(0.0, ATTACK_SECONDS - (time.monotonic() - attack_started)))
    health = request(nginx, "GET", "/healthz")
    assert health.status == 200 and health.seconds < PROMPTLY, health
    assert all(client.closed_at is None for client in bodies), "a client still sending its body is not cut off"
    stop.set()
    for client in bodies + heads:
        client.thread.join(timeout=20)

    # The heads were closed once the head timeout ran out, though they kept sending; each body once it stopped
    # for the body timeout. nginx answers neither (it never sends its 408): the connection just ends.
    for client in heads:
        assert client.closed_at is not None
        assert client.closed_at - attack_started < HEADER_TIMEOUT + 0.5 + PROMPTLY, client
    for client in bodies:
        assert client.stopped_at is not None and client.closed_at is not None, client
        assert client.closed_at - client.stopped_at < BODY_TIMEOUT + PROMPTLY, client
        assert client.sent > 10 and client.answer == b"", client

    # Gunicorn never saw them: the same worker, no timeout, and the one report the only POST it was sent.
    time.sleep(0.5)  # gunicorn writes its access log line after the answer
    log = server.log()
    assert gunicorn_workers(server) == workers
    assert "WORKER TIMEOUT" not in log
    assert re.findall(r"^POST /api/v1/reports \d+", log, re.MULTILINE) == ["POST /api/v1/reports 201"], log[-3000:]

    # No address in any log: nginx's error log and what its launcher printed (as make run's output), not even
    # its own; nor gunicorn's. Nor anything else in nginx's runtime folder names a client.
    for text in (nginx.logs(), log):
        assert "127.0.0." not in text, text[-3000:]
    runtime_files = "".join(path.read_text(errors="replace") for path in nginx.runtime().rglob("*") if path.is_file())
    for client in (SLOW_SOURCE, SUBMITTER):
        assert client not in runtime_files


def test_every_client_address_has_its_own_submission_limit_and_no_header_changes_it(
    stack: tuple[FrontDoor, Process], transactional_db: None
) -> None:
    nginx, _server = stack
    first, second, third = "127.0.0.2", "127.0.0.3", "127.0.0.4"
    assert submit(nginx, source=first).status == 201
    assert submit(nginx, source=first).status == 429, "one report an hour from here (SUBMISSION_LIMIT=1)"
    # Whatever a client says its address is, it is the address nginx sees.
    for header in ("X-Real-IP", "X-Forwarded-For", "Forwarded"):
        value = "for=127.0.0.9" if header == "Forwarded" else "127.0.0.9"
        assert submit(nginx, source=first, headers={header: value}).status == 429, header
    # Another address has its own budget, behind the same nginx.
    assert submit(nginx, source=second).status == 201
    # Naming an address that has used its budget up charges the sender's own, not that one.
    assert submit(nginx, source=third, headers={"X-Real-IP": first, "X-Forwarded-For": first}).status == 201
    assert submit(nginx, source=third).status == 429


def test_forms_work_through_the_front_door(stack: tuple[FrontDoor, Process], transactional_db: None) -> None:
    """Django's CSRF check compares the browser's Origin with the host it is told: nginx passes the port on."""
    nginx, _server = stack
    page = request(nginx, "GET", "/check")
    assert page.status == 200
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
    cookie = re.search(r"csrftoken=([^;]+)", page.headers.get("Set-Cookie", ""))
    assert token and cookie
    form = f"csrfmiddlewaretoken={token.group(1).decode()}&reference=HX7K-29QM&access_code=a+b+c+d+e+f+g"
    sent = request(
        nginx,
        "POST",
        "/check",
        form.encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={cookie.group(1)}",
            "Origin": nginx.url,
        },
    )
    # Refused for its made-up reference and code (an error summary on the form), not for its CSRF token (403).
    assert sent.status != 403 and sent.status < 500, (sent.status, sent.body[:500])
    assert b"govuk-error-summary" in sent.body


# --- nginx's own answers ---------------------------------------------------------------------------------------


def read_answer(sock: socket.socket) -> Answer:
    """One answer, read by its Content-Length: after a refusal nginx keeps reading (and dropping) what the client
    still sends for a few seconds before it closes the connection."""
    raw = b""
    while b"\r\n\r\n" not in raw:
        raw += sock.recv(65536)
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    while len(body) < int(headers["Content-Length"]):
        body += sock.recv(65536)
    return Answer(int(lines[0].split()[1]), headers, body, 0)


def assert_page_headers(answer: Answer) -> None:
    for name, value in PAGE_HEADERS.items():
        assert answer.headers.get(name) == value, (name, answer.headers.get(name))


@pytest.fixture(scope="module")
def gunicorn_down(tmp_path_factory: pytest.TempPathFactory, proxy_pages: Path) -> Iterator[FrontDoor]:
    """nginx in front of a port nothing listens on: gunicorn down, or restarting."""
    nginx = start_nginx(tmp_path_factory.mktemp("down"), f"127.0.0.1:{free_port()}", proxy_pages, **NGINX_OPTIONS)
    yield nginx
    nginx.stop()


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/report/check-your-answers", "You can add more information after you have sent your report."),
        ("/staff/cases/new", "Go back and shorten what you entered, then send it again."),
    ],
    ids=["public", "staff"],
)
def test_a_body_over_the_limit_gets_the_govuk_413_page(gunicorn_down: FrontDoor, path: str, words: str) -> None:
    """nginx refuses it on its Content-Length alone (11m, docs/deploy.md), before any byte reaches gunicorn."""
    with socket.create_connection(("127.0.0.1", gunicorn_down.port), timeout=10) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {12 * 1024 * 1024}\r\n\r\nsummary=".encode()
        )
        answer = read_answer(sock)
    assert answer.status == 413
    assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
    assert_page_headers(answer)
    text = answer.body.decode()
    assert '<h1 class="govuk-heading-l">What you sent is too long</h1>' in text
    assert words in text
    assert '<link rel="stylesheet" href="/static/vendor/govuk/govuk-frontend.min.css">' in text


def test_the_api_gets_json_from_nginx_too(gunicorn_down: FrontDoor) -> None:
    too_big = request(
        gunicorn_down,
        "POST",
        "/api/v1/reports",
        b"{}",
        headers={"Content-Type": "application/json", "Content-Length": str(12 * 1024 * 1024)},
    )
    assert (too_big.status, too_big.json()) == (413, {"detail": "The request body is too large."})
    down = request(gunicorn_down, "GET", "/api/v1/local-authorities?postcode=S60")
    assert down.status == 502 and down.headers["Content-Type"] == "application/json"
    assert down.json() == {"detail": "The service is unavailable. Try again in a few minutes."}
    assert_page_headers(down)


def test_while_gunicorn_is_down_people_get_the_govuk_page_with_its_styling(gunicorn_down: FrontDoor) -> None:
    public = request(gunicorn_down, "GET", "/report/start")
    assert public.status == 502
    assert_page_headers(public)
    text = public.body.decode()
    assert "Sorry, the service is unavailable" in text and "call the helpline on" in text
    assert 'href="/">Go to the start page</a>' in text
    staff = request(gunicorn_down, "GET", "/staff/")
    assert staff.status == 502 and 'href="/staff/">Go to your workspace</a>' in staff.body.decode()
    # The stylesheet, its fonts and the scripts come from nginx's copy of the collected static files.
    stylesheet = request(gunicorn_down, "GET", "/static/vendor/govuk/govuk-frontend.min.css")
    assert stylesheet.status == 200 and stylesheet.headers["Content-Type"] == "text/css"
    assert b".govuk-header" in stylesheet.body
    for name, value in STATIC_HEADERS.items():
        assert stylesheet.headers.get(name) == value, name
    script = request(gunicorn_down, "GET", "/static/js/init.mjs")
    assert script.status == 200 and script.headers["Content-Type"] == "text/javascript"
    assert request(gunicorn_down, "GET", "/static/%2e%2e/%2e%2e/etc/passwd").status in {400, 404}


def test_a_request_nginx_cannot_read_gets_the_govuk_400_page(gunicorn_down: FrontDoor) -> None:
    with socket.create_connection(("127.0.0.1", gunicorn_down.port), timeout=10) as sock:
        sock.sendall(b"GARBAGE REQUEST LINE FROM-A-CANARY\r\n\r\n")
        answer = read_answer(sock)
    assert answer.status == 400
    assert b"Sorry, there is a problem with what was sent" in answer.body and b"CANARY" not in answer.body
    assert_page_headers(answer)


# --- bodies and answers never on disk --------------------------------------------------------------------------


class HoldingUpstream:
    """A stand-in for gunicorn: reads each request whole, then holds it until `release`, then answers
    `answer_size` bytes, counting what it has managed to send."""

    def __init__(self, answer_size: int = 2) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self.listener.getsockname()[1]}"
        self.answer_size = answer_size
        self.received = threading.Event()
        self.release = threading.Event()
        self.body = b""
        self.sent = 0
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        connection, _ = self.listener.accept()
        with connection:
            data = b""
            while b"\r\n\r\n" not in data:
                data += connection.recv(65536)
            head, _, self.body = data.partition(b"\r\n\r\n")
            declared = re.search(rb"(?i)\r\ncontent-length: (\d+)", head)
            length = int(declared.group(1)) if declared else 0
            while len(self.body) < length:
                self.body += connection.recv(1024 * 1024)
            self.received.set()
            self.release.wait(30)
            connection.sendall(
                f"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {self.answer_size}\r\n"
                "Connection: close\r\n\r\n".encode()
            )
            chunk = b"y" * 65536
            while self.sent < self.answer_size:
                piece = chunk[: self.answer_size - self.sent]
                connection.sendall(piece)
                self.sent += len(piece)

    def close(self) -> None:
        self.release.set()
        self.listener.close()


def files_open_in(pids: list[int], folder: str) -> list[str]:
    """What these nginx workers hold open in `folder`: a temporary file is unlinked as soon as it is made, so a
    listing never shows it; the worker's open files do (as "<path> (deleted)")."""
    held = []
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:  # closed since the listing
                continue
            if folder in target:
                held.append(target)
    return held


def files_in(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


@pytest.fixture
def config_edit(proxy_pages: Path, tmp_path: Path) -> Iterator[Callable[[str, Callable[[str], str]], FrontDoor]]:
    """nginx from proxy.py's configuration with one edit, to show that the checks below see a temporary file
    when there is one. proxy.py itself offers no way to loosen the configuration; this runs nginx by hand."""
    proxy = runpy.run_path(str(PROXY))
    started: list[tuple[FrontDoor, Path]] = []

    def start(upstream: str, edit: Callable[[str], str]) -> FrontDoor:
        runtime = proxy["make_runtime"](Path("/dev/shm"), proxy_pages)  # noqa: S108
        port = free_port()
        rendered = subprocess.run(
            [sys.executable, str(PROXY), "render", "--listen", f"127.0.0.1:{port}", "--upstream", upstream]
            + ["--pages", str(proxy_pages), "--runtime", str(runtime), "--error-log", str(tmp_path / "error.log")],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        edited = edit(rendered)
        assert edited != rendered
        (runtime / "nginx.conf").write_text(edited)
        if os.geteuid() == 0:
            proxy["give_to_workers"](runtime)
        launcher = start_process(
            [str(NGINX), "-p", f"{runtime}/", "-c", str(runtime / "nginx.conf"), "-e", str(tmp_path / "error.log")],
            tmp_path / f"nginx-{port}.log",
        )
        door = FrontDoor(f"http://127.0.0.1:{port}", port, launcher, tmp_path / "error.log")
        started.append((door, runtime))
        wait_for(lambda: bool(child_pids(launcher.popen.pid)), timeout=30, what="nginx by hand")
        time.sleep(0.3)
        return door

    yield start
    for door, runtime in started:
        door.launcher.stop()
        shutil.rmtree(runtime, ignore_errors=True)


def worker_pids_by_hand(door: FrontDoor) -> list[int]:
    """Run by hand, nginx's master is the process itself."""
    return child_pids(door.launcher.popen.pid)


ONE_MIB = b"r" * (1024 * 1024)


def send_body(nginx: FrontDoor, *, chunked: bool, answers: list[Answer]) -> threading.Thread:
    def send() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", nginx.port, timeout=30)
        headers = {"Content-Type": "application/json"}
        if chunked:
            connection.putrequest("POST", "/api/v1/reports")
            for name, value in {**headers, "Transfer-Encoding": "chunked"}.items():
                connection.putheader(name, value)
            connection.endheaders()
            for start in range(0, len(ONE_MIB), 64 * 1024):
                piece = ONE_MIB[start : start + 64 * 1024]
                connection.send(b"%x\r\n%s\r\n" % (len(piece), piece))
            connection.send(b"0\r\n\r\n")
        else:
            connection.request("POST", "/api/v1/reports", ONE_MIB, headers)
        response = connection.getresponse()
        answers.append(Answer(response.status, dict(response.getheaders()), response.read(), 0))
        connection.close()

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_1_mib_body_stays_in_memory_and_leaves_no_file(
    tmp_path: Path, proxy_pages: Path, chunked: bool, config_edit: Any
) -> None:
    upstream = HoldingUpstream()
    nginx = start_nginx(tmp_path, upstream.address, proxy_pages, **NGINX_OPTIONS)
    try:
        runtime = nginx.runtime()
        answers: list[Answer] = []
        sender = send_body(nginx, chunked=chunked, answers=answers)
        assert upstream.received.wait(15), "the body reached the stand-in for gunicorn"
        # nginx holds the request now, body and all, until gunicorn answers: is any of it in a file?
        assert files_open_in(nginx.worker_pids(), f"{runtime}/tmp/") == []
        assert files_in(runtime / "tmp") == []
        upstream.release.set()
        sender.join(15)
        assert answers and answers[0].status == 200
        assert upstream.body == ONE_MIB
        assert files_in(runtime / "tmp") == []
    finally:
        nginx.stop()
        upstream.close()
    assert not runtime.exists(), "the runtime folder goes when nginx stops"

    # The same with the buffer nginx would have by default (16k): the body is in a file, and the check sees it.
    upstream = HoldingUpstream()
    try:
        by_hand = config_edit(
            upstream.address,
            lambda text: re.sub(r"client_body_buffer_size +\S+;", "client_body_buffer_size 16k;", text),
        )
        answers = []
        sender = send_body(by_hand, chunked=chunked, answers=answers)
        assert upstream.received.wait(15)
        held = files_open_in(worker_pids_by_hand(by_hand), "/tmp/body/")
        assert held and all(target.endswith("(deleted)") for target in held), held
        upstream.release.set()
        sender.join(15)
    finally:
        upstream.close()


def test_a_large_answer_to_a_slow_reader_stays_in_memory(tmp_path: Path, proxy_pages: Path, config_edit: Any) -> None:
    """Answers carry decrypted case content on the staff side: past its buffers nginx waits for the client to
    read rather than write the rest to a file (proxy_max_temp_file_size 0)."""
    size = 32 * 1024 * 1024

    def slow_reader(door: FrontDoor, upstream: HoldingUpstream) -> socket.socket:
        reader = socket.create_connection(("127.0.0.1", door.port), timeout=30)
        reader.sendall(b"GET /staff/cases/export HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        assert upstream.received.wait(15)
        upstream.release.set()
        return reader

    def stalled(upstream: HoldingUpstream) -> bool:
        before = upstream.sent
        time.sleep(0.5)
        return upstream.sent == before

    def read_all(reader: socket.socket) -> bytes:
        data = bytearray()
        while chunk := reader.recv(1024 * 1024):
            data += chunk
        reader.close()
        return bytes(data)

    upstream = HoldingUpstream(size)
    nginx = start_nginx(tmp_path, upstream.address, proxy_pages, **NGINX_OPTIONS)
    try:
        reader = slow_reader(nginx, upstream)
        wait_for(lambda: stalled(upstream), timeout=20, what="nginx to stop reading from the stand-in")
        assert upstream.sent < size
        assert files_open_in(nginx.worker_pids(), f"{nginx.runtime()}/tmp/") == []
        answer = read_all(reader)
        assert answer.endswith(b"\r\n\r\n" + b"y" * size)
    finally:
        nginx.stop()
        upstream.close()

    # nginx's default (up to 1 GiB in a temporary file): the whole answer is taken from gunicorn into a file.
    upstream = HoldingUpstream(size)
    try:
        by_hand = config_edit(upstream.address, lambda text: text.replace("proxy_max_temp_file_size 0;", ""))
        reader = slow_reader(by_hand, upstream)
        wait_for(lambda: upstream.sent == size, timeout=20, what="the whole answer to leave the stand-in")
        assert files_open_in(worker_pids_by_hand(by_hand), "/tmp/proxy/"), "the answer is in a temporary file"
        reader.close()
    finally:
        upstream.close()


def test_the_runtime_folder_is_private_and_in_memory(gunicorn_down: FrontDoor) -> None:
    runtime = gunicorn_down.runtime()
    proxy = runpy.run_path(str(PROXY))
    assert proxy["filesystem_type"](runtime) in {"tmpfs", "ramfs"}
    assert runtime.stat().st_mode & 0o777 == 0o700
    assert (runtime / "tmp").stat().st_mode & 0o777 == 0o700
    text = (runtime / "nginx.conf").read_text()
    for directive in ("client_body_temp_path", "proxy_temp_path", "fastcgi_temp_path", "uwsgi_temp_path"):
        assert re.search(rf"^\s*{directive}\s+{re.escape(str(runtime))}/tmp/", text, re.MULTILINE), directive
    # Run as root, nginx's workers are not.
    if os.geteuid() == 0:
        assert all(Path(f"/proc/{pid}").stat().st_uid != 0 for pid in gunicorn_down.worker_pids())
