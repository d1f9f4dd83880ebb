"""The two components the workers need for attachments, clamd and mat2 (with bubblewrap), are installed and run by
the project's own files: the Makefile installs Debian's packages itself (a machine that already has them would
hide a missing step), make run's supervisord starts clamd with the project's configuration, and the compose
stack has the scanner, freshclam and the worker's memory-backed folder."""

from __future__ import annotations

import configparser
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TOOLS = {"/usr/sbin/clamd": "clamav-daemon", "/usr/bin/mat2": "mat2", "/usr/bin/bwrap": "bubblewrap"}


def make(*args: str) -> str:
    return subprocess.run(["make", *args], cwd=ROOT, capture_output=True, text=True, check=False).stdout


@pytest.mark.slow
def test_the_makefile_installs_each_debian_package_without_its_recommends_and_no_packaged_service() -> None:
    commands = make("-n", "-B", *TOOLS)
    for package in TOOLS.values():
        install = re.search(rf"RUNLEVEL=1 \S+ apt-get install -y -qq --no-install-recommends {package} ", commands)
        assert install, package
    # apt-get update only when the install fails without it.
    assert commands.count("apt-get update") == len(TOOLS)
    assert re.search(r"apt-get install[^|]*\|\| \{ \S+ apt-get update", commands)
    assert "systemctl disable --now clamav-daemon.service clamav-daemon.socket clamav-freshclam.service" in commands


@pytest.mark.slow
def test_setup_and_setup_test_need_the_tools_and_setup_writes_clamds_configuration() -> None:
    database = make("-p", "-q", "setup")  # make's rule database; -q runs nothing
    rules = {
        line.split(":", 1)[0]: line.split(":", 1)[1].split()
        for line in database.splitlines()
        if re.match(r"^(setup|setup-test): ", line)
    }
    for target in ("setup", "setup-test"):
        assert set(TOOLS) <= set(rules[target]), target
    assert "manage.py clamav_setup --test-signatures" in make("-n", "setup")


def test_make_run_starts_clamd_with_the_projects_configuration() -> None:
    config = configparser.RawConfigParser()
    config.read(ROOT / "deploy" / "supervisord.dev.conf")
    command = config.get("program:clamd", "command").split()
    assert command == ["/usr/sbin/clamd", "-c", "%(here)s/../var/clamav/clamd.conf"]
    assert config.get("program:clamd", "autorestart") == "true"


def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"])


def test_the_compose_stack_has_a_scanner_with_no_network_and_freshclam_to_update_it() -> None:
    services = compose()
    clamav, freshclam = services["clamav"], services["freshclam"]
    assert clamav["build"]["target"] == freshclam["build"]["target"] == "clamav"
    assert clamav["network_mode"] == "none" and "ports" not in clamav
    assert clamav["read_only"] is True and clamav["cap_drop"] == ["ALL"] and "/tmp" in clamav["tmpfs"]
    assert "clamav-db:/var/lib/clamav:ro" in clamav["volumes"]
    assert "freshclam" in " ".join(freshclam["command"]) and "clamav-db:/var/lib/clamav" in freshclam["volumes"]
    assert not (clamav.get("secrets") or freshclam.get("secrets"))


def test_only_the_worker_and_the_staff_service_reach_the_scanner_and_the_worker_decrypts_on_a_tmpfs() -> None:
    services = compose()
    reaching = {
        name for name, service in services.items() if "clamd-socket:/run/clamd" in (service.get("volumes") or [])
    }
    assert reaching == {"worker", "staff", "clamav", "freshclam"}
    worker = services["worker"]
    assert worker["environment"]["CLAMD_SOCKET"] == "/run/clamd/clamd.sock"
    work_dir = worker["environment"]["ATTACHMENT_WORK_DIR"]
    (mount,) = [entry for entry in worker["tmpfs"] if entry.split(":", 1)[0] == work_dir]
    assert "mode=0700" in mount and "uid=10001" in mount and "size=" in mount
    assert "no-new-privileges:true" in worker["security_opt"]


def test_the_image_installs_mat2_and_bubblewrap_and_the_scanner_image_debians_clamd() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    app = dockerfile.split("FROM app-files AS app", 1)[1]
    assert "apt-get install -y --no-install-recommends mat2 bubblewrap" in app
    scanner = dockerfile.split("AS clamav", 1)[1].split("FROM ", 1)[0]
    assert "--no-install-recommends clamav-daemon clamav-freshclam" in scanner
    assert "deploy/clamav/" in scanner and "StreamMaxLength" not in scanner  # the template's, filled in by sed
    # The default target stays the application.
    assert dockerfile.rstrip().split("\nFROM ")[-1].startswith("app-files AS app")


def test_the_deployment_notes_say_production_runs_freshclam() -> None:
    deploy = (ROOT / "docs" / "deploy.md").read_text()
    assert "freshclam" in deploy and "(attachments.md)" in deploy
