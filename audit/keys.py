"""The audit trail's own keys: a MAC key for the chain and an Ed25519 key that signs checkpoints.

They are separate from the content keys (core.crypto) on purpose. The MAC key lets the processes that write
events chain them, so a database superuser without it cannot recompute the chain after editing a row. The
signing key lives only where checkpoints are written; auditors hold its verify key, so nobody who can write
events (or edit the database) can forge a checkpoint of the chain's head.

In production both come from settings (``AUDIT_MAC_KEY``, ``AUDIT_SIGNING_KEY``, or their ``_FILE`` forms)
and a missing one raises ImproperlyConfigured when first needed. In development they are generated once into
the git-ignored ``AUDIT_DEV_KEY_FILE``, as the content keys are, so ``make run`` needs no setup. This module
imports no project app: audit sits below them all (docs/adr/0001-layers.md).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import os
import tempfile
from functools import cache
from pathlib import Path

import nacl.utils
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from nacl.signing import SigningKey, VerifyKey

KEY_BYTES = 32  # both the MAC key and the Ed25519 seed


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def decode_key(name: str, value: str) -> bytes:
    """The 32 bytes a base64 setting holds, or ImproperlyConfigured naming the setting (never its value)."""
    try:
        raw = base64.b64decode(value.strip().encode("ascii"), validate=True)
    except (ValueError, binascii.Error) as exc:
        raise ImproperlyConfigured(f"{name} must be {KEY_BYTES} random bytes in base64") from exc
    if len(raw) != KEY_BYTES:
        raise ImproperlyConfigured(f"{name} must be {KEY_BYTES} random bytes in base64, not {len(raw)} bytes")
    return raw


def generate_key_material() -> dict[str, str]:
    """Fresh keys in the form the settings take: the MAC key, the signing seed and its verify key."""
    signing = SigningKey.generate()
    return {
        "mac": b64(nacl.utils.random(KEY_BYTES)),
        "signing": b64(bytes(signing)),
        "verify": b64(bytes(signing.verify_key)),
    }


def key_id(verify: VerifyKey) -> str:
    """A short fingerprint of a verify key, written into each checkpoint so a reader knows which key to use."""
    return "ed25519:" + hashlib.sha256(bytes(verify)).hexdigest()[:16]


def ensure_dev_keys(path: Path | None = None) -> Path:
    """Create the development key file once (mode 600). Production never generates keys.

    Several processes start together under ``make run`` (web, worker, beat) and may all find the file
    missing. Each writes its candidate to a private temporary file and hard-links it into place, which
    fails if another got there first; the loser then uses the winner's keys. A plain rename would let a
    later process replace keys that rows have already been chained with.
    """
    if settings.PRODUCTION:
        raise ImproperlyConfigured(
            "Production never generates audit keys: configure AUDIT_MAC_KEY and AUDIT_SIGNING_KEY "
            "(manage.py generate_audit_keys prints new ones)."
        )
    path = path or Path(settings.AUDIT_DEV_KEY_FILE)
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w") as handle:
            os.fchmod(handle.fileno(), 0o600)
            json.dump(generate_key_material(), handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another process created it first: its keys are in use
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
    return path


@cache
def _dev_material(path: str) -> dict[str, str]:
    """The development keys, read once per process and file (the file never changes once written)."""
    material = json.loads(ensure_dev_keys(Path(path)).read_text())
    if not isinstance(material, dict) or not {"mac", "signing"} <= material.keys():
        raise ImproperlyConfigured(f"{path} is not an audit key file: delete it to generate a new one")
    return {str(name): str(value) for name, value in material.items()}


def _setting_or_dev(name: str, configured: str, dev_field: str) -> str:
    if configured:
        return configured
    if settings.PRODUCTION:
        raise ImproperlyConfigured(f"{name} (or {name}_FILE) is required in production")
    return _dev_material(str(settings.AUDIT_DEV_KEY_FILE))[dev_field]


def mac_key() -> bytes:
    """The key every chain_version 3 row's MAC is computed with."""
    return decode_key("AUDIT_MAC_KEY", _setting_or_dev("AUDIT_MAC_KEY", settings.AUDIT_MAC_KEY, "mac"))


def signing_key() -> SigningKey:
    """The key checkpoints are signed with: held only by the process that writes checkpoints."""
    seed = _setting_or_dev("AUDIT_SIGNING_KEY", settings.AUDIT_SIGNING_KEY, "signing")
    return SigningKey(decode_key("AUDIT_SIGNING_KEY", seed))


def verify_key(explicit: str = "") -> VerifyKey:
    """The key checkpoints are checked with.

    An auditor passes it explicitly (verify_audit --verify-key) or sets AUDIT_VERIFY_KEY, so checking needs
    no signing key; failing both, it is derived from the signing key (the development key file, locally).
    """
    given = explicit or str(getattr(settings, "AUDIT_VERIFY_KEY", ""))
    if given:
        return VerifyKey(decode_key("the verify key", given))
    try:
        return signing_key().verify_key
    except ImproperlyConfigured as exc:
        raise ImproperlyConfigured(
            "No key to check checkpoints with: pass --verify-key, or set AUDIT_VERIFY_KEY or AUDIT_SIGNING_KEY"
        ) from exc
