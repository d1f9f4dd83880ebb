"""Triage list page benchmark: `.venv/bin/python bench/list_page.py [--cases N]` from the project root.

Measures the helpline's case list (/staff/cases) and home page (/staff/, the queue overview) with a
large case load, through gunicorn, as a signed-in helpline supervisor:

  1. its own database, helpline_bench_list, created and migrated if missing, and seeded with
     `manage.py seed_cases` up to N cases (default 1,000,000) when it holds fewer, then vacuumed.
     Seeding a million takes about three minutes the first time on the shared 2-core machine (166 s
     at 6,000 cases/s, a whole first run 5.5 minutes); later runs reuse the rows and take 2-3 minutes,
     most of it in the variants that are slow today;
  2. gunicorn with 2 workers (the project's gunicorn.conf.py), started like bench/run.py's;
  3. a real sign-in: password, then the authenticator code (a fresh TOTP device each run);
  4. each page variant (default list, page 50, page sizes, every filter, searches, sorts, the
     overview) requested REQUESTS times in a row after WARMUP requests: p50/p95 against 150 ms.

Only 127.0.0.1 is used. There are no assertions on time: the machine is shared and noisy, so PASS/MISS
only says how this run compared with the target. Each page's case rows are counted by parsing its table
(bench/pages.py), and a variant that should list cases but shows none, or a page without the case table,
stops the run with an error (exit status 1): a page that lists nothing is fast for the wrong reason.
`--explain` also prints EXPLAIN (ANALYZE, BUFFERS) of the list query of every variant. The floor (a bare
Django POST that validates three fields and inserts one row, as in `make bench`) is measured first in the
same run, and each p50 is also given as a ratio to it. Figures are written to bench/results/list_page.json
(list_page-<N>.json for other sizes, list_page-only.json with --only). Other options: --database (another
scratch database, e.g. helpline_seed; BENCH_LIST_DATABASE sets the default), --app and --pythonpath (serve
a wrapper WSGI module, e.g. one that patches a selector, to try a change). The broker is Redis database
14 (BENCH_REDIS_URL).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
if __name__ == "__main__":
    # As in bench/run.py: run as a script, sys.path[0] is bench/; put the project root there instead.
    sys.path[0] = str(ROOT)

import psycopg  # noqa: E402

from bench import load, pages, procs, staff  # noqa: E402
from bench.staff import Browser  # noqa: E402

DB_NAME = os.environ.get("BENCH_LIST_DATABASE") or "helpline_bench_list"  # --database changes it
DATABASE_URL = procs.database_url(DB_NAME)
RESULTS = ROOT / "bench" / "results" / "list_page.json"

DEFAULT_CASES = 1_000_000
WEB_WORKERS = 2
REQUESTS = 30
WARMUP = 3
TARGET_P95_MS = 150.0
USERNAME = "bench-list"
PASSWORD = "bench-list-password-not-secret"  # noqa: S105 - a bench-only user in a bench-only database

started_at = time.monotonic()


def say(message: str) -> None:
    print(f"[{time.monotonic() - started_at:6.1f}s] {message}", flush=True)


class Stopped(Exception):
    """SIGTERM: unwind through the finally blocks that stop gunicorn."""


def _stop(signum: int, frame: FrameType | None) -> None:
    raise Stopped(f"stopped by signal {signum}")


# --- the database ---------------------------------------------------------------------------------------


def use_database(name: str) -> None:
    global DB_NAME, DATABASE_URL
    if name == procs.DB_NAME:
        raise SystemExit(f"refusing {name}: bench/run.py empties that database on every run")
    DB_NAME, DATABASE_URL = procs.own_database(name), procs.database_url(name)


def env(**extra: str) -> dict[str, str]:
    """procs.bench_env, pointed at this benchmark's own database."""
    return procs.bench_env(DATABASE_URL=DATABASE_URL, **extra)


def connect() -> psycopg.Connection[tuple[Any, ...]]:
    return procs.connect(DB_NAME)


def database_prepare(cases: int) -> dict[str, Any]:
    """Create and migrate helpline_bench_list if needed; seed it up to ``cases``. Never truncates."""
    return procs.seeded_database(DB_NAME, cases, say)


# --- Django in this process: the bench user and the variants' values ------------------------------------


def django_setup() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "helpline.settings"
    os.environ["DATABASE_URL"] = DATABASE_URL
    os.environ["CELERY_BROKER_URL"] = procs.BROKER_URL
    os.environ["REDIS_URL"] = procs.BROKER_URL
    import django

    django.setup()


def bench_user() -> bytes:
    """A helpline supervisor with a password and a brand-new confirmed authenticator; its key."""
    from accounts.models import User

    return staff.staff_account(USERNAME, User.Role.SUPERVISOR, password=PASSWORD)


@dataclass(frozen=True)
class Variant:
    name: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    extra: bool = False  # beyond the variants the target was set for
    rows_expected: bool = True  # a list that must show cases (False: it may be empty)

    @property
    def url(self) -> str:
        return f"{self.path}?{urlencode(self.params)}" if self.params else self.path


def variants() -> list[Variant]:
    """Every page measured, with real values from the database for the authority and the searches."""
    from django.db.models import Count

    from triage.models import Case

    busiest = (
        Case.objects.exclude(status=Case.Status.CLOSED)
        .exclude(authority=None)
        .values("authority__gss_code")
        .annotate(open=Count("id"))
        .order_by("-open")
        .first()
    )
    gss = busiest["authority__gss_code"] if busiest else "E08000018"
    sample = Case.objects.order_by("id").values("case_number", "report__reference")
    total = Case.objects.count()
    middle = sample[total // 2] if total else {"case_number": "2025-AAAAAA", "report__reference": "AAAA-AAAA"}
    # Page 50 lists cases only when there are more open cases than 49 pages hold (at 5,000 cases, some 500
    # are open: page 50 is rightly empty then, and still measured).
    open_cases = Case.objects.exclude(status=Case.Status.CLOSED).count()
    cases = "/staff/cases"
    return [
        Variant("default: open, by deadline (p1, 50)", cases),
        Variant("page 50", cases, {"page": "50"}, rows_expected=open_cases > 49 * 50),
        Variant("page_size 25", cases, {"page_size": "25"}),
        Variant("page_size 100", cases, {"page_size": "100"}),
        Variant(
            "page 50, page_size 100", cases, {"page": "50", "page_size": "100"}, rows_expected=open_cases > 49 * 100
        ),
        Variant("queue=national", cases, {"queue": "national"}),
        Variant("queue=urgent", cases, {"queue": "urgent"}),
        Variant("status=in_triage", cases, {"status": "in_triage"}),
        Variant("priority=urgent", cases, {"priority": "urgent"}),
        Variant(f"authority={gss} (busiest)", cases, {"authority": gss}),
        Variant("authority=unknown", cases, {"authority": "unknown"}),
        Variant("assignee=none", cases, {"assignee": "none"}),
        Variant("overdue=on", cases, {"overdue": "on"}),
        Variant("search: reference", cases, {"search": middle["report__reference"]}),
        Variant("search: case number", cases, {"search": middle["case_number"]}),
        Variant("home: queue overview", "/staff/"),
        Variant("status=closed", cases, {"status": "closed"}, extra=True),
        Variant("status=referred", cases, {"status": "referred"}, extra=True),
        Variant("sort=-deadline", cases, {"sort": "-deadline"}, extra=True),
        Variant("sort=newest", cases, {"sort": "newest"}, extra=True),
        Variant("sort=oldest", cases, {"sort": "oldest"}, extra=True),
        Variant(
            "queue=urgent, status=new, page 2",
            cases,
            {"queue": "urgent", "status": "new", "page": "2"},
            extra=True,
            rows_expected=False,  # new urgent cases are few: the second page may be empty
        ),
    ]


def explain(variant: Variant) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the variant's list query, run in this process."""
    from django.db import connection
    from django.http import QueryDict
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from triage import selectors
    from triage.forms import case_filter_form

    call: Callable[[], object]
    if variant.path != "/staff/cases":
        call = lambda: selectors.queue_overview(user=User.objects.get(username=USERNAME))  # noqa: E731
    else:
        filters = case_filter_form(QueryDict(urlencode(variant.params))).filters()
        user = User.objects.get(username=USERNAME)
        call = lambda: selectors.case_list(user=user, filters=filters)  # noqa: E731
    with CaptureQueriesContext(connection) as captured:
        call()
    sql = captured.captured_queries[0]["sql"]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


# --- HTTP ---------------------------------------------------------------------------------------------


def case_rows(variant: Variant, body: bytes) -> int:
    """The cases a list page shows (-1 for pages that are not the case list); pages.PageError when it
    has no case table, or no case where ``variant`` expects some."""
    if variant.path != "/staff/cases":
        return -1
    try:
        return pages.linked_rows(body, "case-table", "/staff/cases/", expected=variant.rows_expected)
    except pages.PageError as error:
        raise type(error)(f"{variant.name} ({variant.url}): {error}") from None


def measure(browser: Browser, variant: Variant) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    rows = -1
    for n in range(WARMUP + REQUESTS):
        began = time.perf_counter()
        status, body, _ = browser.request("GET", variant.url)
        elapsed = time.perf_counter() - began
        statuses[status] = statuses.get(status, 0) + 1
        if n >= WARMUP and status == 200:
            latencies.append(elapsed)
        if n == 0 or status == 200:
            rows = case_rows(variant, body) if status == 200 else rows
    p50 = statistics.median(latencies) * 1000 if latencies else float("nan")
    p95 = load.percentile(latencies, 95) * 1000 if latencies else float("nan")
    return {
        "variant": variant.name,
        "url": variant.url,
        "extra": variant.extra,
        "requests": REQUESTS,
        "ok": len(latencies),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "rows": rows,
        "p50_ms": round(p50, 1),
        "p95_ms": round(p95, 1),
        "max_ms": round(max(latencies) * 1000, 1) if latencies else None,
        "pass": p95 < TARGET_P95_MS and len(latencies) == REQUESTS,
    }


FLOOR_REQUESTS = 100


def floor(port: int) -> float:
    """p50 of the floor (a bare Django POST that validates three fields and inserts one row, as in `make
    bench`), in ms: what any request costs on this machine right now, to compare the pages with."""
    result = load.run_load(port, "/bench/floor", load.floor_body, clients=1, total=FLOOR_REQUESTS)
    latencies = result.latencies()
    if len(latencies) != FLOOR_REQUESTS:
        raise pages.PageError(f"the floor answered {dict(result.statuses())}")
    return round(statistics.median(latencies) * 1000, 1)


def print_table(results: list[dict[str, Any]], floor_p50: float) -> None:
    header = ("variant", "rows", "p50 ms", "p95 ms", "max ms", "p50 / floor", f"p95 < {TARGET_P95_MS:.0f}")
    lines = [
        (
            r["variant"] + (" [extra]" if r["extra"] else ""),
            "" if r["rows"] < 0 else str(r["rows"]),
            f"{r['p50_ms']:.1f}",
            f"{r['p95_ms']:.1f}",
            f"{r['max_ms']:.1f}" if r["max_ms"] is not None else "-",
            str(r["p50_over_floor"]),
            ("PASS" if r["pass"] else "MISS") + ("" if r["ok"] == r["requests"] else f" ({r['statuses']})"),
        )
        for r in results
    ]
    lines.insert(0, ("floor POST (bare Django view, one insert)", "", f"{floor_p50:.1f}", "", "", "1", ""))
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
    print()
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip())
    print("  ".join("-" * w for w in widths))
    for line in lines:
        print("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
    print()


@contextmanager
def gunicorn(log_dir: Path, app: str, pythonpath: str) -> Iterator[int]:
    """The portal (bench.wsgi: the floor mounted) under the project's gunicorn.conf.py, on the list database."""
    port = procs.free_port()
    extra = ["--pythonpath", pythonpath] if pythonpath else []
    server = procs.start(
        "gunicorn",
        [str(procs.BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--chdir", str(ROOT), *extra, app],
        log_dir,
        PORT=str(port),
        BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY=str(WEB_WORKERS),
        DJANGO_SETTINGS_MODULE="bench.settings",
        DATABASE_URL=DATABASE_URL,
        GUNICORN_LOG_LEVEL="warning",
    )
    try:
        procs.wait_for(lambda: procs.port_open(port) or not server.alive(), timeout=30, what="gunicorn to listen")
        if not server.alive():
            raise RuntimeError(f"gunicorn exited:\n{server.log_tail()}")
        procs.wait_for(
            lambda: len(procs.children(server.popen.pid)) >= WEB_WORKERS, timeout=30, what="gunicorn workers"
        )
        yield port
    finally:
        say("stopping gunicorn")
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=DEFAULT_CASES, help="cases in the database (1,000,000)")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of every variant's query")
    parser.add_argument("--only", default="", help="measure only variants whose name contains this text")
    parser.add_argument("--keep-logs", action="store_true", help="keep gunicorn's log after a good run")
    parser.add_argument("--database", default=DB_NAME, help=f"database to use, created if missing ({DB_NAME})")
    parser.add_argument(
        "--app",
        default="bench.wsgi:application",
        help="WSGI app for gunicorn, e.g. a wrapper that patches a selector to try a change (bench.wsgi: the "
        "portal with the floor mounted)",
    )
    parser.add_argument("--pythonpath", default="", help="extra import path for --app")
    args = parser.parse_args()
    use_database(args.database)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _stop)
    log_dir = Path(tempfile.mkdtemp(prefix="helpline-bench-list-"))
    succeeded = False
    try:
        say(f"preparing {DB_NAME} for {args.cases:,} cases (logs in {log_dir})")
        seeding = database_prepare(args.cases)
        django_setup()
        key = bench_user()
        chosen = [v for v in variants() if args.only in v.name]
        if args.explain:
            for variant in chosen:
                print(f"\n=== {variant.name}: {variant.url}\n{explain(variant)}")
        with closing(connect()) as conn:
            conn.execute(procs.CREATE_FLOOR_TABLE)
            conn.execute("TRUNCATE bench_floor")
            total = int(conn.execute("SELECT count(*) FROM triage_case").fetchone()[0])  # type: ignore[index]
            open_cases = int(
                conn.execute("SELECT count(*) FROM triage_case WHERE status <> 'closed'").fetchone()[0]  # type: ignore[index]
            )
        load_start = os.getloadavg()[0]
        with gunicorn(log_dir, args.app, args.pythonpath) as port:
            say(f"gunicorn on 127.0.0.1:{port}, {WEB_WORKERS} workers; {total:,} cases, {open_cases:,} open")
            floor_p50 = floor(port)
            say(f"floor: p50 {floor_p50} ms")
            browser = Browser(port)
            browser.sign_in(USERNAME, key, landing="/staff/cases", password=PASSWORD)
            say(f"signed in as {USERNAME}; {WARMUP} warm-up + {REQUESTS} requests per variant, one at a time")
            results = []
            for variant in chosen:
                results.append(measure(browser, variant))
                r = results[-1]
                r["p50_over_floor"] = round(r["p50_ms"] / floor_p50, 1) if floor_p50 else None
                say(f"{variant.name}: p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms, rows {r['rows']}")
        print_table(results, floor_p50)
        load_end = os.getloadavg()[0]
        print(f"machine load (1-min average) {load_start:.2f} at the start, {load_end:.2f} at the end")
        report = {
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "database": DB_NAME,
            "cases": total,
            "open_cases": open_cases,
            "seeding": seeding,
            "web_workers": WEB_WORKERS,
            "app": args.app,
            "target_p95_ms": TARGET_P95_MS,
            "loadavg_1min": [round(load_start, 2), round(load_end, 2)],
            "floor_p50_ms": floor_p50,
            "results": results,
        }
        results_path = RESULTS if args.cases == DEFAULT_CASES else RESULTS.with_name(f"list_page-{args.cases}.json")
        results_path = results_path.with_name("list_page-only.json") if args.only else results_path
        results_path.parent.mkdir(parents=True, exist_ok=True)
        results_path.write_text(json.dumps(report, indent=2) + "\n")
        say(f"wrote {results_path.relative_to(ROOT)}")
        succeeded = True
        return 0
    except pages.PageError as error:
        say(f"FAILED: {error}")
        return 1
    except (Stopped, KeyboardInterrupt) as stop:
        say(f"interrupted: {str(stop) or 'Ctrl-C'}")
        return 130
    finally:
        if succeeded and not args.keep_logs:
            shutil.rmtree(log_dir, ignore_errors=True)
        else:
            say(f"logs in {log_dir}")


if __name__ == "__main__":
    sys.exit(main())
