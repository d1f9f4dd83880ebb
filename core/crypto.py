"""Content encryption: the promise that what people wrote is unreadable in the database.

Every report has a random data key. Its content is sealed with that key (XSalsa20-Poly1305 secretbox).
The data key is stored twice: sealed to the helpline's X25519 public key (a sealed box, which only the
staff service and workers can open) and sealed with a key derived from the reporter's access code
(Argon2id, parameters stored per row). The public service holds only the public key, so a compromise of
it cannot read stored reports. What is sealed with a data key is first padded to a bucket (core.padding),
so the stored length does not give away the length of what was written.

Other apps use this module (and core.secretstream, which seals files as streams); nothing else touches PyNaCl.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import nacl.exceptions
import nacl.pwhash
import nacl.utils
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from nacl.public import PrivateKey, PublicKey, SealedBox
from nacl.secret import SecretBox

from core import padding

KEY_BYTES = SecretBox.KEY_SIZE
SALT_BYTES = nacl.pwhash.argon2id.SALTBYTES


class KeyUnavailable(Exception):
    """This process does not hold the private key needed (e.g. it is the public service)."""


# --- keys ---------------------------------------------------------------------------------------


# A keyed-hash key configured without an id (HELPLINE_HMAC_KEY as bare base64, the form before keys had ids)
# has this one: the organisation hashes made before ids existed were made with it (reports migration 0011).
UNNAMED_HMAC_KEY_ID = "h0"
_HMAC_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,16}$")


@dataclass(frozen=True)
class Keyring:
    public_key_id: str
    public_key: PublicKey
    private_keys: dict[str, PrivateKey]
    # The keys of keyed hashes by id, the one new hashes are made with first (HELPLINE_HMAC_KEYS).
    hmac_keys: dict[str, bytes]

    @property
    def hmac_key_id(self) -> str:
        return next(iter(self.hmac_keys))

    @property
    def hmac_key(self) -> bytes:
        return self.hmac_keys[self.hmac_key_id]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def _split_key(entry: str) -> tuple[str, bytes]:
    key_id, _, encoded = entry.strip().partition(":")
    if not key_id or not encoded:
        raise ImproperlyConfigured("Keys are written as key_id:base64")
    return key_id, _unb64(encoded)


def generate_key_material(key_id: str = "dev1") -> dict[str, str]:
    private = PrivateKey.generate()
    return {
        "public": f"{key_id}:{_b64(bytes(private.public_key))}",
        "private": f"{key_id}:{_b64(bytes(private))}",
        # The HMAC key carries the same id: what it hashes records it (organisation hashes, throttle keys).
        "hmac": f"{key_id}:{_b64(nacl.utils.random(32))}",
        "otp": _b64(nacl.utils.random(SecretBox.KEY_SIZE)),
        # The service signing key (core.signing): manifests, the shred log, evidence bundles.
        "service_signing": f"{key_id}:{_b64(nacl.utils.random(32))}",
        # The receipt signing key (core.receipts): the workers' alone; development keys are valid from 2020.
        "receipt_signing": f"{key_id}:{_b64(nacl.utils.random(32))}",
        "receipt_valid_from": "2020-01-01",
    }


def ensure_dev_keys() -> Path:
    """Create the git-ignored development key file once, and add any key a newer version needs (an
    existing key is never replaced: reports sealed to it must stay readable). Production never generates
    keys."""
    if settings.PRODUCTION:
        raise ImproperlyConfigured("Production never generates keys: configure HELPLINE_PUBLIC_KEY etc.")
    path = Path(settings.HELPLINE_KEY_FILE)
    existing: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    material = {**generate_key_material(), **existing}
    if material != existing:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(material, indent=2))
        tmp.chmod(0o600)
        tmp.replace(path)
    return path


def parse_hmac_keys(value: str) -> dict[str, bytes]:
    """``id:base64[,id:base64…]``, the first the one new hashes are made with; a bare ``base64`` entry is
    the key of the form before ids (UNNAMED_HMAC_KEY_ID)."""
    keys: dict[str, bytes] = {}
    for entry in value.split(","):
        if not entry.strip():
            continue
        key_id, encoded = entry.strip().rpartition(":")[::2]
        key_id = key_id or UNNAMED_HMAC_KEY_ID
        if not _HMAC_KEY_ID.match(key_id):
            raise ImproperlyConfigured(f"HMAC key ids are 1 to 16 letters, digits, '.', '_' or '-', not {key_id!r}")
        if key_id in keys:
            raise ImproperlyConfigured(f"HMAC key id {key_id!r} is configured twice")
        keys[key_id] = _unb64(encoded)
    if not keys:
        raise ImproperlyConfigured("No HMAC key is configured")
    return keys


def configured_hmac_keys() -> str:
    """HELPLINE_HMAC_KEYS, or else the single HELPLINE_HMAC_KEY."""
    if settings.HELPLINE_HMAC_KEYS and settings.HELPLINE_HMAC_KEY:
        raise ImproperlyConfigured("Set HELPLINE_HMAC_KEYS or HELPLINE_HMAC_KEY, not both")
    return str(settings.HELPLINE_HMAC_KEYS or settings.HELPLINE_HMAC_KEY)


@cache
def keyring() -> Keyring:
    public = settings.HELPLINE_PUBLIC_KEY
    private = settings.HELPLINE_PRIVATE_KEYS
    hmac_keys = configured_hmac_keys()
    if (not public or not hmac_keys) and not settings.PRODUCTION:
        material = json.loads(ensure_dev_keys().read_text())
        if not public:
            public, private = material["public"], material["private"]
        hmac_keys = hmac_keys or material["hmac"]
    if not public or not hmac_keys:
        raise ImproperlyConfigured("HELPLINE_PUBLIC_KEY and HELPLINE_HMAC_KEYS (or HELPLINE_HMAC_KEY) are required")
    public_id, public_bytes = _split_key(public)
    private_keys: dict[str, PrivateKey] = {}
    # The public service never loads a private key, even one that happens to be configured locally.
    if settings.HELPLINE_ROLE != "public" and private:
        for entry in private.split(","):
            key_id, raw = _split_key(entry)
            private_keys[key_id] = PrivateKey(raw)
    return Keyring(
        public_key_id=public_id,
        public_key=PublicKey(public_bytes),
        private_keys=private_keys,
        hmac_keys=parse_hmac_keys(hmac_keys),
    )


def can_decrypt() -> bool:
    return bool(keyring().private_keys)


def loaded_private_key_ids() -> set[str]:
    return set(keyring().private_keys)


# --- data keys and content ----------------------------------------------------------------------


def new_data_key() -> bytes:
    return nacl.utils.random(KEY_BYTES)


# What people wrote is padded to a bucket before it is sealed (core.padding), so a stored ciphertext's
# length says only which bucket its text falls in; opening accepts rows sealed before padding too.


def _seal_padded(data_key: bytes, plaintext: bytes) -> bytes:
    return bytes(SecretBox(data_key).encrypt(padding.pad(plaintext)))


def _open_padded(data_key: bytes, ciphertext: bytes) -> bytes:
    return padding.unpad(bytes(SecretBox(data_key).decrypt(ciphertext)))


def seal_content(data_key: bytes, content: dict[str, object]) -> bytes:
    plaintext = json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return _seal_padded(data_key, plaintext)


def open_content(data_key: bytes, ciphertext: bytes) -> dict[str, object]:
    opened = json.loads(_open_padded(data_key, ciphertext).decode("utf-8"))
    if not isinstance(opened, dict):
        raise ValueError("Sealed content is not an object")
    return opened


def seal_text(data_key: bytes, text: str) -> bytes:
    return _seal_padded(data_key, text.encode("utf-8"))


def open_text(data_key: bytes, ciphertext: bytes) -> str:
    return _open_padded(data_key, ciphertext).decode("utf-8")


def reseal_padded(data_key: bytes, ciphertext: bytes) -> bytes | None:
    """``ciphertext`` sealed again with its plaintext padded (and a new nonce), or None when it is padded
    already. For rows sealed before padding existed; what they say is unchanged. Raises CryptoError for a
    wrong key or a damaged row."""
    opened = bytes(SecretBox(data_key).decrypt(ciphertext))
    if padding.is_padded(opened):
        return None
    return _seal_padded(data_key, opened)


def seal_key_with(data_key: bytes, file_key: bytes) -> bytes:
    """A file's own key (core.secretstream) wrapped with the report's data key (or a draft's key)."""
    return bytes(SecretBox(data_key).encrypt(file_key))


def open_key_with(data_key: bytes, wrapped: bytes) -> bytes:
    """The file key ``seal_key_with`` wrapped. Raises CryptoError for the wrong key."""
    return bytes(SecretBox(data_key).decrypt(wrapped))


def seal_key_for_helpline(data_key: bytes) -> tuple[str, bytes]:
    ring = keyring()
    return ring.public_key_id, bytes(SealedBox(ring.public_key).encrypt(data_key))


def open_key_as_helpline(key_id: str, sealed: bytes) -> bytes:
    private = keyring().private_keys.get(key_id)
    if private is None:
        raise KeyUnavailable(f"No private key {key_id!r} in this process")
    return bytes(SealedBox(private).decrypt(sealed))


# --- sealing to a key someone outside the helpline gave (an evidence bundle's recipient) -------------------

PUBLIC_KEY_BYTES = PublicKey.SIZE


def seal_to_public_key(public_key: bytes, data: bytes) -> bytes:
    """``data`` sealed (an anonymous sealed box) to a given X25519 public key: only its private key opens it,
    and the helpline keeps no way to. For the file key of an evidence bundle. Raises ValueError for bytes that
    are not a usable public key (the wrong length, or a low-order point, with which nothing can be sealed)."""
    if len(public_key) != PUBLIC_KEY_BYTES:
        raise ValueError(f"An X25519 public key is {PUBLIC_KEY_BYTES} bytes")
    try:
        return bytes(SealedBox(PublicKey(public_key)).encrypt(data))
    except nacl.exceptions.CryptoError as error:
        raise ValueError("Not a usable X25519 public key") from error


# --- access codes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class KdfParams:
    opslimit: int
    memlimit: int

    @classmethod
    def current(cls) -> KdfParams:
        return cls(settings.ACCESS_CODE_KDF_OPSLIMIT, settings.ACCESS_CODE_KDF_MEMLIMIT)


@dataclass(frozen=True)
class ReporterWrap:
    salt: bytes
    params: KdfParams
    wrapped_key: bytes


_derivation_slots: threading.BoundedSemaphore | None = None
_slots_lock = threading.Lock()


def _slots() -> threading.BoundedSemaphore:
    # Each derivation takes memlimit bytes: a flood queues here instead of exhausting memory.
    global _derivation_slots
    with _slots_lock:
        if _derivation_slots is None:
            _derivation_slots = threading.BoundedSemaphore(settings.ACCESS_CODE_KDF_CONCURRENCY)
        return _derivation_slots


def derive_access_key(code: str, salt: bytes, params: KdfParams) -> bytes:
    with _slots():
        return bytes(
            nacl.pwhash.argon2id.kdf(
                KEY_BYTES,
                code.encode("utf-8"),
                salt,
                opslimit=params.opslimit,
                memlimit=params.memlimit,
            )
        )


def wrap_key_for_reporter(data_key: bytes, code: str) -> ReporterWrap:
    salt = nacl.utils.random(SALT_BYTES)
    params = KdfParams.current()
    wrapped = bytes(SecretBox(derive_access_key(code, salt, params)).encrypt(data_key))
    return ReporterWrap(salt=salt, params=params, wrapped_key=wrapped)


def unwrap_key_for_reporter(wrap: ReporterWrap, code: str) -> bytes | None:
    """The data key, or None when the code is wrong."""
    key = derive_access_key(code, wrap.salt, wrap.params)
    try:
        return bytes(SecretBox(key).decrypt(wrap.wrapped_key))
    except nacl.exceptions.CryptoError:
        return None


_DUMMY_SALT = b"\x00" * SALT_BYTES


def dummy_derivation() -> None:
    """Spend the time of one derivation, so an unknown reference answers as slowly as a wrong code."""
    derive_access_key("dummy", _DUMMY_SALT, KdfParams.current())


_WORDLISTS = Path(__file__).resolve().parent / "wordlists"
# The EFF large word list exactly as EFF publishes it (core/wordlists/README.md says where from and its hash).
_ACCESS_CODE_WORDLIST = _WORDLISTS / "eff_large_wordlist.txt"
_ACCESS_CODE_BLOCKLIST = _WORDLISTS / "blocklist.txt"


@cache
def accepted_access_code_words() -> tuple[str, ...]:
    """Every word a code may hold on entry: the EFF large list, so codes issued before the curation still open."""
    text = _ACCESS_CODE_WORDLIST.read_text("utf-8")
    words = {line.split()[-1] for line in text.splitlines() if line.strip()}
    # Hyphens separate words on entry, so words that contain one are left out.
    return tuple(sorted(word for word in words if word.isalpha() and word.isascii()))


@cache
def blocked_access_code_words() -> frozenset[str]:
    """The reviewed block list (core/wordlists/blocklist.txt): words new codes never use."""
    lines = _ACCESS_CODE_BLOCKLIST.read_text("utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


@cache
def access_code_words() -> tuple[str, ...]:
    """The words new codes are drawn from: the accepted words minus the block list."""
    blocked = blocked_access_code_words()
    return tuple(word for word in accepted_access_code_words() if word not in blocked)


@cache
def _word_set() -> frozenset[str]:
    return frozenset(accepted_access_code_words())


def generate_access_code(words: int | None = None) -> str:
    count = words or settings.ACCESS_CODE_WORDS
    vocabulary = access_code_words()
    return " ".join(secrets.choice(vocabulary) for _ in range(count))


def normalise_access_code(text: str) -> str | None:
    """Lower case, words separated by single spaces; hyphens and extra spaces accepted. None if malformed."""
    if len(text) > 200:
        return None
    words = [word for word in re.split(r"[\s\-]+", text.strip().lower()) if word]
    if len(words) < settings.ACCESS_CODE_WORDS or len(words) > 12:
        return None
    # Any word of the full list, blocked ones included: a code issued before the curation still opens.
    known = _word_set()
    if not all(word in known for word in words):
        return None
    return " ".join(words)


# --- keyed hashes ---------------------------------------------------------------------------------
#
# Every keyed hash is made with one of the HMAC keys (HELPLINE_HMAC_KEYS), and what is kept of it names that
# key: an organisation hash beside its key id (reports.Report.organisation_hash_key_id), a throttle key or a
# stored digest as ``key_id:digest``. So a rotation (lifecycle.rotation) can run while the service works:
# new hashes are made with the first key, and what was made with an earlier one is still recognised while
# that key is configured. The audit trail's chain has a key of its own (audit.keys), never one of these.


def hmac_key_id() -> str:
    """The id of the HMAC key new hashes are made with."""
    return keyring().hmac_key_id


def hmac_key_ids() -> list[str]:
    """The ids of every configured HMAC key, the current one first."""
    return list(keyring().hmac_keys)


def _hmac_secret(key_id: str | None) -> bytes:
    ring = keyring()
    secret = ring.hmac_keys.get(key_id or ring.hmac_key_id)
    if secret is None:
        raise KeyUnavailable(f"No HMAC key {key_id!r} in this process")
    return secret


def _keyed_hash(purpose: str, value: str, key_id: str | None = None) -> str:
    key = hashlib.blake2b(_hmac_secret(key_id), digest_size=32, person=purpose.encode()[:16]).digest()
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def normalise_organisation(name: str) -> str:
    folded = unicodedata.normalize("NFKC", name).casefold()
    folded = re.sub(r"['\u2019`]", "", folded)  # "Children's" and "Childrens" are the same name
    folded = re.sub(r"[^\w\s]", " ", folded)
    words = [w for w in folded.split() if w not in {"the", "ltd", "limited", "plc", "and"}]
    return " ".join(words)


def organisation_hash(name: str, key_id: str | None = None) -> str:
    """A keyed hash of the organisation's normalised name: the same organisation gives the same hash under
    the same key (the current one unless ``key_id`` names another). Kept beside the key's id."""
    return _keyed_hash("organisation", normalise_organisation(name), key_id)


def organisation_hashes(name: str) -> list[str]:
    """The organisation's hash under every configured HMAC key, to find it during a rotation."""
    return [organisation_hash(name, key_id) for key_id in hmac_key_ids()]


def client_hash(address: str) -> str:
    """A keyed hash of a client address, for throttling. The address itself is never kept."""
    return _keyed_hash("client-address", address)


# Stored keyed digests (throttle counters, idempotency keys, enrolment codes) fit 64 characters with their key id.
STORED_DIGEST_LENGTH = 64


def throttle_key(*parts: str, key_id: str | None = None) -> str:
    """``key_id:digest`` of ``parts``, 64 characters in all, under the current HMAC key (or ``key_id``'s)."""
    key_id = key_id or hmac_key_id()
    digest = _keyed_hash("throttle", "\x1f".join(parts), key_id)
    return f"{key_id}:{digest[: STORED_DIGEST_LENGTH - len(key_id) - 1]}"


def hmac_key_id_of(stored: str) -> str:
    """The id of the HMAC key a stored digest was made with (one without an id: the unnamed key's)."""
    key_id, separator, _ = stored.partition(":")
    return key_id if separator else UNNAMED_HMAC_KEY_ID


def throttle_keys_every(*parts: str) -> list[str]:
    """``parts``' stored digest under every configured HMAC key, the current one first, to look up a row
    made before a rotation. Under the unnamed key, the form before ids too (a bare 64-character digest)."""
    found = [throttle_key(*parts, key_id=key_id) for key_id in hmac_key_ids()]
    if UNNAMED_HMAC_KEY_ID in keyring().hmac_keys:
        found.append(_keyed_hash("throttle", "\x1f".join(parts), UNNAMED_HMAC_KEY_ID))
    return found


def throttle_key_matches(stored: str, *parts: str) -> bool:
    """Whether a stored digest is that of ``parts``, under the key it names. False when that key is no longer
    configured: what it made can no longer be recognised."""
    key_id = hmac_key_id_of(stored)
    if key_id not in keyring().hmac_keys:
        return False
    if ":" in stored:
        expected = throttle_key(*parts, key_id=key_id)
    else:
        expected = _keyed_hash("throttle", "\x1f".join(parts), key_id)
    return hmac.compare_digest(stored, expected)


# --- second-factor secrets --------------------------------------------------------------------------


@cache
def otp_key() -> bytes:
    """The key that seals staff authenticator secrets at rest (OTP_KEY), never a content key."""
    value = settings.OTP_KEY
    if not value and not settings.PRODUCTION:
        value = json.loads(ensure_dev_keys().read_text())["otp"]
    if not value:
        raise ImproperlyConfigured("OTP_KEY (or OTP_KEY_FILE) is required to read staff authenticators")
    key = _unb64(value)
    if len(key) != SecretBox.KEY_SIZE:
        raise ImproperlyConfigured("OTP_KEY must be 32 bytes, base64-encoded")
    return key


def seal_otp_secret(raw: bytes) -> str:
    """An authenticator secret sealed for the database: base64 text (80 characters for 20 bytes)."""
    return _b64(bytes(SecretBox(otp_key()).encrypt(raw)))


def open_otp_secret(sealed: str) -> bytes:
    return bytes(SecretBox(otp_key()).decrypt(_unb64(sealed)))
