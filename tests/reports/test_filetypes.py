"""The worker's full check of a plain text file (reports.filetypes.identify) reads it a piece at a time.

It used to read the whole file and decode it at once: the worker held a 20 MiB text file twice over (bytes and
text), and `make bench-attachments` showed its memory growing with the file's size (bench/attachments.py)."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from reports import filetypes

PIECE = 64 * 1024


def written(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "file.txt"
    path.write_bytes(data)
    return path


def test_a_character_cut_in_two_by_the_pieces_is_still_text(tmp_path: Path) -> None:
    euro = "€".encode()  # three bytes
    data = b"a" * (PIECE - 1) + euro + b" and more\n" * 10
    assert data[PIECE - 1 : PIECE + 2] == euro

    assert filetypes.identify(filetypes.TEXT, written(tmp_path, data)) is filetypes.TEXT


@pytest.mark.parametrize(
    "tail",
    [
        pytest.param(b"\xff", id="a byte that is never UTF-8"),
        pytest.param("€".encode()[:2], id="a character cut short at the end"),
    ],
)
def test_a_file_that_stops_being_utf8_after_its_first_pieces_is_refused(tmp_path: Path, tail: bytes) -> None:
    data = b"plain words\n" * (3 * PIECE // 12) + tail

    with pytest.raises(filetypes.RefusedType, match="not plain text"):
        filetypes.identify(filetypes.TEXT, written(tmp_path, data))


def test_the_check_holds_one_piece_whatever_the_files_size(tmp_path: Path) -> None:
    path = written(tmp_path, b"meeting notes, line after line\n" * (8 * 1024 * 1024 // 31))
    tracemalloc.start()
    try:
        assert filetypes.identify(filetypes.TEXT, path) is filetypes.TEXT
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < 1024 * 1024, f"identify held {peak / 1024 / 1024:.1f} MiB for an 8 MiB file"
