"""Receipts of disclosure: their signed text block, its canonical form, the key that signs it and the keys
published to check it (docs/receipts.md).

A receipt is one JSON object. Its signature (``sig``, base64url without padding) is an Ed25519 signature
made with PyNaCl over the RFC 8785 canonical form (the pinned ``rfc8785`` package) of the object without
``sig``. Every value in a receipt is free of whitespace (codes, days, hex digests), so a verifier removes
every whitespace character first: the block survives line breaks added by printing, a browser's re-saving
and careful retyping. The version (``v``) lets later fields join: a verifier checks whatever the object holds,
so a receipt made before a field existed still verifies.

The signing key (RECEIPT_SIGNING_KEY, ``key_id:base64`` of the 32-byte seed) is held by the workers alone,
never by the public tier, so a compromised public tier cannot mint receipts for disclosures never made. It is
separate from every sealing key and from the service signing key (core.signing). The public halves, with the
days each key was valid (RECEIPT_PUBLIC_KEYS), are what every tier reads and /receipts/keys publishes: a
receipt signed with a key since rotated still verifies by its published half.

Core imports no app: which answers a receipt fingerprints is reports.receipts' to say.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

import nacl.exceptions
import rfc8785
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from nacl.signing import SigningKey, VerifyKey

from core import crypto

FORMAT_VERSION = 1
# The versions this code can check. A later version adds fields; the signature covers them all either way.
KNOWN_VERSIONS = frozenset({1})
SIGNATURE_FIELD = "sig"
SALT_BYTES = 16
# Longer pasted text than this is not a receipt (a receipt with ten files is about 1,500 characters).
MAX_BLOCK_CHARACTERS = 20_000
# Quotation marks a word processor or a retyping may have put in for '"'.
_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"', "\uff02": '"'})
_WHITESPACE = re.compile(r"\s+")
_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_HEX = re.compile(r"^[0-9a-f]+$")


class NotAReceipt(ValueError):
    """The text is not a receipt that can be read (what is wrong is in the message, in plain words)."""


# --- the canonical form ------------------------------------------------------------------------------------


def canonical_text(text: str) -> str:
    """A free-text answer as its digest covers it: cleaned as every answer is stored (core.text: control
    characters but newline and tab removed, so CRLF becomes LF, then outer whitespace stripped) and
    NFC-normalised. The same for the text stored and the text pasted to check it."""
    cleaned = "".join(character for character in text if character in "\n\t" or character >= " ").strip()
    return unicodedata.normalize("NFC", cleaned)


def _nfc(value: Any) -> Any:
    if isinstance(value, str):
        return canonical_text(value)
    if isinstance(value, dict):
        return {canonical_text(str(key)): _nfc(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_nfc(item) for item in value]
    return value


def canonical_json(value: Any) -> bytes:
    """RFC 8785 (JSON canonicalisation) of ``value``, its strings NFC-normalised as canonical_text does."""
    return bytes(rfc8785.dumps(_nfc(value)))


def new_salt() -> bytes:
    return secrets.token_bytes(SALT_BYTES)


def salted_digest(salt: bytes, data: bytes) -> str:
    """SHA-256 of the salt followed by the data, lower-case hex."""
    return hashlib.sha256(salt + data).hexdigest()


def text_fingerprint(text: str, salt: bytes | None = None) -> dict[str, str]:
    """``{"salt": hex, "sha256": hex}`` of one free-text answer (a new random salt unless one is given)."""
    salt = salt if salt is not None else new_salt()
    return {"salt": salt.hex(), "sha256": salted_digest(salt, canonical_text(text).encode("utf-8"))}


def object_fingerprint(value: Any, salt: bytes | None = None) -> dict[str, str]:
    """``{"salt": hex, "sha256": hex}`` of a JSON value in its canonical form (the whole submission)."""
    salt = salt if salt is not None else new_salt()
    return {"salt": salt.hex(), "sha256": salted_digest(salt, canonical_json(value))}


def fingerprint_matches(fingerprint: object, data: bytes) -> bool:
    if not isinstance(fingerprint, dict):
        return False
    salt, digest = fingerprint.get("salt"), fingerprint.get("sha256")
    if not isinstance(salt, str) or not isinstance(digest, str) or not _HEX.match(salt) or len(salt) % 2:
        return False
    # As bytes: an altered receipt's digest may hold any character, which compare_digest refuses in a str.
    return hmac.compare_digest(salted_digest(bytes.fromhex(salt), data).encode(), digest.encode("utf-8", "replace"))


def signed_bytes(receipt: dict[str, Any]) -> bytes:
    """What the signature covers: the canonical form of the receipt without its signature."""
    return canonical_json({key: value for key, value in receipt.items() if key != SIGNATURE_FIELD})


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    """Strict: only the one spelling of each value (no padding, no spare bits), or ValueError."""
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as error:
        raise ValueError("not base64url") from error
    if _b64url(data) != text:
        raise ValueError("not the canonical base64url of its bytes")
    return data


def block_text(receipt: dict[str, Any]) -> str:
    """The printed block: the signed receipt as compact JSON (its canonical form, with its signature)."""
    return canonical_json(receipt).decode("ascii")


def parse_block(text: str) -> dict[str, Any]:
    """A receipt from pasted or uploaded text: every whitespace character removed, curly quotes taken for
    straight ones, and the first JSON object with a signature taken, so that text around the block (the
    receipt file's own lines, a saved page's) does no harm. Raises NotAReceipt."""
    if len(text) > MAX_BLOCK_CHARACTERS:
        raise NotAReceipt("This is too long to be a receipt. Paste only the receipt's text block.")
    compact = _WHITESPACE.sub("", text.translate(_QUOTES))
    starts = [index for index, character in enumerate(compact) if character == "{"][:_MAX_STARTS]
    if not starts or "}" not in compact:
        raise NotAReceipt("This is not a receipt. A receipt's text block starts with { and ends with }.")
    decoder = json.JSONDecoder(object_pairs_hook=_no_duplicates)
    for start in starts:
        try:
            found, _ = decoder.raw_decode(compact, start)
        except (json.JSONDecodeError, RecursionError, _Duplicate):
            continue
        if isinstance(found, dict) and SIGNATURE_FIELD in found:
            return found
    raise NotAReceipt("This receipt cannot be read: part of it is missing or has been changed.")


# How many "{" a text may hold before its receipt block (a receipt file has none before it).
_MAX_STARTS = 50


class _Duplicate(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise _Duplicate(key)
        found[key] = value
    return found


# --- the keys ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublishedKey:
    """A receipt key's public half and the days it signed receipts (``valid_to`` None: still in use)."""

    key_id: str
    public_key: str  # base64 of the 32-byte Ed25519 verify key
    valid_from: date
    valid_to: date | None

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def verify_key(self) -> VerifyKey:
        return VerifyKey(base64.b64decode(self.public_key, validate=True))

    def as_dict(self) -> dict[str, str | None]:
        return {
            "key_id": self.key_id,
            "algorithm": "Ed25519",
            "public_key": self.public_key,
            "valid_from": self.valid_from.isoformat(),
            "valid_to": self.valid_to.isoformat() if self.valid_to else None,
        }


@dataclass(frozen=True)
class ReceiptKeys:
    key_id: str
    signing: SigningKey | None
    published: dict[str, PublishedKey]


# Development keys are valid from this day, so that tests travelling back in time still verify.
DEV_VALID_FROM = date(2020, 1, 1)


def _parse_signing(entry: str) -> tuple[str, SigningKey]:
    key_id, _, encoded = entry.strip().partition(":")
    if not _KEY_ID.match(key_id) or not encoded:
        raise ImproperlyConfigured("RECEIPT_SIGNING_KEY is written as key_id:base64 of the 32-byte seed")
    try:
        seed = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ImproperlyConfigured("RECEIPT_SIGNING_KEY is not base64") from error
    if len(seed) != 32:
        raise ImproperlyConfigured("RECEIPT_SIGNING_KEY's seed is 32 bytes")
    return key_id, SigningKey(seed)


def parse_public_keys(value: str) -> dict[str, PublishedKey]:
    """RECEIPT_PUBLIC_KEYS: a JSON list of ``{"key_id", "public_key", "valid_from", "valid_to"}`` (days as
    YYYY-MM-DD; ``valid_to`` null for the key in use)."""
    try:
        entries = json.loads(value)
        published: dict[str, PublishedKey] = {}
        for entry in entries:
            key = PublishedKey(
                key_id=str(entry["key_id"]),
                public_key=str(entry["public_key"]),
                valid_from=date.fromisoformat(str(entry["valid_from"])),
                valid_to=date.fromisoformat(str(entry["valid_to"])) if entry.get("valid_to") else None,
            )
            if not _KEY_ID.match(key.key_id) or key.key_id in published:
                raise ValueError(f"key id {key.key_id!r} is not a key id, or is given twice")
            key.verify_key()
            published[key.key_id] = key
    except (ValueError, TypeError, KeyError, binascii.Error, nacl.exceptions.CryptoError) as error:
        raise ImproperlyConfigured(f"RECEIPT_PUBLIC_KEYS is not a list of receipt keys: {error}") from error
    return published


def _dev_material() -> tuple[str, str]:
    material = json.loads(crypto.ensure_dev_keys().read_text())
    return str(material["receipt_signing"]), str(material.get("receipt_valid_from") or DEV_VALID_FROM.isoformat())


@cache
def receipt_keys() -> ReceiptKeys:
    """The signing key (workers only: never in the public tier, nor the staff tier in production) and the
    published public keys. In development both come from the development key file."""
    signing_value = settings.RECEIPT_SIGNING_KEY
    published_value = settings.RECEIPT_PUBLIC_KEYS
    dev_from: date | None = None
    if not settings.PRODUCTION and not signing_value and not published_value:
        signing_value, valid_from = _dev_material()
        dev_from = date.fromisoformat(valid_from)
    published = parse_public_keys(published_value) if published_value else {}
    signing: SigningKey | None = None
    key_id = ""
    if signing_value:
        key_id, loaded = _parse_signing(signing_value)
        if dev_from is not None:
            public = base64.b64encode(bytes(loaded.verify_key)).decode("ascii")
            published[key_id] = PublishedKey(key_id=key_id, public_key=public, valid_from=dev_from, valid_to=None)
        if settings.HELPLINE_ROLE in {"worker", "combined"}:
            signing = loaded
    return ReceiptKeys(key_id=key_id, signing=signing, published=published)


def can_sign() -> bool:
    return receipt_keys().signing is not None


def generate_receipt_key(key_id: str) -> str:
    """A new signing key, ``key_id:base64`` of its seed (docs/deploy.md, "The receipt signing key")."""
    return f"{key_id}:{base64.b64encode(bytes(SigningKey.generate())).decode('ascii')}"


def public_half(signing_entry: str) -> str:
    """The base64 verify key of a ``key_id:base64`` signing key, for RECEIPT_PUBLIC_KEYS."""
    _, key = _parse_signing(signing_entry)
    return base64.b64encode(bytes(key.verify_key)).decode("ascii")


def published_keys() -> list[PublishedKey]:
    """Every published key, the newest first."""
    return sorted(receipt_keys().published.values(), key=lambda key: key.valid_from, reverse=True)


# --- signing and checking ---------------------------------------------------------------------------------


def sign(receipt: dict[str, Any]) -> dict[str, Any]:
    """The receipt with its key id (``key``) and signature (``sig``). Workers only: raises KeyUnavailable
    in a process that holds no receipt signing key (the public tier never does)."""
    keys = receipt_keys()
    if keys.signing is None:
        raise crypto.KeyUnavailable("This process holds no receipt signing key")
    published = keys.published.get(keys.key_id)
    if published is None or published.verify_key() != keys.signing.verify_key:
        # A receipt nobody could check: refuse to make it until the key's public half is published.
        raise ImproperlyConfigured(f"Receipt key {keys.key_id!r} is not in RECEIPT_PUBLIC_KEYS")
    unsigned = {**{key: value for key, value in receipt.items() if key != SIGNATURE_FIELD}, "key": keys.key_id}
    for value in _leaves(unsigned):
        if isinstance(value, str) and _WHITESPACE.search(value):
            raise ValueError("A receipt's values hold no whitespace")
    signature = keys.signing.sign(signed_bytes(unsigned)).signature
    return {**unsigned, SIGNATURE_FIELD: _b64url(signature)}


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for key, item in value.items() for leaf in (key, *_leaves(item))]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


@dataclass(frozen=True)
class Verdict:
    """Whether a receipt is genuine and unaltered: ``problem`` says why not, in plain words."""

    genuine: bool
    problem: str = ""
    key: PublishedKey | None = None


def _day(value: object) -> date | None:
    if not isinstance(value, str) or not _DAY.match(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def verify(receipt: dict[str, Any]) -> Verdict:
    """Check a parsed receipt's signature with the published key it names, and that the key was valid on the
    day it was issued. Never raises for what a receipt holds."""
    key = receipt_keys().published.get(str(receipt.get("key", "")))
    if key is None:
        return Verdict(False, "It names a signing key the helpline has never published.")
    signature = receipt.get(SIGNATURE_FIELD)
    try:
        raw = _unb64url(signature) if isinstance(signature, str) else b""
        key.verify_key().verify(signed_bytes(receipt), raw)
    except (ValueError, TypeError, nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError):
        return Verdict(False, "Its signature does not match: the receipt has been changed, or was not made by us.")
    issued, disclosed = _day(receipt.get("issued")), _day(receipt.get("disclosed"))
    if issued is None or disclosed is None or disclosed > issued:
        return Verdict(False, "Its dates cannot be right.", key)
    if not key.valid_on(issued):
        return Verdict(False, "It was signed with a key that was not in use on the day it says it was issued.", key)
    if receipt.get("v") not in KNOWN_VERSIONS:
        return Verdict(False, "It is a kind of receipt this service does not know.", key)
    return Verdict(True, "", key)
