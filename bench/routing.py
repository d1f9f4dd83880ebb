"""Routing latency on the bench's own clock: from the moment a submission is answered to the moment its case
is committed, both read from this process's monotonic clock.

The database cannot say: a report's ``submitted_at`` and its case's ``created_at`` are both kept to the day
(docs/architecture.md, "No time trail of a reporter"), so their difference is always zero. Instead the bench database
gets a trigger (``NOTIFY_NEW_CASES``, the bench's own database only) that announces each new case's report
reference on a notification channel when the case's transaction commits; ``CaseWatch`` listens on a
connection of its own and notes when each reference arrives. The submitting side notes when the 201 was
read (``answered``). Nothing a reporter does is timed by the portal for this.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

import psycopg

CHANNEL = "bench_case_created"
NOTIFY_NEW_CASES = """
CREATE OR REPLACE FUNCTION bench_case_created() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('bench_case_created', (SELECT reference FROM reports_report WHERE id = NEW.report_id));
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS bench_case_created ON triage_case;
CREATE TRIGGER bench_case_created AFTER INSERT ON triage_case FOR EACH ROW EXECUTE FUNCTION bench_case_created();
"""
FORGET_NEW_CASES = "DROP TRIGGER IF EXISTS bench_case_created ON triage_case"


class CaseWatch:
    """Notes, on ``clock``, when each case is committed (by its report's reference) and when each
    submission was answered; ``latencies`` pairs them up. Used as a context manager: a thread listens on
    its own connection (made by ``connect``, autocommit) from ``__enter__`` to ``__exit__``."""

    def __init__(
        self,
        connect: Callable[[], psycopg.Connection[Any]],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.connect = connect
        self.clock = clock
        self.appeared: dict[str, float] = {}
        self.answered_at: dict[str, float] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._listening = threading.Event()
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None

    def __enter__(self) -> CaseWatch:
        self._thread = threading.Thread(target=self._listen, name="case-watch", daemon=True)
        self._thread.start()
        if not self._listening.wait(timeout=10):
            raise RuntimeError(f"the case watch could not listen: {self._failure!r}")
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _listen(self) -> None:
        try:
            with self.connect() as conn:
                conn.execute(f"LISTEN {CHANNEL}")
                self._listening.set()
                while not self._stop.is_set():
                    for note in conn.notifies(timeout=0.2):
                        seen = self.clock()
                        with self._lock:
                            self.appeared.setdefault(note.payload, seen)
        except BaseException as failure:  # said by __enter__ (or by the missing cases)
            self._failure = failure
            self._listening.set()

    def answered(self, reference: str, at: float | None = None) -> None:
        """The submission of ``reference`` was answered (now, or ``at`` on the same clock)."""
        with self._lock:
            self.answered_at[reference] = self.clock() if at is None else at

    def routed(self, references: Iterable[str]) -> int:
        with self._lock:
            return sum(reference in self.appeared for reference in references)

    def last_routed(self, references: Iterable[str]) -> float | None:
        """When the last of ``references`` that has a case got it, on the watch's clock (None: none has)."""
        with self._lock:
            return max(
                (self.appeared[reference] for reference in references if reference in self.appeared), default=None
            )

    def latencies(self, references: Iterable[str]) -> list[float]:
        """Seconds from answer to case, for each of ``references`` that has both."""
        with self._lock:
            return [
                self.appeared[reference] - self.answered_at[reference]
                for reference in references
                if reference in self.appeared and reference in self.answered_at
            ]


def summary_ms(latencies: list[float]) -> dict[str, float | None]:
    """p50, p95 and max in milliseconds (None when there is nothing to summarise)."""
    if not latencies:
        return {"p50_ms": None, "p95_ms": None, "max_ms": None}
    ordered = sorted(latencies)
    p95 = statistics.quantiles(ordered, n=100, method="inclusive")[94] if len(ordered) > 1 else ordered[0]
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(p95 * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }
