"""Statistics and pattern alerts at scale: `.venv/bin/python bench/oversight_stats.py [--cases N]`.

  1. its own database, seeded up to N cases (`manage.py seed_cases`; default 1,000,000) and reused by later
     runs, as bench/list_page.py does: for a million, the triage list benchmark's helpline_bench_list
     (BENCH_LIST_DATABASE); for any other N, helpline_bench_stats_<N>; --database (or BENCH_STATS_DATABASE)
     names another. Then what the workers do every 5 minutes (oversight.tasks.refresh_statistics), each
     step timed: refresh the summary views; work out every year's statistics on offer for national
     oversight and each region's board and store them, first from nothing (everything stored emptied),
     then as a later refresh whose figures did not move; work out and store the pattern alerts;
  2. in this process, with nothing remembered in it (the suppression's in-process cache emptied before each
     run, as in a web worker that has not served the page yet): the figures of the statistics page for
     national oversight and for a board, this year, a quarter and each earlier year on offer, and the
     pattern alerts: median and max of COLD_RUNS;
  3. through gunicorn (2 workers; bench.wsgi, the portal with the floor mounted), signed in for real as
     national oversight and as a board reviewer: the floor (a bare Django POST that validates three fields
     and inserts one row, as in `make bench`), then each page REQUESTS times after the first: national
     statistics, its CSV, a quarter, last year; the board's statistics and CSV; the pattern alerts and the
     first alert's page. The first request of each page (nothing remembered yet in the worker that answers
     it), p50, p95 and p50 / floor p50.

Target: every statistics page, its CSV and the alerts under 500 ms (p50 through gunicorn). There are no
assertions on time: the machine is shared and noisy, so PASS/MISS only says how this run compared with the
target. A page answering anything but 200 (or a CSV without its tables) stops the run with exit status 1.
Figures go to bench/results/oversight_stats.json (oversight_stats-<N>.json for other sizes). Only 127.0.0.1;
the broker is Redis database 14 (BENCH_REDIS_URL). Runs again at once: nothing it does is refused twice.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if __name__ == "__main__":
    # As in bench/run.py: run as a script, sys.path[0] is bench/; put the project root there instead.
    sys.path[0] = str(ROOT)

from bench import harness, load, procs, staff  # noqa: E402
from bench.harness import say  # noqa: E402

DEFAULT_CASES = 1_000_000
WEB_WORKERS = 2
REQUESTS = 15  # per page, after the first
COLD_RUNS = 3
FLOOR_REQUESTS = 100
TARGET_MS = 500.0
ANALYST = "bench-analyst"
BOARD = "bench-board"
BOARD_AREA = "Yorkshire and The Humber"
RESULTS = ROOT / "bench" / "results" / "oversight_stats.json"


class PageFailed(harness.Failed):
    """A page answered what it should not: its timing would mean nothing."""


def default_database(cases: int) -> str:
    chosen = os.environ.get("BENCH_STATS_DATABASE")
    if chosen:
        return chosen
    if cases == DEFAULT_CASES:
        return os.environ.get("BENCH_LIST_DATABASE") or "helpline_bench_list"
    return f"helpline_bench_stats_{cases}"


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


# --- in this process: what the workers do after each refresh, then the figures ---------------------------


def worker_refresh() -> dict[str, Any]:
    """The workers' refresh (oversight.tasks.refresh_statistics), step by step and timed: the summary views;
    every year's statistics for national oversight and each region's board, worked out and stored from
    nothing (everything stored emptied first: the first refresh, or a rule change); a later refresh whose
    figures did not move (the views again, then the statistics, with what the suppression hides read from
    what was stored); the pattern alerts."""
    from oversight import detection, selectors, suppression
    from oversight.models import StoredStatistics, StoredSuppression

    began = time.perf_counter()
    selectors.stats_refresh()
    views_s = time.perf_counter() - began
    StoredStatistics.objects.all().delete()
    StoredSuppression.objects.all().delete()
    suppression.forget()
    began = time.perf_counter()
    prepared = selectors.statistics_prepare()
    prepare_cold_s = time.perf_counter() - began
    suppression.forget()
    began = time.perf_counter()
    selectors.stats_refresh()
    selectors.statistics_prepare()
    refresh_again_s = time.perf_counter() - began
    began = time.perf_counter()
    alerts = len(detection.detect().findings)
    alerts_s = time.perf_counter() - began
    return {
        "views_s": round(views_s, 1),
        "prepared": prepared,
        "prepare_cold_s": round(prepare_cold_s, 1),
        "refresh_again_s": round(refresh_again_s, 1),
        "alerts": alerts,
        "alerts_s": round(alerts_s, 2),
    }


def cold(action: Callable[[], object], runs: int = COLD_RUNS) -> dict[str, float]:
    """A page's figures in a process that has worked nothing out itself (as a web worker after a refresh:
    the tables are read from what the workers stored)."""
    from oversight import suppression

    times = []
    for _ in range(runs):
        suppression.forget()
        began = time.perf_counter()
        action()
        times.append(time.perf_counter() - began)
    return {"median_ms": ms(statistics.median(times)), "max_ms": ms(max(times))}


def in_process(users: dict[str, Any]) -> list[dict[str, Any]]:
    from django.utils import timezone

    from oversight import alerts, selectors, views
    from oversight.periods import Period, periods_allowed

    today = timezone.localdate()
    offered = periods_allowed(first_month=selectors.first_month(), today=today)
    quarter = next(p for p in offered if p.quarter is not None)
    chosen = [Period(today.year), quarter, *(p for p in offered if p.quarter is None and p.year < today.year)]
    results = []

    def page_of(user: Any, period: Period) -> Callable[[], object]:
        return lambda: views.statistics_context(user, period)

    for who, user in users.items():
        for period in chosen:
            figures = cold(page_of(user, period))
            results.append({"what": f"{who} statistics, {period.slug}", **figures})
            say(f"cold, in process: {who} statistics {period.slug}: median {figures['median_ms']} ms")
    figures = cold(lambda: list(alerts.alerts_listed()))
    results.append({"what": "pattern alerts", **figures})
    say(f"cold, in process: pattern alerts: median {figures['median_ms']} ms")
    return results


# --- through gunicorn -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    name: str
    url: str
    who: str  # "national" or "board"
    csv: bool = False
    target: bool = True  # one of the pages the 500 ms target is for


def pages_to_measure(first_alert: str | None) -> list[Page]:
    from django.utils import timezone

    from oversight import selectors
    from oversight.periods import periods_allowed

    today = timezone.localdate()
    offered = periods_allowed(first_month=selectors.first_month(), today=today)
    quarter = next(p for p in offered if p.quarter is not None)
    earlier = [p for p in offered if p.quarter is None and p.year < today.year]
    measured = [
        Page("national statistics (this year)", "/staff/statistics", "national"),
        Page("national statistics CSV", "/staff/statistics.csv", "national", csv=True),
        Page(f"national statistics, {quarter.slug}", f"/staff/statistics?period={quarter.slug}", "national"),
    ]
    if earlier:
        last = earlier[0].slug
        measured.append(Page(f"national statistics, {last}", f"/staff/statistics?period={last}", "national"))
        measured.append(
            Page(f"national statistics CSV, {last}", f"/staff/statistics.csv?period={last}", "national", csv=True)
        )
    measured += [
        Page("board statistics (this year)", "/staff/statistics", "board"),
        Page("board statistics CSV", "/staff/statistics.csv", "board", csv=True),
        Page("pattern alerts", "/staff/patterns", "national"),
    ]
    if first_alert:
        measured.append(Page("a pattern alert's metadata", f"/staff/patterns/{first_alert}", "national", target=False))
    return measured


def checked(page: Page, status: int, body: bytes) -> None:
    if status != 200:
        raise PageFailed(f"{page.name} ({page.url}) answered {status}")
    lines = body.count(b"\n")
    if page.csv and lines < 10:
        raise PageFailed(f"{page.name} ({page.url}) is a CSV of {lines} lines: where are the tables?")


def measure(browser: staff.Browser, page: Page, floor_p50: float) -> dict[str, Any]:
    times = []
    first = 0.0
    for n in range(1 + REQUESTS):
        began = time.perf_counter()
        status, body, _ = browser.request("GET", page.url)
        elapsed = time.perf_counter() - began
        checked(page, status, body)
        times.append(elapsed)
        if n == 0:
            first = elapsed
    warm = times[1:]
    p50 = statistics.median(warm)
    p95 = load.percentile(sorted(warm), 95)
    return {
        "page": page.name,
        "url": page.url,
        "target": page.target,
        "first_ms": ms(first),
        "p50_ms": ms(p50),
        "p95_ms": ms(p95),
        "max_ms": ms(max(warm)),
        "p50_over_floor": round(p50 / floor_p50, 1) if floor_p50 else None,
        "pass": p50 * 1000 < TARGET_MS,
    }


def floor(port: int) -> dict[str, Any]:
    result = load.run_load(port, "/bench/floor", load.floor_body, clients=1, total=FLOOR_REQUESTS)
    latencies = result.latencies()
    if len(latencies) != FLOOR_REQUESTS:
        raise PageFailed(f"the floor answered {dict(result.statuses())}")
    return {"requests": FLOOR_REQUESTS, "p50_ms": ms(statistics.median(latencies))}


@contextmanager
def gunicorn(log_dir: Path, database: str) -> Iterator[int]:
    port = procs.free_port()
    server = procs.gunicorn_start(
        log_dir, port=port, workers=WEB_WORKERS, DATABASE_URL=procs.database_url(database), GUNICORN_LOG_LEVEL="warning"
    )
    try:
        yield port
    finally:
        say("stopping gunicorn")
        server.stop()


def page_table(rows: list[dict[str, Any]], floor_p50: float) -> list[tuple[str, ...]]:
    header = ("page", "first ms", "p50 ms", "p95 ms", "p50 / floor", f"p50 < {TARGET_MS:.0f}")
    lines = [
        (
            r["page"],
            f"{r['first_ms']:.0f}",
            f"{r['p50_ms']:.0f}",
            f"{r['p95_ms']:.0f}",
            f"{r['p50_over_floor']}",
            ("PASS" if r["pass"] else "MISS") if r["target"] else "",
        )
        for r in rows
    ]
    return [header, ("floor POST (bare Django view, one insert)", "", f"{floor_p50:.1f}", "", "1", ""), *lines]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=DEFAULT_CASES, help="cases in the database (1,000,000)")
    parser.add_argument("--database", default="", help="its own database, created and seeded if need be")
    parser.add_argument("--keep-logs", action="store_true", help="keep gunicorn's log after a good run")
    args = parser.parse_args()
    database = harness.own_database(args.database or default_database(args.cases))
    log_dir = Path(tempfile.mkdtemp(prefix="helpline-bench-stats-"))

    def work() -> dict[str, Any]:
        say(f"preparing {database} for {args.cases:,} cases (logs in {log_dir})")
        seeding = procs.seeded_database(database, args.cases, say)
        with closing(procs.connect(database)) as conn:
            conn.execute(procs.CREATE_FLOOR_TABLE)
            conn.execute("TRUNCATE bench_floor")
            found = conn.execute("SELECT count(*) FROM triage_case").fetchone()
        total = int(found[0]) if found else 0
        harness.django_setup(database)
        from accounts.models import User
        from oversight.alerts import alerts_listed

        worker = worker_refresh()
        refresh_s = worker["views_s"]
        say(
            f"{total:,} cases; as the workers do every 5 minutes: summary views refreshed in {refresh_s} s, "
            f"{worker['prepared']} years and scopes worked out and stored from nothing in "
            f"{worker['prepare_cold_s']} s; a refresh with the figures unchanged (views and statistics) "
            f"{worker['refresh_again_s']} s; {worker['alerts']} alerts worked out in {worker['alerts_s']} s"
        )
        keys = {
            "national": staff.staff_account(ANALYST, User.Role.OVERSIGHT_ANALYST),
            "board": staff.staff_account(BOARD, User.Role.PARTNERSHIP, partnership_region=BOARD_AREA),
        }
        users = {
            "national": User.objects.get(username=ANALYST),
            "board": User.objects.get(username=BOARD),
        }
        load_start = harness.load_now()
        cold_figures = in_process(users)
        stored_alerts = list(alerts_listed())
        with gunicorn(log_dir, database) as port:
            say(f"gunicorn on 127.0.0.1:{port}, {WEB_WORKERS} workers (bench.wsgi)")
            floor_figures = floor(port)
            say(f"floor: p50 {floor_figures['p50_ms']} ms")
            browsers = {who: staff.Browser(port) for who in keys}
            for who, browser in browsers.items():
                browser.sign_in(ANALYST if who == "national" else BOARD, keys[who], landing="/staff/statistics")
            results = []
            for page in pages_to_measure(str(stored_alerts[0].pk) if stored_alerts else None):
                results.append(measure(browsers[page.who], page, floor_figures["p50_ms"] / 1000))
                r = results[-1]
                say(f"{page.name}: first {r['first_ms']} ms, p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms")
        harness.print_table(page_table(results, floor_figures["p50_ms"]))
        return {
            "database": database,
            "cases": total,
            "seeding": seeding,
            "refresh_s": refresh_s,
            "worker_refresh": worker,
            "web_workers": WEB_WORKERS,
            "target_ms": TARGET_MS,
            "loadavg_1min": harness.load_reported(total, load_start),
            "cold_in_process": cold_figures,
            "floor": floor_figures,
            "pages": results,
            "alerts": len(stored_alerts),
        }

    def cleanup(succeeded: bool) -> None:
        if succeeded and not args.keep_logs:
            shutil.rmtree(log_dir, ignore_errors=True)
        else:
            say(f"logs in {log_dir}")

    return harness.run(
        work,
        results=harness.results_path(RESULTS, args.cases, DEFAULT_CASES),
        cleanup=cleanup,
        failures=(http.client.HTTPException,),
    )


if __name__ == "__main__":
    sys.exit(main())
