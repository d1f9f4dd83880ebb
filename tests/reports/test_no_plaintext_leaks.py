"""What a reporter wrote, their access code and their address must never reach anywhere in clear.

Unique canary strings go into every free-text field (and the access code is treated as one), through
the services in this process, the API and the web question pages of a real gunicorn, with a real Celery
worker routing the reports and sending the urgent alert emails. Then every place plaintext usually
leaks in a Django app is searched: a full ``pg_dump`` of the test database (text, bytea hex and base64
at all three alignments), every Redis command seen by ``MONITOR`` for the whole flow, the gunicorn and
worker logs, this process's logging, ``django_session`` and ``reports_draft`` rows, and the sent mail.

Each sink has a positive control (the reference is in the dump, the task name in the Redis capture, the
request path in the gunicorn log, ...), so a capture that silently recorded nothing cannot pass.

The live processes use their own Redis database (``LEAK_TEST_BROKER_URL``, default db 13) instead of
the shared test broker (db 15): other people run worker tests on this machine at the same time, and
their workers would otherwise take (and lose) our task messages, or purge them.
"""

from __future__ import annotations

import base64
import email
import http.client
import json
import logging
import os
import re
import secrets
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
from django.db import connection

from core import crypto
from notify.models import Notification
from outbox.models import OutboxMessage
from reports.models import Anonymity, Draft, RaisedInternally, Report, ReporterSector
from reports.outbox_kinds import PROCESS_ATTACHMENT
from reports.services import Contact, message_send_from_reporter, report_read, report_unlock
from tests import live
from tests.database import pg_dump_text
from tests.factories import staff_user, submit_report
from triage.models import Case

LEAK_BROKER_URL = os.environ.get("LEAK_TEST_BROKER_URL", "redis://127.0.0.1:6379/13")
TASK_NAME = "outbox.process"
AUTHORITY = "E08000018"  # Rotherham
SOURCE_ADDRESS = "127.0.0.77"


# --- the leak detector ------------------------------------------------------------------------------


def canary() -> str:
    return f"CANARY{uuid.uuid4().hex}"


def base64_cores(raw: bytes) -> list[str]:
    """The part of base64(prefix + raw) that depends on ``raw`` alone, for 0, 1 and 2 prefix bytes
    (so the secret is found wherever it starts in an encoded stream), in standard and URL-safe alphabets."""
    cores = []
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + raw).decode("ascii")
        start = -(-8 * offset // 6)  # first character made only of the secret's bits
        end = 8 * (offset + len(raw)) // 6  # last character made only of the secret's bits
        core = encoded[start:end]
        cores += [core, core.translate(str.maketrans("+/", "-_"))]
    return cores


def needles(secret: str) -> list[tuple[str, str]]:
    """(form, needle) pairs: the text and the lowercase hex of its bytes are matched case-insensitively
    (PostgreSQL dumps bytea as lowercase ``\\x...``), base64 case-sensitively."""
    raw = secret.encode("utf-8")
    cores = dict.fromkeys(base64_cores(raw))
    return [("text", secret.lower()), ("hex", raw.hex())] + [("base64", core) for core in cores]


@dataclass
class Sink:
    name: str
    text: str


def excerpt(text: str, index: int, length: int) -> str:
    line_start = text.rfind("\n", 0, index) + 1
    line_end = text.find("\n", index + length)
    line = text[line_start : line_end if line_end != -1 else len(text)]
    at = index - line_start
    head = line[:90]
    around = line[max(at - 80, 0) : at + length + 80]
    return f"line starts {head!r} ... around the hit: {around!r}"


def leaks_in(sinks: list[Sink], secrets_by_label: dict[str, str]) -> list[str]:
    found = []
    for sink in sinks:
        lowered = sink.text.lower()
        for label, secret in secrets_by_label.items():
            for form, needle in needles(secret):
                haystack = sink.text if form == "base64" else lowered
                index = haystack.find(needle)
                if index != -1:
                    found.append(f"[{sink.name}] {label} as {form}: {excerpt(sink.text, index, len(needle))}")
    return found


def assert_no_leaks(sinks: list[Sink], secrets_by_label: dict[str, str]) -> None:
    found = leaks_in(sinks, secrets_by_label)
    assert not found, "plaintext leaked:\n" + "\n".join(found)


def access_code_forms(code: str) -> dict[str, str]:
    """The access code as the service shows it and as a reporter may type it back."""
    words = code.split()
    return {
        "access code": code,
        "access code (hyphens)": "-".join(words),
        "access code (joined)": "".join(words),
    }


def test_the_detector_finds_a_secret_in_every_encoding_and_alignment() -> None:
    secret = canary()
    raw = secret.encode()
    planted = {
        "text": f"row ('{secret}')",
        "upper": f"log: {secret.upper()}",
        "bytea": f"row ('\\x00ff{raw.hex()}aa')",
    }
    for offset in range(3):
        for prefix in (b"", b'{"k":"', b"abcdefg"):
            data = prefix + b"\x01" * offset + raw + b'"}'
            planted[f"b64-{offset}-{len(prefix)}"] = "LPUSH celery " + base64.b64encode(data).decode()
            planted[f"b64url-{offset}-{len(prefix)}"] = base64.urlsafe_b64encode(data).decode()
    for name, text in planted.items():
        assert leaks_in([Sink(name, text)], {"canary": secret}), name
    assert not leaks_in([Sink("other", base64.b64encode(canary().encode()).decode())], {"canary": secret})


# --- capturing the sinks ----------------------------------------------------------------------------


@dataclass
class Monitor:
    popen: subprocess.Popen[bytes]
    path: Path

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            self.popen.wait(timeout=10)

    def text(self) -> str:
        return self.path.read_text(errors="replace")

    def lines_for_broker_db(self) -> str:
        database = urlsplit(LEAK_BROKER_URL).path.strip("/") or "0"
        return "\n".join(line for line in self.text().splitlines() if f"[{database} " in line)


def redis_monitor_start(path: Path) -> Monitor:
    with path.open("wb") as handle:
        popen = subprocess.Popen(
            ["redis-cli", "-u", LEAK_BROKER_URL, "MONITOR"], stdout=handle, stderr=subprocess.STDOUT
        )
    monitor = Monitor(popen=popen, path=path)
    live.wait_for(lambda: path.read_bytes().startswith(b"OK") or popen.poll() is not None, timeout=10, what="MONITOR")
    assert popen.poll() is None, f"redis-cli MONITOR exited: {monitor.text()}"
    return monitor


def rows_text(sql: str) -> str:
    parts = []
    with connection.cursor() as cursor:
        cursor.execute(sql)
        for row in cursor.fetchall():
            for value in row:
                if isinstance(value, bytes | memoryview):
                    raw = bytes(value)
                    parts += [raw.decode("latin-1"), raw.hex()]
                else:
                    parts.append(str(value))
    return "\n".join(parts)


def mail_text(mail_dir: Path) -> tuple[str, int]:
    """Every mail file, raw and with each MIME part decoded; and how many messages were sent."""
    if not mail_dir.exists():
        return "", 0
    raw = "\n".join(path.read_text(errors="replace") for path in sorted(mail_dir.iterdir()))
    messages = [chunk for chunk in re.split(r"\n-{79}\n", raw) if chunk.strip()]
    decoded = []
    for chunk in messages:
        for part in email.message_from_string(chunk.lstrip("\n")).walk():
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                decoded.append(payload.decode("utf-8", errors="replace"))
    return raw + "\n" + "\n".join(decoded), len(messages)


@dataclass
class Stack:
    base_url: str
    server: live.Process
    worker: live.Process
    monitor: Monitor
    mail_dir: Path

    def stop(self) -> None:
        """Stop the processes, so their logs are complete before they are read."""
        self.worker.stop()
        self.server.stop()
        self.monitor.stop()


@pytest.fixture
def stack(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    fast_kdf: None,
    authorities_committed: None,
) -> Iterator[Stack]:
    """Redis MONITOR, a Celery worker sending mail to files, and gunicorn: all on our own broker db."""
    monkeypatch.setattr(live, "TEST_BROKER_URL", LEAK_BROKER_URL)
    request.getfixturevalue("test_broker")  # publisher of this process -> our broker db, emptied
    staff_user("supervisor-leaks", email="supervisor-leaks@helpline.test")
    monitor = redis_monitor_start(tmp_path / "redis-monitor.txt")
    mail_dir = tmp_path / "mail"
    worker = live.start_worker(
        tmp_path / "worker.log",
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(mail_dir),
    )
    try:
        # The reporter's tier writes no access lines by default; they are turned on here so that the test
        # searches lines that exist, and proves even those carry nothing typed.
        monkeypatch.setenv("ACCESS_LOG_PUBLIC", "true")
        base_url, server = request.getfixturevalue("gunicorn_server")
        running = Stack(base_url=base_url, server=server, worker=worker, monitor=monitor, mail_dir=mail_dir)
        yield running
    finally:
        worker.stop()
        monitor.stop()


def all_sinks(stack: Stack, caplog: pytest.LogCaptureFixture) -> list[Sink]:
    mail, _ = mail_text(stack.mail_dir)
    return [
        Sink("pg_dump", pg_dump_text()),
        Sink("gunicorn log", stack.server.log()),
        Sink("worker log", stack.worker.log()),
        Sink("redis MONITOR", stack.monitor.text()),
        Sink("python logging (caplog)", caplog.text),
        Sink("django_session rows", rows_text("SELECT session_key, session_data, expire_date FROM django_session")),
        Sink("reports_draft rows", rows_text("SELECT * FROM reports_draft")),
        Sink("sent mail", mail),
    ]


def assert_captures_worked(stack: Stack, references: list[str], *, emails: int, paths: list[str]) -> None:
    """Positive controls: each capture recorded the flow, so finding nothing in it means something."""
    dump = pg_dump_text()
    for reference in references:
        assert reference in dump, "the dump does not hold the report: wrong database?"
    assert "INSERT INTO public.reports_report" in dump
    gunicorn_log = stack.server.log()
    for path in paths:
        assert path in gunicorn_log, f"the gunicorn log did not record {path}:\n{gunicorn_log}"
    assert TASK_NAME in stack.worker.log(), stack.worker.log()
    assert TASK_NAME in stack.monitor.lines_for_broker_db(), "MONITOR saw no task message on our broker db"
    mail, count = mail_text(stack.mail_dir)
    assert count == emails, f"expected {emails} alert emails, found {count}"
    for reference in references:
        assert reference in mail


def wait_for_routing(reports: int, emails: int) -> None:
    # Files are processed by the workers with clamd and mat2 (reports.attachment_pipeline), which this stack does
    # not run: what processing leaves behind is tests/reports/test_attachment_pipeline*'s to search.
    waiting = OutboxMessage.objects.filter(processed_at__isnull=True).exclude(kind=PROCESS_ATTACHMENT)
    live.wait_for(
        lambda: (
            Case.objects.count() == reports
            and Notification.objects.filter(state="sent").count() == emails
            and not waiting.exists()
        ),
        timeout=60,
        what=f"{reports} routed cases, {emails} sent alert emails and every outbox row processed",
    )
    assert not waiting.exists()


# --- a small HTTP client: cookies, CSRF, redirects, optional source address -------------------------


@dataclass
class Response:
    status: int
    url: str
    body: str
    headers: list[tuple[str, str]]


@dataclass
class Client:
    base_url: str
    user_agent: str = "leak-test"
    source_address: str | None = None
    cookies: dict[str, str] = field(default_factory=dict)
    local_addresses: set[str] = field(default_factory=set)

    def request(self, method: str, path: str, body: bytes | None = None, content_type: str = "") -> Response:
        parts = urlsplit(urljoin(self.base_url, path))
        conn = http.client.HTTPConnection(
            parts.hostname or "127.0.0.1",
            parts.port,
            timeout=30,
            source_address=(self.source_address, 0) if self.source_address else None,
        )
        headers = {"User-Agent": self.user_agent, "Accept": "text/html,application/json"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        if content_type:
            headers["Content-Type"] = content_type
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        try:
            conn.request(method, target, body=body, headers=headers)
            assert conn.sock is not None
            self.local_addresses.add(conn.sock.getsockname()[0])
            raw = conn.getresponse()
            text = raw.read().decode("utf-8", errors="replace")
            for header in raw.headers.get_all("Set-Cookie") or []:
                self._store_cookie(header)
            return Response(raw.status, urljoin(self.base_url, target), text, raw.getheaders())
        finally:
            conn.close()

    def _store_cookie(self, header: str) -> None:
        parsed: SimpleCookie = SimpleCookie()
        parsed.load(header)
        for name, morsel in parsed.items():
            if morsel["max-age"] == "0" or morsel.value == "" or "1970" in morsel["expires"]:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = morsel.value

    def follow(self, response: Response) -> Response:
        for _ in range(5):
            if response.status not in (301, 302, 303):
                return response
            location = dict((k.lower(), v) for k, v in response.headers)["location"]
            response = self.request("GET", urljoin(response.url, location))
        raise AssertionError("too many redirects")

    def get(self, path: str) -> Response:
        return self.follow(self.request("GET", path))

    def submit(self, path: str, data: dict[str, Any], *, page: Response | None = None) -> Response:
        """GET the page (unless given), take the CSRF token from its form, POST the form back."""
        page = page or self.get(path)
        assert page.status == 200, (page.status, page.url, page.body[:2000])
        assert "csrftoken" in self.cookies, "no CSRF cookie was set"
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
        assert token, f"no CSRF token on {page.url}"
        body = urlencode({**data, "csrfmiddlewaretoken": token.group(1)}, doseq=True).encode()
        return self.follow(self.request("POST", path, body, "application/x-www-form-urlencoded"))

    def submit_file(
        self, path: str, data: dict[str, str], files: dict[str, tuple[str, bytes]], *, page: Response
    ) -> Response:
        """Post a page's form as multipart/form-data, with files (name, content) beside its fields."""
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
        assert token, f"no CSRF token on {page.url}"
        return self.follow(self.post_multipart(path, {**data, "csrfmiddlewaretoken": token.group(1)}, files))

    def post_multipart(self, path: str, data: dict[str, str], files: dict[str, tuple[str, bytes]]) -> Response:
        boundary = uuid.uuid4().hex
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
            for name, value in data.items()
        ]
        for name, (filename, content) in files.items():
            head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            parts.append(f"{head}Content-Type: text/plain\r\n\r\n".encode() + content + b"\r\n")
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return self.request("POST", path, body, f"multipart/form-data; boundary={boundary}")

    def post_json(self, path: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        response = self.request("POST", path, json.dumps(payload).encode(), "application/json")
        return response.status, json.loads(response.body or "{}")


def by_testid(page: Response, name: str) -> str:
    found = re.search(rf'data-testid="{name}">([^<]+)<', page.body)
    assert found, f"no {name} on {page.url}:\n{page.body[:3000]}"
    return found.group(1).strip()


def web_answers(text: dict[str, str], *, anonymity: str) -> list[tuple[str, dict[str, Any]]]:
    steps: list[tuple[str, dict[str, Any]]] = [
        ("anonymity", {"anonymity": anonymity}),
        ("about-you", {"reporter_sector": ReporterSector.EDUCATION}),
        ("concern", {"concern_types": ["concern_not_acted_on", "records_altered_or_suppressed"]}),
        ("where", {"postcode": "", "council": AUTHORITY}),
        ("about-council", {"about_council": "no", "which_council": ""}),
        ("organisation", {"organisation_name": text["organisation_name"]}),
        ("what-happened", {"summary": text["summary"], "details": f"On Monday {text['details']} was seen."}),
        (
            "raised-internally",
            {
                "raised_internally": RaisedInternally.YES,
                "internal_response": f"Manager said {text['internal_response']}",
            },
        ),
        (
            "reported",
            {
                "already_reported": "by_me",
                "reported_to": "police",
                "reported_on-day": "2",
                "reported_on-month": "3",
                "reported_on-year": "2026",
                "reported_reference": text["prior_reference"],
            },
        ),
        ("immediate-risk", {"child_at_immediate_risk": "yes"}),
    ]
    if anonymity != Anonymity.ANONYMOUS:
        steps.append(
            ("contact", {"name": text["contact_name"], "email": text["contact_email"], "phone": text["contact_phone"]})
        )
    return steps


def draft_key(client: Client) -> tuple[uuid.UUID, bytes]:
    draft_id, _, encoded = client.cookies["report_draft"].strip('"').partition(".")
    return uuid.UUID(hex=draft_id), base64.urlsafe_b64decode(encoded)


def web_journey(
    client: Client, text: dict[str, str], *, anonymity: str, mid_journey_check: Any = None
) -> tuple[str, str]:
    """Every question page, check your answers and submit. The reference and access code shown."""
    start = client.get("/")
    page = client.submit("/report/begin", {}, page=start)
    for slug, data in web_answers(text, anonymity=anonymity):
        assert urlsplit(page.url).path == f"/report/{slug}", (slug, page.url)
        page = client.submit(f"/report/{slug}", data, page=page)
        assert page.status == 200, (slug, page.status, page.body[:3000])
        if slug == "what-happened" and mid_journey_check is not None:
            mid_journey_check()
    # "Do you have documents, photos or recordings?": a text file whose name and words are canaries.
    assert urlsplit(page.url).path == "/report/documents", page.url
    upload = {"file": (f"{text['file_name']}.txt", f"Written down: {text['file_content']}\n".encode())}
    page = client.submit_file("/report/documents", {"action": "continue"}, upload, page=page)
    assert urlsplit(page.url).path == "/report/check-your-answers", page.url
    assert text["summary"] in page.body  # the reporter sees their answers back
    assert text["file_name"] in page.body  # and the file's name
    if mid_journey_check is not None:
        mid_journey_check()
    confirmation = client.submit("/report/check-your-answers", {}, page=page)
    assert confirmation.status == 200, confirmation.body[:3000]
    return by_testid(confirmation, "reference"), by_testid(confirmation, "access-code")


def field_canaries() -> dict[str, str]:
    token = uuid.uuid4().hex
    return {
        "summary": canary(),
        "details": canary(),
        "organisation_name": canary(),
        "internal_response": canary(),
        "contact_name": canary(),
        "contact_email": f"canary{token}@example.com",
        "contact_email_local_part": f"canary{token}",
        "contact_phone": "07" + str(secrets.randbelow(10**11)).zfill(11),
        "message_body": canary(),
        "prior_reference": canary(),
        "file_name": canary(),
        "file_content": canary(),
    }


# --- 1. services in this process and the API over gunicorn -----------------------------------------


@pytest.mark.worker
def test_no_canary_from_the_services_or_the_api_reaches_the_database_redis_logs_or_mail(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    in_process, over_api = field_canaries(), field_canaries()

    # In this process, through the services (what the staff phone line and the web views call).
    submitted = submit_report(
        anonymity=Anonymity.NAMED,
        reporter_sector=ReporterSector.POLICE,
        organisation_name=in_process["organisation_name"],
        summary=in_process["summary"],
        details=f"Several times {in_process['details']} and more.",
        internal_response=in_process["internal_response"],
        child_at_immediate_risk=True,
        contact=Contact(
            name=in_process["contact_name"], email=in_process["contact_email"], phone=in_process["contact_phone"]
        ),
    )
    typed_code = "-".join(submitted.access_code.split()).upper()
    report, data_key = report_unlock(reference=submitted.report.reference, access_code=typed_code, client="x")
    message_send_from_reporter(report=report, data_key=data_key, body=in_process["message_body"])
    opened = report_read(report=report, data_key=data_key)
    assert opened.content["summary"] == in_process["summary"]
    assert [m.body for m in opened.messages] == [in_process["message_body"]]

    # Over HTTP, through the API of the real gunicorn.
    client = Client(stack.base_url)
    status, created = client.post_json(
        "/api/v1/reports",
        {
            "anonymity": Anonymity.CONFIDENTIAL,
            "reporter_sector": ReporterSector.HEALTH,
            "concern_types": ["victim_disbelieved_or_blamed"],
            "local_authority": AUTHORITY,
            "organisation_name": over_api["organisation_name"],
            "summary": over_api["summary"],
            "details": f"Told that {over_api['details']}.",
            "child_at_immediate_risk": True,
            "raised_internally": RaisedInternally.YES,
            "internal_response": over_api["internal_response"],
            "contact": {
                "name": over_api["contact_name"],
                "email": over_api["contact_email"],
                "phone": over_api["contact_phone"],
            },
        },
    )
    assert status == 201, created
    api_code = created["access_code"]
    status, sent = client.post_json(
        "/api/v1/reports/messages",
        {
            "reference": created["reference"],
            "access_code": "-".join(api_code.split()),
            "body": over_api["message_body"],
        },
    )
    assert status == 201, sent
    added = client.post_multipart(
        "/api/v1/reports/attachments",
        {"reference": created["reference"], "access_code": api_code},
        {"file": (f"{over_api['file_name']}.txt", f"Noted: {over_api['file_content']}\n".encode())},
    )
    assert added.status == 201, added.body
    status, read = client.post_json(
        "/api/v1/reports/access", {"reference": created["reference"], "access_code": api_code}
    )
    assert status == 200, read
    assert read["summary"] == over_api["summary"]
    assert [file["name"] for file in read["attachments"]] == [f"{over_api['file_name']}.txt"]
    assert [m["body"] for m in read["messages"]] == [over_api["message_body"]]

    wait_for_routing(reports=2, emails=2)  # both urgent, one supervisor each
    stack.stop()

    references = [submitted.report.reference, created["reference"]]
    assert_captures_worked(
        stack, references, emails=2, paths=["POST /api/v1/reports ", "POST /api/v1/reports/messages "]
    )
    secrets_by_label = {
        **{f"service {label}": value for label, value in in_process.items()},
        **{f"api {label}": value for label, value in over_api.items()},
        **{f"service {k}": v for k, v in access_code_forms(submitted.access_code).items()},
        **{f"api {k}": v for k, v in access_code_forms(api_code).items()},
    }
    assert_no_leaks(all_sinks(stack, caplog), secrets_by_label)


# --- 2. typed through the web question pages --------------------------------------------------------


@pytest.mark.worker
def test_no_canary_typed_into_the_question_pages_reaches_the_database_redis_logs_or_mail(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    text = field_canaries()
    client = Client(stack.base_url)
    drafts_checked = []

    def draft_holds_only_ciphertext() -> None:
        """Mid-journey: the answers are in reports_draft, sealed with the key in the reporter's cookie."""
        draft_id, key = draft_key(client)
        row = Draft.objects.get(pk=draft_id)
        assert row.purpose == Draft.Purpose.DRAFT
        answers = crypto.open_content(key, bytes(row.ciphertext))["answers"]
        assert answers["what-happened"]["summary"] == text["summary"]  # the canary is in there, sealed
        in_progress = {label: value for label, value in text.items() if label != "message_body"}
        if "contact" not in answers:
            in_progress = {k: v for k, v in in_progress.items() if not k.startswith("contact")}
        assert_no_leaks(
            [
                Sink("reports_draft rows (mid-journey)", rows_text("SELECT * FROM reports_draft")),
                Sink("django_session rows (mid-journey)", rows_text("SELECT * FROM django_session")),
                Sink("pg_dump (mid-journey)", pg_dump_text()),
            ],
            in_progress,
        )
        drafts_checked.append(draft_id)

    reference, access_code = web_journey(
        client, text, anonymity=Anonymity.CONFIDENTIAL, mid_journey_check=draft_holds_only_ciphertext
    )
    assert len(drafts_checked) == 2
    # On submit the answers go: the draft keeps only the mark that it was sent (so Send again says so) and what
    # the confirmation shows, sealed with the cookie's key. The access code goes at the next view of it.
    assert client.cookies.get("report_draft", "").partition(".")[0] == drafts_checked[-1].hex
    assert "access-code" not in client.get("/report/confirmation").body, "the access code is shown once"
    draft_id, key = draft_key(client)
    left = Draft.objects.get(pk=draft_id)
    assert draft_id == drafts_checked[-1] and left.purpose == Draft.Purpose.SENT
    note = crypto.open_content(key, bytes(left.ciphertext))
    # ... and the key that opens the report's receipt alone (reports.receipts), never the report's data key.
    allowed = {"reference", "urgent", "about_council", "code_shown", "code_saved", "receipt_key"}
    assert set(note) <= allowed, sorted(note)

    # The follow-up: open the concern with the code typed with hyphens, and send a message.
    page = client.submit("/check", {"reference": reference.lower(), "access_code": "-".join(access_code.split())})
    assert urlsplit(page.url).path == "/check/concern", page.body[:3000]
    assert text["summary"] in page.body
    page = client.submit("/check/concern/message", {"kind": "message", "body": text["message_body"]}, page=page)
    assert page.status == 200 and text["message_body"] in page.body, page.body[:3000]
    assert Report.objects.get(reference=reference).messages.count() == 1

    wait_for_routing(reports=1, emails=1)
    stack.stop()

    assert_captures_worked(
        stack,
        [reference],
        emails=1,
        paths=["POST /report/what-happened ", "POST /report/check-your-answers ", "POST /check/concern/message "],
    )
    assert_no_leaks(all_sinks(stack, caplog), {**text, **access_code_forms(access_code)})


# --- 3. the reporter's address and browser ----------------------------------------------------------


@pytest.mark.worker
def test_the_client_address_and_user_agent_are_recorded_nowhere(stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    agent = f"CanaryAgent/{uuid.uuid4().hex}"
    client = Client(stack.base_url, user_agent=agent, source_address=SOURCE_ADDRESS)

    reference, _ = web_journey(client, field_canaries(), anonymity=Anonymity.ANONYMOUS)
    status, created = client.post_json(
        "/api/v1/reports",
        {
            "anonymity": Anonymity.ANONYMOUS,
            "reporter_sector": ReporterSector.OTHER,
            "concern_types": ["other"],
            "local_authority": AUTHORITY,
            "summary": "Address test",
            "details": "Sent from a distinct loopback address.",
            "child_at_immediate_risk": True,
            "raised_internally": RaisedInternally.NO,
        },
    )
    assert status == 201, created
    # A wrong code is throttled per client: the throttle row must hold a keyed hash, not the address.
    status, _ = client.post_json(
        "/api/v1/reports/access", {"reference": created["reference"], "access_code": "wrong " * 7}
    )
    assert status == 404
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM reports_accessthrottle")
        assert cursor.fetchone()[0] >= 1

    assert client.local_addresses == {SOURCE_ADDRESS}, "the requests did not come from the test address"
    wait_for_routing(reports=2, emails=2)
    stack.stop()

    assert_captures_worked(
        stack,
        [reference, created["reference"]],
        emails=2,
        paths=["POST /report/check-your-answers ", "POST /api/v1/reports "],
    )
    assert_no_leaks(
        all_sinks(stack, caplog),
        {"client address": SOURCE_ADDRESS, "user agent": agent, "user agent token": agent.split("/")[1]},
    )
