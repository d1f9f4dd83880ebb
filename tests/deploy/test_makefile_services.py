"""`make run`'s services step starts Redis where REDIS_URL says, not always on 6379 (issue 22, minor)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

# make -n runs in a process of its own: out of the fast lane with the other tests that start processes.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def services_commands(redis_url: str) -> str:
    result = subprocess.run(
        ["make", "-n", "services", f"REDIS_URL={redis_url}"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return result.stdout


def test_redis_is_checked_and_started_on_the_port_redis_url_names() -> None:
    commands = services_commands("redis://127.0.0.1:6390/2")
    assert "redis-cli -h 127.0.0.1 -p 6390 ping" in commands
    assert "--port 6390" in commands
    assert "6379" not in commands


def test_a_redis_url_without_a_port_means_6379() -> None:
    commands = services_commands("redis://127.0.0.1/0")
    assert "--port 6379" in commands and "-p 6379 ping" in commands
