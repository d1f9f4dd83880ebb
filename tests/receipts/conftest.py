"""Receipts' tests: each with the development receipt key unless it sets its own, and the key cache cleared."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core import receipts


@pytest.fixture(autouse=True)
def _receipt_keys_fresh(settings: Any, tmp_path: Path) -> Iterator[None]:
    settings.CUSTODY_KEY_DIR = str(tmp_path / "custody")
    settings.SHRED_LOG_PATH = str(tmp_path / "shred-log.jsonl")
    receipts.receipt_keys.cache_clear()
    yield
    receipts.receipt_keys.cache_clear()
