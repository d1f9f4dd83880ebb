"""A report arriving during a flood: counted (core.flood, in Redis only), and when the count goes over
FLOOD_THRESHOLD in 10 minutes, the flood's one email to supervisors; while the flood lasts, urgent alerts
are held for the urgent digest instead of going one per case (notify digests).

Called from routing (triage.intake), once per new case. Never fails the routing: with Redis down there is
simply no flood signal (core.flood logs it, without content).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction

from core import flood
from triage.notifications import URGENT_DIGEST, flood_alert

log = logging.getLogger(__name__)


def arrival_noticed() -> bool:
    """Count one arrival; whether a flood is under way (so its urgent alert goes in the digest)."""
    try:
        count = flood.arrival_count()
        if count is None:
            return False
        if count <= int(settings.FLOOD_THRESHOLD):
            return flood.flood_on()
        marked = flood.episode_mark()
        if marked is None:
            return False
        episode, _began = marked
        # Queued by every arrival over the threshold, once per episode (its occasion): so the email is not lost
        # if the routing that began the episode is rolled back and done again.
        with transaction.atomic():  # a savepoint: a failure here leaves the routing's transaction usable
            flood_alert(episode=episode)
        return True
    except Exception as error:  # noqa: BLE001 - the flood signal must never stop a report being routed
        log.warning("flood check failed (%s): routed without it", type(error).__name__)
        return False


def urgent_digest_key(flooding: bool) -> str:
    """The digest an urgent alert is held for: the urgent digest during a flood, none (sent at once) otherwise."""
    return URGENT_DIGEST if flooding else ""
