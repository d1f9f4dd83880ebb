"""The public key an evidence bundle is sealed to, as its recipient gives it, and the fingerprint both sides compare.

Two forms are accepted, both an X25519 public key (32 bytes):
- base64 (standard or URL-safe, padding optional), as PyNaCl prints ``bytes(PrivateKey(...).public_key)``
  encoded, and as docs/evidence.md's script prints it;
- an age X25519 recipient (``age1…``, Bech32 with the human-readable part "age", BIP 173): age's public keys
  are X25519 keys, so the key inside is used as it is. The bundle is not an age file, though: the recipient opens it
  with docs/evidence.md's script, which reads their age identity (``AGE-SECRET-KEY-1…``) as well.

The fingerprint is the SHA-256 of the 32 key bytes, in groups of four hexadecimal digits: the page shows it, the
approving supervisor checks it with the recipient by telephone, and the recipient's script prints the same.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from core import crypto

BASE64 = "base64"
AGE = "age"
FORMATS = {BASE64: "X25519 public key (base64)", AGE: "age X25519 recipient"}

AGE_HRP = "age"
AGE_IDENTITY_HRP = "age-secret-key-"


class KeyRefused(ValueError):
    """Not a public key the bundle can be sealed to; the message says what to do, in the page's words."""


@dataclass(frozen=True)
class RecipientKey:
    raw: bytes
    format: str

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.raw)


def fingerprint(raw: bytes) -> str:
    """The SHA-256 of the key's bytes, as 16 groups of 4 hexadecimal digits."""
    digest = hashlib.sha256(raw).hexdigest()
    return " ".join(digest[index : index + 4] for index in range(0, len(digest), 4))


# --- Bech32 (BIP 173), for age's keys --------------------------------------------------------------------

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
# The checksum constant of Bech32; Bech32m (BIP 350) uses 0x2BC830A3, which age does not.
_BECH32_CONSTANT = 1


class Bech32Error(ValueError):
    pass


def _polymod(values: list[int]) -> int:
    checksum = 1
    for value in values:
        top = checksum >> 25
        checksum = (checksum & 0x1FFFFFF) << 5 ^ value
        for index, generator in enumerate(_GENERATOR):
            if (top >> index) & 1:
                checksum ^= generator
    return checksum


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(character) >> 5 for character in hrp] + [0] + [ord(character) & 31 for character in hrp]


def bech32_decode(text: str) -> tuple[str, list[int]]:
    """The human-readable part (lower case) and the 5-bit data of a Bech32 string, checksum removed. Raises
    Bech32Error for a string that is not one: mixed case, a character outside the alphabet, no separator, a
    checksum that does not hold. (BIP 173's 90-character limit is not applied: age does not apply it.)"""
    if not text or any(ord(character) < 33 or ord(character) > 126 for character in text):
        raise Bech32Error("Bech32 is printable ASCII only")
    if text.lower() != text and text.upper() != text:
        raise Bech32Error("Bech32 is all lower case or all upper case")
    text = text.lower()
    separator = text.rfind("1")
    if separator < 1 or separator + 7 > len(text):
        raise Bech32Error("No human-readable part, or a checksum too short")
    hrp, data = text[:separator], text[separator + 1 :]
    if any(character not in CHARSET for character in data):
        raise Bech32Error("A character outside Bech32's alphabet")
    values = [CHARSET.index(character) for character in data]
    if _polymod(_hrp_expand(hrp) + values) != _BECH32_CONSTANT:
        raise Bech32Error("The checksum does not hold")
    return hrp, values[:-6]


def five_to_eight(values: list[int]) -> bytes:
    """5-bit groups to bytes, refusing leftover bits that are not zero padding (BIP 173's convertbits)."""
    accumulator, bits, out = 0, 0, bytearray()
    for value in values:
        accumulator = (accumulator << 5) | value
        bits += 5
        while bits >= 8:
            bits -= 8
            out.append((accumulator >> bits) & 0xFF)
    if bits >= 5 or (accumulator << (8 - bits)) & 0xFF:
        raise Bech32Error("Padding that is not zero")
    return bytes(out)


# --- what the page accepts -------------------------------------------------------------------------------

KEY_MAX = 200
_SPACE = re.compile(r"\s+")


def _usable(raw: bytes) -> bytes:
    try:
        crypto.seal_to_public_key(raw, b"\0")
    except ValueError:
        raise KeyRefused(
            "This key cannot be used: it is not a real X25519 public key. Ask the recipient for their public key again"
        ) from None
    return raw


def recipient_key_parse(text: str) -> RecipientKey:
    """The recipient's key as typed or pasted. Raises KeyRefused with what to do."""
    cleaned = _SPACE.sub("", text or "")
    if not cleaned:
        raise KeyRefused("Enter the recipient's public key")
    if len(cleaned) > KEY_MAX:
        raise KeyRefused("The public key is too long: paste only the key, a base64 X25519 key or an age1 recipient")
    lowered = cleaned.lower()
    if lowered.startswith(AGE_IDENTITY_HRP):
        raise KeyRefused(
            "This is a private key (an age identity), which must never leave the recipient: ask them for "
            "their public key, which starts age1, and to make a new key pair"
        )
    if lowered.startswith(AGE_HRP + "1"):
        try:
            hrp, values = bech32_decode(cleaned)
            raw = five_to_eight(values)
        except Bech32Error:
            raise KeyRefused("This age recipient is not valid: check it was copied whole, with nothing added") from None
        if hrp != AGE_HRP or len(raw) != crypto.PUBLIC_KEY_BYTES:
            raise KeyRefused("This is not an age X25519 recipient: it must start age1 and hold a 32-byte key")
        return RecipientKey(raw=_usable(raw), format=AGE)
    try:
        standard = cleaned.replace("-", "+").replace("_", "/")
        raw = base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise KeyRefused(
            "The public key must be a base64 X25519 key (44 characters, often ending =) or an age1 recipient"
        ) from None
    if len(raw) != crypto.PUBLIC_KEY_BYTES:
        raise KeyRefused(
            f"The public key must be 32 bytes long, and this one is {len(raw)}: ask the recipient for their X25519 "
            "public key"
        )
    return RecipientKey(raw=_usable(raw), format=BASE64)
