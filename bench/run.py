"""Intake benchmark: `make bench`, or `.venv/bin/python bench/run.py` from the project root.

One run, two to four minutes (stopped at 8 at most), only on 127.0.0.1, against its own database (helpline_bench,
or BENCH_DATABASE) and broker (Redis database 14, or BENCH_REDIS_URL), never the development data. The servers
run with the per-client limits raised and the run starts from empty counters (bench/procs.py), so it can be run
again at once:

  1. one access-code key derivation, in this process (Argon2id with the configured parameters), timed
     before and again after the HTTP phases;
  2. the floor: a bare Django view that validates three fields and inserts one row (bench/floor.py),
     served by the same gunicorn as the portal, at concurrency 2;
  3. POST /api/v1/reports at concurrency 2, compared with floor + one derivation;
  4. POST /api/v1/reports at concurrency 16 for 20 s: throughput, errors, peak RSS of gunicorn;
  5. submit -> case routing latency through one Celery worker, on the bench's own clock: from the moment the
     201 is read to the moment the case's transaction commits (bench/routing.py). The database keeps both
     times to the day only, so it cannot tell;
  6. a flood: 300 reports at once from 16 clients, routed by one worker while they arrive: the same latency's
     p50 / p95, whether every case was queued, and when the last was routed (after the first submission
     was sent, and after the last was answered).

Figures are printed as a table and written to bench/results/latest.json. There are no assertions: the
machine is shared and noisy, so PASS/MISS only says how this run compared with the targets.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if __name__ == "__main__":
    # Run as a script, sys.path[0] is bench/ itself: put the project root there instead, so that
    # `bench.*`, `helpline.*` etc. import as packages and bench's modules never shadow anything.
    sys.path[0] = str(ROOT)

from bench import load, procs, routing  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "latest.json"
TIME_LIMIT_SECONDS = 480  # the whole run stops itself after this, cleaning up

WEB_WORKERS = 2
DERIVATIONS = 15  # per batch: one before the HTTP phases, one after
PARALLEL_PER_THREAD = 8
FLOOR_REQUESTS = 400
INTAKE_REQUESTS = 200
THROUGHPUT_CLIENTS = 16
THROUGHPUT_SECONDS = 20.0
ROUTING_REPORTS = 100
ROUTING_RATE = 10.0  # submissions per second, at most (one client, sequential)
ROUTING_WAIT_SECONDS = 60.0
FLOOD_REPORTS = 300  # a bad day: this many reports at once, from THROUGHPUT_CLIENTS clients as fast as they can
FLOOD_WAIT_SECONDS = 120.0

INTAKE_TARGET = 1.5  # intake p50 within 1.5 x (floor p50 + one derivation)
THROUGHPUT_TARGET = 0.7  # intake throughput >= 0.7 x cores / derivation time
ROUTING_TARGET_P95 = 0.5  # seconds
MIB = 1024 * 1024

started_at = time.monotonic()


def say(message: str) -> None:
    print(f"[{time.monotonic() - started_at:6.1f}s] {message}", flush=True)


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


class Stopped(Exception):
    """SIGTERM or the run's own time limit: unwind through the finally blocks that stop the children."""


def _stop_run(signum: int, frame: FrameType | None) -> None:
    if signum == signal.SIGALRM:
        raise Stopped(f"the benchmark took longer than {TIME_LIMIT_SECONDS}s")
    raise Stopped(f"stopped by signal {signum}")


@contextmanager
def running(process: procs.Process) -> Iterator[procs.Process]:
    try:
        yield process
    finally:
        say(f"stopping {process.name}")
        process.stop()


def django_setup() -> None:
    """Django in this process, for reports.crypto only, pointed at the bench database and broker."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "helpline.settings"
    os.environ["DATABASE_URL"] = procs.DATABASE_URL
    os.environ["CELERY_BROKER_URL"] = procs.BROKER_URL
    os.environ["REDIS_URL"] = procs.BROKER_URL
    import django

    django.setup()


def places() -> load.Places:
    with closing(procs.connect()) as conn:
        codes = [row[0] for row in conn.execute("SELECT gss_code FROM triage_localauthority ORDER BY gss_code")]
        sectors = [
            row[0]
            for row in conn.execute(
                "SELECT code FROM triage_postcodearea WHERE level = 'sector' AND authority_code LIKE %s "
                "AND jsonb_array_length(candidates) = 1 ORDER BY md5(code) LIMIT 500",
                ["E%"],
            )
        ]
    if not codes:
        raise RuntimeError("helpline_bench has no local authorities: did load_local_authorities run?")
    return load.Places(authority_codes=codes, sectors=sectors)


# --- phases ---------------------------------------------------------------------------------------------


def derivation_times(runs: int) -> list[float]:
    """Seconds taken by ``runs`` access-code key derivations with the configured parameters."""
    from core import crypto

    params = crypto.KdfParams.current()
    code = crypto.generate_access_code()
    salt = os.urandom(crypto.SALT_BYTES)
    crypto.derive_access_key(code, salt, params)  # first touch of the pages and of libsodium
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        crypto.derive_access_key(code, salt, params)
        times.append(time.perf_counter() - began)
    say(
        f"derivation: median {ms(statistics.median(times))} ms over {runs} (min {ms(min(times))}, max {ms(max(times))})"
    )
    return times


def parallel_derivations(threads: int, per_thread: int) -> dict[str, Any]:
    """``threads`` derivations at a time, as the web workers run them under load (libsodium releases
    the GIL). On a shared machine two parallel Argon2 runs rarely take the time of one: this measures
    what the KDF alone can do here, to tell the portal's own overhead apart from the machine's."""
    import nacl.pwhash

    from core import crypto

    params = crypto.KdfParams.current()

    def one(_: int) -> float:
        began = time.perf_counter()
        nacl.pwhash.argon2id.kdf(
            crypto.KEY_BYTES,
            b"bench",
            os.urandom(crypto.SALT_BYTES),
            opslimit=params.opslimit,
            memlimit=params.memlimit,
        )
        return time.perf_counter() - began

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, range(threads)))  # warm-up
        began = time.perf_counter()
        times = list(pool.map(one, range(threads * per_thread)))
        elapsed = time.perf_counter() - began
    figures = {
        "threads": threads,
        "runs": len(times),
        "median_ms": ms(statistics.median(times)),
        "per_s": round(len(times) / elapsed, 2),
    }
    say(f"derivation x{threads} in parallel: median {figures['median_ms']} ms each, {figures['per_s']}/s")
    return figures


def derivation_figures(batches: dict[str, list[float]]) -> dict[str, Any]:
    """One batch before the HTTP phases and one after them: the machine is shared, and its load drifts
    during a run, so the ratios use the median of both batches, which bracket what they are compared to."""
    from django.conf import settings

    from core import crypto

    params = crypto.KdfParams.current()
    pooled = [t for times in batches.values() for t in times]
    return {
        "runs": len(pooled),
        "opslimit": params.opslimit,
        "memlimit_mib": params.memlimit / MIB,
        "kdf_concurrency": settings.ACCESS_CODE_KDF_CONCURRENCY,
        "median_ms": ms(statistics.median(pooled)),
        "batch_median_ms": {name: ms(statistics.median(times)) for name, times in batches.items()},
        "min_ms": ms(min(pooled)),
        "max_ms": ms(max(pooled)),
    }


def check_routes(port: int, where: load.Places) -> None:
    """The floor answers (so gunicorn loaded bench.wsgi, not gunicorn.conf.py's wsgi_app) and so does
    the intake API; then a few requests of each warm both workers up."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    floor = load.post(conn, "/bench/floor", load.floor_body(0))
    if floor.status != 201:
        raise RuntimeError(f"POST /bench/floor answered {floor.status}: is gunicorn serving bench.wsgi? {floor.body!r}")
    intake = load.post(conn, "/api/v1/reports", load.intake_body(0, where))
    if intake.status != 201:
        raise RuntimeError(f"POST /api/v1/reports answered {intake.status}: {intake.body[:500]!r}")
    conn.close()
    load.run_load(port, "/bench/floor", load.floor_body, clients=2, total=40, first_seed=10**6)
    load.run_load(port, "/api/v1/reports", lambda s: load.intake_body(s, where), clients=2, total=8, first_seed=10**6)


def latency_figures(result: load.LoadResult) -> dict[str, Any]:
    latencies = result.latencies()
    return {
        "requests": len(result.samples),
        "ok": len(latencies),
        "errors": result.errors(),
        "statuses": {str(k): v for k, v in sorted(result.statuses().items())},
        "p50_ms": ms(statistics.median(latencies)) if latencies else None,
        "p99_ms": ms(load.percentile(latencies, 99)) if latencies else None,
    }


def measure_floor(port: int) -> dict[str, Any]:
    result = load.run_load(port, "/bench/floor", load.floor_body, clients=2, total=FLOOR_REQUESTS)
    figures = latency_figures(result)
    say(f"floor c=2: p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms, errors {figures['errors']}")
    return figures


def measure_intake(port: int, where: load.Places) -> dict[str, Any]:
    result = load.run_load(
        port, "/api/v1/reports", lambda seed: load.intake_body(seed, where), clients=2, total=INTAKE_REQUESTS
    )
    figures = latency_figures(result)
    say(f"intake c=2: p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms, errors {figures['errors']}")
    return figures


def measure_throughput(port: int, master_pid: int, where: load.Places) -> dict[str, Any]:
    time.sleep(1)  # let the workers settle before the idle sample
    baseline = procs.tree_rss(master_pid)
    with procs.RssSampler(master_pid) as sampler:
        result = load.run_load(
            port,
            "/api/v1/reports",
            lambda seed: load.intake_body(seed, where),
            clients=THROUGHPUT_CLIENTS,
            duration=THROUGHPUT_SECONDS,
            first_seed=10**5,
        )
    latencies = result.latencies()
    figures: dict[str, Any] = {
        "clients": THROUGHPUT_CLIENTS,
        "seconds": round(result.elapsed, 2),
        "requests": len(result.samples),
        "ok": len(latencies),
        "errors": result.errors(),
        "statuses": {str(k): v for k, v in sorted(result.statuses().items())},
        "requests_per_s": round(result.throughput(), 2),
        "p50_ms": ms(statistics.median(latencies)) if latencies else None,
        "p99_ms": ms(load.percentile(latencies, 99)) if latencies else None,
        "baseline_rss_mib": round(baseline / MIB, 1),
        "peak_rss_mib": round(sampler.peak / MIB, 1),
        "rss_samples": sampler.samples,
    }
    say(
        f"intake c={THROUGHPUT_CLIENTS}: {figures['requests_per_s']} req/s over {figures['seconds']} s, "
        f"errors {figures['errors']}, peak RSS {figures['peak_rss_mib']} MiB (idle {figures['baseline_rss_mib']})"
    )
    return figures


def submit_paced(
    port: int, where: load.Places, watch: routing.CaseWatch, *, count: int, first_seed: int
) -> tuple[list[str], int]:
    """``count`` sequential submissions, at most ROUTING_RATE a second, each noted on the watch's clock as
    soon as its answer is read; their references and errors."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    references: list[str] = []
    errors = 0
    began = time.perf_counter()
    for n in range(count):
        pause = began + n / ROUTING_RATE - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        sample = load.post(conn, "/api/v1/reports", load.intake_body(first_seed + n, where))
        answered = watch.clock()
        if sample.status == 201:
            reference = json.loads(sample.body)["reference"]
            watch.answered(reference, at=answered)
            references.append(reference)
        else:
            errors += 1
    conn.close()
    return references, errors


def warm_up(port: int, where: load.Places, watch: routing.CaseWatch, worker: procs.Process, *, first_seed: int) -> None:
    """Three reports, routed, before a phase is measured (the worker's first tasks import and connect)."""
    warm, _ = submit_paced(port, where, watch, count=3, first_seed=first_seed)
    try:
        procs.wait_for(lambda: watch.routed(warm) == len(warm), timeout=30, what="warm-up cases", interval=0.1)
    except TimeoutError as error:
        # Usually a task failing (the worker's log says why), e.g. a migration newer than the run's.
        raise RuntimeError(f"{error}; the worker's log ends:\n{worker.log_tail(15)}") from None


def wait_routed(watch: routing.CaseWatch, references: list[str], *, timeout: float, phase: str) -> None:
    """Until every one of ``references`` has a case, or ``timeout``: then the figures count those routed."""
    try:
        procs.wait_for(
            lambda: watch.routed(references) == len(references),
            timeout=timeout,
            what="every report to have a case",
            interval=0.1,
        )
    except TimeoutError as error:
        say(f"{phase}: {error}; counting the reports routed so far")


def measure_routing(port: int, where: load.Places, log_dir: Path) -> dict[str, Any]:
    # Reports from the intake phases are still queued (no worker ran): drop them and their rows, so the
    # worker starts with an empty queue. The rows' outbox entries go with them; no beat runs to sweep.
    procs.reports_reset()
    with running(procs.worker_start(log_dir)) as worker, routing.CaseWatch(procs.connect) as watch:
        say("celery worker ready")
        warm_up(port, where, watch, worker, first_seed=2 * 10**5)
        references, errors = submit_paced(port, where, watch, count=ROUTING_REPORTS, first_seed=3 * 10**5)
        submitted = time.monotonic()
        wait_routed(watch, references, timeout=ROUTING_WAIT_SECONDS, phase="routing")
        drained = time.monotonic() - submitted
        latencies = watch.latencies(references)
        if not worker.alive():
            raise RuntimeError(f"celery worker died:\n{worker.log_tail()}")
    figures: dict[str, Any] = {
        "reports": ROUTING_REPORTS,
        "submitted": len(references),
        "submit_errors": errors,
        "routed": len(latencies),
        "clock": "bench: 201 read -> case committed (LISTEN/NOTIFY)",
        "drain_after_last_submit_s": round(drained, 2),
        **routing.summary_ms(latencies),
    }
    say(
        f"routing: {len(latencies)}/{len(references)} routed, p50 {figures['p50_ms']} ms, "
        f"p95 {figures['p95_ms']} ms, max {figures['max_ms']} ms"
    )
    return figures


def submit_flood(
    port: int, where: load.Places, watch: routing.CaseWatch, *, count: int, first_seed: int
) -> tuple[list[str], int]:
    """``count`` submissions from THROUGHPUT_CLIENTS clients at once, each as soon as the client's last was
    answered, each noted on the watch's clock when its answer is read; their references and errors."""
    seeds = iter(range(first_seed, first_seed + count))
    lock = threading.Lock()
    references: list[str] = []
    errors = 0

    def client() -> None:
        nonlocal errors
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            while True:
                with lock:
                    seed = next(seeds, None)
                if seed is None:
                    return
                sample = load.post(conn, "/api/v1/reports", load.intake_body(seed, where))
                answered = watch.clock()
                with lock:
                    if sample.status == 201:
                        reference = json.loads(sample.body)["reference"]
                        watch.answered(reference, at=answered)
                        references.append(reference)
                    else:
                        errors += 1
        finally:
            conn.close()

    with ThreadPoolExecutor(THROUGHPUT_CLIENTS) as pool:
        for future in [pool.submit(client) for _ in range(THROUGHPUT_CLIENTS)]:
            future.result()
    return references, errors


def measure_flood(port: int, where: load.Places, log_dir: Path) -> dict[str, Any]:
    """Issue 28's bad day: FLOOD_REPORTS at once while one worker routes them."""
    procs.reports_reset()
    with running(procs.worker_start(log_dir)) as worker, routing.CaseWatch(procs.connect) as watch:
        warm_up(port, where, watch, worker, first_seed=4 * 10**5)
        began = watch.clock()
        references, errors = submit_flood(port, where, watch, count=FLOOD_REPORTS, first_seed=5 * 10**5)
        last_answered = watch.clock()
        wait_routed(watch, references, timeout=FLOOD_WAIT_SECONDS, phase="flood")
        latencies = watch.latencies(references)
        last_routed = watch.last_routed(references)
        if not worker.alive():
            raise RuntimeError(f"celery worker died:\n{worker.log_tail()}")
    last_routed = float("nan") if last_routed is None else last_routed
    figures: dict[str, Any] = {
        "reports": FLOOD_REPORTS,
        "clients": THROUGHPUT_CLIENTS,
        "submitted": len(references),
        "submit_errors": errors,
        "routed": len(latencies),
        "all_queued": len(latencies) == FLOOD_REPORTS and errors == 0,
        "submitting_s": round(last_answered - began, 2),
        "last_routed_after_first_sent_s": round(last_routed - began, 2),
        "last_routed_after_last_answered_s": round(last_routed - last_answered, 2),
        **routing.summary_ms(latencies),
    }
    say(
        f"flood: {len(latencies)}/{FLOOD_REPORTS} routed, p50 {figures['p50_ms']} ms, p95 {figures['p95_ms']} ms, "
        f"last routed {figures['last_routed_after_first_sent_s']} s after the first was sent "
        f"({figures['last_routed_after_last_answered_s']} s after the last was answered)"
    )
    return figures


# --- summary --------------------------------------------------------------------------------------------


def summarise(figures: dict[str, dict[str, Any]]) -> list[dict[str, str]]:
    """Add the target comparisons to ``figures``; return the rows of the summary table."""
    derivation, floor, intake = figures["derivation"], figures["floor"], figures["intake"]
    burst, routing, machine = figures["throughput"], figures["routing"], figures["machine"]
    flood = figures["flood"]
    parallel = figures["derivation_parallel"]
    cores = os.cpu_count() or 1
    nan = float("nan")

    def seconds(value: float | None) -> float:
        return nan if value is None else value / 1000

    derivation_s = seconds(derivation["median_ms"])
    intake_ratio = seconds(intake["p50_ms"]) / (seconds(floor["p50_ms"]) + derivation_s)
    expected_rps = cores / derivation_s
    rps = burst["requests_per_s"]
    throughput_ratio = rps / expected_rps
    cap_mib = WEB_WORKERS * derivation["kdf_concurrency"] * derivation["memlimit_mib"] + burst["baseline_rss_mib"]
    peak_mib = burst["peak_rss_mib"]
    routing_p95 = seconds(routing["p95_ms"])
    # Diagnostics, no targets: the same comparisons against what the KDF alone does in parallel here.
    intake_vs_parallel = seconds(intake["p50_ms"]) / (seconds(floor["p50_ms"]) + seconds(parallel["median_ms"]))
    throughput_vs_parallel = rps / parallel["per_s"]
    figures["targets"] = {
        "intake_ratio": round(intake_ratio, 3),
        "intake_ratio_target": INTAKE_TARGET,
        "intake_pass": intake_ratio <= INTAKE_TARGET and intake["errors"] == 0,
        "throughput_expected_rps": round(expected_rps, 2),
        "throughput_ratio": round(throughput_ratio, 3),
        "throughput_ratio_target": THROUGHPUT_TARGET,
        "throughput_pass": throughput_ratio >= THROUGHPUT_TARGET and burst["errors"] == 0,
        "memory_cap_mib": round(cap_mib, 1),
        "memory_within_cap": peak_mib <= cap_mib,
        "routing_p95_target_ms": ms(ROUTING_TARGET_P95),
        "routing_pass": routing_p95 < ROUTING_TARGET_P95 and routing["routed"] == routing["reports"],
        "intake_ratio_vs_parallel_kdf": round(intake_vs_parallel, 3),
        "throughput_ratio_vs_parallel_kdf": round(throughput_vs_parallel, 3),
    }
    targets = figures["targets"]
    batches = ", ".join(f"{name} {median}" for name, median in derivation["batch_median_ms"].items())
    rows = [
        (
            "machine load, 1-min average start / end",
            f"{machine['loadavg_1min_start']} / {machine['loadavg_1min_end']}",
            f"{cores} cores",
            "",
        ),
        (
            "key derivation, in-process median",
            f"{derivation['median_ms']} ms",
            f"{derivation['runs']} runs: {batches}",
            "",
        ),
        (
            f"key derivation, {parallel['threads']} in parallel",
            f"{parallel['median_ms']} ms each",
            f"{parallel['per_s']}/s at most",
            "",
        ),
        ("floor POST c=2 p50 / p99", f"{floor['p50_ms']} / {floor['p99_ms']} ms", f"n={floor['requests']}", ""),
        ("intake POST c=2 p50 / p99", f"{intake['p50_ms']} / {intake['p99_ms']} ms", f"n={intake['requests']}", ""),
        (
            "intake p50 / (floor p50 + derivation)",
            f"{intake_ratio:.2f}",
            f"<= {INTAKE_TARGET}",
            verdict(targets["intake_pass"]),
        ),
        (
            f"intake throughput c={THROUGHPUT_CLIENTS}",
            f"{rps:.1f} req/s",
            f">= {THROUGHPUT_TARGET * expected_rps:.1f} req/s",
            "",
        ),
        (
            "throughput / (cores / derivation)",
            f"{throughput_ratio:.2f}",
            f">= {THROUGHPUT_TARGET} ({cores} cores)",
            verdict(targets["throughput_pass"]),
        ),
        (
            "vs parallel KDF: c=2 p50 ratio / c=16 share",
            f"{intake_vs_parallel:.2f} / {throughput_vs_parallel:.2f}",
            "diagnostic: app overhead alone",
            "",
        ),
        (f"intake errors c={THROUGHPUT_CLIENTS} (non-201)", f"{burst['errors']}", "0", verdict(burst["errors"] == 0)),
        (
            "peak RSS gunicorn master + workers",
            f"{peak_mib:.0f} MiB",
            f"cap {cap_mib:.0f} MiB",
            "bounded" if targets["memory_within_cap"] else "OVER CAP",
        ),
        (
            "routing submit -> case p50 / p95",
            f"{routing['p50_ms']} / {routing['p95_ms']} ms",
            f"p95 < {ms(ROUTING_TARGET_P95):.0f} ms",
            verdict(targets["routing_pass"]),
        ),
        (
            f"flood: {flood['reports']} at once, submit -> case p50 / p95",
            f"{flood['p50_ms']} / {flood['p95_ms']} ms",
            f"{flood['routed']}/{flood['reports']} queued, {flood['submit_errors']} errors",
            "all queued" if flood["all_queued"] else "NOT ALL QUEUED",
        ),
        (
            "flood: last case routed after the first sent / last answered",
            f"{flood['last_routed_after_first_sent_s']} / {flood['last_routed_after_last_answered_s']} s",
            f"submitting took {flood['submitting_s']} s",
            "",
        ),
    ]
    return [{"metric": m, "value": v, "target": t, "result": r} for m, v, t, r in rows]


def print_table(rows: list[dict[str, str]]) -> None:
    columns = ["metric", "value", "target", "result"]
    widths = {c: max(len(c), *(len(row[c]) for row in rows)) for c in columns}
    line = "  ".join("-" * widths[c] for c in columns)
    print()
    print("  ".join(c.ljust(widths[c]) for c in columns).rstrip())
    print(line)
    for row in rows:
        print("  ".join(row[c].ljust(widths[c]) for c in columns).rstrip())
    print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep-logs", action="store_true", help="keep the gunicorn and celery logs after a good run")
    args = parser.parse_args()
    # Ctrl-C raises KeyboardInterrupt even when started in the background, where SIGINT is inherited ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _stop_run)
    signal.signal(signal.SIGALRM, _stop_run)
    signal.alarm(TIME_LIMIT_SECONDS)
    log_dir = Path(tempfile.mkdtemp(prefix="helpline-bench-"))
    figures: dict[str, dict[str, Any]] = {}
    succeeded = False
    try:
        say(f"preparing {procs.DB_NAME} (logs in {log_dir})")
        procs.database_prepare()
        django_setup()
        where = places()
        load_start = os.getloadavg()[0]
        derivations = {"before": derivation_times(DERIVATIONS)}

        port = procs.free_port()
        with running(procs.gunicorn_start(log_dir, port=port, workers=WEB_WORKERS)) as server:
            say(f"gunicorn on 127.0.0.1:{port}, {WEB_WORKERS} workers (bench.wsgi)")
            check_routes(port, where)
            figures["floor"] = measure_floor(port)
            figures["intake"] = measure_intake(port, where)
            figures["throughput"] = measure_throughput(port, server.popen.pid, where)
            derivations["after"] = derivation_times(DERIVATIONS)
            figures["derivation"] = derivation_figures(derivations)
            figures["derivation_parallel"] = parallel_derivations(os.cpu_count() or 1, PARALLEL_PER_THREAD)
            figures["routing"] = measure_routing(port, where, log_dir)
            figures["flood"] = measure_flood(port, where, log_dir)
            if not server.alive():
                raise RuntimeError(f"gunicorn died:\n{server.log_tail()}")

        figures["machine"] = {
            "cpu_count": os.cpu_count(),
            "loadavg_1min_start": round(load_start, 2),
            "loadavg_1min_end": round(os.getloadavg()[0], 2),
        }
        rows = summarise(figures)
        print_table(rows)
        report = {
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "web_workers": WEB_WORKERS,
            **figures,
            "summary": rows,
        }
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(report, indent=2) + "\n")
        say(f"wrote {RESULTS.relative_to(ROOT)}")
        succeeded = True
        return 0
    except (Stopped, KeyboardInterrupt) as stop:
        say(f"interrupted: {str(stop) or 'Ctrl-C'}")
        return 130
    finally:
        signal.alarm(0)
        if succeeded and not args.keep_logs:
            shutil.rmtree(log_dir, ignore_errors=True)
        else:
            say(f"logs in {log_dir}")


if __name__ == "__main__":
    sys.exit(main())
