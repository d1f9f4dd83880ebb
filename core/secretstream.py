"""Files sealed as a stream: libsodium's secretstream (XChaCha20-Poly1305), in chunks of a fixed size.

A reporter's file can be 20 MiB; it is sealed chunk by chunk as it arrives, so neither memory nor disk
ever holds it whole or in clear. Each file has a random key of its own (``new_file_key``), which its
caller wraps with the report's data key (core.crypto.seal_key_with): rotating the helpline's key re-seals
data keys only, never a file.

The stored form of a file is a header and ``chunk_count`` sealed chunks, each exactly ``CHUNK`` bytes of
plaintext (plus the 17-byte authenticator), so stored sizes come in buckets: whole chunks up to
``PADDED_CHUNKS_FROM`` chunks (64 KiB steps to 1 MiB), then a power of two of chunks. Fill chunks are
zeros, sealed like the rest; the last chunk carries the FINAL tag, so a stream cut short or extended does
not open. The file's real length is kept sealed beside it by the caller, and ``open_chunks`` stops there.

Tests: tests/core/test_secretstream.py.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator

import nacl.exceptions
import nacl.utils
from nacl.bindings import (
    crypto_secretstream_xchacha20poly1305_ABYTES,
    crypto_secretstream_xchacha20poly1305_init_pull,
    crypto_secretstream_xchacha20poly1305_init_push,
    crypto_secretstream_xchacha20poly1305_KEYBYTES,
    crypto_secretstream_xchacha20poly1305_pull,
    crypto_secretstream_xchacha20poly1305_push,
    crypto_secretstream_xchacha20poly1305_state,
    crypto_secretstream_xchacha20poly1305_TAG_FINAL,
    crypto_secretstream_xchacha20poly1305_TAG_MESSAGE,
)

KEY_BYTES: int = crypto_secretstream_xchacha20poly1305_KEYBYTES
# Plaintext bytes in every sealed chunk; a stored chunk is this plus the authenticator.
CHUNK = 64 * 1024
SEALED_CHUNK = CHUNK + crypto_secretstream_xchacha20poly1305_ABYTES
# Up to this many chunks (1 MiB) a file fills whole chunks; past it, a power of two of them.
PADDED_CHUNKS_FROM = 16


class StreamError(Exception):
    """A sealed stream that does not open: the wrong key, a damaged or reordered chunk, or one cut short."""


def new_file_key() -> bytes:
    return nacl.utils.random(KEY_BYTES)


def chunks_for(size: int) -> int:
    """How many sealed chunks a file of ``size`` bytes is stored in (its padded bucket)."""
    needed = max(1, -(-size // CHUNK))
    if needed <= PADDED_CHUNKS_FROM:
        return needed
    return 1 << (needed - 1).bit_length()


class Sealer:
    """Seal a file as its bytes arrive: ``write`` any number of times, then ``close`` once. Every whole chunk
    goes to ``emit(index, sealed_chunk)`` as soon as it is complete, so at most one chunk is held. ``size``
    and ``sha256`` describe the plaintext written (the original file's fingerprint)."""

    def __init__(self, key: bytes, emit: Callable[[int, bytes], None]) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError("A file key is 32 bytes")
        self._state = crypto_secretstream_xchacha20poly1305_state()
        self.header: bytes = crypto_secretstream_xchacha20poly1305_init_push(self._state, key)
        self._emit = emit
        self._buffer = bytearray()
        self._index = 0
        self._hash = hashlib.sha256()
        self.size = 0
        self.closed = False

    def _push(self, chunk: bytes, *, final: bool) -> None:
        tag = (
            crypto_secretstream_xchacha20poly1305_TAG_FINAL
            if final
            else crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
        )
        self._emit(self._index, crypto_secretstream_xchacha20poly1305_push(self._state, chunk, None, tag))
        self._index += 1

    def write(self, data: bytes) -> None:
        if self.closed:
            raise ValueError("The stream is closed")
        self._hash.update(data)
        self.size += len(data)
        self._buffer += data
        # Hold back the last whole chunk: it may turn out to be the final one (which carries the FINAL tag).
        while len(self._buffer) > CHUNK:
            self._push(bytes(self._buffer[:CHUNK]), final=False)
            del self._buffer[:CHUNK]

    def close(self) -> int:
        """Seal what is left, fill up to the file's bucket, and return how many chunks were emitted."""
        if self.closed:
            raise ValueError("The stream is closed")
        self.closed = True
        total = chunks_for(self.size)
        last = bytes(self._buffer) + bytes(CHUNK - len(self._buffer))
        self._buffer.clear()
        if self._index == total - 1:
            self._push(last, final=True)
            return total
        self._push(last, final=False)
        filler = bytes(CHUNK)
        while self._index < total - 1:
            self._push(filler, final=False)
        self._push(filler, final=True)
        return total

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()


def open_chunks(key: bytes, header: bytes, sealed: Iterable[bytes], size: int) -> Iterator[bytes]:
    """The plaintext of a sealed file, chunk by chunk, cut at its real ``size``. Raises StreamError when a
    chunk does not open, the FINAL tag comes early or never, or there is less than ``size``."""
    state = crypto_secretstream_xchacha20poly1305_state()
    try:
        crypto_secretstream_xchacha20poly1305_init_pull(state, header, key)
    except (nacl.exceptions.CryptoError, nacl.exceptions.ValueError, ValueError) as error:
        raise StreamError("The file's header does not open") from error
    remaining = size
    finished = False
    for chunk in sealed:
        if finished:
            raise StreamError("The file goes on after its final chunk")
        try:
            plain, tag = crypto_secretstream_xchacha20poly1305_pull(state, bytes(chunk), None)
        except (nacl.exceptions.CryptoError, nacl.exceptions.ValueError, ValueError) as error:
            raise StreamError("A chunk of the file does not open") from error
        finished = tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL
        if remaining > 0:
            piece = plain[:remaining]
            remaining -= len(piece)
            yield piece
    if not finished:
        raise StreamError("The file ends before its final chunk")
    if remaining:
        raise StreamError("The file is shorter than its recorded size")
