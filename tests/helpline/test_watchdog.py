"""make run's process manager restarts a worker whose heartbeat has gone stale."""

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.live import ROOT, process_env, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

CONFIG = """
[supervisord]
nodaemon=true
logfile={tmp}/supervisord.log
pidfile={tmp}/supervisord.pid
directory={root}

[unix_http_server]
file={tmp}/supervisor.sock

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://{tmp}/supervisor.sock

[program:worker]
command=sleep 1000
[program:beat]
command=sleep 1000
[program:watchdog]
command={python} manage.py worker_watchdog --interval 0.5 --supervisor-config {tmp}/supervisord.conf
redirect_stderr=true
stdout_logfile={tmp}/watchdog.log
"""


def worker_pid(ctl: list[str]) -> str:
    out = subprocess.run([*ctl, "pid", "worker"], capture_output=True, text=True, check=False).stdout.strip()
    return out if out.isdigit() and out != "0" else ""


def test_a_worker_that_never_beats_is_restarted_by_the_watchdog(tmp_path: Path) -> None:
    config = tmp_path / "supervisord.conf"
    config.write_text(CONFIG.format(tmp=tmp_path, root=ROOT, python=sys.executable))
    bin_dir = Path(sys.executable).parent
    env = process_env(WORKER_STALE_SECONDS="2")
    supervisord = subprocess.Popen([str(bin_dir / "supervisord"), "-c", str(config)], env=env, cwd=ROOT)  # noqa: S603
    ctl = [str(bin_dir / "supervisorctl"), "-c", str(config)]
    try:
        wait_for(lambda: bool(worker_pid(ctl)), timeout=30, what="the hung worker")
        first = worker_pid(ctl)
        wait_for(lambda: worker_pid(ctl) not in {"", first}, timeout=30, what="a restarted worker")
        assert "heartbeat stale" in (tmp_path / "watchdog.log").read_text()
    finally:
        subprocess.run([*ctl, "shutdown"], capture_output=True, check=False)
        supervisord.wait(timeout=30)
        time.sleep(0.1)
