"""Mixed soak: `make soak` (SOAK_MINUTES, default 10), or `.venv/bin/python bench/soak.py [--minutes N]`.

Every kind of user at once, for a fixed time, against real processes started the way `make run` starts
them (the project's gunicorn.conf.py with 2 sync workers, a Celery worker on the celery and audit queues,
Celery beat), connected as the runtime role (helpline_app), on its own database (helpline_soak, dropped and
created each run) and its own broker (Redis database 12, flushed). Nothing touches the development data.

Set-up: migrate as the owner, load the local authorities, `seed_demo`, `seed_cases --count N` (default
5,000), then one staff account per virtual user with a fresh authenticator, and a statistics refresh.
Before the load the deadline ladder catches up with the seeded cases (about a thousand emails at 5,000) and
the worker sends them all, so that the soak measures steady work rather than the seeding's backlog.

Virtual users, one thread each, with think time between pages:
  reporter-web   the question pages (CSRF token from each form), check your answers, submit, then /check
                 with the reference and access code, read the follow-up page, send a message; now and then
                 comes back to an earlier report instead
  reporter-api   POST /api/v1/reports, /reports/access, /reports/messages (and the authority lookup)
  handler        sign-in (password, then TOTP); queue overview, the case list with a filter, a case page,
                 one action (note, claim, priority, refer, message the reporter); signs in again every
                 few minutes
  officer        referral list, a referral, now and then acknowledges it or asks the helpline
  board          statistics of its region (and the CSV); oversight: national statistics, pattern alerts

An error is a connection failure, any status >= 500, or any status the page should not answer (a 403 from
a lost CSRF token, a 400 from a refused form, a redirect to the sign-in page). A 409 from a case or
referral action is not: two people acting on one case at once is normal, and the app says so; they are
counted apart. Errors and tracebacks in the servers' logs count too.

Every minute the RSS of gunicorn (master + workers), the Celery worker (main + pool) and beat is read from
/proc/<pid>/status. At the end: requests, p50/p95/max and errors per page type, the RSS table and its
growth from minute 2 to the end, written as Markdown to var/soak/summary.md (figures in
var/soak/results.json, logs in var/soak/logs/). Exits 1 when there was any error.
"""

from __future__ import annotations

import abc
import argparse
import contextlib
import http.client
import json
import os
import random
import re
import shlex
import signal
import statistics
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
if __name__ == "__main__":
    # As in bench/run.py: run as a script, sys.path[0] is bench/; put the project root there instead.
    sys.path[0] = str(ROOT)

import psycopg  # noqa: E402
import redis  # noqa: E402

from bench import load, procs  # noqa: E402

DB_NAME = "helpline_soak"
PG_HOST = procs.PG_HOST
OWNER_URL = f"postgres://postgres@{PG_HOST}:5432/{DB_NAME}"
RUNTIME_ROLE = os.environ.get("DATABASE_RUNTIME_ROLE") or "helpline_app"
RUNTIME_URL = f"postgres://{RUNTIME_ROLE}@{PG_HOST}:5432/{DB_NAME}"
BROKER_URL = "redis://127.0.0.1:6379/12"
OUT_DIR = ROOT / "var" / "soak"
LOG_DIR = OUT_DIR / "logs"
SUMMARY = OUT_DIR / "summary.md"
RESULTS = OUT_DIR / "results.json"

WEB_WORKERS = 2  # gunicorn.conf.py's default, as `make run`
CELERY_CONCURRENCY = 2  # as deploy/supervisord.dev.conf
PASSWORD = "soak-password-not-secret"  # noqa: S105 - soak-only users in a soak-only database
TIMEOUT = 60.0  # seconds, per request
SETUP_BUDGET = 1800  # seconds for set-up, drain and shutdown, on top of the soak itself
DRAIN_SECONDS = 60.0
SETTLE_SECONDS = 900.0  # at most, for the worker to send the seeded cases' catch-up emails before the load
FLAT_PERCENT = 10.0  # RSS growth from minute 2 to the end above this is "growing"
# The soak's own server processes: no per-client limit may refuse it, since every virtual user is
# 127.0.0.1 (the client hash comes from the remote address). Wrong access codes are never sent, so the
# access throttle (ACCESS_THROTTLE_LIMIT) keeps its default and a 429 from it would be an error.
SERVER_LIMITS = {
    "ACCESS_DERIVATION_LIMIT": "1000000",
    "SUBMISSION_LIMIT": "1000000",
    "LOGIN_THROTTLE_LIMIT": "1000000",
    "SECOND_FACTOR_FREE_FAILURES": "1000000",
}

started_at = time.monotonic()


def say(message: str) -> None:
    print(f"[{time.monotonic() - started_at:7.1f}s] {message}", flush=True)


class Stopped(Exception):
    """SIGTERM, Ctrl-C or the run's own time limit: unwind through the finally blocks."""


def _stop_run(signum: int, frame: FrameType | None) -> None:
    if signum == signal.SIGALRM:
        raise Stopped("the soak ran past its time limit")
    raise Stopped(f"stopped by signal {signum}")


# --- the database and the processes ---------------------------------------------------------------------


def soak_env(**extra: str) -> dict[str, str]:
    """Every child's environment: the soak database as the runtime role (migrations as the owner), the
    soak broker, development settings, the per-client limits raised."""
    env = {key: value for key, value in os.environ.items() if key not in {"BIND", "PORT", "DJANGO_SETTINGS_MODULE"}}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "helpline.settings",
            "DATABASE_URL": RUNTIME_URL,
            "MIGRATION_DATABASE_URL": OWNER_URL,
            "DATABASE_RUNTIME_ROLE": RUNTIME_ROLE,
            "CELERY_BROKER_URL": BROKER_URL,
            "REDIS_URL": BROKER_URL,
            "HELPLINE_ENV": "development",
            "DEBUG": "false",
            "PYTHONUNBUFFERED": "1",
            "AUDIT_CHECKPOINT_PATH": str(OUT_DIR / "audit-checkpoints.jsonl"),
            **SERVER_LIMITS,
        }
    )
    env.update(extra)
    return env


def manage(*args: str, timeout: float = 600) -> str:
    """A management command as the schema's owner; its output."""
    done = subprocess.run(
        [str(procs.PYTHON), "manage.py", *args],
        cwd=ROOT,
        env=soak_env(DATABASE_URL=OWNER_URL),
        check=False,
        timeout=timeout,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return done.stdout


def connect() -> psycopg.Connection[tuple[Any, ...]]:
    return psycopg.connect(host=PG_HOST, user="postgres", dbname=DB_NAME, autocommit=True)


def database_prepare(cases: int) -> None:
    """Drop and create helpline_soak, migrate it, load the authorities, the demo staff and cases, and
    ``cases`` seeded cases. The runtime role is created when missing, as `make` does."""
    with closing(psycopg.connect(host=PG_HOST, user="postgres", dbname="postgres", autocommit=True)) as admin:
        if not admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [RUNTIME_ROLE]).fetchone():
            admin.execute(f'CREATE ROLE "{RUNTIME_ROLE}" LOGIN')
        admin.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{DB_NAME}"')
    manage("migrate", "--no-input", "-v", "0")
    manage("generate_dev_keys")  # the development key files `make run` uses: created once, never replaced
    manage("load_local_authorities")
    # seed_demo writes the demo reports' access codes to var/demo-reports.json, the file `make run` prints
    # for the development database: keep that file as it was.
    with procs.demo_reports_file_kept():
        manage("seed_demo", "-v", "0")
    if cases:
        manage("seed_cases", "--count", str(cases), timeout=1200)
    with closing(connect()) as conn:
        conn.execute("VACUUM (ANALYZE)")
    redis.Redis.from_url(BROKER_URL).flushdb()


def start(name: str, args: list[str], **env: str) -> procs.Process:
    log_path = LOG_DIR / f"{name}.log"
    with log_path.open("wb") as handle:
        popen = subprocess.Popen(
            args, cwd=ROOT, env=soak_env(**env), stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )
    return procs.Process(name=name, popen=popen, log_path=log_path)


def web_ready(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/healthz")
        ok = conn.getresponse().status == 200
        conn.close()
        return ok
    except (OSError, http.client.HTTPException):
        return False


def gunicorn_start(port: int) -> procs.Process:
    """The portal as `make run` serves it: gunicorn.conf.py, helpline.wsgi, WEB_CONCURRENCY workers."""
    server = start(
        "gunicorn",
        [str(procs.BIN / "gunicorn"), "-c", "gunicorn.conf.py", "helpline.wsgi:application"],
        PORT=str(port),
        WEB_CONCURRENCY=str(WEB_WORKERS),
        SITE_URL=f"http://127.0.0.1:{port}",
        STAFF_SITE_URL=f"http://127.0.0.1:{port}",
    )
    procs.wait_for(lambda: web_ready(port) or not server.alive(), timeout=60, what="gunicorn to answer")
    if not server.alive():
        raise RuntimeError(f"gunicorn exited:\n{server.log_tail()}")
    procs.wait_for(lambda: len(procs.children(server.popen.pid)) >= WEB_WORKERS, timeout=30, what="gunicorn workers")
    return server


def worker_start() -> procs.Process:
    """The Celery worker as deploy/supervisord.dev.conf runs it."""
    worker = start(
        "celery-worker",
        [
            str(procs.BIN / "celery"),
            "-A",
            "helpline",
            "worker",
            "--pool=prefork",
            f"--concurrency={CELERY_CONCURRENCY}",
            "--loglevel=INFO",
            "-Q",
            "celery,audit",
            "-n",
            f"soak-{os.getpid()}@%h",
        ],
    )

    def ready() -> bool:
        if not worker.alive():
            raise RuntimeError(f"celery worker exited:\n{worker.log_tail()}")
        return " ready." in worker.log_path.read_text(errors="replace")

    procs.wait_for(ready, timeout=90, what="the celery worker to be ready", interval=0.5)
    return worker


def beat_start() -> procs.Process:
    return start(
        "celery-beat",
        [
            str(procs.BIN / "celery"),
            "-A",
            "helpline",
            "beat",
            "--loglevel=INFO",
            "--schedule",
            str(OUT_DIR / "celerybeat-schedule"),
        ],
    )


# --- memory ---------------------------------------------------------------------------------------------

MIB = 1024 * 1024


def descendants(pid: int) -> list[int]:
    """Every process under ``pid``, from each process's parent in /proc/<pid>/stat."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])  # after "pid (comm) state": the parent
        parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], list(parents.get(pid, []))
    while todo:
        child = todo.pop()
        found.append(child)
        todo.extend(parents.get(child, []))
    return sorted(found)


def tree(pid: int) -> tuple[float, list[int]]:
    """RSS in MiB of a process and every process under it; the pids under it."""
    under = descendants(pid)
    return (procs.rss_bytes(pid) + sum(procs.rss_bytes(child) for child in under)) / MIB, under


@dataclass
class RssRow:
    minute: int
    web_mib: float
    web_workers: list[int]
    worker_mib: float
    worker_children: list[int]
    beat_mib: float
    loadavg: float
    requests: int
    errors: int


# --- statistics -----------------------------------------------------------------------------------------


@dataclass
class PageStats:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    conflicts: int = 0


@dataclass
class ErrorRecord:
    at: float
    user: str
    page: str
    method: str
    path: str
    status: int
    detail: str


class Stats:
    """Every request's page type, time and outcome, from every thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pages: dict[str, PageStats] = {}
        self.error_records: list[ErrorRecord] = []
        self.error_kinds: dict[str, int] = {}
        self.counters: dict[str, int] = {}
        self.began = time.monotonic()

    def add(self, page: str, seconds: float, *, error: ErrorRecord | None = None, conflict: bool = False) -> None:
        with self.lock:
            stats = self.pages.setdefault(page, PageStats())
            stats.latencies.append(seconds)
            if conflict:
                stats.conflicts += 1
            if error is not None:
                stats.errors += 1
                kind = error_kind(error.status)
                self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1
                self.error_records.append(error)

    def count(self, name: str, n: int = 1) -> None:
        with self.lock:
            self.counters[name] = self.counters.get(name, 0) + n

    def totals(self) -> tuple[int, int]:
        with self.lock:
            return (sum(len(p.latencies) for p in self.pages.values()), sum(p.errors for p in self.pages.values()))


def error_kind(status: int) -> str:
    if status < 0:
        return "soak client exception"
    if status == 0:
        return "connection"
    if status >= 500:
        return "5xx"
    if status >= 400:
        return "4xx"
    return "unexpected status"


def percentile(values: Sequence[float], p: int) -> float:
    return load.percentile(sorted(values), p)


# --- HTTP -----------------------------------------------------------------------------------------------


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
ERROR_SUMMARY = re.compile(r'class="govuk-error-(?:summary__list|message)"[^>]*>(.*?)</', re.S)


def _detail(body: bytes) -> str:
    """A short, content-free description of an answer, for the error list: its title and first error."""
    text = body[:20000].decode("utf-8", errors="replace")
    title = TITLE.search(text)
    error = ERROR_SUMMARY.search(text)
    parts = [title.group(1) if title else text[:120].replace("\n", " ")]
    if error:
        parts.append(re.sub(r"<[^>]+>", " ", error.group(1)).strip()[:160])
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

    def _error(self, page: str, seconds: float, method: str, url: str, status: int, detail: str) -> None:
        path = url.split("?", 1)[0]
        record = ErrorRecord(time.monotonic() - self.stats.began, self.user, page, method, path, status, detail)
        self.stats.add(page, seconds, error=record)


# --- virtual users --------------------------------------------------------------------------------------


def text(rng: random.Random, low: int, high: int) -> str:
    return load._text(rng, low, high)


@dataclass(frozen=True)
class World:
    """What the virtual users need to know about the seeded database."""

    port: int
    authority_codes: list[str]
    officer_codes: list[str]
    sectors: list[str]
    queues: list[str]
    board_area: str


@dataclass
class Account:
    username: str
    role: str
    key: bytes
    last_step: int = -1


class VirtualUser(abc.ABC):
    kind = "user"
    think = (1.0, 3.0)

    def __init__(self, name: str, world: World, stats: Stats, stop: threading.Event, seed: int) -> None:
        self.name = name
        self.world = world
        self.stats = stats
        self.stop = stop
        self.rng = random.Random(seed)
        self.browser = Browser(world.port, name, stats, stop)
        self.iterations = 0

    def pause(self, scale: float = 1.0) -> None:
        low, high = self.think
        if self.stop.wait(self.rng.uniform(low, high) * scale):
            raise Stopped

    @abc.abstractmethod
    def iteration(self) -> None:
        """One round of this kind of user's work."""

    def recover(self) -> None:
        """After an error: start the next iteration afresh."""
        self.browser.cookies.clear()

    def run(self) -> None:
        # Users do not all start on the same second.
        if self.stop.wait(self.rng.uniform(0, 3)):
            return
        while not self.stop.is_set():
            try:
                self.iteration()
                self.iterations += 1
            except Stopped:
                return
            except FlowError:
                self.recover()
                if self.stop.wait(2):
                    return
            except Exception as failure:  # a bug in the soak itself: count it, say where, go on
                record = ErrorRecord(
                    time.monotonic() - self.stats.began,
                    self.name,
                    "soak client",
                    "-",
                    "-",
                    -1,
                    "".join(traceback.format_exception_only(failure)).strip()[:300],
                )
                self.stats.add("soak client", 0.0, error=record)
                traceback.print_exc()
                self.recover()
                if self.stop.wait(2):
                    return


def _find(pattern: str, text_: str) -> list[str]:
    return re.findall(pattern, text_)


class WebReporter(VirtualUser):
    """A worker reporting through the question pages, then following the report up at /check."""

    kind = "reporter-web"
    think = (1.0, 3.0)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reports: list[tuple[str, str]] = []

    def answers(self, slug: str, page: str) -> list[tuple[str, str]]:
        rng = self.rng
        if slug == "anonymity":
            self.anonymity = rng.choice(load.ANONYMITY)
            return [("anonymity", self.anonymity)]
        if slug == "about-you":
            return [("reporter_sector", rng.choice(load.SECTORS))]
        if slug == "concern":
            return [("concern_types", c) for c in rng.sample(load.CONCERN_TYPES, rng.randint(1, 3))]
        if slug == "where":
            roll = rng.random()
            if roll < 0.2 and self.world.sectors:
                letters = "ABDEFGHJLNPQRSTUWXYZ"
                postcode = f"{rng.choice(self.world.sectors)}{rng.choice(letters)}{rng.choice(letters)}"
                return [("postcode", postcode), ("council", "")]
            codes = self.world.officer_codes if roll < 0.6 else self.world.authority_codes
            return [("postcode", ""), ("council", rng.choice(codes))]
        if slug == "council":  # a postcode on a boundary: the first council offered
            offered = _find(r'name="council" type="radio" value="([^"]+)"', page) or _find(
                r'type="radio" name="council" value="([^"]+)"', page
            )
            if offered:
                return [("council", offered[0]), ("other_council", "")]
            return [("council", ""), ("other_council", rng.choice(self.world.authority_codes))]
        if slug == "about-council":
            return [("about_council", "no"), ("which_council", "")]
        if slug == "organisation":
            return [("organisation_name", text(rng, 5, 60).title() if rng.random() < 0.6 else "")]
        if slug == "what-happened":
            return [("summary", text(rng, 20, 200)), ("details", text(rng, 100, 3000))]
        if slug == "raised-internally":
            raised = rng.choice(load.RAISED)
            return [("raised_internally", raised), ("internal_response", text(rng, 20, 400) if raised == "yes" else "")]
        if slug == "immediate-risk":
            return [("child_at_immediate_risk", "yes" if rng.random() < 0.1 else "no")]
        if slug == "contact":
            return [
                ("name", text(rng, 5, 30).title()),
                ("email", f"soak{rng.randint(1, 10**6)}@example.org"),
                ("phone", ""),
            ]
        raise RuntimeError(f"the soak does not know the question page {slug!r}")

    def iteration(self) -> None:
        if self.reports and self.rng.random() < 0.3:
            self.follow_up(*self.rng.choice(self.reports))
            return
        reference, code = self.report()
        self.reports.append((reference, code))
        self.pause()
        self.follow_up(reference, code)

    def report(self) -> tuple[str, str]:
        b = self.browser
        b.cookies.clear()
        b.request("start page", "GET", "/")
        self.pause(0.5)
        url = b.request("report: begin", "POST", "/report/begin", form={}, expect=(302,)).location
        for _ in range(15):  # at most one visit per question page
            if not url.startswith("/report/") or url == "/report/check-your-answers":
                break
            slug = url.removeprefix("/report/").split("?", 1)[0]
            page = b.request("report: question page", "GET", url).text()
            self.pause(0.7)
            url = b.request("report: answer", "POST", url, form=self.answers(slug, page), expect=(302,)).location
        if url != "/report/check-your-answers":
            raise RuntimeError(f"the question pages did not end at check your answers but at {url}")
        b.request("report: check your answers", "GET", url)
        self.pause()
        confirmation = b.request("report: submit", "POST", url, form={}).text()
        reference = re.search(r'data-testid="reference">([^<]+)<', confirmation)
        code = re.search(r'data-testid="access-code">([^<]+)<', confirmation)
        if not reference or not code:
            raise RuntimeError("the confirmation page shows no reference or access code")
        self.stats.count("web reports submitted")
        return reference.group(1).strip(), code.group(1).strip()

    def follow_up(self, reference: str, code: str) -> None:
        b = self.browser
        b.cookies.clear()
        b.request("check: sign-in page", "GET", "/check")
        self.pause(0.5)
        form = {"reference": reference, "access_code": code}
        url = b.request("check: unlock", "POST", "/check", form=form, expect=(302,)).location
        if url != "/check/concern":
            raise FlowError(f"check: unlock went to {url}")
        b.request("check: follow-up page", "GET", url)
        self.pause()
        message = {"body": text(self.rng, 20, 600), "kind": self.rng.choice(["message", "more_information"])}
        url = b.request("check: send message", "POST", "/check/concern/message", form=message, expect=(302,)).location
        b.request("check: follow-up page", "GET", url)
        self.stats.count("web follow-up messages")
        self.pause(0.5)
        b.request("check: close", "POST", "/check/concern/close", form={}, expect=(302,))


class ApiReporter(VirtualUser):
    """An integration (or a worker's app) using the reporter API."""

    kind = "reporter-api"
    think = (1.0, 3.0)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reports: list[tuple[str, str]] = []
        self.places = load.Places(authority_codes=self.world.authority_codes, sectors=self.world.sectors)

    def iteration(self) -> None:
        b = self.browser
        if self.world.sectors and self.rng.random() < 0.2:
            postcode = self.rng.choice(self.world.sectors)
            b.request("api: authority lookup", "GET", f"/api/v1/local-authorities?{urlencode({'postcode': postcode})}")
        if self.reports and self.rng.random() < 0.3:
            reference, code = self.rng.choice(self.reports)
        else:
            body = json.loads(load.intake_body(self.rng.randint(0, 10**9), self.places))
            created = json.loads(b.request("api: submit", "POST", "/api/v1/reports", body=body, expect=(201,)).body)
            reference, code = created["reference"], created["access_code"]
            self.reports.append((reference, code))
            self.stats.count("api reports submitted")
            self.pause()
        pair = {"reference": reference, "access_code": code}
        b.request("api: access", "POST", "/api/v1/reports/access", body=pair)
        self.pause()
        message = {**pair, "body": text(self.rng, 20, 600), "kind": "message"}
        b.request("api: message", "POST", "/api/v1/reports/messages", body=message, expect=(201,))
        self.stats.count("api messages")
        self.pause()


class Staff(VirtualUser):
    """A member of staff: signs in with a password and the authenticator, and again every few minutes."""

    home_page = "staff: home"

    def __init__(self, *args: Any, account: Account, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.account = account
        self.signed_in_until = 0.0

    def recover(self) -> None:
        super().recover()
        self.signed_in_until = 0.0

    def totp(self) -> str:
        from django_otp.oath import TOTP

        # A code is accepted once per time step: wait for a fresh step when this one was used.
        while True:
            totp = TOTP(self.account.key)
            step = totp.t()
            if step != self.account.last_step:
                self.account.last_step = step
                return f"{totp.token():06d}"
            if self.stop.wait(31 - time.time() % 30):
                raise Stopped

    def sign_in(self) -> None:
        b = self.browser
        if self.signed_in_until and self.browser.cookies:
            b.request("staff: sign out", "POST", "/staff/sign-out", form={}, expect=(302,))
        b.cookies.clear()
        b.request("staff: sign-in page", "GET", "/staff/sign-in")
        self.pause(0.5)
        form = {"username": self.account.username, "password": PASSWORD}
        url = b.request("staff: sign-in password", "POST", "/staff/sign-in", form=form, expect=(302,)).location
        if url != "/staff/sign-in/code":
            raise FlowError(f"password step went to {url}")
        b.request("staff: sign-in code page", "GET", url)
        self.pause(0.5)
        url = b.request("staff: sign-in code", "POST", url, form={"code": self.totp()}, expect=(302,)).location
        if url != "/staff/":
            raise FlowError(f"code step went to {url}")
        self.stats.count("staff sign-ins")
        self.signed_in_until = time.monotonic() + self.rng.uniform(120, 240)
        self.land(url)

    def land(self, url: str) -> None:
        """The page a sign-in ends on: the helpline's home, or the redirect to the role's own page."""
        answer = self.browser.request(self.home_page, "GET", url, expect=(200, 302))
        if answer.status == 302:
            self.landed(answer.location)

    def landed(self, url: str) -> None:
        raise FlowError(f"{self.kind} was sent from /staff/ to {url}")

    def iteration(self) -> None:
        if time.monotonic() >= self.signed_in_until:
            self.sign_in()
            self.pause()
        self.work()

    @abc.abstractmethod
    def work(self) -> None:
        """What this role does once signed in, one round."""


CASE_LINK = r'href="/staff/cases/([0-9A-Z]{4}-[0-9A-Z]+)"'
CASE_ACTIONS = {"add_note": 4, "claim": 2, "set_priority": 1, "refer": 2, "ask_reporter": 1}


class Handler(Staff):
    kind = "handler"
    think = (1.0, 3.0)

    def filters(self) -> dict[str, str]:
        rng, world = self.rng, self.world
        choice = rng.randrange(8)
        if choice == 0:
            return {"queue": rng.choice(world.queues)}
        if choice == 1:
            return {"status": rng.choice(["new", "in_triage", "awaiting_reporter", "referred"])}
        if choice in (2, 3):
            return {"authority": rng.choice(world.officer_codes)}
        if choice == 4:
            return {"sort": "newest"}
        if choice == 5:
            return {"page": str(rng.randint(2, 5))}
        if choice == 6:
            return {"priority": "urgent"}
        return {}

    def work(self) -> None:
        b = self.browser
        if self.rng.random() < 0.3:
            b.request("staff: home", "GET", "/staff/")
            self.pause()
        filters = self.filters()
        url = "/staff/cases" + (f"?{urlencode(filters)}" if filters else "")
        cases = _find(CASE_LINK, b.request("staff: case list", "GET", url).text())
        if not cases:
            cases = _find(CASE_LINK, b.request("staff: case list", "GET", "/staff/cases").text())
        if not cases:
            self.pause()
            return
        number = self.rng.choice(cases)
        self.pause()
        page = b.request("staff: case page", "GET", f"/staff/cases/{number}").text()
        offered = [a for a in _find(rf'action="/staff/cases/{number}/([a-z_]+)"', page) if a in CASE_ACTIONS]
        if not offered:
            return
        self.pause()
        action = self.rng.choices(offered, weights=[CASE_ACTIONS[a] for a in offered])[0]
        form: dict[str, str] = {}
        if action in ("add_note", "ask_reporter"):
            form = {f"{action}-body": text(self.rng, 20, 400)}
        elif action == "set_priority":
            form = {"set_priority-priority": self.rng.choice(["urgent", "standard"])}
        elif action == "refer":
            form = {"refer-summary": text(self.rng, 40, 600)}
        answer = b.request(
            f"staff: case action ({action})",
            "POST",
            f"/staff/cases/{number}/{action}",
            form=form,
            expect=(302,),
            conflict_ok=True,
        )
        self.stats.count("case actions" if answer.status == 302 else "case actions refused (409)")
        if answer.status == 302:
            b.request("staff: case page", "GET", answer.location)
        self.pause()


REFERRAL_LINK = r'href="/staff/referrals/([0-9A-Z]{4}-[0-9A-Z]+)"'


class Officer(Staff):
    kind = "officer"
    think = (1.5, 4.0)
    home_page = "staff: home (redirect)"

    def landed(self, url: str) -> None:
        if url != "/staff/referrals":
            raise FlowError(f"an officer was sent to {url}")
        self.browser.request("referrals: list", "GET", url)

    def work(self) -> None:
        b = self.browser
        listing = "/staff/referrals?closed=1" if self.rng.random() < 0.2 else "/staff/referrals"
        numbers = _find(REFERRAL_LINK, b.request("referrals: list", "GET", listing).text())
        if not numbers:
            self.pause()
            return
        number = self.rng.choice(numbers)
        self.pause()
        page = b.request("referrals: referral page", "GET", f"/staff/referrals/{number}").text()
        self.pause()
        action = ""
        if f"/staff/referrals/{number}/acknowledge" in page and self.rng.random() < 0.3:
            action, form = "acknowledge", {}
        elif f"/staff/referrals/{number}/ask_helpline" in page and self.rng.random() < 0.1:
            action, form = "ask_helpline", {"ask_helpline-note": text(self.rng, 20, 300)}
        if action:
            answer = b.request(
                f"referrals: {action}",
                "POST",
                f"/staff/referrals/{number}/{action}",
                form=form,
                expect=(302,),
                conflict_ok=True,
            )
            self.stats.count("referral actions" if answer.status == 302 else "referral actions refused (409)")
            if answer.status == 302:
                b.request("referrals: referral page", "GET", answer.location)
            self.pause()


class Board(Staff):
    """A safeguarding board reviewer (its region) or national oversight (every region, pattern alerts)."""

    kind = "board"
    think = (2.0, 5.0)
    home_page = "staff: home (redirect)"

    def stats_page(self) -> str:
        return "statistics: national" if self.account.role == "oversight_analyst" else "statistics: board"

    def landed(self, url: str) -> None:
        if url != "/staff/statistics":
            raise FlowError(f"a {self.account.role} was sent to {url}")
        self.browser.request(self.stats_page(), "GET", url)

    def work(self) -> None:
        b = self.browser
        b.request(self.stats_page(), "GET", "/staff/statistics")
        self.pause()
        if self.rng.random() < 0.3:
            b.request(self.stats_page() + " CSV", "GET", "/staff/statistics.csv")
            self.pause()
        if self.account.role == "oversight_analyst" and self.rng.random() < 0.5:
            b.request("pattern alerts", "GET", "/staff/patterns")
            self.pause()


# --- set-up in this process -----------------------------------------------------------------------------


def django_setup() -> None:
    """Django in this process, as the soak database's owner: the soak's staff accounts and its world."""
    os.environ.update(soak_env(DATABASE_URL=OWNER_URL))
    import django

    django.setup()


def make_accounts(spec: dict[str, int], officer_codes: list[str], board_area: str) -> dict[str, list[Account]]:
    """One account per staff virtual user, each with a fresh authenticator (a TOTP code is accepted once
    per time step and per device, so users must not share one)."""
    from accounts.models import User
    from accounts.services import totp_device_create
    from directory.models import LocalAuthority

    roles = {
        "handler": [User.Role.CALL_HANDLER, User.Role.SUPERVISOR],
        "officer": [User.Role.AUTHORITY_OFFICER],
        "board": [User.Role.BOARD_REVIEWER, User.Role.OVERSIGHT_ANALYST],
    }
    accounts: dict[str, list[Account]] = {}
    for kind, count in spec.items():
        for n in range(count):
            role = roles[kind][n % len(roles[kind])]
            username = f"soak-{kind}-{n + 1}"
            user = User.objects.create(
                username=username,
                role=role,
                email=f"{username}@soak.localhost",
                area=board_area if role == User.Role.BOARD_REVIEWER else "",
            )
            user.set_password(PASSWORD)
            user.save()
            if role == User.Role.AUTHORITY_OFFICER:
                user.authorities.set(LocalAuthority.objects.filter(gss_code=officer_codes[n % len(officer_codes)]))
            device = totp_device_create(user=user, name="soak", confirmed=True)
            accounts.setdefault(kind, []).append(Account(username, str(role), bytes(device.bin_key)))
    return accounts


def seeded_referrals_complete(codes: list[str]) -> int:
    """Give the seeded cases referred to ``codes`` the Referral row a real referral has.

    `seed_cases` marks cases referred (status, referred_at, the authority's deadlines) without writing a
    triage_referral row. Officers are shown such cases (the officer's scope is referred_at) and every one
    then answers 500 (referral_open raises "This case has not been referred."). A real referral
    (case_refer) always writes both, so the soak completes the seeded ones for its officers' authorities;
    --seeded-referrals-as-is leaves them, to see the defect."""
    from accounts.models import User
    from core import crypto
    from triage.case_content import case_data_key
    from triage.models import Case, Referral

    referrer = User.objects.filter(role=User.Role.SUPERVISOR).order_by("id").first()
    if referrer is None:
        raise RuntimeError("no helpline supervisor to refer the seeded cases: did seed_demo run?")
    cases = (
        Case.objects.filter(authority__gss_code__in=codes, referred_at__isnull=False, referrals__isnull=True)
        .select_related("report", "authority")
        .order_by("id")
    )
    made = [
        Referral(
            case=case,
            authority=case.authority,
            summary=crypto.seal_text(case_data_key(case), "Seeded referral: the helpline's summary for the authority."),
            identity_shared=False,
            referred_by=referrer,
            referred_at=case.referred_at,
        )
        for case in cases
        if case.authority is not None and case.referred_at is not None
    ]
    Referral.objects.bulk_create(made, batch_size=1000)
    return len(made)


def settle(stop_after: float) -> dict[str, Any]:
    """Before the load: let the deadline ladder catch up with the seeded cases (the first sweeps escalate
    thousands of long-overdue seeded deadlines and queue their emails) and the worker send them all, so
    the soak measures steady work, not the seeding's backlog."""
    from triage.escalations import deadlines_sweep

    began = time.monotonic()
    swept = 0
    while taken := deadlines_sweep():
        swept += taken
    say(f"settling: {swept:,} seeded deadlines escalated; waiting for the worker to send their emails")
    last = 0.0
    while (pending := backlog()["outbox_pending"]) and time.monotonic() - began < stop_after:
        if time.monotonic() - last >= 30:
            say(f"settling: {pending:,} outbox rows pending")
            last = time.monotonic()
        time.sleep(2)
    return {"escalated": swept, "seconds": round(time.monotonic() - began, 1), "pending": pending}


def make_world(port: int) -> World:
    from django.db.models import Count

    from directory.models import LocalAuthority
    from oversight.selectors import stats_refresh
    from triage.models import Case, Queue

    codes = list(LocalAuthority.objects.order_by("gss_code").values_list("gss_code", flat=True))
    if not codes:
        raise RuntimeError(f"{DB_NAME} has no local authorities: did load_local_authorities run?")
    busiest = (
        Case.objects.filter(status=Case.Status.REFERRED)
        .exclude(authority=None)
        .values("authority__gss_code")
        .annotate(n=Count("id"))
        .order_by("-n")[:2]
    )
    officer_codes = [row["authority__gss_code"] for row in busiest] or ["E08000018"]
    region = LocalAuthority.objects.filter(gss_code=officer_codes[0]).values_list("region", flat=True).first()
    with closing(connect()) as conn:  # postcode sectors that resolve to one English authority, as bench/run.py
        sectors = [
            str(row[0])
            for row in conn.execute(
                "SELECT code FROM triage_postcodearea WHERE level = 'sector' AND authority_code LIKE 'E%' "
                "AND jsonb_array_length(candidates) = 1 ORDER BY md5(code) LIMIT 300"
            )
        ]
    stats_refresh()
    return World(
        port=port,
        authority_codes=codes,
        officer_codes=officer_codes,
        sectors=sectors,
        queues=list(Queue.objects.values_list("slug", flat=True)),
        board_area=region or "Yorkshire and The Humber",
    )


# --- the run --------------------------------------------------------------------------------------------


# Django's "ERROR django.request ...", gunicorn's "[ERROR]", Celery's "ERROR/ForkPoolWorker-1", tracebacks.
LOG_PROBLEM = re.compile(r"Traceback|WORKER TIMEOUT|^(ERROR|CRITICAL) |\[(ERROR|CRITICAL)\]|\b(ERROR|CRITICAL)/")


def log_problems(process: procs.Process) -> list[str]:
    if not process.log_path.exists():
        return []
    lines = process.log_path.read_text(errors="replace").splitlines()
    return [line[:300] for line in lines if LOG_PROBLEM.search(line)]


def backlog() -> dict[str, int]:
    with closing(connect()) as conn:

        def one(sql: str) -> int:
            row = conn.execute(sql).fetchone()
            return int(row[0]) if row else 0

        return {
            "outbox_pending": one("SELECT count(*) FROM triage_outboxmessage WHERE processed_at IS NULL"),
            "reports_without_case": one(
                "SELECT count(*) FROM reports_report r WHERE NOT EXISTS "
                "(SELECT 1 FROM triage_case c WHERE c.report_id = r.id)"
            ),
            "reports": one("SELECT count(*) FROM reports_report"),
            "referrals": one("SELECT count(*) FROM triage_referral"),
            "outbox_rows": one("SELECT count(*) FROM triage_outboxmessage"),
            "outbox_max_sweeps": one("SELECT coalesce(max(sweeps), 0) FROM triage_outboxmessage"),
            "audit_events": one("SELECT count(*) FROM audit_event"),
        }


TASK_RECEIVED = re.compile(r"Task ([\w.]+)\[[0-9a-f-]+\] received")
TASK_SENT = re.compile(r"Sending due task \S+ \(([\w.]+)\)")


def task_counts(process: procs.Process, pattern: re.Pattern[str]) -> dict[str, int]:
    """Tasks by name, from a Celery log: received by the worker, or sent by beat."""
    counts: dict[str, int] = {}
    if process.log_path.exists():
        for match in pattern.finditer(process.log_path.read_text(errors="replace")):
            counts[match.group(1)] = counts.get(match.group(1), 0) + 1
    return dict(sorted(counts.items()))


def sample(minute: int, web: procs.Process, worker: procs.Process, beat: procs.Process, stats: Stats) -> RssRow:
    web_mib, web_pids = tree(web.popen.pid)
    worker_mib, worker_pids = tree(worker.popen.pid)
    beat_mib, _ = tree(beat.popen.pid)
    requests, errors = stats.totals()
    return RssRow(minute, web_mib, web_pids, worker_mib, worker_pids, beat_mib, os.getloadavg()[0], requests, errors)


def growth(rows: list[RssRow], attribute: str) -> dict[str, Any]:
    """Growth of one RSS column from minute 2 (or the first sample of a shorter run) to the last."""
    if len(rows) < 2:
        return {"from_minute": None, "mib": None, "percent": None, "flat": None}
    first = next((row for row in rows if row.minute == 2), rows[0])
    last = rows[-1]
    start_mib, end_mib = getattr(first, attribute), getattr(last, attribute)
    percent = (end_mib - start_mib) / start_mib * 100 if start_mib else 0.0
    return {
        "from_minute": first.minute,
        "to_minute": last.minute,
        "start_mib": round(start_mib, 1),
        "end_mib": round(end_mib, 1),
        "mib": round(end_mib - start_mib, 1),
        "percent": round(percent, 1),
        "flat": percent <= FLAT_PERCENT,
    }


def page_rows(stats: Stats) -> list[dict[str, Any]]:
    rows = []
    for page, figures in stats.pages.items():
        lat = sorted(figures.latencies)
        rows.append(
            {
                "page": page,
                "requests": len(lat),
                "p50_ms": round(statistics.median(lat) * 1000, 1) if lat else None,
                "p95_ms": round(percentile(lat, 95) * 1000, 1) if lat else None,
                "max_ms": round(lat[-1] * 1000, 1) if lat else None,
                "errors": figures.errors,
                "conflicts": figures.conflicts,
            }
        )
    return rows


def markdown(report: dict[str, Any]) -> str:
    lines = [
        f"# Soak, {report['finished_at']}",
        "",
        f"`{report['command']}`: {report['minutes']} min of mixed load ({report['users_text']}), "
        f"gunicorn {WEB_WORKERS} sync workers, Celery worker prefork x{CELERY_CONCURRENCY} + beat, "
        f"{report['seeded_cases']:,} seeded cases; {report['cpu_count']} cores, load average "
        f"{report['loadavg_start']:.2f} at the start and {report['loadavg_end']:.2f} at the end.",
        f"Before the load: {report['settle']['escalated']:,} seeded deadlines escalated and their emails sent "
        f"({report['settle']['seconds']:.0f} s); {report['seeded_referrals_completed']:,} seeded referrals given "
        "their Referral row (see bench/soak.py).",
        "",
        f"**Errors: {report['errors']}** ({', '.join(f'{k} {v}' for k, v in report['error_kinds'].items()) or 'none'}"
        f"; server-log problems {len(report['log_problems'])}). "
        f"Requests: {report['requests']:,} ({report['requests_per_s']:.1f}/s). "
        + ", ".join(f"{k}: {v:,}" for k, v in sorted(report["counters"].items()))
        + ".",
        "",
        "| page type | requests | p50 ms | p95 ms | max ms | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in report["pages"]:
        errors = str(row["errors"]) + (f" ({row['conflicts']} × 409)" if row["conflicts"] else "")
        lines.append(
            f"| {row['page']} | {row['requests']} | {row['p50_ms']} | {row['p95_ms']} | {row['max_ms']} | {errors} |"
        )
    lines += [
        "",
        "| minute | gunicorn MiB (master + workers) | Celery worker MiB (main + pool) | beat MiB | load avg "
        "| requests so far | errors so far |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in report["rss"]:
        lines.append(
            f"| {row['minute']} | {row['web_mib']:.1f} | {row['worker_mib']:.1f} | {row['beat_mib']:.1f} "
            f"| {row['loadavg']:.2f} | {row['requests']:,} | {row['errors']} |"
        )
    lines.append("")
    for name, label in (("web", "gunicorn"), ("worker", "Celery worker")):
        g = report["rss_growth"][name]
        if g["mib"] is None:
            lines.append(f"- {label}: too few samples to judge")
            continue
        verdict = "flat" if g["flat"] else f"GROWING (over {FLAT_PERCENT:.0f}%)"
        lines.append(
            f"- {label} RSS, minute {g['from_minute']} to {g['to_minute']}: {g['start_mib']} → {g['end_mib']} MiB, "
            f"{g['mib']:+.1f} MiB ({g['percent']:+.1f}%): {verdict}"
        )
    restarts = report["process_restarts"]
    lines.append(
        f"- gunicorn workers replaced during the run: {restarts['web']}; Celery pool processes replaced: "
        f"{restarts['worker']}"
    )
    after = report["after"]
    lines.append(
        f"- after the load ({report['drain_seconds']:.0f} s to drain): outbox rows pending {after['outbox_pending']}, "
        f"reports without a case {after['reports_without_case']} of {after['reports']:,}, referrals "
        f"{after['referrals']:,}, audit events {after['audit_events']:,}"
    )
    received = report["worker_tasks_received"]
    lines.append(
        "- Celery tasks the worker received (from the start of set-up): "
        + ", ".join(f"{name} {n:,}" for name, n in received.items())
        + f"; beat sent: {', '.join(f'{name} {n:,}' for name, n in report['beat_tasks_sent'].items())}; "
        f"outbox rows {after['outbox_rows']:,}, the most sweeps one row waited through {after['outbox_max_sweeps']}"
    )
    if report["error_records"]:
        lines += ["", "First errors:", ""]
        for e in report["error_records"][:20]:
            lines.append(
                f"- {e['at']:.0f}s {e['user']} {e['page']}: {e['method']} {e['path']} → {e['status']} {e['detail']}"
            )
    if report["log_problems"]:
        lines += ["", "Server-log problems (first 20):", "", "```"]
        lines += report["log_problems"][:20]
        lines.append("```")
    return "\n".join(lines) + "\n"


def parse_users(text_: str) -> dict[str, int]:
    counts = {"reporter-web": 3, "reporter-api": 2, "handler": 3, "officer": 2, "board": 2}
    for part in filter(None, (p.strip() for p in text_.split(","))):
        name, _, number = part.partition("=")
        if name not in counts or not number.isdigit():
            raise SystemExit(f"--users: {part!r} is not one of {', '.join(counts)} = a number")
        counts[name] = int(number)
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--minutes",
        type=float,
        default=float(os.environ.get("SOAK_MINUTES") or 10),
        help="how long the load runs (SOAK_MINUTES, default 10)",
    )
    parser.add_argument("--cases", type=int, default=5_000, help="seeded cases before the run (5,000)")
    parser.add_argument(
        "--users",
        default="",
        help="virtual users per kind, e.g. 'reporter-web=3,reporter-api=2,handler=3,officer=2,board=2' (those "
        "are the defaults; board users alternate board reviewer and national oversight, handlers call handler "
        "and supervisor)",
    )
    parser.add_argument(
        "--seeded-referrals-as-is",
        action="store_true",
        help="do not give seeded referred cases their Referral rows (officers then get 500s: see the docstring "
        "of seeded_referrals_complete)",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed of the virtual users (1)")
    args = parser.parse_args()
    users = parse_users(args.users)
    duration = args.minutes * 60
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _stop_run)
    signal.signal(signal.SIGALRM, _stop_run)
    signal.alarm(int(duration) + SETUP_BUDGET)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    for old in LOG_DIR.glob("*.log"):
        old.unlink()
    command = " ".join(shlex.quote(a) for a in [Path(sys.executable).name, "bench/soak.py", *sys.argv[1:]])
    if "SOAK_MINUTES" in os.environ and "--minutes" not in sys.argv:
        command = f"SOAK_MINUTES={os.environ['SOAK_MINUTES']} {command}"
        if os.environ.get("MAKELEVEL"):  # started by `make soak`
            command = f"make soak SOAK_MINUTES={os.environ['SOAK_MINUTES']}"
    running: list[procs.Process] = []
    stop = threading.Event()
    threads: list[threading.Thread] = []
    try:
        say(f"preparing {DB_NAME}: migrate, authorities, demo data, {args.cases:,} seeded cases")
        database_prepare(args.cases)
        port = procs.free_port()
        django_setup()
        world = make_world(port)
        staff_spec = {kind: users[kind] for kind in ("handler", "officer", "board")}
        accounts = make_accounts(staff_spec, world.officer_codes, world.board_area)
        completed = 0 if args.seeded_referrals_as_is else seeded_referrals_complete(world.officer_codes)
        say(
            f"officers' authorities {', '.join(world.officer_codes)} ({completed:,} seeded referrals completed); "
            f"board region {world.board_area}"
        )

        web = gunicorn_start(port)
        running.append(web)
        worker = worker_start()
        running.append(worker)
        beat = beat_start()
        running.append(beat)
        say(f"gunicorn on 127.0.0.1:{port} ({WEB_WORKERS} workers), celery worker and beat on {BROKER_URL}")
        settled = settle(SETTLE_SECONDS)
        if settled["pending"]:
            raise RuntimeError(f"the outbox did not drain before the load: {settled}")

        stats = Stats()
        vus: list[VirtualUser] = []
        seed = args.seed * 1000
        for n in range(users["reporter-web"]):
            vus.append(WebReporter(f"reporter-web-{n + 1}", world, stats, stop, seed := seed + 1))
        for n in range(users["reporter-api"]):
            vus.append(ApiReporter(f"reporter-api-{n + 1}", world, stats, stop, seed := seed + 1))
        classes: dict[str, Callable[..., Staff]] = {"handler": Handler, "officer": Officer, "board": Board}
        for kind, made in accounts.items():
            for account in made:
                vus.append(classes[kind](account.username, world, stats, stop, seed := seed + 1, account=account))
        users_text = ", ".join(f"{count} {kind}" for kind, count in users.items() if count)
        say(f"{len(vus)} virtual users ({users_text}) for {args.minutes:g} min")

        load_start = os.getloadavg()[0]
        rows = [sample(0, web, worker, beat, stats)]
        stats.began = time.monotonic()
        threads = [threading.Thread(target=vu.run, name=vu.name, daemon=True) for vu in vus]
        for thread in threads:
            thread.start()
        end = stats.began + duration
        minute = 0
        while True:
            next_sample = stats.began + (minute + 1) * 60
            if next_sample > end + 1:
                break
            time.sleep(max(0.0, next_sample - time.monotonic()))
            minute += 1
            row = sample(minute, web, worker, beat, stats)
            rows.append(row)
            say(
                f"minute {minute}: gunicorn {row.web_mib:.1f} MiB, worker {row.worker_mib:.1f} MiB, beat "
                f"{row.beat_mib:.1f} MiB, load {row.loadavg:.2f}; {row.requests:,} requests, {row.errors} errors"
            )
            for process in (web, worker, beat):
                if not process.alive():
                    raise RuntimeError(f"{process.name} exited:\n{process.log_tail()}")
        time.sleep(max(0.0, end - time.monotonic()))
        stop.set()
        for thread in threads:
            thread.join(timeout=TIMEOUT + 5)
        elapsed = time.monotonic() - stats.began
        if rows[-1].minute * 60 < elapsed - 30:  # a run that is not a whole number of minutes: its end
            rows.append(sample(round(elapsed / 60), web, worker, beat, stats))
        load_end = os.getloadavg()[0]
        say("load stopped; waiting for the workers to drain the outbox")
        drain_began = time.monotonic()
        with contextlib.suppress(TimeoutError):
            procs.wait_for(
                lambda: backlog()["outbox_pending"] == 0, timeout=DRAIN_SECONDS, what="the outbox", interval=1
            )
        drained = time.monotonic() - drain_began
        after = backlog()
        problems = [f"{p.name}: {line}" for p in (web, worker, beat) for line in log_problems(p)]
        received, sent = task_counts(worker, TASK_RECEIVED), task_counts(beat, TASK_SENT)

        requests, errors = stats.totals()
        web_pids = {pid for row in rows for pid in row.web_workers}
        worker_pids = {pid for row in rows for pid in row.worker_children}
        report: dict[str, Any] = {
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": command,
            "minutes": args.minutes,
            "seconds": round(elapsed, 1),
            "users": users,
            "users_text": users_text,
            "seeded_cases": args.cases,
            "seeded_referrals_completed": completed,
            "settle": settled,
            "cpu_count": os.cpu_count(),
            "loadavg_start": round(load_start, 2),
            "loadavg_end": round(load_end, 2),
            "requests": requests,
            "requests_per_s": requests / elapsed if elapsed else 0.0,
            "errors": errors + len(problems),
            "http_errors": errors,
            "error_kinds": dict(stats.error_kinds),
            "counters": dict(stats.counters),
            "pages": page_rows(stats),
            "rss": [
                {
                    "minute": r.minute,
                    "web_mib": round(r.web_mib, 1),
                    "worker_mib": round(r.worker_mib, 1),
                    "beat_mib": round(r.beat_mib, 1),
                    "loadavg": round(r.loadavg, 2),
                    "requests": r.requests,
                    "errors": r.errors,
                    "web_workers": r.web_workers,
                    "worker_children": r.worker_children,
                }
                for r in rows
            ],
            "rss_growth": {"web": growth(rows, "web_mib"), "worker": growth(rows, "worker_mib")},
            "process_restarts": {
                "web": max(0, len(web_pids) - WEB_WORKERS),
                "worker": max(0, len(worker_pids) - CELERY_CONCURRENCY),
            },
            "drain_seconds": drained,
            "after": after,
            "worker_tasks_received": received,
            "beat_tasks_sent": sent,
            "error_records": [e.__dict__ for e in stats.error_records[:200]],
            "log_problems": problems[:200],
        }
        if problems:
            report["error_kinds"]["server log"] = len(problems)
        summary = markdown(report)
        SUMMARY.write_text(summary)
        RESULTS.write_text(json.dumps(report, indent=2) + "\n")
        print()
        print(summary)
        say(f"wrote {SUMMARY.relative_to(ROOT)} and {RESULTS.relative_to(ROOT)}; logs in {LOG_DIR.relative_to(ROOT)}")
        return 1 if report["errors"] else 0
    except (Stopped, KeyboardInterrupt) as stopped:
        say(f"interrupted: {str(stopped) or 'Ctrl-C'}")
        return 130
    finally:
        signal.alarm(0)
        stop.set()
        for process in reversed(running):
            say(f"stopping {process.name}")
            process.stop(timeout=20)


if __name__ == "__main__":
    sys.exit(main())
