"""What still needs a key: before an old helpline private key is removed from HELPLINE_PRIVATE_KEYS, an old HMAC
key from HELPLINE_HMAC_KEYS, or to see what a custody key still holds (``manage.py key_usage``).

A key id is looked up in each kind of key, as the ids of different kinds may be the same:

- **helpline**: reports whose data key is still sealed to that key pair, and whether it is the configured
  public key (new reports are sealed to it);
- **custody**: reports whose data key is wrapped under it, and whether it is still the key in use;
- **hmac**: organisation hashes made with it, waiting staff invitations whose enrolment code was hashed with
  it, and idempotency keys not yet expired; whether it is the key new hashes are made with. Throttle counters
  made with it are not a use: they simply expire. Nor are the hashes of destroyed reports that no report still
  open could re-hash: nothing can, with or without the key.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from accounts.models import Invitation
from core import crypto
from core.models import AccessThrottle, CustodyKey
from reports.models import IdempotencyKey, Report

HELPLINE = "helpline"
CUSTODY = "custody"
HMAC = "hmac"
KINDS = (HELPLINE, CUSTODY, HMAC)


@dataclass(frozen=True)
class Use:
    kind: str
    what: str
    count: int = 0
    # True when the key cannot be removed or destroyed yet because of this.
    needed: bool = True


def _stored_under(field: str, key_id: str) -> Q:
    """Stored keyed digests (``key_id:digest``; bare ones are the unnamed key's) made with ``key_id``."""
    made = Q(**{f"{field}__startswith": f"{key_id}:"})
    if key_id == crypto.UNNAMED_HMAC_KEY_ID:
        made |= ~Q(**{f"{field}__contains": ":"}) & ~Q(**{field: ""})
    return made


def helpline_uses(key_id: str) -> list[Use]:
    uses = []
    sealed = Report.objects.filter(helpline_key_id=key_id).count()
    if sealed:
        uses.append(Use(HELPLINE, "reports not yet routed have their data key sealed to it", sealed))
    if crypto.keyring().public_key_id == key_id:
        uses.append(
            Use(HELPLINE, "it is the configured public key (HELPLINE_PUBLIC_KEY): new reports are sealed to it")
        )
    return uses


def custody_uses(key_id: str) -> list[Use]:
    uses = []
    wrapped = Report.objects.filter(custody_key_id=key_id).count()
    if wrapped:
        uses.append(Use(CUSTODY, "reports have their data key wrapped under it", wrapped))
    record = CustodyKey.objects.filter(key_id=key_id).first()
    if record is None:
        return uses
    if record.destroyed_on is not None:
        uses.append(Use(CUSTODY, f"it was destroyed on {record.destroyed_on:%-d %B %Y}", needed=False))
    elif record.retired_on is None:
        uses.append(Use(CUSTODY, "it is not retired: data keys may still be wrapped under it as cases move"))
    return uses


def hmac_uses(key_id: str) -> list[Use]:
    uses = []
    now = timezone.now()
    hashed = Report.objects.filter(organisation_hash_key_id=key_id).exclude(organisation_hash="")
    live = hashed.filter(content_destroyed_on__isnull=True).count()
    if live:
        uses.append(Use(HMAC, "reports have an organisation hash made with it (run rotate_hmac_key)", live))
    stubs = hashed.filter(content_destroyed_on__isnull=False).count()
    if stubs:
        uses.append(
            Use(
                HMAC,
                "destroyed reports keep an organisation hash made with it that nothing can re-hash",
                stubs,
                needed=False,
            )
        )
    waiting = Invitation.objects.filter(
        _stored_under("code_digest", key_id), used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
    )
    if count := waiting.count():
        last = max(waiting.values_list("expires_at", flat=True))
        uses.append(
            Use(
                HMAC,
                "staff invitations have an enrolment code hashed with it (they expire by "
                f"{timezone.localtime(last):%-d %B %Y %H:%M}, or issue them again)",
                count,
            )
        )
    retries = IdempotencyKey.objects.filter(_stored_under("key_hash", key_id), expires_at__gt=now)
    if count := retries.count():
        last = max(retries.values_list("expires_at", flat=True))
        uses.append(
            Use(
                HMAC,
                f"API idempotency keys were hashed with it (they expire by {timezone.localtime(last):%-d %B %Y %H:%M})",
                count,
            )
        )
    counters = AccessThrottle.objects.filter(_stored_under("key", key_id), expires_at__gt=now).count()
    if counters:
        uses.append(Use(HMAC, "throttle counters were made with it: they simply expire", counters, needed=False))
    if crypto.hmac_key_id() == key_id:
        uses.append(Use(HMAC, "it is the HMAC key new hashes are made with (first in HELPLINE_HMAC_KEYS)"))
    return uses


def key_uses(key_id: str, kinds: tuple[str, ...] = KINDS) -> list[Use]:
    """Everything that still names ``key_id``, of the kinds asked for."""
    finders = {HELPLINE: helpline_uses, CUSTODY: custody_uses, HMAC: hmac_uses}
    uses: list[Use] = []
    for kind in kinds:
        uses += finders[kind](key_id)
    return uses
