"""The soak's database and the processes `make run` starts: gunicorn, a Celery worker, beat; their logs."""

from __future__ import annotations

import http.client
import os
import re
import subprocess
from contextlib import closing
from typing import Any

import psycopg
import redis

from bench import procs
from bench.procs import ROOT
from bench.soaking import config
from bench.soaking.config import (
    BROKER_URL,
    CELERY_CONCURRENCY,
    DB_NAME,
    LOG_DIR,
    OUT_DIR,
    OWNER_URL,
    PG_HOST,
    RUNTIME_ROLE,
    WEB_WORKERS,
    soak_env,
)


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


def checkpoints_forget() -> None:
    """Start the audit checkpoints afresh with the database: the last run's were signed for the trail of a
    database that no longer exists, and the checkpoint task rightly refuses to extend them (an error in
    the worker's log every 5 minutes, which made a second `make soak` fail)."""
    config.CHECKPOINTS.unlink(missing_ok=True)


def database_prepare(cases: int) -> None:
    """Drop and create helpline_soak, migrate it, load the authorities, the demo staff and cases, and
    ``cases`` seeded cases. The runtime role is created when missing, as `make` does; the audit
    checkpoints start afresh with it."""
    checkpoints_forget()
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
