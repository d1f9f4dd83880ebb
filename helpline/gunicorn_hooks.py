"""Gunicorn's own output, made as careful as the application's.

- ``ScrubbingLogger`` removes every IP address (v4 and v6, with or without a port) from every line that
  gunicorn logs. Gunicorn logs the peer's address itself when a request cannot even be parsed
  ("Invalid request from ip=…"), before Django's middleware could strip it.
- ``ScrubbingLogger`` also writes no access line for a public request (the reporter's pages and API): a log
  collector stamps every line it receives, so one line per request would be a record of when somebody was
  here, which the privacy page promises we do not keep. Staff requests keep their coarse access line.
  ``ACCESS_LOG_PUBLIC=true`` brings public lines back for a local investigation only.
- ``SyncWorker`` answers a request that gunicorn itself refuses or fails (a garbage request line, an
  oversized header, an application crash) with our static error page and every security header, instead
  of gunicorn's bare page, which also quotes the refused request line back.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
from http import HTTPStatus
from typing import Any

from gunicorn.glogging import Logger
from gunicorn.workers.sync import SyncWorker as GunicornSyncWorker

ADDRESS_REMOVED = "[address removed]"
# Candidates: runs of the characters an address (v4, v6, bracketed, with a port or a zone) is made of.
# Each is checked with the ipaddress module, so a clock time such as 09:16:03 is left alone.
CANDIDATE = re.compile(r"\[?[0-9A-Fa-f:.]*[:.][0-9A-Fa-f:.]*(?:%[\w.-]+)?\]?(?::\d{1,5})?")


def _is_address(token: str) -> bool:
    core = token
    if core.startswith("["):
        core = core[1:].split("]", 1)[0]
    for candidate in (core, core.rsplit(":", 1)[0], core.split("%", 1)[0]):
        try:
            ipaddress.ip_address(candidate.strip("."))
        except ValueError:
            continue
        return True
    return False


def _replacement(match: re.Match[str]) -> str:
    token = match.group(0)
    trailing = token[len(token.rstrip(":.")) :]  # "ip=127.0.0.1: …" keeps its colon
    return ADDRESS_REMOVED + trailing if _is_address(token.rstrip(":.")) else token


def scrub_addresses(text: str) -> str:
    return CANDIDATE.sub(_replacement, text)


class AddressScrubFilter(logging.Filter):
    """Rewrites a record's formatted message (and any traceback text) with every address removed."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg = scrub_addresses(message)
        record.args = None
        if record.exc_info:
            formatter = logging.Formatter()
            record.exc_text = scrub_addresses(formatter.formatException(record.exc_info))
            record.exc_info = None
        return True


# Paths of the staff tier: their access lines may be kept. Everything else is the reporter's tier.
STAFF_PATH_PREFIXES = ("/staff/", "/api/v1/auth/", "/api/v1/cases")


def is_staff_path(path: str) -> bool:
    return path == "/staff" or path.startswith(STAFF_PATH_PREFIXES)


class ScrubbingLogger(Logger):
    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        """Only staff requests get an access line, unless ACCESS_LOG_PUBLIC is set (see the module's doc)."""
        public_logged = os.environ.get("ACCESS_LOG_PUBLIC", "").lower() in {"1", "true", "yes"}
        if not public_logged and not is_staff_path(str(environ.get("PATH_INFO") or "")):
            return
        super().access(resp, req, environ, request_time)

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        scrub = AddressScrubFilter()
        for log in (self.error_log, self.access_log):
            log.filters = [f for f in log.filters if not isinstance(f, AddressScrubFilter)]
            log.addFilter(scrub)
            for handler in log.handlers:
                handler.addFilter(scrub)


class _Captured:
    """Stands in for the client socket while gunicorn writes its own error answer, so that only its status
    line is kept; the body it would have sent (which quotes the request) is dropped."""

    def __init__(self) -> None:
        self.data = b""

    def gettimeout(self) -> float:
        return 0.0

    def setblocking(self, flag: int) -> None:
        return None

    def sendall(self, data: bytes) -> None:
        self.data += data


def _status_of(answer: bytes) -> int:
    try:
        return int(answer.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return 500


def error_answer(status: int) -> bytes:
    from helpline.errors import static_500_headers, static_500_page

    if status >= 500:
        body = static_500_page()
    else:
        phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Bad Request"
        body = (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>'
            f"{phrase}</title></head><body><h1>{phrase}</h1><p>The service could not read this request.</p>"
            "</body></html>"
        ).encode()
    reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    lines = [f"HTTP/1.1 {status} {reason}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in static_500_headers(len(body))]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class SyncWorker(GunicornSyncWorker):
    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        captured = _Captured()
        # Gunicorn decides the status and logs (through ScrubbingLogger); we send the answer.
        super().handle_error(req, captured, addr, exc)
        try:
            client.sendall(error_answer(_status_of(captured.data)))
        except OSError:
            self.log.debug("Failed to send error message.")
