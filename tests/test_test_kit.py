"""The test kit stays one kit: shared builders live in tests/factories.py and the shared modules beside it
(tests/bad_input.py, tests/live.py, a folder's helpers or conftest.py), never in a test module that another
imports. Importing a test module runs its tests' setup twice, collects its fixtures under two names and ties
one area's tests to another's; this test fails the moment one does."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def enclosing_test_module(dotted: str) -> str | None:
    """tests.triage.test_workspace for tests.triage.test_workspace.handler; None outside a test module."""
    parts = dotted.split(".")
    for index, part in enumerate(parts):
        if part.startswith("test_"):
            return ".".join(parts[: index + 1])
    return None


def imported_test_modules(source: str) -> set[str]:
    """The test modules (tests.….test_…) that ``source`` imports, however it spells the import. A name
    imported from a module that is not a test module (tests.live's test_broker fixture) is not one."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {module for alias in node.names if (module := enclosing_test_module(alias.name))}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("tests"):
            module = node.module or ""
            if enclosing := enclosing_test_module(module):
                found.add(enclosing)
            package = TESTS.parent.joinpath(*module.split("."))
            found |= {
                f"{module}.{alias.name}"
                for alias in node.names
                if alias.name.startswith("test_") and (package / f"{alias.name}.py").exists()
            }
    return found


def test_the_check_sees_every_way_of_importing_a_test_module() -> None:
    source = (
        "from tests.triage.test_workspace import handler\n"
        "from tests.triage import test_workspace\n"
        "import tests.test_layers\n"
        "from tests.factories import routed_case\n"
        "from tests.live import test_broker\n"
        "from tests.triage.page_text import text\n"
    )
    assert imported_test_modules(source) == {"tests.triage.test_workspace", "tests.test_layers"}


def test_no_test_module_imports_another() -> None:
    found = {
        (path.relative_to(TESTS.parent).as_posix(), module)
        for path in sorted(TESTS.rglob("*.py"))
        for module in imported_test_modules(path.read_text(encoding="utf-8"))
    }
    assert found == set(), "Move what these share to tests/factories.py or a helpers module"
