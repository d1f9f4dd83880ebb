"""How precisely the service may record when a reporter did something.

A reporter's exact times, put beside an employer's network logs, could identify them. So what a reporter
originates is kept to the day (``day_start``), expiries set from a reporter's page view are rounded up to
a bucket (``expiry_in``), and the only precise time is the urgent 1-hour triage clock while it runs. The
"No time trail of a reporter" in docs/architecture.md lists every column and its precision.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.utils import timezone


def day_start(moment: datetime | date | None = None) -> datetime:
    """Local midnight (London) at the start of ``moment``'s day (today when None), as an aware datetime."""
    day = moment if isinstance(moment, date) and not isinstance(moment, datetime) else None
    if day is None:
        day = timezone.localdate(moment if isinstance(moment, datetime) else timezone.now())
    return timezone.make_aware(datetime.combine(day, time.min))


def day_end(moment: datetime | date) -> datetime:
    """The last second of ``moment``'s local day: deadlines counted in whole days end here."""
    day = timezone.localdate(moment) if isinstance(moment, datetime) else moment
    return timezone.make_aware(datetime.combine(day, time(23, 59, 59)))


def is_day_only(moment: datetime | None) -> bool:
    """Whether a recorded time holds the day only (written by day_start), so pages show no clock time."""
    if moment is None:
        return False
    local = timezone.localtime(moment)
    return local.time() == time.min


def bucket_ceil(moment: datetime) -> datetime:
    """``moment`` rounded up to the next boundary of TIME_TRAIL_BUCKET_SECONDS (counted from the epoch)."""
    bucket = max(1, int(settings.TIME_TRAIL_BUCKET_SECONDS))
    seconds = math.ceil(moment.timestamp() / bucket) * bucket
    return datetime.fromtimestamp(seconds, tz=moment.tzinfo or timezone.get_current_timezone())


def expiry_in(seconds: int) -> datetime:
    """An expiry at least ``seconds`` from now, rounded up to the bucket: it never says when the page
    view that set it happened to better than the bucket."""
    return bucket_ceil(timezone.now() + timedelta(seconds=seconds))


# Set while the service records what a reporter's own action caused (their report being routed, their
# message reaching the case): every time written meanwhile is the day only.
_reporter_paced: ContextVar[bool] = ContextVar("reporter_paced", default=False)


@contextmanager
def reporter_paced() -> Iterator[None]:
    """Record the day only, not the time, for everything written inside (see the module docstring)."""
    token = _reporter_paced.set(True)
    try:
        yield
    finally:
        _reporter_paced.reset(token)


def recorded_now() -> datetime:
    """The time to record for something happening now: the day only inside reporter_paced()."""
    return day_start() if _reporter_paced.get() else timezone.now()


def duration_words(seconds: int) -> str:
    """A length of time as a page says it ("30 minutes", "1 hour", "45 seconds"): a relative duration, never a
    clock time, so nothing on the page says when the reporter was here."""
    seconds = max(0, int(seconds))
    for size, unit in ((3600, "hour"), (60, "minute")):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}" + ("" if count == 1 else "s")
    if seconds >= 60:
        # Rounded down: never more time than the reporter has.
        minutes = seconds // 60
        return f"{minutes} minute" + ("" if minutes == 1 else "s")
    return f"{seconds} second" + ("" if seconds == 1 else "s")
