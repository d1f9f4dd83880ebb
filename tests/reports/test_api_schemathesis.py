"""Schema-driven fuzzing of the public API (schemathesis 4.x) against the Django WSGI application.

The schema is loaded from ``/api/schema/`` of the real WSGI app (``helpline.wsgi.application``), and every
operation it lists is called with generated positive and negative cases. Requests run in-process, on the
test's own database connection, inside the test's rolled-back transaction: so the session-wide
``local_authorities`` rows are visible and nothing a case writes survives the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from helpline.wsgi import application
from tests.fuzzing import examples

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

FUZZ_SETTINGS = settings(
    max_examples=examples(30),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


@pytest.fixture
def _connection_kept_across_requests() -> Iterator[None]:
    """Django's WSGI handler closes "old" connections at the start and end of every request. Inside a test
    transaction that would close the test's connection (its autocommit is off), so do what Django's own
    test client does: leave the connection alone while the test runs."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


# Loaded at import from the running app: the schema view needs no database. (schemathesis 4.32's
# ``schemathesis.pytest.from_fixture`` cannot be used with pytest 9.2: it writes ``Function._nodeid``,
# which pytest 9.2 no longer has, and every lazily loaded test fails with an AttributeError.)
schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture(autouse=True)
def _api_state(local_authorities: None, fast_kdf: None, _connection_kept_across_requests: None) -> None:
    """Authorities for routing, cheap key derivation, and the test's connection kept for every request."""


@schema.parametrize()
@FUZZ_SETTINGS
def test_no_operation_answers_with_a_server_error(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=[not_a_server_error])


@schema.parametrize()
@FUZZ_SETTINGS
def test_responses_match_the_documented_schema(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])


# Random strings are almost never real GSS codes or postcodes, so without help the fuzzer never gets past
# validation to routing and submission. This hook swaps real ones (and near misses) into half the bodies.
AUTHORITY_CODES = ["E08000038", "e08000038", "E08000016", "E09000002", "E06000022", "W06000001", "E99999999", None]
POSTCODES = ["S60 1AA", "s601aa", "S60", "S60 1", "EH1 1YZ", "BT1 1AA", "ZZ9 9ZZ", ""]


def flatmap_body(context: schemathesis.HookContext, body: Any) -> st.SearchStrategy[Any]:
    if context.operation is None or context.operation.path != "/api/v1/reports" or not isinstance(body, dict):
        return st.just(body)
    realistic = st.fixed_dictionaries(
        {},
        optional={
            "local_authority": st.sampled_from(AUTHORITY_CODES),
            "about_authority": st.sampled_from(AUTHORITY_CODES),
            "postcode": st.sampled_from(POSTCODES),
        },
    )
    return st.one_of(st.just(body), realistic.map(lambda changes: {**body, **changes}))


@schema.hooks.apply(flatmap_body)
@schema.include(operation_id="report_submit").parametrize()
@settings(FUZZ_SETTINGS, max_examples=examples(60))
def test_submissions_naming_real_authorities_and_postcodes(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])


def _operation(raw: dict[str, Any], path: str) -> dict[str, Any]:
    operation: dict[str, Any] = raw["paths"][path]["post"]
    return operation


def _component(raw: dict[str, Any], ref: str) -> dict[str, Any]:
    component: dict[str, Any] = raw["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    return component


def test_each_operation_documents_its_own_request_and_response_bodies() -> None:
    """Regression: nested ``InputSerializer``/``OutputSerializer`` classes with the same name in several views
    gave components of the same name, and drf-spectacular let one silently replace the other (the message
    endpoint documented the report body; report_submit's 201 documented the authority list)."""
    raw = schema.raw_schema
    message_request = _component(
        raw, _operation(raw, "/api/v1/reports/messages")["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    )
    assert {"reference", "access_code", "body", "kind"} <= set(message_request["properties"])

    submitted = _component(
        raw, _operation(raw, "/api/v1/reports")["responses"]["201"]["content"]["application/json"]["schema"]["$ref"]
    )
    assert {"reference", "access_code", "status", "local_authority"} <= set(submitted["properties"])

    opened = _component(
        raw,
        _operation(raw, "/api/v1/reports/access")["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
    )
    assert {"reference", "status", "submitted_on", "messages"} <= set(opened["properties"])
