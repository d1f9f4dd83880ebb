"""`make test` tries the same generated inputs on every run; `make fuzz` tries new ones.

A Hypothesis test in CI that draws new inputs on each run can fail a submission that changed nothing (a
lone surrogate drawn once in a while did exactly that). These tests fail if the CI profile stops being
derandomized, starts reading a local example database, or if schemathesis stops generating through it.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import given, settings
from hypothesis import strategies as st

from helpline.wsgi import application
from tests import fuzzing

pytestmark = pytest.mark.skipif(fuzzing.PROFILE != "ci", reason="make fuzz draws fresh inputs on purpose")

# Loaded at import, as tests/reports/test_api_schemathesis.py loads it: inside a test the schema view's
# request would need the database.
schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


def draws(strategy: st.SearchStrategy[Any], count: int = 25) -> list[Any]:
    """What a Hypothesis test under the loaded profile is given, in order."""
    seen: list[Any] = []

    @settings(max_examples=count)
    @given(strategy)
    def collect(value: Any) -> None:
        seen.append(value)

    collect()
    return seen


def test_the_ci_profile_is_loaded_when_nothing_says_otherwise() -> None:
    assert os.environ.get("HYPOTHESIS_PROFILE", "ci") == "ci"
    assert settings.default.derandomize is True
    assert settings.default.database is None
    assert fuzzing.examples(30) == 30


def test_a_property_test_is_given_the_same_inputs_on_every_run() -> None:
    strategy = st.text(alphabet=st.characters(codec=None), max_size=10)
    assert draws(strategy) == draws(strategy)


@pytest.mark.slow
@pytest.mark.isolated
def test_schemathesis_generates_the_same_requests_on_every_run() -> None:
    submit = schema["/api/v1/reports"]["POST"].as_strategy()

    def shapes() -> list[Any]:
        return [(case.method, case.path, repr(case.body)) for case in draws(submit, count=15)]

    assert shapes() == shapes()


def test_an_unknown_profile_name_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    monkeypatch.setenv("HYPOTHESIS_PROFILE", "random")
    with pytest.raises(RuntimeError, match="ci or fuzz"):
        importlib.reload(fuzzing)
    monkeypatch.setenv("HYPOTHESIS_PROFILE", "ci")
    importlib.reload(fuzzing)


def test_make_test_tries_bad_input_on_two_fields_of_each_shape_and_make_fuzz_on_all(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests import bad_input
    from triage.forms import ETHNICITY_FIELDS, NATIONALITY_FIELDS, RecordFactsForm

    fields = RecordFactsForm().fields

    def tried() -> set[str]:
        return {variant.field for variant in bad_input.form_variants({}, fields, prefix="record_facts")}

    in_ci = tried()
    # The thirty-odd count fields (and suspects, of the same shape) stand for each other: the first few of
    # them, in the form's order, are tried in CI.
    same_shape = ["suspects", *ETHNICITY_FIELDS, *NATIONALITY_FIELDS]
    assert [name for name in same_shape if name in in_ci] == same_shape[: bad_input.SAME_SHAPE_IN_CI]
    # Every field of another shape is still tried.
    assert {"ofsted_class", "settings", "placing_authority", "group_based"} <= in_ci
    monkeypatch.setattr(bad_input, "PROFILE", "fuzz")
    assert tried() >= set(fields) - {"(none)"}
