"""The layers of docs/adr/0001-layers.md hold, and lint-imports would catch an arrow pointing up."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
APPS = (
    "helpline",
    "devdata",
    "lifecycle",
    "oversight",
    "referrals",
    "triage",
    "reports",
    "rota",
    "accounts",
    "notify",
    "outbox",
    "directory",
    "audit",
    "core",
)
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(tree / "pyproject.toml")],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """The project's apps and configuration, copied so that a test can break them."""
    for app in APPS:
        shutil.copytree(ROOT / app, tmp_path / app, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_project_keeps_its_layers(project_copy: Path) -> None:
    result = lint_imports(project_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 2 kept, 0 broken." in result.stdout


@pytest.mark.parametrize(
    ("module", "upward_import", "broken"),
    [
        ("reports/services.py", "from triage import workflow", "Each app imports only the apps below it"),
        ("outbox/services.py", "from triage import tasks", "Each app imports only the apps below it"),
        # Triage asks referrals through its port (triage/ports.py), never by import.
        ("triage/case_actions.py", "from referrals import services", "Each app imports only the apps below it"),
        ("core/throttle.py", "from reports import models", "Each app imports only the apps below it"),
        ("audit/trail.py", "from core import crypto", "Each app imports only the apps below it"),
        ("directory/lookup.py", "from accounts import models", "Each app imports only the apps below it"),
        ("oversight/patterns.py", "from core import crypto", "Oversight reads metadata and never decrypts"),
        # Development data is not installed in production: nothing may import it, not even helpline.
        ("helpline/urls.py", "from devdata.seeding import run", "Each app imports only the apps below it"),
        ("triage/intake.py", "from devdata.seeding import rules", "Each app imports only the apps below it"),
    ],
)
def test_an_import_that_points_up_breaks_the_build(
    project_copy: Path, module: str, upward_import: str, broken: str
) -> None:
    path = project_copy / module
    # Inside a function, where imports used to hide from cycles: import-linter sees those too.
    path.write_text(path.read_text() + f"\n\ndef _upward() -> None:\n    {upward_import}  # noqa\n")
    result = lint_imports(project_copy)
    assert result.returncode == 1, result.stdout
    assert f"{broken} BROKEN" in result.stdout
