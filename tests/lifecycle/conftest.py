"""The lifecycle tests' files: custody keys, the shred log and the audit checkpoints, each test's own."""

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _lifecycle_files(settings: Any, tmp_path: Path) -> None:
    settings.CUSTODY_KEY_DIR = str(tmp_path / "custody")
    settings.SHRED_LOG_PATH = str(tmp_path / "shred-log.jsonl")
    settings.AUDIT_CHECKPOINT_PATH = str(tmp_path / "audit-checkpoints.jsonl")
