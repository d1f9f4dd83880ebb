"""Audit chain lock benchmark: `.venv/bin/python bench/audit_lock.py` from the project root.

Every audit event is chained to the one before it under one lock (audit/trail.py), so writers queue on it.
This measures how much, on its own database (helpline_bench_audit, created, migrated and seeded with a few
cases if missing; BENCH_AUDIT_DATABASE or --database names another of ours):

  1. events a second with 1, 2 and 8 concurrent writers (separate processes, one connection each), for two
     shapes of transaction: "bare", an event alone in its transaction (as a case view records one), and
     "work after", an event followed by WORK_MS of the rest of its transaction (as routing, an action or a
     bulk action record one and then go on working). The rest is a pg_sleep, so it costs no CPU: what is
     measured is the queue on the lock, not the machine's two cores;
  2. the case page (/staff/cases/<number>) through gunicorn, VIEWERS signed-in clients viewing cases at once,
     alone and beside 2 "work after" writers: p50 and p95.

Only 127.0.0.1 is used. There are no assertions on time: the machine is shared and noisy. Figures are
written to bench/results/audit_lock.json. The broker is Redis database 14 (BENCH_REDIS_URL).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if __name__ == "__main__":
    # As in bench/run.py: run as a script, sys.path[0] is bench/; put the project root there instead.
    sys.path[0] = str(ROOT)

from bench import procs, staff  # noqa: E402
from bench.harness import django_setup  # noqa: E402

DB_NAME = procs.own_database(os.environ.get("BENCH_AUDIT_DATABASE") or "helpline_bench_audit")
RESULTS = ROOT / "bench" / "results" / "audit_lock.json"
CASES = 20
WRITERS = (1, 2, 8)
WORK_MS = 5
SECONDS = 5.0
VIEWERS = 4
WEB_WORKERS = 4
VIEWS_PER_CLIENT = 40
USERNAME = "bench-audit"


def say(message: str) -> None:
    print(f"[audit-lock {datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


# --- writers -------------------------------------------------------------------------------------------


def _writer(database: str, work_ms: int, seconds: float, start: Any, counts: Any) -> None:
    """One writer process: transactions of one event each (then ``work_ms`` of other work) until time is up."""
    django_setup(database)
    from django.db import connection, transaction

    from audit.trail import event_record

    written = 0
    start.wait()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with transaction.atomic():
            event_record(kind="bench_event", detail={"n": written})
            if work_ms:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_sleep(%s)", [work_ms / 1000])
        written += 1
    counts.put(written)


@contextmanager
def writers(database: str, count: int, work_ms: int, seconds: float) -> Iterator[Any]:
    """``count`` writer processes started together; yields the queue their counts arrive on."""
    context = multiprocessing.get_context("spawn")
    start, counts = context.Event(), context.Queue()
    children = [context.Process(target=_writer, args=(database, work_ms, seconds, start, counts)) for _ in range(count)]
    for child in children:
        child.start()
    time.sleep(3)  # each sets Django up before the start
    start.set()
    try:
        yield counts
    finally:
        for child in children:
            child.join(timeout=seconds + 60)


def events_per_second(database: str, count: int, work_ms: int, seconds: float) -> float:
    with writers(database, count, work_ms, seconds) as counts:
        total = sum(int(counts.get(timeout=seconds + 60)) for _ in range(count))
    return round(float(total) / seconds, 1)


# --- the case page -------------------------------------------------------------------------------------


def case_numbers(database: str) -> list[str]:
    with closing(procs.connect(database)) as conn:
        rows = conn.execute("SELECT case_number FROM triage_case ORDER BY id LIMIT %s", [CASES]).fetchall()
    return [str(row[0]) for row in rows]


def view_cases(port: int, cookies: dict[str, str], numbers: list[str], offset: int, timings: list[float]) -> None:
    browser = staff.Browser(port)
    browser.cookies = dict(cookies)
    for n in range(VIEWS_PER_CLIENT):
        url = f"/staff/cases/{numbers[(offset + n) % len(numbers)]}"
        began = time.perf_counter()
        status, _, _ = browser.request("GET", url)
        timings.append(time.perf_counter() - began)
        if status != 200:
            raise RuntimeError(f"{url} answered {status}")


def signed_in(port: int, key: bytes) -> dict[str, str]:
    """One sign-in whose session every viewer shares (an authenticator's code is accepted once a time step)."""
    browser = staff.Browser(port)
    browser.sign_in(USERNAME, key, landing="/staff/cases")
    return browser.cookies


def case_page(port: int, cookies: dict[str, str], numbers: list[str]) -> dict[str, float]:
    """VIEWERS clients at once, each viewing VIEWS_PER_CLIENT case pages: p50 and p95 in ms."""
    timings: list[float] = []
    threads = [
        threading.Thread(target=view_cases, args=(port, cookies, numbers, offset * 5, timings))
        for offset in range(VIEWERS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if len(timings) != VIEWERS * VIEWS_PER_CLIENT:
        raise RuntimeError("a viewer stopped early (see above)")
    ordered = sorted(timings)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 1),
        "views": len(ordered),
    }


@contextmanager
def gunicorn(database: str, log_dir: Path) -> Iterator[int]:
    port = procs.free_port()
    server = procs.gunicorn_start(
        log_dir, port=port, workers=WEB_WORKERS, DATABASE_URL=procs.database_url(database), GUNICORN_LOG_LEVEL="warning"
    )
    try:
        yield port
    finally:
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=DB_NAME, help=f"database to use, created if missing ({DB_NAME})")
    parser.add_argument("--seconds", type=float, default=SECONDS, help="how long each writer run lasts")
    parser.add_argument("--only-page", action="store_true", help="measure the case page only")
    parser.add_argument("--label", default="", help="a name for this run in the results (e.g. before, after)")
    args = parser.parse_args()
    database = procs.own_database(args.database)
    log_dir = Path(tempfile.mkdtemp(prefix="helpline-bench-audit-"))
    say(f"preparing {database} (logs in {log_dir})")
    procs.seeded_database(database, CASES, say)
    django_setup(database)
    key = staff.staff_account(USERNAME, "supervisor")
    results: dict[str, Any] = {"label": args.label, "database": database, "work_ms": WORK_MS, "events_per_s": {}}
    for shape, work_ms in () if args.only_page else (("bare", 0), ("work after", WORK_MS)):
        for count in WRITERS:
            rate = events_per_second(database, count, work_ms, args.seconds)
            results["events_per_s"][f"{shape}, {count} writer(s)"] = rate
            say(f"{shape}: {count} writer(s): {rate} events/s")
    numbers = case_numbers(database)
    with gunicorn(database, log_dir) as port:
        cookies = signed_in(port, key)
        case_page(port, cookies, numbers)  # warm-up: every worker's first requests
        results["case_page"] = alone = case_page(port, cookies, numbers)
        say(f"case page, {VIEWERS} viewers at once: p50 {alone['p50_ms']} ms, p95 {alone['p95_ms']} ms")
        with writers(database, 2, WORK_MS, 30.0) as counts:
            results["case_page_beside_writers"] = beside = case_page(port, cookies, numbers)
            say(f"... beside 2 'work after' writers: p50 {beside['p50_ms']} ms, p95 {beside['p95_ms']} ms")
            for _ in range(2):
                counts.get(timeout=120)
    results["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    results["loadavg_1min"] = round(os.getloadavg()[0], 2)
    path = RESULTS.with_name(f"audit_lock-{args.label}.json") if args.label else RESULTS
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    say(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
