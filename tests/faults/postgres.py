"""A throwaway PostgreSQL cluster a test may stop and start: never the machine's shared one on 5432.

``initdb`` into a fresh temporary directory, listening on a free loopback port only, with its socket in
that directory and trust authentication. ``initdb`` and ``pg_ctl`` refuse to run as root, so as root they
run as the ``postgres`` user (``runuser``), which owns the directory.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from tests.live import free_port

OWNER = "postgres"


def postgres_bin() -> Path | None:
    """The newest installed server's bin directory (Debian's /usr/lib/postgresql/<version>/bin), or the
    one ``initdb`` is found in on the PATH."""
    versions = [path for path in Path("/usr/lib/postgresql").glob("*/bin") if (path / "initdb").is_file()]
    if versions:
        return max(versions, key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0)
    found = shutil.which("initdb")
    return Path(found).parent if found else None


@dataclass
class Cluster:
    bin: Path
    base: Path
    port: int = 0
    # (event, monotonic time) for each stop and start, for the test's figures.
    events: list[tuple[str, float]] = field(default_factory=list)

    @property
    def data(self) -> Path:
        return self.base / "data"

    @property
    def log_path(self) -> Path:
        return self.base / "postgres.log"

    def url(self, user: str = OWNER, database: str = "postgres") -> str:
        return f"postgres://{user}@127.0.0.1:{self.port}/{database}"

    def run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """A server program as the cluster's owner (``runuser`` when this process is root)."""
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", OWNER, "--", *command]
        return subprocess.run(command, cwd=self.base, capture_output=True, text=True, timeout=timeout, check=False)

    def ctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run("pg_ctl", "-D", str(self.data), "-l", str(self.log_path), "-w", "-t", "30", *args)

    def start(self) -> None:
        done = self.ctl("start")
        if done.returncode != 0:
            raise AssertionError(f"pg_ctl start failed:\n{done.stdout}{done.stderr}\n{self.log()}")
        self.events.append(("started", time.monotonic()))

    def stop(self, mode: str = "fast") -> None:
        self.events.append(("stopping", time.monotonic()))
        done = self.ctl("stop", "-m", mode)
        if done.returncode != 0:
            raise AssertionError(f"pg_ctl stop failed:\n{done.stdout}{done.stderr}\n{self.log()}")
        self.events.append(("stopped", time.monotonic()))

    def running(self) -> bool:
        return self.ctl("status").returncode == 0

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def execute(self, *statements: str, database: str = "postgres") -> None:
        with psycopg.connect(self.url(database=database), autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement.encode())

    def remove(self) -> None:
        """Stop the server if it runs (immediately: nothing in it is worth a checkpoint) and delete it all."""
        if self.data.exists() and self.running():
            self.ctl("stop", "-m", "immediate")
        shutil.rmtree(self.base, ignore_errors=True)


def _configure(cluster: Cluster) -> None:
    # Appended, so that on a retry the last port written wins.
    with (cluster.data / "postgresql.conf").open("a") as conf:
        conf.write(
            f"\nlisten_addresses = '127.0.0.1'\nport = {cluster.port}\n"
            f"unix_socket_directories = '{cluster.base}'\nmax_connections = 40\n"
        )


def create_cluster(attempts: int = 3) -> Cluster:
    """A running cluster, initialised in a new temporary directory. A port found free can be taken before
    the server binds it: then another is tried. Call ``remove()`` when done, whatever happened."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        raise RuntimeError("initdb is not installed")
    base = Path(tempfile.mkdtemp(prefix="helpline-faults-pg-"))
    cluster = Cluster(bin=bin_dir, base=base)
    try:
        if os.geteuid() == 0:
            owner = pwd.getpwnam(OWNER)
            os.chown(base, owner.pw_uid, owner.pw_gid)
        done = cluster.run(
            "initdb", "-D", str(cluster.data), "-U", OWNER, "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"
        )
        if done.returncode != 0:
            raise AssertionError(f"initdb failed:\n{done.stdout}{done.stderr}")
        for _ in range(attempts):
            cluster.port = free_port()
            _configure(cluster)
            done = cluster.ctl("start")
            if done.returncode == 0:
                cluster.events.append(("started", time.monotonic()))
                return cluster
            if "Address already in use" not in cluster.log():
                raise AssertionError(f"pg_ctl start failed:\n{done.stdout}{done.stderr}\n{cluster.log()}")
        raise AssertionError(f"the throwaway cluster found no free port in {attempts} attempts")
    except BaseException:
        with contextlib.suppress(Exception):
            cluster.remove()
        raise
