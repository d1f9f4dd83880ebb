"""core.secretstream: files sealed chunk by chunk, padded to buckets, refused when tampered with."""

import hashlib
import os

import pytest

from core import secretstream
from core.secretstream import CHUNK, SEALED_CHUNK, Sealer, StreamError, chunks_for, open_chunks


def seal(data: bytes, pieces: int = 7) -> tuple[bytes, bytes, list[bytes], Sealer]:
    key = secretstream.new_file_key()
    stored: list[bytes] = []
    sealer = Sealer(key, lambda index, chunk: stored.append(chunk) if index == len(stored) else pytest.fail("order"))
    step = max(1, len(data) // pieces)
    for start in range(0, len(data), step):
        sealer.write(data[start : start + step])
    sealer.close()
    return key, sealer.header, stored, sealer


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 5, 16 * CHUNK, 16 * CHUNK + 1])
def test_round_trip_at_chunk_edges(size: int) -> None:
    data = os.urandom(size)
    key, header, stored, sealer = seal(data)
    assert b"".join(open_chunks(key, header, stored, size)) == data
    assert sealer.size == size
    assert sealer.sha256 == hashlib.sha256(data).hexdigest()
    assert len(stored) == chunks_for(size)
    assert all(len(chunk) == SEALED_CHUNK for chunk in stored)


def test_sizes_come_in_buckets() -> None:
    # Whole 64 KiB chunks up to 1 MiB, then a power of two of them.
    assert [chunks_for(n) for n in (0, 1, CHUNK, CHUNK + 1, 16 * CHUNK)] == [1, 1, 1, 2, 16]
    assert chunks_for(16 * CHUNK + 1) == 32
    assert chunks_for(20 * 1024 * 1024) == 512
    assert chunks_for(33 * CHUNK) == 64
    # Two files of different sizes in one bucket store the same number of bytes.
    _, _, small, _ = seal(os.urandom(17 * CHUNK))
    _, _, large, _ = seal(os.urandom(31 * CHUNK + 100))
    assert sum(map(len, small)) == sum(map(len, large))


def test_wrong_key_damaged_reordered_or_truncated_streams_do_not_open() -> None:
    data = os.urandom(3 * CHUNK)
    key, header, stored, _ = seal(data)
    with pytest.raises(StreamError):
        list(open_chunks(secretstream.new_file_key(), header, stored, len(data)))
    damaged = [stored[0], stored[1][:-1] + bytes([stored[1][-1] ^ 1]), stored[2]]
    with pytest.raises(StreamError):
        list(open_chunks(key, header, damaged, len(data)))
    with pytest.raises(StreamError):
        list(open_chunks(key, header, [stored[1], stored[0], stored[2]], len(data)))
    # Cut after a chunk that is not the final one: the missing FINAL tag gives it away.
    with pytest.raises(StreamError, match="final"):
        list(open_chunks(key, header, stored[:2], 2 * CHUNK))
    # More recorded than there is.
    with pytest.raises(StreamError):
        list(open_chunks(key, header, stored, len(data) + 1))


def test_chunks_after_the_final_one_are_refused() -> None:
    key, header, stored, _ = seal(b"short")
    _, _, other, _ = seal(b"other")
    with pytest.raises(StreamError):
        list(open_chunks(key, header, stored + other, 5))


def test_a_closed_sealer_takes_no_more() -> None:
    sealer = Sealer(secretstream.new_file_key(), lambda index, chunk: None)
    sealer.close()
    with pytest.raises(ValueError):
        sealer.write(b"x")
    with pytest.raises(ValueError):
        sealer.close()
