"""One virtual user's HTTP client: cookies, the CSRF token, every request timed and judged."""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import urlencode, urlsplit

from bench.soaking.config import TIMEOUT, Stopped
from bench.soaking.stats import ErrorRecord, Stats


class FlowError(Exception):
    """A request answered what its page should not: the rest of this iteration cannot go on."""


@dataclass
class Response:
    status: int
    body: bytes
    location: str

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TITLE = re.compile(r"<title>\s*(.*?)\s*</title>", re.S)
ERROR_SUMMARY = re.compile(
    r'class="[^"]*govuk-error-(?:summary__list|message)\b[^"]*"[^>]*>(.*?)</(?:ul|p|span)>', re.S
)


def _detail(body: bytes) -> str:
    """A short, content-free description of an answer, for the error list: its title and first error."""
    text = body.decode("utf-8", errors="replace")
    title = TITLE.search(text)
    error = ERROR_SUMMARY.search(text)
    parts = [title.group(1) if title else text[:120].replace("\n", " ")]
    if error:
        parts.append(" ".join(re.sub(r"<[^>]+>", " ", error.group(1)).split())[:160])
    return " | ".join(p for p in parts if p)


class Browser:
    """One virtual user's client: a cookie jar, the CSRF token of the last form page, one connection."""

    def __init__(self, port: int, user: str, stats: Stats, stop: threading.Event) -> None:
        self.port = port
        self.user = user
        self.stats = stats
        self.stop = stop
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
        self.cookies: dict[str, str] = {}
        self.csrf = ""

    def request(
        self,
        page: str,
        method: str,
        url: str,
        *,
        form: dict[str, Any] | Iterable[tuple[str, str]] | None = None,
        body: dict[str, Any] | None = None,
        expect: Iterable[int] = (200,),
        conflict_ok: bool = False,
    ) -> Response:
        """One request, timed and recorded under ``page``. A status outside ``expect`` is an error
        (and raises FlowError), except a 409 where ``conflict_ok``, counted as a conflict."""
        if self.stop.is_set():
            raise Stopped
        headers = {"User-Agent": "helpline-soak", "Accept": "text/html,application/json"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data: bytes | None = None
        if form is not None:
            pairs = list(form.items()) if isinstance(form, dict) else list(form)
            pairs.append(("csrfmiddlewaretoken", self.csrf))
            data = urlencode(pairs, doseq=True).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
            headers["Accept"] = "application/json"
        began = time.perf_counter()
        try:
            self.conn.request(method, url, data, headers)
            response = self.conn.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException) as failure:
            seconds = time.perf_counter() - began
            self.conn.close()
            self._error(page, seconds, method, url, 0, f"{type(failure).__name__}: {failure}")
            raise FlowError(f"{page}: {failure}") from None
        seconds = time.perf_counter() - began
        if response.getheader("Connection", "").lower() == "close":
            self.conn.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            value, _, attributes = rest.partition(";")
            if "max-age=0" in attributes.lower().replace(" ", "") or "1970" in attributes:
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value
        location = response.getheader("Location", "")
        if location:
            parts = urlsplit(location)
            location = parts.path + (f"?{parts.query}" if parts.query else "")
        answer = Response(response.status, payload, location)
        if response.status == 409 and conflict_ok:
            self.stats.add(page, seconds, conflict=True)
            return answer
        if response.status not in set(expect):
            where = f" -> {location}" if location else ""
            self._error(page, seconds, method, url, response.status, _detail(payload) + where)
            raise FlowError(f"{page}: {response.status}")
        self.stats.add(page, seconds)
        if payload[:1] == b"<" or b"<html" in payload[:200]:
            token = CSRF.search(answer.text())
            if token:
                self.csrf = token.group(1)
        return answer

    def fail(self, page: str, method: str, url: str, detail: str) -> NoReturn:
        """The answer to a request already timed was wrong in what it showed: an error of ``page``."""
        at = time.monotonic() - self.stats.began
        self.stats.flag(page, ErrorRecord(at, self.user, page, method, url.split("?", 1)[0], 200, detail))
        raise FlowError(f"{page}: {detail}")

    def _error(self, page: str, seconds: float, method: str, url: str, status: int, detail: str) -> None:
        path = url.split("?", 1)[0]
        record = ErrorRecord(time.monotonic() - self.stats.began, self.user, page, method, path, status, detail)
        self.stats.add(page, seconds, error=record)
