"""A seeding run: a planning thread feeding writer connections, progress, and the checks at the end.

Planning is pure Python and writing mostly waits for the server, so they overlap: one thread plans
batches (at most two ahead) while ``writers`` connections COPY them in, each batch in its own
transaction. A failure in any thread stops the others and is raised in the caller's thread.
"""

from __future__ import annotations

import contextlib
import queue
import random
import threading
import time as clock
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.core.management.base import CommandError
from django.db import connection

from devdata.seeding.bulk import Claims, Table, new_claims, outbox_table, report_and_case_tables, write_batch
from devdata.seeding.generator import CustodyWraps, Generator, Planned, key_pool

Say = Callable[[str], None]


@dataclass
class SeedResult:
    cases: int
    seconds: float
    access_codes: list[str]
    redrawn: int
    unrouted: int = 0


@dataclass
class Writing:
    """What every writer of a run shares: the tables, the unique values in flight, the custody wraps."""

    reports: Table
    cases: Table
    referrals: Table
    outbox: Table
    claims: dict[str, Claims]
    custody: CustodyWraps


class Progress:
    """Counts what the writers committed, and says so after every batch."""

    def __init__(self, say: Say, count: int) -> None:
        self.say = say
        self.count = count
        self.done = self.redrawn = 0
        self.started = clock.perf_counter()

    def add(self, size: int, redrawn: int) -> None:
        self.done += size
        self.redrawn += redrawn
        elapsed = clock.perf_counter() - self.started
        self.say(f"  {self.done:>10,} / {self.count:,} reports  {elapsed:7.1f}s  {self.done / elapsed:8,.0f} reports/s")


# What the planning thread hands over: a batch, the error that stopped it, or None when it is done.
Handed = list[Planned] | BaseException | None


class Planner:
    """Plans batches in a background thread, at most two ahead; writers ``take`` them."""

    def __init__(self, generator: Generator, *, count: int, batch: int, unrouted: int = 0) -> None:
        self.generator = generator
        self.count = count
        self.unrouted = unrouted
        self.starts = list(range(0, count, batch))
        self.batch = batch
        self.batches: queue.Queue[Handed] = queue.Queue(maxsize=2)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="seed-planner", daemon=True)

    def __enter__(self) -> Planner:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        while self.thread.is_alive():
            with contextlib.suppress(queue.Empty):
                self.batches.get(timeout=0.1)
        self.thread.join()

    def _put(self, item: Handed) -> None:
        while not self.stop.is_set():
            try:
                self.batches.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def _run(self) -> None:
        try:
            # Oldest first, evenly over the span, as a live system fills its tables: ids and the rows'
            # places on disk follow time (recent, mostly open, cases end up together at the end).
            span, count, rng = self.generator.span_days, self.count, self.generator.rng
            for start in self.starts:
                if self.stop.is_set():
                    return
                end = min(start + self.batch, count)
                self._put([self.generator.plan(span * (1 - (n + rng.random()) / count)) for n in range(start, end)])
            # Then the reports filed today and not routed yet (the newest, so last).
            for start in range(0, self.unrouted, self.batch):
                if self.stop.is_set():
                    return
                size = min(self.batch, self.unrouted - start)
                self._put([self.generator.plan_unrouted() for _ in range(size)])
            self._put(None)
        except BaseException as error:  # handed to the writers, which raise it
            self._put(error)

    def take(self) -> list[Planned] | None:
        """The next batch; None when there are no more (or the run is stopping)."""
        while not self.stop.is_set():
            try:
                item = self.batches.get(timeout=0.1)
            except queue.Empty:
                continue
            if item is None or isinstance(item, BaseException):
                self.batches.put(item)  # for the other writers; there is room: this one was just taken
            if isinstance(item, BaseException):
                raise CommandError(f"planning failed: {item!r}") from item
            return item
        return None


def seed(
    *, count: int, batch: int, open_fraction: float, keys: int, writers: int = 2, unrouted: int = 0, say: Say
) -> SeedResult:
    """Seed ``count`` reports and cases, and ``unrouted`` reports filed today and not routed yet; ``say`` is
    given a line of progress after every batch."""
    began = clock.perf_counter()
    pool = key_pool(keys)
    say(f"Key pool of {keys} ready in {clock.perf_counter() - began:.1f}s.")
    reports, cases, referrals = report_and_case_tables()
    writing = Writing(reports, cases, referrals, outbox_table(), new_claims(), CustodyWraps(pool))
    generator = Generator(pool=pool, open_fraction=open_fraction, now=datetime.now(UTC))
    # Other threads have connections of their own, outside this transaction: inside one, write here only.
    if connection.in_atomic_block:
        writers = 1
    progress = Progress(say, count + unrouted)
    # A thread plans batches (pure Python) while the writers' COPY and commits wait for the server.
    with Planner(generator, count=count, batch=batch, unrouted=unrouted) as planner:
        if writers == 1:
            _write_all(planner, writing, progress.add)
        else:
            _write_in_threads(planner, writing, progress, writers)
    for table in (reports, cases, referrals, writing.outbox):
        table.sequence_check()
    # Fresh statistics: until autovacuum gets round to it the planner would guess from an empty table
    # (seconds-long case lists at a million cases, where milliseconds are possible).
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {reports.table}, {cases.table}, {referrals.table}")
    return SeedResult(
        cases=progress.done - unrouted,
        seconds=clock.perf_counter() - progress.started,
        access_codes=[key.access_code for key in pool],
        redrawn=progress.redrawn,
        unrouted=unrouted,
    )


def _write_all(planner: Planner, writing: Writing, done: Callable[[int, int], None]) -> None:
    """Write batches on this thread's connection until the planner has no more."""
    rng = random.Random()  # noqa: S311 - synthetic data
    w = writing
    while (planned := planner.take()) is not None:
        redrawn = write_batch(
            planned, w.reports, w.cases, w.claims, rng, w.referrals, custody=w.custody, outbox=w.outbox
        )
        done(len(planned), redrawn)


def _write_in_threads(planner: Planner, writing: Writing, progress: Progress, writers: int) -> None:
    """``writers`` threads, each with its own connection; progress is counted here, on the caller's thread."""
    events: queue.Queue[tuple[int, int] | BaseException | None] = queue.Queue()

    def writer() -> None:
        try:
            _write_all(planner, writing, lambda size, redrawn: events.put((size, redrawn)))
            events.put(None)
        except BaseException as error:  # handed to the main thread, which raises it
            planner.stop.set()
            events.put(error)
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=writer, name=f"seed-writer-{n}", daemon=True) for n in range(writers)]
    for thread in threads:
        thread.start()
    failure: BaseException | None = None
    running = writers
    try:
        while running:
            event = events.get()
            if event is None:
                running -= 1
            elif isinstance(event, BaseException):
                running -= 1
                failure = failure or event
            else:
                progress.add(*event)
    finally:
        planner.stop.set()
        for thread in threads:
            thread.join()
    if failure is not None:
        raise CommandError(f"a writer failed: {failure!r}") from failure
