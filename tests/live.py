"""Real processes against the test database: a Celery worker (and beat), and gunicorn.

Tests that use them must be ``transactional_db`` so the processes see committed rows. Each process
gets its own environment naming the test database and the test broker (Redis database 15).
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
TEST_BROKER_URL = os.environ.get("TEST_BROKER_URL", "redis://127.0.0.1:6379/15")
BIN = Path(sys.executable).parent


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def process_env(**extra: str) -> dict[str, str]:
    """The environment of a process a test starts. It connects to the test database as the runtime role
    when `make test` names one (DATABASE_RUNTIME_ROLE, created by make and granted by the migrations), as
    the deployed services do; migrations it runs connect as the owner, this test process's role."""
    db = connection.settings_dict
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST")}
    owner = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    runtime_role = os.environ.get("DATABASE_RUNTIME_ROLE") or db["USER"]
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "helpline.settings",
            "DATABASE_URL": f"postgres://{runtime_role}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "MIGRATION_DATABASE_URL": owner,
            "CELERY_BROKER_URL": TEST_BROKER_URL,
            "REDIS_URL": TEST_BROKER_URL,
            # No flood counter (core.flood) unless a test of floods names one (tests/conftest.py says why).
            "FLOOD_REDIS_URL": "",
            "HELPLINE_DEV_KEY_FILE": settings.HELPLINE_KEY_FILE,
            "ACCESS_CODE_KDF_OPSLIMIT": str(settings.ACCESS_CODE_KDF_OPSLIMIT),
            "ACCESS_CODE_KDF_MEMLIMIT": str(settings.ACCESS_CODE_KDF_MEMLIMIT),
            "DB_CONN_MAX_AGE": "0",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


@dataclass
class Process:
    popen: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 5) -> None:
        # The whole process group, even when its leader has already died (a SIGKILLed Celery main process
        # leaves its pool children running).
        try:
            os.killpg(self.popen.pid, sig)
        except ProcessLookupError:
            return
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=timeout)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)


def start_process(args: list[str], log_path: Path, **env: str) -> Process:
    handle = log_path.open("wb")
    popen = subprocess.Popen(  # noqa: S603 - our own commands
        args, cwd=ROOT, env=process_env(**env), stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
    )
    return Process(popen=popen, log_path=log_path)


def start_worker(log_path: Path, *, concurrency: int = 1, with_beat: bool = False, **env: str) -> Process:
    args = [
        str(BIN / "celery"),
        "-A",
        "helpline",
        "worker",
        "--pool=prefork",
        f"--concurrency={concurrency}",
        "--loglevel=INFO",
        "--without-gossip",
        "--without-mingle",
        "-n",
        f"test-{os.getpid()}-{time.time_ns()}@%h",
    ]
    if with_beat:
        args += ["--beat", "--schedule", str(log_path.with_suffix(".beat"))]
    return start_process(args, log_path, **env)


def start_beat(log_path: Path, **env: str) -> Process:
    """Celery beat on its own, so that killing a worker's pool child never kills the scheduler."""
    args = [
        str(BIN / "celery"),
        "-A",
        "helpline",
        "beat",
        "--loglevel=INFO",
        "--schedule",
        str(log_path.with_suffix(".db")),
    ]
    return start_process(args, log_path, **env)


def wait_for(condition: Callable[[], bool], *, timeout: float = 60, interval: float = 0.2, what: str = "") -> None:
    started = time.monotonic()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            print(f"waited {time.monotonic() - started:.1f}s for {what}")
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}")


def purge_test_broker() -> None:
    """Drop queued messages, keeping kombu's exchange bindings: a publisher that has declared its
    queue once does not declare it again, and without the binding Redis routes its messages nowhere."""
    import redis

    client = redis.Redis.from_url(TEST_BROKER_URL)
    client.delete("celery", "unacked", "unacked_index", "unacked_mutex")


def point_publisher_at(url: str) -> None:
    """Make this process's Celery publisher use ``url`` from the next message on."""
    from kombu import pools

    from helpline.celery import app
    from outbox.services import outbox_publish_resume

    outbox_publish_resume()
    app.conf.broker_url = url
    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def test_broker() -> Iterator[str]:
    """Point this process's Celery publisher at the test broker, emptied first."""
    from helpline.celery import app

    purge_test_broker()
    previous = app.conf.broker_url
    point_publisher_at(TEST_BROKER_URL)
    yield TEST_BROKER_URL
    point_publisher_at(previous)


# The rows load_local_authorities put in empty tables, as COPY text by table: the first transactional test
# that needs them runs the command; the later ones (whose tables the flush emptied) copy the same rows back.
_AUTHORITY_ROWS: dict[str, bytes] = {}


def _authority_tables() -> list[str]:
    from directory.models import LocalAuthority, PostcodeArea, PostcodeException

    return [model._meta.db_table for model in (LocalAuthority, PostcodeArea, PostcodeException)]


@pytest.fixture
def authorities_committed(transactional_db: None) -> None:
    """Authority data for transactional tests (which flush the session-loaded copy when they end): what
    load_local_authorities loads into empty tables, copied back in one COPY a table after its first run."""
    tables = _authority_tables()
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(f"(SELECT 1 FROM {table} LIMIT 1)" for table in tables))  # noqa: S608
        empty = cursor.fetchone() is None
        if empty and _AUTHORITY_ROWS:
            for table in tables:
                with cursor.cursor.copy(f"COPY {table} FROM STDIN") as copy:
                    copy.write(_AUTHORITY_ROWS[table])
            return
    call_command("load_local_authorities", stdout=io.StringIO())
    if empty:
        with connection.cursor() as cursor:
            for table in tables:
                with cursor.cursor.copy(f"COPY {table} TO STDOUT") as copy:
                    _AUTHORITY_ROWS[table] = b"".join(bytes(block) for block in copy)


@pytest.fixture
def celery_worker(tmp_path: Path, test_broker: str, transactional_db: None) -> Iterator[Process]:
    worker = start_worker(tmp_path / "worker.log")
    yield worker
    worker.stop()


def gunicorn_ready(port: int) -> bool:
    """A worker has loaded Django and answers (the port is bound by the master before that)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            return sock.recv(12).startswith(b"HTTP/1.1 ")
    except OSError:
        return False


def start_gunicorn(log_path: Path, attempts: int = 3, **env: str) -> tuple[str, Process]:
    """gunicorn with one worker on a free loopback port, answering HTTP. A port found free can be taken by
    another process before gunicorn binds it: then gunicorn exits, and another port is tried."""
    for _ in range(attempts):
        port = free_port()
        server = start_process(
            [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--workers", "1", "helpline.wsgi:application"],
            log_path,
            **{**env, "PORT": str(port)},
        )
        try:
            wait_for(
                lambda port=port, server=server: gunicorn_ready(port) or server.popen.poll() is not None,
                timeout=60,
                what="gunicorn",
            )
        except AssertionError:
            server.stop()
            raise
        if server.popen.poll() is None:
            return f"http://127.0.0.1:{port}", server
        if "Address already in use" not in server.log():
            raise AssertionError(f"gunicorn exited:\n{server.log()}")
    raise AssertionError(f"gunicorn found no free port in {attempts} attempts")


@pytest.fixture
def gunicorn_server(tmp_path: Path, test_broker: str, transactional_db: None) -> Iterator[tuple[str, Process]]:
    base_url, server = start_gunicorn(tmp_path / "gunicorn.log")
    try:
        yield base_url, server
    finally:
        server.stop()


# --- nginx, the front door (deploy/nginx/) ------------------------------------------------------------------------

NGINX = Path("/usr/sbin/nginx")
PROXY = ROOT / "deploy" / "nginx" / "proxy.py"
ERROR_PAGES = ROOT / "deploy" / "nginx" / "error_pages.py"


def write_proxy_pages(directory: Path) -> Path:
    """The GOV.UK pages nginx answers with itself, rendered by deploy/nginx/error_pages.py with this process's
    settings (as `make run` renders them into var/nginx/pages)."""
    import runpy

    runpy.run_path(str(ERROR_PAGES))["write_pages"](directory)
    return directory


def child_pids(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def answers_http(port: int) -> bool:
    """Anything that answers HTTP on the port. The path is nginx's own (an internal location, so 404 at once),
    which never waits for what is behind it."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"GET /_proxy_errors/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            return sock.recv(12).startswith(b"HTTP/1.1 ")
    except OSError:
        return False


@dataclass
class FrontDoor:
    """nginx as deploy/nginx/proxy.py runs it: the launcher, its nginx master and workers, and its error log."""

    url: str
    port: int
    launcher: Process
    error_log: Path

    def master_pid(self) -> int:
        pids = child_pids(self.launcher.popen.pid)
        assert pids, "nginx is not running"
        return pids[0]

    def worker_pids(self) -> list[int]:
        return child_pids(self.master_pid())

    def runtime(self) -> Path:
        """The runtime folder: nginx's prefix, configuration, pid file and temporary folders."""
        # nginx rewrites its command line into its title: "nginx: master process /usr/sbin/nginx -p <folder>/ …".
        arguments = Path(f"/proc/{self.master_pid()}/cmdline").read_bytes().replace(b"\0", b" ").split()
        return Path(arguments[arguments.index(b"-p") + 1].decode())

    def logs(self) -> str:
        """Everything nginx and its launcher wrote."""
        error_log = self.error_log.read_text(errors="replace") if self.error_log.exists() else ""
        return self.launcher.log() + error_log

    def stop(self) -> None:
        self.launcher.stop()


def start_nginx(directory: Path, upstream: str, pages: Path, attempts: int = 3, **options: str) -> FrontDoor:
    """nginx started the way `make run` starts it (deploy/nginx/proxy.py run) on a free loopback port, in front of
    `upstream` (host:port). `options` are proxy.py's settings: client_body_timeout="2s" is --client-body-timeout 2s.
    Its error log is a file in `directory`, so a test can read everything it wrote."""
    for _ in range(attempts):
        port = free_port()
        error_log = directory / f"nginx-{port}.error.log"
        args = [
            sys.executable,
            str(PROXY),
            "run",
            "--listen",
            f"127.0.0.1:{port}",
            "--upstream",
            upstream,
            "--pages",
            str(pages),
            "--static",
            str(settings.STATIC_ROOT),
            "--error-log",
            str(error_log),
        ]
        for name, value in options.items():
            args += [f"--{name.replace('_', '-')}", value]
        door = FrontDoor(
            f"http://127.0.0.1:{port}", port, start_process(args, directory / f"nginx-{port}.log"), error_log
        )
        try:
            wait_for(
                lambda port=port, door=door: answers_http(port) or door.launcher.popen.poll() is not None,
                timeout=30,
                what="nginx",
            )
        except AssertionError:
            door.stop()
            raise
        if door.launcher.popen.poll() is None:
            return door
        if "Address already in use" not in door.logs():
            raise AssertionError(f"nginx exited:\n{door.logs()}")
    raise AssertionError(f"nginx found no free port in {attempts} attempts")


def start_front_door(
    directory: Path, pages: Path, gunicorn_env: dict[str, str] | None = None, **nginx_options: str
) -> tuple[FrontDoor, Process]:
    """gunicorn behind nginx, as `make run` has them: gunicorn on a loopback port of its own, taking the client's
    address from X-Real-IP (which nginx sets and no client can)."""
    base_url, server = start_gunicorn(
        directory / "gunicorn.log", **{"CLIENT_ADDRESS_HEADER": "HTTP_X_REAL_IP", **(gunicorn_env or {})}
    )
    try:
        return start_nginx(directory, base_url.removeprefix("http://"), pages, **nginx_options), server
    except BaseException:
        server.stop()
        raise


@pytest.fixture(scope="session")
def proxy_pages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not NGINX.exists():
        pytest.fail(f"{NGINX} is missing: `make /usr/sbin/nginx` installs Debian's nginx (make test does)")
    return write_proxy_pages(tmp_path_factory.mktemp("proxy") / "pages")


@pytest.fixture
def front_door(
    tmp_path: Path, proxy_pages: Path, test_broker: str, transactional_db: None
) -> Iterator[tuple[FrontDoor, Process]]:
    """nginx in front of gunicorn (one worker), with nginx's default settings."""
    nginx, server = start_front_door(tmp_path, proxy_pages)
    try:
        yield nginx, server
    finally:
        nginx.stop()
        server.stop()
