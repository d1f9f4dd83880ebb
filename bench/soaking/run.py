"""Mixed soak: set-up, the virtual users for the minutes asked, the RSS each minute, the summary."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import signal
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import procs
from bench.procs import ROOT
from bench.soaking.config import (
    BROKER_URL,
    CELERY_CONCURRENCY,
    DB_NAME,
    DRAIN_SECONDS,
    LOG_DIR,
    OUT_DIR,
    RESULTS,
    SETTLE_SECONDS,
    SETUP_BUDGET,
    SUMMARY,
    TIMEOUT,
    WEB_WORKERS,
    Stopped,
    _stop_run,
    say,
)
from bench.soaking.memory import growth, sample
from bench.soaking.servers import (
    TASK_RECEIVED,
    TASK_SENT,
    backlog,
    beat_start,
    database_prepare,
    gunicorn_start,
    log_problems,
    task_counts,
    worker_start,
)
from bench.soaking.stats import Stats, page_rows
from bench.soaking.summary import markdown
from bench.soaking.users import ApiReporter, Board, Handler, Officer, Staff, VirtualUser, WebReporter
from bench.soaking.world import django_setup, make_accounts, make_world, seeded_referrals_complete, settle


def parse_users(text_: str) -> dict[str, int]:
    counts = {"reporter-web": 3, "reporter-api": 2, "handler": 3, "officer": 2, "board": 2}
    for part in filter(None, (p.strip() for p in text_.split(","))):
        name, _, number = part.partition("=")
        if name not in counts or not number.isdigit():
            raise SystemExit(f"--users: {part!r} is not one of {', '.join(counts)} = a number")
        counts[name] = int(number)
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--minutes",
        type=float,
        default=float(os.environ.get("SOAK_MINUTES") or 10),
        help="how long the load runs (SOAK_MINUTES, default 10)",
    )
    parser.add_argument("--cases", type=int, default=5_000, help="seeded cases before the run (5,000)")
    parser.add_argument(
        "--users",
        default="",
        help="virtual users per kind, e.g. 'reporter-web=3,reporter-api=2,handler=3,officer=2,board=2' (those "
        "are the defaults; board users alternate board reviewer and national oversight, handlers call handler "
        "and supervisor)",
    )
    parser.add_argument(
        "--seeded-referrals-as-is",
        action="store_true",
        help="no effect any more: seed_cases writes each seeded referral's row (kept so old command lines run)",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed of the virtual users (1)")
    args = parser.parse_args()
    users = parse_users(args.users)
    duration = args.minutes * 60
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _stop_run)
    signal.signal(signal.SIGALRM, _stop_run)
    signal.alarm(int(duration) + SETUP_BUDGET)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    for old in LOG_DIR.glob("*.log"):
        old.unlink()
    command = " ".join(shlex.quote(a) for a in [Path(sys.executable).name, "bench/soak.py", *sys.argv[1:]])
    if "SOAK_MINUTES" in os.environ and "--minutes" not in sys.argv:
        command = f"SOAK_MINUTES={os.environ['SOAK_MINUTES']} {command}"
        if os.environ.get("MAKELEVEL"):  # started by `make soak`
            command = f"make soak SOAK_MINUTES={os.environ['SOAK_MINUTES']}"
    running: list[procs.Process] = []
    stop = threading.Event()
    threads: list[threading.Thread] = []
    try:
        say(f"preparing {DB_NAME}: migrate, authorities, demo data, {args.cases:,} seeded cases")
        database_prepare(args.cases)
        port = procs.free_port()
        django_setup()
        world = make_world(port)
        staff_spec = {kind: users[kind] for kind in ("handler", "officer", "board")}
        accounts = make_accounts(staff_spec, world.officer_codes, world.board_area)
        completed = 0 if args.seeded_referrals_as_is else seeded_referrals_complete(world.officer_codes)
        say(
            f"officers' authorities {', '.join(world.officer_codes)} ({completed:,} seeded referrals completed); "
            f"board region {world.board_area}"
        )

        web = gunicorn_start(port)
        running.append(web)
        worker = worker_start()
        running.append(worker)
        beat = beat_start()
        running.append(beat)
        say(f"gunicorn on 127.0.0.1:{port} ({WEB_WORKERS} workers), celery worker and beat on {BROKER_URL}")
        settled = settle(SETTLE_SECONDS)
        if settled["pending"]:
            raise RuntimeError(f"the outbox did not drain before the load: {settled}")

        stats = Stats()
        vus: list[VirtualUser] = []
        seed = args.seed * 1000
        for n in range(users["reporter-web"]):
            vus.append(WebReporter(f"reporter-web-{n + 1}", world, stats, stop, seed := seed + 1))
        for n in range(users["reporter-api"]):
            vus.append(ApiReporter(f"reporter-api-{n + 1}", world, stats, stop, seed := seed + 1))
        classes: dict[str, Callable[..., Staff]] = {"handler": Handler, "officer": Officer, "board": Board}
        for kind, made in accounts.items():
            for account in made:
                vus.append(classes[kind](account.username, world, stats, stop, seed := seed + 1, account=account))
        users_text = ", ".join(f"{count} {kind}" for kind, count in users.items() if count)
        say(f"{len(vus)} virtual users ({users_text}) for {args.minutes:g} min")

        load_start = os.getloadavg()[0]
        rows = [sample(0, web, worker, beat, stats)]
        stats.began = time.monotonic()
        threads = [threading.Thread(target=vu.run, name=vu.name, daemon=True) for vu in vus]
        for thread in threads:
            thread.start()
        end = stats.began + duration
        minute = 0
        while True:
            next_sample = stats.began + (minute + 1) * 60
            if next_sample > end + 1:
                break
            time.sleep(max(0.0, next_sample - time.monotonic()))
            minute += 1
            row = sample(minute, web, worker, beat, stats)
            rows.append(row)
            say(
                f"minute {minute}: gunicorn {row.web_mib:.1f} MiB, worker {row.worker_mib:.1f} MiB, beat "
                f"{row.beat_mib:.1f} MiB, load {row.loadavg:.2f}; {row.requests:,} requests, {row.errors} errors"
            )
            for process in (web, worker, beat):
                if not process.alive():
                    raise RuntimeError(f"{process.name} exited:\n{process.log_tail()}")
        time.sleep(max(0.0, end - time.monotonic()))
        stop.set()
        for thread in threads:
            thread.join(timeout=TIMEOUT + 5)
        elapsed = time.monotonic() - stats.began
        if rows[-1].minute * 60 < elapsed - 30:  # a run that is not a whole number of minutes: its end
            rows.append(sample(round(elapsed / 60), web, worker, beat, stats))
        load_end = os.getloadavg()[0]
        say("load stopped; waiting for the workers to drain the outbox")
        drain_began = time.monotonic()
        with contextlib.suppress(TimeoutError):
            procs.wait_for(
                lambda: backlog()["outbox_pending"] == 0, timeout=DRAIN_SECONDS, what="the outbox", interval=1
            )
        drained = time.monotonic() - drain_began
        after = backlog()
        problems = [f"{p.name}: {line}" for p in (web, worker, beat) for line in log_problems(p)]
        received, sent = task_counts(worker, TASK_RECEIVED), task_counts(beat, TASK_SENT)

        requests, errors = stats.totals()
        web_pids = {pid for row in rows for pid in row.web_workers}
        worker_pids = {pid for row in rows for pid in row.worker_children}
        report: dict[str, Any] = {
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": command,
            "minutes": args.minutes,
            "seconds": round(elapsed, 1),
            "users": users,
            "users_text": users_text,
            "seeded_cases": args.cases,
            "seeded_referrals_completed": completed,
            "settle": settled,
            "cpu_count": os.cpu_count(),
            "loadavg_start": round(load_start, 2),
            "loadavg_end": round(load_end, 2),
            "requests": requests,
            "requests_per_s": requests / elapsed if elapsed else 0.0,
            "errors": errors + len(problems),
            "http_errors": errors,
            "error_kinds": dict(stats.error_kinds),
            "counters": dict(stats.counters),
            "pages": page_rows(stats),
            "rss": [
                {
                    "minute": r.minute,
                    "web_mib": round(r.web_mib, 1),
                    "worker_mib": round(r.worker_mib, 1),
                    "beat_mib": round(r.beat_mib, 1),
                    "loadavg": round(r.loadavg, 2),
                    "requests": r.requests,
                    "errors": r.errors,
                    "web_workers": r.web_workers,
                    "worker_children": r.worker_children,
                }
                for r in rows
            ],
            "rss_growth": {"web": growth(rows, "web_mib"), "worker": growth(rows, "worker_mib")},
            "process_restarts": {
                "web": max(0, len(web_pids) - WEB_WORKERS),
                "worker": max(0, len(worker_pids) - CELERY_CONCURRENCY),
            },
            "drain_seconds": drained,
            "after": after,
            "worker_tasks_received": received,
            "beat_tasks_sent": sent,
            "error_records": [e.__dict__ for e in stats.error_records[:200]],
            "log_problems": problems[:200],
        }
        if problems:
            report["error_kinds"]["server log"] = len(problems)
        summary = markdown(report)
        SUMMARY.write_text(summary)
        RESULTS.write_text(json.dumps(report, indent=2) + "\n")
        print()
        print(summary)
        say(f"wrote {SUMMARY.relative_to(ROOT)} and {RESULTS.relative_to(ROOT)}; logs in {LOG_DIR.relative_to(ROOT)}")
        return 1 if report["errors"] else 0
    except (Stopped, KeyboardInterrupt) as stopped:
        say(f"interrupted: {str(stopped) or 'Ctrl-C'}")
        return 130
    finally:
        signal.alarm(0)
        stop.set()
        for process in reversed(running):
            say(f"stopping {process.name}")
            process.stop(timeout=20)
