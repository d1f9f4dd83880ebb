"""Schema-driven fuzzing of the whole API (schemathesis 4.x) against the Django WSGI application: the
schema and the validation must agree.

The schema is loaded from ``/api/schema/`` of the real WSGI app (``helpline.wsgi.application``), and every
operation it lists is called with generated positive and negative cases: without credentials, and the
staff API (``/api/v1/cases…``) again with a supervisor's token, on cases in every state. Every response
must conform to the schema, none may be a server error, and none may refuse with 400 what the schema says
is valid (schemathesis's ``positive_data_acceptance``), but for the refusals a schema cannot state, each
checked against the service's own lookups (``REFUSALS_THE_SCHEMA_CANNOT_STATE``). Derandomized like every
Hypothesis test here (the ``ci`` profile, tests/fuzzing.py), so ``make test`` tries the same requests on
every run.

Requests run in-process, on the test's own database connection, inside the test's rolled-back
transaction: so the session-wide ``local_authorities`` rows are visible and nothing a case writes survives
the test.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from jsonschema import Draft4Validator
from knox.models import AuthToken
from schemathesis.checks import not_a_server_error
from schemathesis.core import NotSet
from schemathesis.specs.openapi.checks import (
    RejectedPositiveData,
    positive_data_acceptance,
    response_schema_conformance,
)

from accounts import policy
from accounts.models import User
from accounts.policy import Permission
from core.receipts import NotAReceipt, parse_block
from directory import lookup
from directory.lookup import national_body_choices, police_force_choices
from directory.models import LocalAuthority, NationalBody
from helpline.json_codec import unencodable_fields
from helpline.wsgi import application
from reports.api import CONTACT_NEEDS_A_NAME, CONTACT_NEEDS_A_WAY, CONTACT_WHEN_ANONYMOUS, UNKNOWN_GSS_CODE
from reports.forms import SELECT_A_FILE
from tests.factories import cases_in_every_status, staff_user, submit_report
from tests.fuzzing import examples
from triage import selectors
from triage.forms import COUNTS_OVER_SUSPECTS, PLACING_ONLY_OUT_OF_AREA, SUSPECTS_BEFORE_COUNTS
from triage.intake import queue_for, report_route
from triage.models import Case, Queue
from triage.staff_actions import ACTION_FORMS

pytestmark = [pytest.mark.django_db, pytest.mark.slow, pytest.mark.isolated]

# The coverage phase (every operation's boundary and missing values, worked out from the schema) runs whole; beside
# it make test draws 15 generated cases per operation, make fuzz twenty times as many on fresh seeds.
FUZZ_SETTINGS = settings(
    max_examples=examples(15),
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


# --- what the schema cannot state -------------------------------------------------------------------------
# A schema says what a value must look like, not whether the directory or the staff list holds it, nor the
# rules between a report's fields. A 400 for a positive case passes only when every field it names is one
# of these, and the service's own lookup confirms the value sent names nothing (or breaks that rule).


def _helpline_usernames() -> set[str]:
    return set(selectors.helpline_staff().values_list("username", flat=True))


def _unknown_authority(value: Any, messages: Any) -> bool:
    return messages == [UNKNOWN_GSS_CODE] and lookup.authority_by_code(str(value)) is None


def _postcode_not_one_council(value: Any, messages: Any) -> bool:
    return lookup.resolve_postcode(str(value)).kind != "malformed"


def _postcode_outside_england(value: Any, messages: Any) -> bool:
    return lookup.resolve_postcode(str(value)).kind == "outside_england"


def _contact_rule(value: Any, messages: Any) -> bool:
    return isinstance(messages, list) and set(messages) <= {
        CONTACT_WHEN_ANONYMOUS,
        CONTACT_NEEDS_A_NAME,
        CONTACT_NEEDS_A_WAY,
    }


def _day_not_past(value: Any, messages: Any) -> bool:
    """The day a concern was already reported must be today or earlier, in 1950 or later: a rule on a date
    that a schema's "format: date" cannot state."""
    return (
        isinstance(messages, dict)
        and set(messages) == {"on"}
        and all(message.startswith("The day it was reported must be ") for message in messages["on"])
    )


def _not_an_authority_in_the_list(value: Any, messages: Any) -> bool:
    return not LocalAuthority.objects.filter(gss_code=str(value)).exists()


def _not_a_recipient_in_the_list(value: Any, messages: Any) -> bool:
    code = value.get("code") if isinstance(value, dict) else None
    return not LocalAuthority.objects.filter(gss_code=str(code)).exists()


def _not_helpline_staff(value: Any, messages: Any) -> bool:
    return str(value) not in _helpline_usernames()


def _not_a_filter_by_staff(value: Any, messages: Any) -> bool:
    return str(value) not in _helpline_usernames() | {"me", "none", ""}


def _left_empty(value: Any, messages: Any) -> bool:
    """A field the schema leaves optional that the chosen route needs (escalate's route decides which)."""
    return not str(value or "").strip()


def _no_such_force(value: Any, messages: Any) -> bool:
    """Left out where the police route needs it, or not a force in the bodies directory."""
    return str(value or "") not in {code for code, _ in police_force_choices()}


def _no_such_direct_body(value: Any, messages: Any) -> bool:
    """refer_national_body: a code that is not Ofsted's, the CQC's or the review panel's in the directory."""
    return str(value or "") not in {code for code, _ in national_body_choices(NationalBody.REFERRED_DIRECTLY)}


def _no_such_case(value: Any, messages: Any) -> bool:
    helpline = policy.holders(Permission.HELPLINE_WORK).first()
    return helpline is not None and selectors.case_by_identifier(user=helpline, text=str(value)) is None


def _counts_without_enough_suspects(value: Any, messages: Any) -> bool:
    """record_facts: counts by category need the number of suspects, and may not add up to more."""
    return isinstance(messages, list) and all(
        str(m).startswith(SUSPECTS_BEFORE_COUNTS) or str(m).endswith(COUNTS_OVER_SUSPECTS) for m in messages
    )


def _placing_authority_refused(value: Any, messages: Any) -> bool:
    """record_facts: an authority the directory does not hold, or one named for a child not placed out of area."""
    return _not_an_authority_in_the_list(value, messages) or messages == [PLACING_ONLY_OUT_OF_AREA]


def _not_a_file_the_service_takes(value: Any, messages: Any) -> bool:
    """A file is a binary string to the schema: which types the service takes (by name and first bytes, its size
    and whether it is empty (reports.forms.upload_check) is its to say, as is a part sent without a file name."""
    return isinstance(messages, list) and all(
        str(message).startswith("The selected file ") or message == f"{SELECT_A_FILE}." for message in messages
    )


def _no_such_queue_yet(value: Any, messages: Any) -> bool:
    return not Queue.objects.filter(slug=str(value)).exists()


Explanation = Callable[[Any, Any], bool]


def _not_a_receipt(value: Any, messages: Any) -> bool:
    """Any string is schema-valid, but only a signed JSON block is a receipt (core.receipts.parse_block)."""
    try:
        parse_block(str(value))
    except NotAReceipt as refused:
        return messages == [str(refused)]
    return False


def _field_and_text_go_together(value: Any, messages: Any) -> bool:
    """A field to check and the text to check against it are each optional, but only together; and the
    field must be one the receipt holds a fingerprint of."""
    return isinstance(messages, list) and set(messages) <= {
        "Say which field this text should match.",
        "Give the text to check against this field.",
        "This receipt has no fingerprint of this field.",
        "Give the whole submission as JSON.",
    }


REFUSALS_THE_SCHEMA_CANNOT_STATE: dict[str, dict[str, Explanation]] = {
    "POST /api/v1/reports": {
        "local_authority": _unknown_authority,
        "about_authority": _unknown_authority,
        "postcode": _postcode_not_one_council,
        "contact": _contact_rule,
        "already_reported": _day_not_past,
    },
    "GET /api/v1/local-authorities": {"postcode": _postcode_outside_england},
    "POST /api/v1/receipts/verify": {
        "receipt": _not_a_receipt,
        "field": _field_and_text_go_together,
        "text": _field_and_text_go_together,
    },
    "POST /api/v1/reports/attachments": {"file": _not_a_file_the_service_takes},
    "GET /api/v1/cases": {
        "queue": _no_such_queue_yet,
        "authority": _not_an_authority_in_the_list,
        "assignee": _not_a_filter_by_staff,
    },
    "POST /api/v1/cases/{case_number}/{action}": {
        "assignee": _not_helpline_staff,
        "authority": _not_an_authority_in_the_list,
        "recipient": _not_a_recipient_in_the_list,
        "other": _no_such_case,
        # escalate: what each route needs (a reason for review; the force and how for the police).
        "reason": _left_empty,
        "force": _no_such_force,
        "how_sent": _left_empty,
        "national_body": _no_such_direct_body,
        "suspects": _counts_without_enough_suspects,
        "placing_authority": _placing_authority_refused,
    },
}


def _explained(case: schemathesis.Case, response: Any) -> bool:
    label = case.operation.label
    if unencodable_fields(case.body):
        # A lone surrogate in a JSON string (an extra property's too) is not Unicode text, which every
        # schema's "string" takes for granted: helpline.json_codec refuses it, naming the field.
        return response.status_code == 400
    if response.status_code == 422:
        # The Idempotency-Key was used before, in this run, with another body: a fact about the past.
        return label == "POST /api/v1/reports"
    action = case.path_parameters.get("action")
    if action is not None and ACTION_BODIES and action not in _actions_whose_body_this_is(case.body):
        # The body is valid for the operation (one of the actions' bodies) but not for the action in the
        # URL, which the schema ties to its body only by the alternative's title.
        return True
    explanations = REFUSALS_THE_SCHEMA_CANNOT_STATE.get(label, {})
    errors = response.json()
    sent = case.query if case.operation.method.upper() == "GET" else case.body
    if not isinstance(errors, dict) or not errors or not isinstance(sent, dict):
        return False
    return all(
        field in explanations and explanations[field](sent.get(field), messages) for field, messages in errors.items()
    )


def schema_valid_input_accepted(ctx: Any, response: Any, case: schemathesis.Case) -> bool | None:
    """schemathesis's positive_data_acceptance (a request the schema says is valid is not refused with
    a 4xx other than 401, 403, 404, 409 or 429), less REFUSALS_THE_SCHEMA_CANNOT_STATE."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        if _explained(case, response):
            return None
        raise


CHECKS = [not_a_server_error, response_schema_conformance, schema_valid_input_accepted]


# --- the whole API, without credentials --------------------------------------------------------------------


# Random strings are almost never real GSS codes or postcodes, so without help the fuzzer never gets past
# validation to routing and submission. This hook swaps real ones (and well-formed ones that name nothing
# here: a former code, an unknown one, Scotland, Northern Ireland, an unknown area) into half the bodies.
# Every one matches the schema: the hook changes positive cases too, which must stay valid.
AUTHORITY_CODES = ["E08000038", "e08000038", "E08000016", "E09000002", "E06000022", "E06099999", None]
POSTCODES = ["S60 1AA", "s601aa", "S60", "S60 1", "EH1 1YZ", "BT1 1AA", "QA9 9ZZ", ""]


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


# The staff API's operations are tried below, with a token: without one they answer 403, which
# tests/triage/test_staff_api.py shows for every role.
@schema.hooks.apply(flatmap_body)
@schema.exclude(path_regex="^/api/v1/cases").parametrize()
@FUZZ_SETTINGS
def test_every_operation_answers_as_its_schema_says(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)


# --- the staff API, with a supervisor's token ---------------------------------------------------------------

# The cases of every state the staff API can act on, under case numbers the hook below can name.
CASE_NUMBERS = {
    "new": "2026-ACDEFG",
    "awaiting_reporter": "2026-HJKMNP",
    "referred": "2026-QRTUVW",
    "national_review": "2026-XY2346",
    "closed": "2026-79ACDE",
}
SUPERVISOR = "fuzz-supervisor"


@pytest.fixture
def supervisor_token() -> str:
    supervisor = staff_user(SUPERVISOR, role=User.Role.SUPERVISOR)
    staff_user("fuzz-handler", role=User.Role.CALL_HANDLER)
    for state, case in cases_in_every_status(supervisor).items():
        Case.objects.filter(pk=case.pk).update(case_number=CASE_NUMBERS[state])
    report_route(report_id=submit_report().report.pk)  # one more, under a number nobody names
    for slug in ("urgent", "national"):
        queue_for(slug)  # every queue the schema lists exists, as it would once cases have come in
    return AuthToken.objects.create(supervisor)[1]


def _action_bodies() -> dict[str, dict[str, Any]]:
    operation = schema.raw_schema["paths"]["/api/v1/cases/{case_number}/{action}"]["post"]
    components = schema.raw_schema["components"]["schemas"]
    body = components[operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]]
    alternatives = [components[alternative["$ref"].rsplit("/", 1)[-1]] for alternative in body.get("anyOf", [])]
    return {alternative["title"]: alternative for alternative in alternatives}


ACTION_BODIES = _action_bodies()


def _actions_whose_body_this_is(body: Any) -> list[str]:
    """The actions (by the schema's titles) whose body ``body`` is (no body reads as an empty one): the
    schema can tie an action in the URL to its body only by that title."""
    body = {} if isinstance(body, NotSet) else body
    return [action for action, alternative in ACTION_BODIES.items() if Draft4Validator(alternative).is_valid(body)]


def _pick(options: list[str], seed: Any) -> str:
    """One of ``options``, the same for the same ``seed`` on every run (Python's hash() is not)."""
    return options[zlib.crc32(repr(seed).encode()) % len(options)]


def map_case(context: schemathesis.HookContext, case: schemathesis.Case) -> schemathesis.Case:
    """Most cases name one of the fixture's cases, not a random number (which is a 404); a body that belongs
    to some action is sent to one. Deterministic: it shapes the coverage phase's cases too."""
    parameters = dict(case.path_parameters)
    number = parameters.get("case_number")
    if number is not None and zlib.crc32(str(number).encode()) % 6:
        parameters["case_number"] = _pick(sorted(CASE_NUMBERS.values()), number)
    matching = _actions_whose_body_this_is(case.body) if "action" in parameters else []
    if matching and parameters["action"] not in matching:
        parameters["action"] = _pick(matching, case.body)
    case.path_parameters = parameters
    return case


def flatmap_case(context: schemathesis.HookContext, case: schemathesis.Case) -> st.SearchStrategy[Any]:
    """The case list's filters sometimes name real staff and authorities."""
    if case.operation.path != "/api/v1/cases" or not isinstance(case.query, dict):
        return st.just(case)
    real = st.fixed_dictionaries(
        {},
        optional={
            "assignee": st.sampled_from(["me", "none", SUPERVISOR, "fuzz-handler"]),
            "authority": st.sampled_from(["unknown", "E08000018", "E06000001"]),
        },
    )

    def with_real(values: dict[str, Any]) -> schemathesis.Case:
        case.query = {**case.query, **values}
        return case

    return st.one_of(st.just(case), real.map(with_real))


@schema.hooks.apply(map_case)
@schema.hooks.apply(flatmap_case)
@schema.include(path_regex="^/api/v1/cases").parametrize()
# One set of cases for all of an operation's examples: what one example does, the next finds done.
@settings(
    FUZZ_SETTINGS, suppress_health_check=[*FUZZ_SETTINGS.suppress_health_check, HealthCheck.function_scoped_fixture]
)
def test_the_staff_api_with_a_token_answers_as_its_schema_says(case: schemathesis.Case, supervisor_token: str) -> None:
    case.call_and_validate(headers={"Authorization": f"Token {supervisor_token}"}, checks=CHECKS)


# --- the document itself -------------------------------------------------------------------------------------


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


def test_each_staff_action_documents_its_own_body() -> None:
    """The action endpoint's body is one alternative per action, titled with the action's name, written
    from the form that validates it (the hooks above rely on the titles)."""
    assert set(ACTION_BODIES) == set(ACTION_FORMS)
    assert ACTION_BODIES["close"]["required"] == ["outcome", "feedback", "confirm"]
    assert ACTION_BODIES["close"]["properties"]["confirm"] == {"type": "boolean", "enum": [True]}
    assert ACTION_BODIES["claim"]["additionalProperties"] is False


def test_the_hooks_put_in_only_what_the_schema_allows() -> None:
    body = _component(
        schema.raw_schema,
        _operation(schema.raw_schema, "/api/v1/reports")["requestBody"]["content"]["application/json"]["schema"][
            "$ref"
        ],
    )
    for name, values in (("local_authority", AUTHORITY_CODES), ("postcode", POSTCODES)):
        validator = Draft4Validator(body["properties"][name])
        assert [value for value in values if value is not None and not validator.is_valid(value)] == [], name
