"""Failure counters in PostgreSQL, keyed by keyed hashes that hold no address; they expire on their own.

Used for the reporter's access attempts and for staff logins. PostgreSQL, not Redis, so throttling
keeps working when the broker is down.
"""

import math
from datetime import timedelta

from django.db import connection
from django.utils import timezone

from core import crypto
from core.models import AccessThrottle


def throttle_key(scope: str, *parts: str) -> str:
    return crypto.throttle_key(scope, *parts)


def throttle_blocked(*, key: str, limit: int) -> bool:
    return AccessThrottle.objects.filter(key=key, failures__gte=limit, expires_at__gt=timezone.now()).exists()


def throttle_failure(*, key: str, window_seconds: int) -> int:
    """Count one failure and return the count; a window that has run out starts again at one. One atomic
    upsert, so concurrent failures each count."""
    now = timezone.now()
    table = AccessThrottle._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} (key, failures, expires_at) VALUES (%s, 1, %s)
            ON CONFLICT (key) DO UPDATE SET
                failures = CASE WHEN {table}.expires_at > %s THEN {table}.failures + 1 ELSE 1 END,
                expires_at = CASE WHEN {table}.expires_at > %s THEN {table}.expires_at ELSE EXCLUDED.expires_at END
            RETURNING failures
            """,  # noqa: S608 - the table name is ours; values are parameters
            [key, now + timedelta(seconds=window_seconds), now, now],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 1


def throttle_hold(*, key: str, seconds: int) -> None:
    """Refuse ``key`` for the next ``seconds`` (replacing any hold it had)."""
    AccessThrottle.objects.update_or_create(
        key=key, defaults={"failures": 1, "expires_at": timezone.now() + timedelta(seconds=seconds)}
    )


def throttle_wait(*, key: str) -> int:
    """Whole seconds left on a hold of ``key`` (0 when there is none)."""
    now = timezone.now()
    until = AccessThrottle.objects.filter(key=key, expires_at__gt=now).values_list("expires_at", flat=True).first()
    return math.ceil((until - now).total_seconds()) if until else 0


def throttle_clear(*, key: str) -> None:
    AccessThrottle.objects.filter(key=key).delete()


def throttles_purge() -> int:
    deleted, _ = AccessThrottle.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted
