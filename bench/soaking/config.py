"""What the soak runs on and where it writes: its own database and broker, the servers' settings."""

from __future__ import annotations

import os
import signal
import time
from types import FrameType

from bench import procs
from bench.procs import ROOT

# Dropped and created on every run: its own (SOAK_DATABASE names another of ours), never the portal's.
DB_NAME = procs.own_database(os.environ.get("SOAK_DATABASE") or "helpline_soak")
PG_HOST = procs.PG_HOST
OWNER_URL = procs.database_url(DB_NAME)
RUNTIME_ROLE = os.environ.get("DATABASE_RUNTIME_ROLE") or "helpline_app"
RUNTIME_URL = procs.database_url(DB_NAME, user=RUNTIME_ROLE)
BROKER_URL = os.environ.get("SOAK_REDIS_URL") or "redis://127.0.0.1:6379/12"  # flushed on every run
OUT_DIR = ROOT / "var" / "soak"
LOG_DIR = OUT_DIR / "logs"
SUMMARY = OUT_DIR / "summary.md"
RESULTS = OUT_DIR / "results.json"
# The audit trail's signed checkpoints (AUDIT_CHECKPOINT_PATH): they belong to one incarnation of the
# database, so each run, which creates the database afresh, starts them afresh.
CHECKPOINTS = OUT_DIR / "audit-checkpoints.jsonl"

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
SERVER_LIMITS = procs.SERVER_LIMITS

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
            "AUDIT_CHECKPOINT_PATH": str(CHECKPOINTS),
            **SERVER_LIMITS,
        }
    )
    env.update(extra)
    return env
