"""The flood counter's own Redis database for these tests (FLOOD_TEST_REDIS_URL, default db 5), emptied of
the counter's keys before and after each test; the rest of the suite runs without a counter (tests/conftest.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import redis

from core import flood

FLOOD_TEST_REDIS_URL = os.environ.get("FLOOD_TEST_REDIS_URL", "redis://127.0.0.1:6379/5")


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
