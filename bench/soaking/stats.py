"""Every request's page type, time and outcome, from every virtual user's thread."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bench import load


@dataclass
class PageStats:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    conflicts: int = 0


@dataclass
class ErrorRecord:
    at: float
    user: str
    page: str
    method: str
    path: str
    status: int
    detail: str


class Stats:
    """Every request's page type, time and outcome, from every thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pages: dict[str, PageStats] = {}
        self.error_records: list[ErrorRecord] = []
        self.error_kinds: dict[str, int] = {}
        self.counters: dict[str, int] = {}
        self.began = time.monotonic()

    def add(self, page: str, seconds: float, *, error: ErrorRecord | None = None, conflict: bool = False) -> None:
        with self.lock:
            stats = self.pages.setdefault(page, PageStats())
            stats.latencies.append(seconds)
            if conflict:
                stats.conflicts += 1
            if error is not None:
                stats.errors += 1
                kind = error_kind(error.status)
                self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1
                self.error_records.append(error)

    def flag(self, page: str, error: ErrorRecord) -> None:
        """An error in what a request answered, whose time was already counted."""
        with self.lock:
            self.pages.setdefault(page, PageStats()).errors += 1
            kind = error_kind(error.status)
            self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1
            self.error_records.append(error)

    def count(self, name: str, n: int = 1) -> None:
        with self.lock:
            self.counters[name] = self.counters.get(name, 0) + n

    def totals(self) -> tuple[int, int]:
        with self.lock:
            return (sum(len(p.latencies) for p in self.pages.values()), sum(p.errors for p in self.pages.values()))


def error_kind(status: int) -> str:
    if status < 0:
        return "soak client exception"
    if status == 0:
        return "connection"
    if status >= 500:
        return "5xx"
    if status >= 400:
        return "4xx"
    if 200 <= status < 300:
        return "wrong page content"
    return "unexpected status"


def percentile(values: Sequence[float], p: int) -> float:
    return load.percentile(sorted(values), p)


def page_rows(stats: Stats) -> list[dict[str, Any]]:
    rows = []
    for page, figures in stats.pages.items():
        lat = sorted(figures.latencies)
        rows.append(
            {
                "page": page,
                "requests": len(lat),
                "p50_ms": round(statistics.median(lat) * 1000, 1) if lat else None,
                "p95_ms": round(percentile(lat, 95) * 1000, 1) if lat else None,
                "max_ms": round(lat[-1] * 1000, 1) if lat else None,
                "errors": figures.errors,
                "conflicts": figures.conflicts,
            }
        )
    return rows
