"""The flood counter's own Redis database for these tests (FLOOD_TEST_REDIS_URL, by default db 5, or 6 for the
second xdist worker), emptied of the counter's keys before and after each test; the rest of the suite runs
without a counter (tests/conftest.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import redis

from core import flood

# Each pytest-xdist worker counts in a database of its own (gw0: 5, gw1: 6), so that two flood tests running
# side by side never add up to each other's flood.
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
FLOOD_TEST_REDIS_URL = os.environ.get("FLOOD_TEST_REDIS_URL", f"redis://127.0.0.1:6379/{5 + _WORKER}")


def flood_keys_clear(client: redis.Redis) -> None:
    for pattern in ("flood:*", "once:*"):
        keys = list(client.scan_iter(match=pattern))
        if keys:
            client.delete(*keys)


@pytest.fixture
def flood_redis(settings) -> Iterator[redis.Redis]:  # type: ignore[no-untyped-def]
    """The counter pointed at the test Redis, empty; a client that reads what it holds (as text)."""
    settings.FLOOD_REDIS_URL = FLOOD_TEST_REDIS_URL
    client = redis.Redis.from_url(FLOOD_TEST_REDIS_URL, decode_responses=True)
    flood_keys_clear(client)
    flood.flood_resume()
    yield client
    flood_keys_clear(client)
    flood.flood_resume()
