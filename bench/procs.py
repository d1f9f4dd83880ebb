"""Processes for the benchmark: the bench database, gunicorn, a Celery worker, and their memory.

Every child runs in its own process group (its own session), so stopping one stops its workers too.
Only 127.0.0.1 is used; the database is `helpline_bench` and the broker is Redis database 14, unless
BENCH_DATABASE (a database name) and BENCH_REDIS_URL say otherwise, so that two people can run it at once.
The servers run with the per-client limits raised (SERVER_LIMITS): every request comes from 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
PYTHON = BIN / "python" if (BIN / "python").exists() else Path(sys.executable)

PG_HOST = "127.0.0.1"

# Databases no benchmark may create, fill or empty: the portal's own, PostgreSQL's, and the tests'.
NOT_OURS = frozenset({"helpline", "postgres", "template0", "template1"})


def own_database(name: str) -> str:
    """``name``, unless it belongs to the portal, PostgreSQL or the tests (then the run stops)."""
    if not name or name in NOT_OURS or name.startswith("test"):
        raise SystemExit(f"refusing the database {name!r}: it belongs to the portal, PostgreSQL or the tests")
    return name


def database_url(name: str, user: str = "postgres") -> str:
    return f"postgres://{user}@{PG_HOST}:5432/{name}"


DB_NAME = own_database(os.environ.get("BENCH_DATABASE") or "helpline_bench")
DATABASE_URL = database_url(DB_NAME)
BROKER_URL = os.environ.get("BENCH_REDIS_URL") or "redis://127.0.0.1:6379/14"

# Every virtual client is 127.0.0.1, so one client hash: no per-client limit may refuse the bench's own
# servers. (The portal's defaults are 30 submissions and 20 key derivations an hour, 5 failed sign-ins.)
SERVER_LIMITS = {
    "ACCESS_DERIVATION_LIMIT": "1000000",
    "SUBMISSION_LIMIT": "1000000",
    "LOGIN_THROTTLE_LIMIT": "1000000",
    "SECOND_FACTOR_FREE_FAILURES": "1000000",
}

# Everything a run writes into: emptied at the start of each run so runs are comparable, the per-client
# counters (reports_accessthrottle) and idempotency keys too. The bench's own database only: the audit
# trail's TRUNCATE guard is lifted for this one statement, in one transaction.
TRUNCATE = (
    "BEGIN; ALTER TABLE audit_event DISABLE TRIGGER audit_event_refuse_truncate; "
    "TRUNCATE reports_report, reports_message, reports_attachment, triage_case, audit_event, triage_outboxmessage, "
    "notify_notification, reports_accessthrottle, reports_idempotencykey, bench_floor CASCADE; "
    "ALTER TABLE audit_event ENABLE TRIGGER audit_event_refuse_truncate; COMMIT"
)
CREATE_FLOOR_TABLE = "CREATE TABLE IF NOT EXISTS bench_floor (id bigserial PRIMARY KEY, a text, b text, c int)"


def bench_env(**extra: str) -> dict[str, str]:
    """The environment of every child: the bench database and broker, development role, no DEBUG, the
    per-client limits raised."""
    env = dict(os.environ)
    for key in ("BIND", "PORT", "DJANGO_SETTINGS_MODULE"):
        env.pop(key, None)
    env.update(
        {
            "DATABASE_URL": DATABASE_URL,
            "CELERY_BROKER_URL": BROKER_URL,
            "REDIS_URL": BROKER_URL,
            "HELPLINE_ENV": "development",
            "DEBUG": "false",
            "PYTHONUNBUFFERED": "1",
            **SERVER_LIMITS,
        }
    )
    env.update(extra)
    return env


def connect(name: str | None = None) -> psycopg.Connection[tuple[Any, ...]]:
    return psycopg.connect(host=PG_HOST, user="postgres", dbname=name or DB_NAME, autocommit=True)


def database_create(name: str) -> bool:
    """Create the database ``name`` (one of ours) when it is missing; whether it was."""
    with closing(connect("postgres")) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [own_database(name)]).fetchone():
            return False
    subprocess.run(["createdb", "-h", PG_HOST, "-U", "postgres", name], check=True, timeout=60)
    return True


def manage(*args: str, timeout: float | None = 180, database: str | None = None) -> None:
    """A management command on the bench database (or ``database``, another of ours)."""
    env = bench_env(DJANGO_SETTINGS_MODULE="helpline.settings")
    if database is not None:
        env["DATABASE_URL"] = database_url(own_database(database))
    subprocess.run([str(PYTHON), "manage.py", *args], cwd=ROOT, env=env, check=True, timeout=timeout)


def seeded_database(name: str, cases: int, say: Callable[[str], None]) -> dict[str, object]:
    """Create and migrate the database ``name`` if needed, with the authorities, and seed it up to ``cases``
    cases (``manage.py seed_cases``), then vacuum. Never empties it: seeding a million takes minutes, so
    later runs reuse the rows. What was there and what was seeded."""
    database_create(name)
    manage("migrate", "--no-input", "-v", "0", timeout=600, database=name)
    manage("generate_dev_keys", database=name)
    with closing(connect(name)) as conn:
        authorities = conn.execute("SELECT count(*) FROM triage_localauthority").fetchone()
        found = conn.execute("SELECT count(*) FROM triage_case").fetchone()
    existing = int(found[0]) if found else 0
    if not authorities or not authorities[0]:
        manage("load_local_authorities", database=name)
    seeding: dict[str, object] = {"existing": existing, "seeded": 0, "seconds": 0.0}
    if existing < cases:
        missing = cases - existing
        say(f"{name} holds {existing:,} cases: seeding {missing:,} more (about 3,500-6,000 a second here)")
        began = time.monotonic()
        manage("seed_cases", "--count", str(missing), timeout=None, database=name)
        seeding.update(seeded=missing, seconds=round(time.monotonic() - began, 1))
        say(f"seeded {missing:,} cases in {seeding['seconds']:.0f}s; vacuuming (visibility map) and analysing")
        with closing(connect(name)) as conn:
            conn.execute("VACUUM (ANALYZE) triage_case")
            conn.execute("VACUUM (ANALYZE) reports_report")
    else:
        say(f"{name} already holds {existing:,} cases (>= {cases:,}): reusing them")
    return seeding


def database_prepare() -> None:
    """Create helpline_bench if missing, migrate it, load the authorities, empty the run's tables and
    counters, and note new cases for the routing clock (bench/routing.py)."""
    from bench import routing

    database_create(DB_NAME)
    manage("migrate", "--no-input", "-v", "0")
    manage("load_local_authorities")
    # The development key file is shared with `make run`; create it here (once) rather than letting two
    # gunicorn workers race to generate it.
    manage("generate_dev_keys")
    with closing(connect()) as conn:
        conn.execute(CREATE_FLOOR_TABLE)
        conn.execute(routing.NOTIFY_NEW_CASES)
        conn.execute(TRUNCATE)
    redis.Redis.from_url(BROKER_URL).flushdb()


def reports_reset() -> None:
    """Empty the report tables and the broker queue between phases, keeping kombu's bindings: a
    publisher that has declared its queue once never declares it again."""
    with closing(connect()) as conn:
        conn.execute(TRUNCATE)
    redis.Redis.from_url(BROKER_URL).delete("celery", "unacked", "unacked_index", "unacked_mutex")


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(condition: Callable[[], bool], *, timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM to the whole group (graceful), SIGKILL if it is still there after ``timeout``."""
        if self.popen.poll() is not None:
            return
        try:
            os.killpg(self.popen.pid, signal.SIGTERM)
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)
        except ProcessLookupError:
            pass
        except BaseException:
            # A second Ctrl-C while waiting: do not leave the group behind.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            raise


def start(name: str, args: list[str], log_dir: Path, **env: str) -> Process:
    log_path = log_dir / f"{name}.log"
    with log_path.open("wb") as handle:
        popen = subprocess.Popen(
            args, cwd=ROOT, env=bench_env(**env), stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Process(name=name, popen=popen, log_path=log_path)


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def gunicorn_start(log_dir: Path, *, port: int, workers: int, **env: str) -> Process:
    """The portal with the floor mounted, under the project's own gunicorn.conf.py (``env``: more of
    its environment, e.g. another DATABASE_URL)."""
    server = start(
        "gunicorn",
        [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--chdir", str(ROOT), "bench.wsgi:application"],
        log_dir,
        PORT=str(port),
        BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY=str(workers),
        DJANGO_SETTINGS_MODULE="bench.settings",
        **env,
    )
    wait_for(lambda: port_open(port) or not server.alive(), timeout=30, what="gunicorn to listen")
    if not server.alive():
        raise RuntimeError(f"gunicorn exited:\n{server.log_tail()}")
    wait_for(lambda: len(children(server.popen.pid)) >= workers, timeout=30, what="gunicorn workers")
    return server


def worker_start(log_dir: Path, **env: str) -> Process:
    """One Celery worker, prefork with one child, started and waited for until it says it is ready (``env``:
    more of its environment, e.g. CLAMD_SOCKET)."""
    worker = start(
        "celery-worker",
        [
            str(BIN / "celery"),
            "-A",
            "helpline",
            "worker",
            "--pool=prefork",
            "--concurrency=1",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"bench-{os.getpid()}@%h",
        ],
        log_dir,
        **{"DJANGO_SETTINGS_MODULE": "helpline.settings", **env},
    )

    def ready() -> bool:
        if not worker.alive():
            raise RuntimeError(f"celery worker exited:\n{worker.log_tail()}")
        return " ready." in worker.log_path.read_text(errors="replace")

    wait_for(ready, timeout=60, what="the celery worker to be ready", interval=0.2)
    return worker


# --- memory -----------------------------------------------------------------------------------------


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


def rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def tree_rss(pid: int) -> int:
    """RSS of a process and its direct children (gunicorn's master and workers)."""
    return rss_bytes(pid) + sum(rss_bytes(child) for child in children(pid))


@dataclass
class RssSampler:
    """Samples a process tree's RSS every ``interval`` seconds in a thread; keeps the peak."""

    pid: int
    interval: float = 0.2
    peak: int = 0
    samples: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> RssSampler:
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss(self.pid))
            self.samples += 1
            self._stop.wait(self.interval)


DEMO_REPORTS_FILE = ROOT / "var" / "demo-reports.json"


@contextlib.contextmanager
def demo_reports_file_kept() -> Iterator[None]:
    """seed_demo writes the demo reports' access codes to var/demo-reports.json, the file `make run` prints
    for the development database: a benchmark seeding its own database keeps that file as it was."""
    kept = DEMO_REPORTS_FILE.read_bytes() if DEMO_REPORTS_FILE.exists() else None
    try:
        yield
    finally:
        if kept is None:
            DEMO_REPORTS_FILE.unlink(missing_ok=True)
        else:
            DEMO_REPORTS_FILE.write_bytes(kept)
            DEMO_REPORTS_FILE.chmod(0o600)
