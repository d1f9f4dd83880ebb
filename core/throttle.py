"""Failure counters in PostgreSQL, keyed by keyed hashes that hold no address; they expire on their own.

Used for the reporter's access attempts and for staff logins. PostgreSQL, not Redis, so throttling
keeps working when the broker is down.
"""

from datetime import timedelta

from django.db import connection
from django.utils import timezone

from core import crypto
from core.models import AccessThrottle


def throttle_key(scope: str, *parts: str) -> str:
    return crypto.throttle_key(scope, *parts)


def throttle_blocked(*, key: str, limit: int) -> bool:
    return AccessThrottle.objects.filter(key=key, failures__gte=limit, expires_at__gt=timezone.now()).exists()


def throttle_failure(*, key: str, window_seconds: int) -> None:
    """Count one failure; a window that has run out starts again at one. One atomic upsert."""
    now = timezone.now()
    table = AccessThrottle._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} (key, failures, expires_at) VALUES (%s, 1, %s)
            ON CONFLICT (key) DO UPDATE SET
                failures = CASE WHEN {table}.expires_at > %s THEN {table}.failures + 1 ELSE 1 END,
                expires_at = CASE WHEN {table}.expires_at > %s THEN {table}.expires_at ELSE EXCLUDED.expires_at END
            """,  # noqa: S608 - the table name is ours; values are parameters
            [key, now + timedelta(seconds=window_seconds), now, now],
        )


def throttle_clear(*, key: str) -> None:
    AccessThrottle.objects.filter(key=key).delete()


def throttles_purge() -> int:
    deleted, _ = AccessThrottle.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted
