"""Running the same thing from several threads at once, for the race tests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from django.db import connections

T = TypeVar("T")


def at_once(count: int, action: Callable[[int], T]) -> list[T]:
    """Run ``action`` in ``count`` threads released together; each thread closes its database connection."""
    barrier = threading.Barrier(count)

    def run(index: int) -> T:
        try:
            barrier.wait(timeout=30)
            return action(index)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def hold_at_filing(monkeypatch: Any, count: int = 2) -> None:
    """Hold ``count`` submissions where the report is about to be filed (wrapping its key for the
    reporter), so all have passed every check made before filing: the worst case of concurrent sends."""
    from core import crypto

    all_filing = threading.Barrier(count)
    wrap = crypto.wrap_key_for_reporter

    def wrap_once_all_are_filing(data_key: bytes, code: str) -> crypto.ReporterWrap:
        all_filing.wait(timeout=30)
        return wrap(data_key, code)

    monkeypatch.setattr(crypto, "wrap_key_for_reporter", wrap_once_all_are_filing)
