"""The Nu HTML Checker (vnu.jar from the ``vnu-jar`` npm package, installed by ``npm ci``) on the machine's Java.

The checker runs once per test session as an HTTP service on 127.0.0.1: the JVM takes seconds to start and to
warm up, a check then takes milliseconds. The browser tests keep the markup of every page of the live server a
browser context loads (``ServedMarkup``) and check it when each test ends (tests/e2e/conftest.py). Nothing here
needs the network: the checker's schemas and the HTML spec it quotes are inside the jar, and we call ``java``
ourselves, never the package's ``vnu`` script (which downloads a Java runtime when it finds none).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, Request, Response
from playwright.sync_api import Error as PlaywrightError

from tests.live import Process, free_port

ROOT = Path(__file__).resolve().parents[2]
VNU_JAR = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
# About 15 s on an idle two-core machine; much longer while the tests keep both cores busy.
START_TIMEOUT_S = 180.0
CHECK_TIMEOUT_S = 60.0
WARM_UP = b'<!DOCTYPE html><html lang="en"><head><title>Warm-up</title></head><body><p>Warm-up</p></body></html>'

# Which of the checker's messages fail a page:
# - "error": the markup breaks the HTML standard.
# - "info" with subType "warning": a likely mistake (a role an element already has, an unknown language…).
# - "non-document-error" (any subType): the checker could not read the page; a page not checked has not passed.
# Plain "info" messages are remarks, not mistakes (for example "Trailing slash on void elements has no effect
# and interacts badly with unquoted attribute values"), and are ignored.
# The pages the tests load (GOV.UK Frontend 5.14 markup) draw no message at all, not even a remark, so nothing
# is filtered out by its wording.


def fails_the_page(message: dict[str, Any]) -> bool:
    kind = message.get("type")
    return kind in {"error", "non-document-error"} or (kind == "info" and message.get("subType") == "warning")


@dataclass(frozen=True)
class Problem:
    kind: str
    message: str
    line: int | None = None
    extract: str = ""

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        extract = " ".join(self.extract.split())
        return f"{self.kind}: {where}{self.message}" + (f"\n        {extract}" if extract else "")


def problems_in(messages: list[dict[str, Any]]) -> list[Problem]:
    """The messages of a check that fail the page (see fails_the_page)."""
    return [
        Problem(
            kind="warning" if message.get("subType") == "warning" else str(message["type"]),
            message=str(message.get("message", "")),
            line=message.get("lastLine"),
            extract=str(message.get("extract", "")),
        )
        for message in messages
        if fails_the_page(message)
    ]


class NuChecker:
    """The checker's service on a free local port. It starts, and warms up on a small document, in a thread
    while the tests go on; ``check`` waits for that the first time, and raises if it could not start."""

    def __init__(self, log_path: Path, *, jar: Path = VNU_JAR) -> None:
        self.url = ""
        self._process: Process | None = None
        self._start_error: Exception | None = None
        # Straight to 127.0.0.1, whatever proxy the environment names.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self._results: dict[str, list[Problem]] = {}
        self.waited_s = 0.0
        self.checking_s = 0.0
        self.checks = 0
        self.unreadable: list[str] = []  # pages loaded whose markup could not be read (ServedMarkup)
        try:
            self._process = self._launch(log_path, jar)
        except RuntimeError as error:  # check() raises it, so only the tests that need the checker fail
            self._start_error = error
        self._starting = threading.Thread(target=self._start, name="nu-checker-start", daemon=True)
        self._starting.start()

    def check(self, markup: bytes, *, content_type: str = "text/html; charset=utf-8") -> list[Problem]:
        """The problems in one HTML document. Documents already checked are not sent again."""
        started = time.monotonic()
        if self._starting.is_alive():
            self._starting.join()
            self.waited_s += time.monotonic() - started
            started = time.monotonic()
        if self._start_error:
            raise RuntimeError(f"the Nu HTML Checker did not start: {self._start_error}")
        key = hashlib.sha256(content_type.encode() + b"\0" + markup).hexdigest()
        if key not in self._results:
            self._results[key] = problems_in(self._post(markup, content_type)["messages"])
        self.checking_s += time.monotonic() - started
        self.checks += 1
        return self._results[key]

    @property
    def distinct_documents(self) -> int:
        return len(self._results)

    def stop(self) -> None:
        if self._process:
            self._process.stop()
        self._starting.join()

    def _launch(self, log_path: Path, jar: Path) -> Process:
        java = shutil.which("java")
        if java is None:
            raise RuntimeError("it needs Java 11 or later: apt-get install openjdk-17-jre-headless")
        if not jar.exists():
            raise RuntimeError(f"{jar} is missing: run `npm ci` (make setup-test does)")
        port = free_port()
        self.url = f"http://127.0.0.1:{port}/"
        # bind-address keeps the service off every interface but loopback (its default is all of them).
        # -Xss: the checker's parser recurses deeply on nested markup; its README asks for a larger stack.
        args = [java, "-Xss2m", "-Xmx1g", "-Dnu.validator.servlet.bind-address=127.0.0.1"]
        args += ["-cp", str(jar), "nu.validator.servlet.Main", str(port)]
        handle = log_path.open("wb")
        popen = subprocess.Popen(args, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
        return Process(popen=popen, log_path=log_path)

    def _post(self, markup: bytes, content_type: str) -> dict[str, Any]:
        # S310: the address is our own service's, http://127.0.0.1:<port>/.
        request = urllib.request.Request(  # noqa: S310
            self.url + "?out=json", data=markup, headers={"Content-Type": content_type}
        )
        with self._opener.open(request, timeout=CHECK_TIMEOUT_S) as answer:
            return dict(json.load(answer))

    def _start(self) -> None:
        """Wait until the service answers, then warm it up: its first check takes seconds, the next ones
        milliseconds."""
        if self._process is None:
            return
        deadline = time.monotonic() + START_TIMEOUT_S
        try:
            while not self._answers():
                if self._process.popen.poll() is not None:
                    raise RuntimeError(f"it stopped:\n{self._process.log()[-2000:]}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"it did not answer in {START_TIMEOUT_S:.0f}s")
                time.sleep(0.2)
            self._post(WARM_UP, "text/html; charset=utf-8")
        except Exception as error:  # check() raises it again, in the test's thread
            self._start_error = error

    def _answers(self) -> bool:
        try:
            with self._opener.open(self.url, timeout=5) as answer:
                return bool(answer.status == 200)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False


@dataclass(frozen=True)
class Document:
    where: str
    markup: bytes
    content_type: str


@dataclass
class ServedMarkup:
    """The markup of every page of the live server that the watched browser contexts load: documents of the
    main frame, error pages included, not redirects or downloads.

    A body is read as soon as it has arrived: Chromium forgets it once the tab has moved on. Not in the
    "response" listener: with Playwright's sync API a listener that waits holds back the listeners after it,
    the tests' own (tests/e2e/pages.py) among them. "requestfinished" comes after every "response" listener."""

    base_url: str
    documents: list[Document] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    _arriving: dict[Request, Response] = field(default_factory=dict)
    _reading: int = 0

    def watch(self, context: BrowserContext) -> None:
        context.on("response", self._on_response)
        context.on("requestfinished", self._on_finished)
        context.on("requestfailed", self._on_failed)

    def settle(self, context: BrowserContext) -> None:
        """Let the bodies still arriving or being read be recorded. Playwright's sync API runs a listener
        only while the test is inside some Playwright call; reading the context's cookies is a cheap one."""
        for _ in range(100):
            if not self._reading and not self._arriving:
                return
            try:
                context.cookies()
            except PlaywrightError:  # the test closed the context itself
                return

    def _on_response(self, response: Response) -> None:
        content_type = response.headers.get("content-type", "")
        if (
            response.request.resource_type == "document"
            and response.frame.parent_frame is None
            and response.url.startswith(self.base_url + "/")
            and not 300 <= response.status < 400
            and content_type.startswith("text/html")
        ):
            self._arriving[response.request] = response

    def _on_failed(self, request: Request) -> None:
        self._arriving.pop(request, None)

    def _on_finished(self, request: Request) -> None:
        response = self._arriving.pop(request, None)
        if response is None:
            return
        where = f"{request.method} {response.url} ({response.status})"
        content_type = response.headers["content-type"]
        self._reading += 1
        try:
            self.documents.append(Document(where=where, markup=response.body(), content_type=content_type))
        except PlaywrightError as error:  # the tab closed before the body could be read
            self.unreadable.append(f"{where}: {error.message.splitlines()[0]}")
        finally:
            self._reading -= 1

    def problems(self, checker: NuChecker) -> str:
        """The checker's report on every page recorded, or "" when they all pass."""
        reports = []
        for document in self.documents:
            problems = checker.check(document.markup, content_type=document.content_type)
            if problems:
                reports.append(f"  {document.where}:\n" + "\n".join(f"    - {problem}" for problem in problems))
        return "\n".join(reports)
