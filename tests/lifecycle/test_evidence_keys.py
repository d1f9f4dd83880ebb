"""The recipient's public key as given (base64 X25519 or an age recipient), against published test vectors."""

from __future__ import annotations

import base64

import pytest
from nacl.public import PrivateKey

from core import crypto
from lifecycle.recipient_keys import (
    AGE,
    BASE64,
    Bech32Error,
    KeyRefused,
    bech32_decode,
    fingerprint,
    five_to_eight,
    recipient_key_parse,
)

# age's specification (age-encryption.org/v1): the key pair whose private key is 32 bytes of 0x42.
AGE_RECIPIENT = "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj"
AGE_IDENTITY = "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX"
PRIVATE = PrivateKey(bytes([0x42]) * 32)
PUBLIC = bytes(PRIVATE.public_key)


def test_an_age_recipient_is_its_x25519_public_key() -> None:
    key = recipient_key_parse(AGE_RECIPIENT)
    assert (key.raw, key.format) == (PUBLIC, AGE)
    assert recipient_key_parse(AGE_RECIPIENT.upper()).raw == PUBLIC  # Bech32 may be all upper case
    hrp, values = bech32_decode(AGE_IDENTITY)
    assert (hrp, five_to_eight(values)) == ("age-secret-key-", bytes([0x42]) * 32)


# BIP 173's own test vectors.
@pytest.mark.parametrize(
    "valid",
    [
        "A12UEL5L",
        "a12uel5l",
        "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
        "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
        "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
        "?1ezyfcl",
    ],
)
def test_bip_173_valid_strings_decode(valid: str) -> None:
    hrp, _ = bech32_decode(valid)
    assert hrp == valid.lower()[: valid.lower().rfind("1")]


@pytest.mark.parametrize(
    "invalid",
    ["10a06t8", "1qzzfhee", "x1b4n0q5v", "li1dgmt3", "A1G7SGD8", "a12UEL5L", "de1lg7wt\xff", "pzry9x0s0muk"],
)
def test_bip_173_invalid_strings_are_refused(invalid: str) -> None:
    with pytest.raises(Bech32Error):
        bech32_decode(invalid)


@pytest.mark.parametrize(
    "written",
    [
        base64.b64encode(PUBLIC).decode(),
        base64.b64encode(PUBLIC).decode().rstrip("="),
        base64.urlsafe_b64encode(PUBLIC).decode(),
        "  " + base64.b64encode(PUBLIC).decode()[:20] + "\n" + base64.b64encode(PUBLIC).decode()[20:] + "\n",
    ],
)
def test_base64_is_accepted_in_its_usual_forms(written: str) -> None:
    key = recipient_key_parse(written)
    assert (key.raw, key.format) == (PUBLIC, BASE64)


@pytest.mark.parametrize(
    ("written", "says"),
    [
        ("", "Enter the recipient's public key"),
        ("not base64!", "must be a base64 X25519 key"),
        (base64.b64encode(PUBLIC + b"x").decode(), "must be 32 bytes long, and this one is 33"),
        (base64.b64encode(bytes(32)).decode(), "cannot be used"),
        (AGE_IDENTITY, "This is a private key"),
        (AGE_RECIPIENT[:-1] + "q", "age recipient is not valid"),
        ("x" * 300, "too long"),
    ],
)
def test_what_is_not_a_usable_public_key_is_refused_with_what_to_do(written: str, says: str) -> None:
    with pytest.raises(KeyRefused, match=says):
        recipient_key_parse(written)


def test_the_fingerprint_is_the_sha256_of_the_key_in_groups_of_four() -> None:
    shown = fingerprint(PUBLIC)
    assert shown == "82da b32a 9aed ffb4 925a 762f 879f 6fdd 05b8 ba0a a825 a698 6a85 b751 ff3b 21e4"
    assert fingerprint(bytes(PrivateKey(bytes([0x24]) * 32).public_key)) != shown


def test_sealing_to_a_public_key_opens_with_its_private_key_only() -> None:
    from nacl.exceptions import CryptoError
    from nacl.public import SealedBox

    sealed = crypto.seal_to_public_key(PUBLIC, b"file key")
    assert SealedBox(PRIVATE).decrypt(sealed) == b"file key"
    with pytest.raises(CryptoError):
        SealedBox(PrivateKey(bytes([0x24]) * 32)).decrypt(sealed)
    with pytest.raises(ValueError, match="32 bytes"):
        crypto.seal_to_public_key(PUBLIC[:31], b"file key")
