"""Gunicorn's own error path: no client address in its log, every security header on its answers.

A garbage request line and an oversized cookie never reach Django: gunicorn refuses them itself, logs a
warning that names the peer, and answers with its own page. These tests send both from a distinct
loopback address, 127.0.0.77, to a real gunicorn, and read its whole log.
"""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest

from helpline.errors import LastResortErrorPage, static_500_page
from helpline.gunicorn_hooks import ADDRESS_REMOVED, error_answer, scrub_addresses
from helpline.headers import PAGE_HEADERS
from tests.live import Process

SOURCE = "127.0.0.77"


def raw_request(base_url: str, payload: bytes) -> bytes:
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30, source_address=(SOURCE, 0)) as sock:
        sock.sendall(payload)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def parse(answer: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split(" ")[1]), headers, body


def assert_security_headers(headers: dict[str, str]) -> None:
    for name, value in PAGE_HEADERS.items():
        assert headers.get(name) == value, (name, headers.get(name))


@pytest.mark.worker
@pytest.mark.parametrize(
    ("payload", "status"),
    [
        (b"GARBAGE REQUEST LINE FROM-A-CANARY\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: c=" + b"x" * 9000 + b"\r\n\r\n", 431),
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 414),
    ],
    ids=["garbage-request-line", "oversized-cookie", "oversized-request-line"],
)
def test_a_request_gunicorn_refuses_logs_no_address_and_gets_the_security_headers(
    gunicorn_server: tuple[str, Process], payload: bytes, status: int
) -> None:
    base_url, server = gunicorn_server
    got, headers, body = parse(raw_request(base_url, payload))
    assert got == status
    assert_security_headers(headers)
    assert b"CANARY" not in body, "the refused request is not quoted back"
    time.sleep(0.5)  # the warning is written just before the answer; let the log catch up
    log = server.log()
    assert "Invalid request from ip=" + ADDRESS_REMOVED in log
    assert SOURCE not in log, log[-2000:]


def test_every_kind_of_address_is_removed_and_clock_times_are_kept() -> None:
    line = (
        "[2026-12-02 09:16:03 +0000] Invalid request from ip=127.0.0.77: x; also ::1, [2001:db8::7]:443, "
        "::ffff:192.0.2.1 and fe80::1%eth0 at 13:37:42"
    )
    scrubbed = scrub_addresses(line)
    for address in ("127.0.0.77", "::1", "2001:db8::7", "192.0.2.1", "fe80::1"):
        assert address not in scrubbed
    assert "09:16:03" in scrubbed and "13:37:42" in scrubbed
    assert scrubbed.count(ADDRESS_REMOVED) == 5


def test_gunicorns_own_500_is_the_static_page_with_every_header() -> None:
    status, headers, body = parse(error_answer(500))
    assert status == 500
    assert_security_headers(headers)
    assert body == static_500_page()
    assert b"Sorry, there is a problem with the service" in body
    assert int(headers["Content-Length"]) == len(body)


def test_an_error_that_escapes_django_becomes_the_static_500_page() -> None:
    def broken(environ: dict[str, Any], start_response: Any) -> Any:
        raise RuntimeError("a secret canary in the message")

    sent: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        sent.update(status=status, headers=dict(headers))

    body = b"".join(LastResortErrorPage(broken)({"PATH_INFO": "/x"}, start_response))
    assert sent["status"] == "500 Internal Server Error"
    assert_security_headers(sent["headers"])
    assert body == static_500_page() and b"canary" not in body


# Each of the red-team's malformed requests, sent whole through the real server: the answer, its headers and
# what it costs in log lines (a bad form charset once wrote about 53 KB of tracebacks per request).
JSON_SURROGATE = b'{"anonymity": "\\ud800", "summary": "x", "details": "y"}'
MALFORMED = {
    "a lone surrogate in JSON": (
        b"POST /api/v1/reports HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(JSON_SURROGATE)).encode() + b"\r\nConnection: close\r\n\r\n" + JSON_SURROGATE,
        400,
    ),
    "a form in UTF-16": (
        b"POST /check HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded; charset=utf-16"
        b"\r\nContent-Length: 3\r\nConnection: close\r\n\r\na=b",
        400,
    ),
    "a form in rot13": (
        b"POST /staff/sign-in HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded; "
        b"charset=rot13\r\nContent-Length: 3\r\nConnection: close\r\n\r\na=b",
        400,
    ),
    "a NUL in a path": (b"GET /report/%00 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", 404),
}


@pytest.mark.worker
def test_malformed_requests_through_the_real_server_are_4xx_with_every_header_and_one_log_line_each(
    gunicorn_server: tuple[str, Process],
) -> None:
    base_url, server = gunicorn_server
    for what, (payload, status) in MALFORMED.items():
        before = server.log().count("\n")
        got, headers, body = parse(raw_request(base_url, payload))
        assert got == status, (what, got, body[:300])
        assert_security_headers(headers)
        assert b"govuk-template" in body or headers["Content-Type"] == "application/json", what
        time.sleep(0.3)
        added = server.log().splitlines()[before:]
        # The access line, and at most one line saying what was refused.
        assert len(added) <= 2, (what, added)
        assert "Traceback" not in "\n".join(added), what
    assert SOURCE not in server.log()
