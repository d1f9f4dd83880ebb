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


def declared_marks(source: str) -> set[str]:
    """The names of the marks in a module's ``pytestmark`` (``pytest.mark.slow`` or a call of one)."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "pytestmark" for t in node.targets):
            return {
                mark.attr
                for mark in ast.walk(node.value)
                if isinstance(mark, ast.Attribute) and getattr(mark.value, "attr", "") == "mark"
            }
    return set()


def make_tiers() -> dict[str, str]:
    """make test's marker expressions, as the Makefile spells them."""
    makefile = (TESTS.parent / "Makefile").read_text(encoding="utf-8")
    tiers = {}
    for name in ("FAST_TIER", "BROWSER_TIER"):
        line = next(line for line in makefile.splitlines() if line.startswith(f"{name} :="))
        tiers[name] = line.split(":=", 1)[1].strip()
    tiers["SERIAL"] = f"not ({tiers['FAST_TIER']}) and not ({tiers['BROWSER_TIER']})"
    return tiers


def test_modules_left_uncollected_declare_their_own_marks_and_still_run_in_one_pass_of_make_test() -> None:
    from _pytest.mark.expression import Expression

    from tests.conftest import COSTLY_TO_COLLECT
    from tests.conftest import TESTS as CONFTEST_TESTS

    assert CONFTEST_TESTS == TESTS
    assert declared_marks("pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]") == {
        "slow",
        "django_db",
    }, "control: the reader sees marks and called marks"
    tiers = make_tiers()
    for module, marks in COSTLY_TO_COLLECT.items():
        assert declared_marks((TESTS / module).read_text(encoding="utf-8")) == marks, module
        passes = [
            name
            for name, expression in tiers.items()
            if Expression.compile(expression).evaluate(
                lambda name, **kwargs: name in marks  # noqa: B023 - evaluated at once
            )
        ]
        assert len(passes) == 1, f"{module} would run in {passes or 'no pass of make test'}"
