"""The production image installs from a hash-checked lock: every runtime dependency of pyproject.toml at the
version the development lock (what `make test` installs and tests) pins, and nothing only development needs."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==(\S+) \\$", re.MULTILINE)


def pins(path: Path) -> dict[str, str]:
    return {canonicalize_name(name): version for name, version in PIN.findall(path.read_text(encoding="utf-8"))}


def test_the_production_lock_names_the_tested_versions_with_hashes() -> None:
    production, tested = pins(ROOT / "requirements/production.txt"), pins(ROOT / "requirements/lock.txt")
    assert production, "no pins read"
    assert {name: tested.get(name) for name in production} == production
    text = (ROOT / "requirements/production.txt").read_text(encoding="utf-8")
    assert text.count("--hash=sha256:") >= len(production)


def test_it_holds_every_runtime_dependency_and_no_development_one() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = {canonicalize_name(Requirement(spec).name) for spec in project["dependencies"]}
    production = pins(ROOT / "requirements/production.txt")
    assert runtime <= set(production)
    # The development extras' own tools; a few of the extras (jsonschema, PyYAML) are also what runtime
    # packages need, and stay.
    tools = {"pytest", "ruff", "mypy", "playwright", "hypothesis", "schemathesis", "supervisor", "import-linter"}
    development = {canonicalize_name(Requirement(spec).name) for spec in project["optional-dependencies"]["dev"]}
    assert tools <= development
    assert not tools & set(production)


def test_the_image_installs_the_lock_with_hashes_then_the_project_alone() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "pip install --require-hashes -r requirements/production.txt" in dockerfile
    assert "pip install --no-deps ." in dockerfile
    assert not re.search(r"pip install (?!--require-hashes|--no-deps)", dockerfile)
