"""Padding inside sealed content, so that a ciphertext's length says only which bucket its text falls in.

A secretbox ciphertext is exactly its plaintext plus 40 bytes (a 24-byte nonce and a 16-byte tag): sealed
as it was written, a message's stored length is its length. Before sealing, ``pad`` frames the plaintext
and fills it up to a bucket (``MIN_BUCKET`` bytes, then each power of two), so that whoever reads the
database learns only that a concern is "under 512 bytes" or "between 2 and 4 KiB".

The format, inside the ciphertext::

    0xFF | plaintext | 0x80 | 0x00 ... 0x00      (ISO/IEC 7816-4 padding: libsodium's sodium_pad)

The leading ``FORMAT_PADDED`` byte is what tells a padded plaintext from one sealed before padding
existed: those are UTF-8 (JSON objects or text), and no UTF-8 text starts with 0xFF. So rows sealed
before padding still open (``unpad`` gives them back as they are), and the bucket sizes can change later
without a new format: the 0x80 marker, not the bucket, says where the text ends. Another leading byte
that cannot start UTF-8 (0xFE, 0xFD, ...) is free for a later format.

Nothing here knows what the plaintext is; core.crypto pads in seal_content/seal_text and unpads when
opening, so every caller gets both.
"""

from __future__ import annotations

from nacl.bindings import sodium_pad, sodium_unpad

# Never the first byte of UTF-8 text, so never the first byte of anything sealed before padding.
FORMAT_PADDED = b"\xff"
# The smallest padded plaintext; above it, each power of two.
MIN_BUCKET = 512
# XSalsa20-Poly1305 secretbox: nonce (24) and authenticator (16) stored with every ciphertext.
SEAL_OVERHEAD = 40


def bucket_for(length: int) -> int:
    """The size a plaintext of ``length`` bytes is padded to (its framing byte and 0x80 marker included)."""
    needed = length + len(FORMAT_PADDED) + 1
    return max(MIN_BUCKET, 1 << (needed - 1).bit_length())


def pad(plaintext: bytes) -> bytes:
    """``plaintext`` framed and padded to its bucket: exactly ``bucket_for(len(plaintext))`` bytes."""
    # sodium_pad pads to the next multiple of the block size: the framed text is shorter than its bucket.
    return sodium_pad(FORMAT_PADDED + plaintext, bucket_for(len(plaintext)))


def is_padded(opened: bytes) -> bool:
    """Whether an opened plaintext is in the padded format (False: sealed before padding existed)."""
    return opened[:1] == FORMAT_PADDED


def unpad(opened: bytes) -> bytes:
    """The plaintext inside an opened ciphertext, padded or sealed before padding existed.

    Raises nacl.exceptions.CryptoError when a padded plaintext has no 0x80 marker (it cannot happen to
    an authenticated ciphertext that ``pad`` wrote)."""
    if not is_padded(opened):
        return opened
    return sodium_unpad(opened, len(opened))[len(FORMAT_PADDED) :]


def is_padded_length(ciphertext_length: int) -> bool:
    """Whether a stored ciphertext already has a bucket's length, and so says no more than a padded one
    would (a text sealed before padding that happens to fill a bucket exactly, too)."""
    size = ciphertext_length - SEAL_OVERHEAD
    return size >= MIN_BUCKET and size & (size - 1) == 0
