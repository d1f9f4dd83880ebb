"""The service's signing key: an Ed25519 key that signs backup manifests, the shred log and evidence bundles.

Held by the staff service and the workers (``SERVICE_SIGNING_KEY``, ``key_id:base64`` of the 32-byte seed),
never by the public tier; the audit trail's checkpoints have a key of their own (audit.keys) that only the
checkpointer holds. Earlier keys' public halves (``SERVICE_VERIFY_KEYS``) keep old manifests verifiable
after a rotation. Locally the key is generated into the development key file.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from functools import cache

import nacl.exceptions
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from nacl.signing import SigningKey, VerifyKey

from core import crypto


@dataclass(frozen=True)
class ServiceKeys:
    key_id: str
    signing: SigningKey | None
    verify: dict[str, VerifyKey]


def _parse(entry: str) -> tuple[str, bytes]:
    key_id, _, encoded = entry.strip().partition(":")
    if not key_id or not encoded:
        raise ImproperlyConfigured("Signing keys are written as key_id:base64")
    return key_id, base64.b64decode(encoded, validate=True)


@cache
def service_keys() -> ServiceKeys:
    value = settings.SERVICE_SIGNING_KEY
    if not value and not settings.PRODUCTION:
        value = json.loads(crypto.ensure_dev_keys().read_text())["service_signing"]
    verify: dict[str, VerifyKey] = {}
    for entry in (settings.SERVICE_VERIFY_KEYS or "").split(","):
        if entry.strip():
            key_id, raw = _parse(entry)
            verify[key_id] = VerifyKey(raw)
    signing: SigningKey | None = None
    key_id = ""
    if value and settings.HELPLINE_ROLE != "public":
        key_id, seed = _parse(value)
        signing = SigningKey(seed)
        verify[key_id] = signing.verify_key
    return ServiceKeys(key_id=key_id, signing=signing, verify=verify)


def generate_signing_key(key_id: str) -> str:
    return f"{key_id}:{base64.b64encode(bytes(SigningKey.generate())).decode()}"


def sign(data: bytes) -> dict[str, str]:
    """A detached signature of ``data``: the key id and the signature, base64."""
    keys = service_keys()
    if keys.signing is None:
        raise crypto.KeyUnavailable("This process holds no service signing key")
    signature = keys.signing.sign(data).signature
    return {"key_id": keys.key_id, "signature": base64.b64encode(signature).decode()}


def verify(data: bytes, signed: dict[str, str]) -> bool:
    """Whether ``signed`` (from ``sign``) is a good signature of ``data`` by a key this process knows."""
    key = service_keys().verify.get(str(signed.get("key_id", "")))
    if key is None:
        return False
    try:
        key.verify(data, base64.b64decode(str(signed.get("signature", "")), validate=True))
    except (nacl.exceptions.BadSignatureError, ValueError):
        return False
    return True


def public_key(key_id: str | None = None) -> str:
    """A verify key, base64, for publishing (docs/deploy.md, docs/evidence.md)."""
    keys = service_keys()
    return base64.b64encode(bytes(keys.verify[key_id or keys.key_id])).decode()
