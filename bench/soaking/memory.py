"""Memory: the RSS of each process tree, read from /proc every minute, and how it grew."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import procs
from bench.soaking.config import FLAT_PERCENT
from bench.soaking.stats import Stats

MIB = 1024 * 1024


def descendants(pid: int) -> list[int]:
    """Every process under ``pid``, from each process's parent in /proc/<pid>/stat."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])  # after "pid (comm) state": the parent
        parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], list(parents.get(pid, []))
    while todo:
        child = todo.pop()
        found.append(child)
        todo.extend(parents.get(child, []))
    return sorted(found)


def tree(pid: int) -> tuple[float, list[int]]:
    """RSS in MiB of a process and every process under it; the pids under it."""
    under = descendants(pid)
    return (procs.rss_bytes(pid) + sum(procs.rss_bytes(child) for child in under)) / MIB, under


@dataclass
class RssRow:
    minute: int
    web_mib: float
    web_workers: list[int]
    worker_mib: float
    worker_children: list[int]
    beat_mib: float
    loadavg: float
    requests: int
    errors: int


def sample(minute: int, web: procs.Process, worker: procs.Process, beat: procs.Process, stats: Stats) -> RssRow:
    web_mib, web_pids = tree(web.popen.pid)
    worker_mib, worker_pids = tree(worker.popen.pid)
    beat_mib, _ = tree(beat.popen.pid)
    requests, errors = stats.totals()
    return RssRow(minute, web_mib, web_pids, worker_mib, worker_pids, beat_mib, os.getloadavg()[0], requests, errors)


def growth(rows: list[RssRow], attribute: str) -> dict[str, Any]:
    """Growth of one RSS column from minute 2 (or the first sample of a shorter run) to the last."""
    if len(rows) < 2:
        return {"from_minute": None, "mib": None, "percent": None, "flat": None}
    first = next((row for row in rows if row.minute == 2), rows[0])
    last = rows[-1]
    start_mib, end_mib = getattr(first, attribute), getattr(last, attribute)
    percent = (end_mib - start_mib) / start_mib * 100 if start_mib else 0.0
    return {
        "from_minute": first.minute,
        "to_minute": last.minute,
        "start_mib": round(start_mib, 1),
        "end_mib": round(end_mib, 1),
        "mib": round(end_mib - start_mib, 1),
        "percent": round(percent, 1),
        "flat": percent <= FLAT_PERCENT,
    }
