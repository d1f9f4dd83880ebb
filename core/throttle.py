"""Failure counters in PostgreSQL, keyed by keyed hashes that hold no address; they expire on their own.

Used for the reporter's access attempts and for staff logins. PostgreSQL, not Redis, so throttling
keeps working when the broker is down.

A key names the HMAC key that made it (``key_id:digest``, core.crypto). After an HMAC key rotation new
counters are made under the new key and those made under the old one are never consulted again: they
simply expire.
"""

import math
from datetime import timedelta

from django.db import connection
from django.db.models import F
from django.utils import timezone

from core import crypto
from core.models import AccessThrottle
from core.timetrail import expiry_in


def throttle_key(scope: str, *parts: str) -> str:
    return crypto.throttle_key(scope, *parts)


def throttle_keys_every(scope: str, *parts: str) -> list[str]:
    """The key under every configured HMAC key, the current one first: for stored digests that must still
    be found during an HMAC key rotation (idempotency keys)."""
    return crypto.throttle_keys_every(scope, *parts)


def throttle_key_matches(stored: str, scope: str, *parts: str) -> bool:
    """Whether ``stored`` is the key of ``scope`` and ``parts``, under whichever HMAC key made it."""
    return crypto.throttle_key_matches(stored, scope, *parts)


def throttle_blocked(*, key: str, limit: int) -> bool:
    return AccessThrottle.objects.filter(key=key, failures__gte=limit, expires_at__gt=timezone.now()).exists()


def throttle_failure(*, key: str, window_seconds: int) -> int:
    """Count one failure and return the count; a window that has run out starts again at one. One atomic
    upsert, so concurrent failures each count. The window's end is rounded up to the time-trail bucket."""
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
            [key, expiry_in(window_seconds), now, now],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 1


def throttle_take(*, key: str, limit: int, window_seconds: int) -> bool:
    """Take one of ``limit`` attempts in the window, before doing the costly or guessable thing.

    The count goes up first, atomically, and the answer is whether it is still within the limit: so under
    any concurrency at most ``limit`` attempts go ahead, where checking first and counting afterwards let
    every request that checked before the first one counted through. An attempt that turns out not to
    count (a right answer) gives its slot back with throttle_refund."""
    return throttle_failure(key=key, window_seconds=window_seconds) <= limit


def throttle_remaining(*, key: str, limit: int) -> int:
    """How many of ``limit`` attempts are left in ``key``'s current window (all of them when it has none)."""
    failures = (
        AccessThrottle.objects.filter(key=key, expires_at__gt=timezone.now()).values_list("failures", flat=True).first()
    )
    return max(limit - (failures or 0), 0)


def throttle_refund(*, key: str) -> None:
    """Give back one attempt taken with throttle_take (the window keeps its end)."""
    AccessThrottle.objects.filter(key=key, failures__gt=0).update(failures=F("failures") - 1)


def throttle_hold(*, key: str, seconds: int) -> None:
    """Refuse ``key`` for the next ``seconds`` (replacing any hold it had)."""
    # Precise, not bucketed: holds are for staff second-factor delays of seconds, not for reporters.
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
