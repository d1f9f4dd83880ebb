"""Noticing a flood: how many reports arrived in the last 10 minutes, counted in Redis and nowhere else.

Each arrival adds one to the counter of its minute (``flood:minute:<minute>``), a plain integer that expires
FLOOD_KEY_SECONDS (15 minutes) after it was last touched; the count is the sum of the last ten minutes'
counters. A counter holds no report id, reference or anything else about a report, and nothing here writes
to the database: on a quiet day stored 10-minute buckets beside sequential ids and day-only dates would date
each report to within 10 minutes, undoing the time trail (docs/privacy.md).

A flood is an *episode*: the first arrival that takes the count over FLOOD_THRESHOLD sets ``flood:episode``
(a random token, which names the episode's one email), and each later arrival over the threshold keeps it
alive for another window. It ends on its own 10 minutes after the count was last over the threshold.

FLOOD_REDIS_URL="" turns the counter off (the test suite does, but for the tests of floods). Redis down
means no flood signal: every function answers "no flood" (or None), logs that the counter is
unavailable (never what arrived), and stops trying for FLOOD_BACKOFF_SECONDS, so a report's routing never
fails or waits on it.
"""

from __future__ import annotations

import logging
import math
import secrets
import time
from dataclasses import dataclass

import redis
from django.conf import settings

log = logging.getLogger(__name__)

WINDOW_MINUTES = 10
# A minute's counter outlives the window it is counted in by a few minutes, then Redis forgets it.
FLOOD_KEY_SECONDS = 15 * 60
MINUTE_PREFIX = "flood:minute:"
EPISODE_KEY = "flood:episode"
# How long an episode outlives the last arrival that found the count over the threshold.
EPISODE_SECONDS = WINDOW_MINUTES * 60
# After a failure, Redis is not asked again for this long (each try against a dead Redis costs a timeout).
FLOOD_BACKOFF_SECONDS = 15.0
TIMEOUT_SECONDS = 0.5

_clients: dict[str, redis.Redis] = {}
_paused_until = 0.0


def _client() -> redis.Redis | None:
    if time.monotonic() < _paused_until:
        return None
    url = settings.FLOOD_REDIS_URL
    if not url:
        return None  # flood protection turned off (FLOOD_REDIS_URL="")
    client = _clients.get(url)
    if client is None:
        client = redis.Redis.from_url(
            url, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS, decode_responses=True
        )
        _clients[url] = client
    return client


def _unavailable(error: Exception) -> None:
    global _paused_until
    _paused_until = time.monotonic() + FLOOD_BACKOFF_SECONDS
    # The kind of failure only: never what arrived.
    log.warning("flood counter unavailable (%s): no flood signal for now", type(error).__name__)


def flood_resume() -> None:
    """Ask Redis again at the next call (tests, and a Redis known to be back)."""
    global _paused_until
    _paused_until = 0.0


def _minute(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // 60)


def _window_keys(minute: int) -> list[str]:
    return [f"{MINUTE_PREFIX}{m}" for m in range(minute - WINDOW_MINUTES + 1, minute + 1)]


def _sum(values: list[bytes | str | None]) -> int:
    return sum(int(v) for v in values if v)


def arrival_count(now: float | None = None) -> int | None:
    """Count one arrival; the number of arrivals in the last 10 minutes, this one included. None when the
    counter is unavailable."""
    client = _client()
    if client is None:
        return None
    minute = _minute(now)
    key = f"{MINUTE_PREFIX}{minute}"
    try:
        with client.pipeline(transaction=False) as pipe:
            pipe.incr(key)
            pipe.expire(key, FLOOD_KEY_SECONDS)
            pipe.mget(_window_keys(minute))
            _, _, values = pipe.execute()
    except redis.RedisError as error:
        _unavailable(error)
        return None
    return _sum(values)


def window_count(now: float | None = None) -> int | None:
    """The arrivals in the last 10 minutes, without counting one. None when the counter is unavailable."""
    client = _client()
    if client is None:
        return None
    try:
        values = client.mget(_window_keys(_minute(now)))
    except redis.RedisError as error:
        _unavailable(error)
        return None
    return _sum(values)


def episode_mark() -> tuple[str, bool] | None:
    """The count is over the threshold: start a flood episode, or keep the current one alive. Its token and
    whether it began just now (exactly one caller sees True per episode). None when unavailable."""
    client = _client()
    if client is None:
        return None
    token = secrets.token_hex(8)
    try:
        began = bool(client.set(EPISODE_KEY, token, nx=True, ex=EPISODE_SECONDS))
        if began:
            return token, True
        with client.pipeline(transaction=False) as pipe:
            pipe.expire(EPISODE_KEY, EPISODE_SECONDS)
            pipe.get(EPISODE_KEY)
            _, current = pipe.execute()
    except redis.RedisError as error:
        _unavailable(error)
        return None
    return (current or token), False


def flood_on() -> bool:
    """Whether a flood episode is under way (False when the counter is unavailable)."""
    client = _client()
    if client is None:
        return False
    try:
        return bool(client.exists(EPISODE_KEY))
    except redis.RedisError as error:
        _unavailable(error)
        return False


@dataclass(frozen=True)
class FloodState:
    on: bool
    # The count in the last 10 minutes rounded to tens: all the banner (and any metric) may show.
    about: int


def tens(count: int) -> int:
    return int(math.floor(count / 10 + 0.5)) * 10


def flood_state() -> FloodState:
    if not flood_on():
        return FloodState(on=False, about=0)
    return FloodState(on=True, about=tens(window_count() or 0))


def once_per_window(name: str, seconds: int, now: float | None = None) -> bool:
    """Whether this is the first call named ``name`` in the current ``seconds``-long window (a key that
    expires with the window). True when Redis is unavailable: better a repeat than nothing sent."""
    client = _client()
    if client is None:
        return True
    window = int((time.time() if now is None else now) // max(1, seconds))
    try:
        return bool(client.set(f"once:{name}:{window}", "1", nx=True, ex=max(1, seconds)))
    except redis.RedisError as error:
        _unavailable(error)
        return True
