"""`make soak` creates its database afresh on every run, so the audit trail's signed checkpoints from the
last run belong to a trail that no longer exists: the checkpoint task refused to extend them, an error in
the worker's log every 5 minutes, and a second `make soak` in a row failed. Each run starts them afresh."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.soaking import config, servers


def test_each_run_starts_the_audit_checkpoints_afresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    checkpoints = tmp_path / "audit-checkpoints.jsonl"
    monkeypatch.setattr(config, "CHECKPOINTS", checkpoints)
    checkpoints.write_text('{"database": "helpline_soak", "trail": "the last run\'s"}\n')

    servers.checkpoints_forget()
    assert not checkpoints.exists()
    servers.checkpoints_forget()  # and a first run, with none, is fine


def test_the_servers_write_their_checkpoints_where_the_run_forgets_them() -> None:
    assert config.soak_env()["AUDIT_CHECKPOINT_PATH"] == str(config.CHECKPOINTS)
