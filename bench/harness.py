"""What the benchmarks run as scripts share (bench/lifecycle.py, bench/oversight_stats.py): the progress line,
stopping on a signal, Django on a database of their own, the table of figures and the run itself, from the
signal handlers to the results file and the exit status.

A run is ``harness.run(work, results=..., cleanup=...)``: ``work`` does the measuring and returns the report,
which is written to the results file with the time it finished. Exit status 0; 1 when a check failed (a
``Failed``: a phase or page that did not do its work, whose timing would mean nothing); 130 when stopped by
SIGTERM or Ctrl-C, after the finally blocks have stopped the servers and dropped the scratch databases.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from bench import procs

ROOT = Path(__file__).resolve().parent.parent

started_at = time.monotonic()


def say(message: str) -> None:
    """A progress line, with the seconds since the run started."""
    print(f"[{time.monotonic() - started_at:6.1f}s] {message}", flush=True)


class Stopped(Exception):
    """SIGTERM: unwind through the finally blocks (that stop servers and drop scratch databases)."""


class Failed(Exception):
    """What was timed did not do its work: its timing would mean nothing, and the run stops."""


def _stop(signum: int, frame: FrameType | None) -> None:
    raise Stopped(f"stopped by signal {signum}")


def own_database(name: str) -> str:
    """``name``, unless it is not the bench's to fill (procs.own_database) or is bench/run.py's, which that
    empties on every run (then the run stops)."""
    database = procs.own_database(name)
    if database == procs.DB_NAME:
        raise SystemExit(f"refusing {database}: bench/run.py empties that database on every run")
    return database


def django_setup(database: str) -> None:
    """Django in this process, on ``database`` and the bench's broker."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "helpline.settings"
    os.environ["DATABASE_URL"] = procs.database_url(database)
    os.environ["CELERY_BROKER_URL"] = procs.BROKER_URL
    os.environ["REDIS_URL"] = procs.BROKER_URL
    import django

    django.setup()


def results_path(default: Path, cases: int, default_cases: int) -> Path:
    """Where a run's figures go: ``default`` for the default size, ``<name>-<cases>.json`` beside it else."""
    return default if cases == default_cases else default.with_name(f"{default.stem}-{cases}.json")


def load_now() -> float:
    """The machine's load (1-minute average)."""
    return os.getloadavg()[0]


def load_reported(cases: int, load_start: float) -> list[float]:
    """Print the cases and the machine's load at the start and now; both, rounded, for the report."""
    load_end = load_now()
    print(f"{cases:,} cases; machine load (1-min average) {load_start:.2f} at the start, {load_end:.2f} at the end")
    return [round(load_start, 2), round(load_end, 2)]


def print_table(lines: list[tuple[str, ...]]) -> None:
    """Columns aligned; the first line is the header, underlined."""
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    print()
    for n, line in enumerate(lines):
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())
        if n == 0:
            print("  ".join("-" * width for width in widths))
    print()


def run(
    work: Callable[[], dict[str, Any]],
    *,
    results: Path,
    cleanup: Callable[[bool], None],
    failures: tuple[type[Exception], ...] = (),
) -> int:
    """Run ``work`` with SIGTERM stopping it through its finally blocks, write the report it returns to
    ``results`` (with the time it finished), and say how it ended. ``failures`` are more exceptions that
    mean a check failed; ``cleanup`` runs last, told whether the run succeeded. Returns the exit status."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _stop)
    failed: tuple[type[Exception], ...] = (Failed, *failures)
    succeeded = False
    try:
        report = work()
        results.parent.mkdir(parents=True, exist_ok=True)
        finished = {"finished_at": datetime.now(UTC).isoformat(timespec="seconds"), **report}
        results.write_text(json.dumps(finished, indent=2) + "\n")
        say(f"wrote {results.relative_to(ROOT) if results.is_relative_to(ROOT) else results}")
        succeeded = True
        return 0
    except failed as failure:
        say(f"FAILED: {failure}")
        return 1
    except (Stopped, KeyboardInterrupt) as stop:
        say(f"interrupted: {str(stop) or 'Ctrl-C'}")
        return 130
    finally:
        cleanup(succeeded)
