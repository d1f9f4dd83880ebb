"""One definition per action (triage/staff_actions.ACTIONS for the helpline, referrals/officer_actions.ACTIONS
for authority officers): the pages, the APIs and their OpenAPI document read each action from it."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from django import forms
from django.test import Client

from accounts.models import User
from accounts.policy import Permission
from referrals.api import ACTION_INPUTS
from referrals.officer_actions import ACTIONS as OFFICER_ACTIONS
from tests.factories import staff_user
from triage.staff_actions import ACTIONS, action_form, allowed_from, permission_of, transitions_of
from triage.workflow import TRANSITIONS

pytestmark = pytest.mark.django_db


def _document() -> dict[str, Any]:
    response = Client().get("/api/schema/")
    assert response.status_code == 200
    document: dict[str, Any] = yaml.safe_load(response.content)
    return document


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    resolved: dict[str, Any] = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return resolved


def test_the_openapi_document_has_a_typed_request_schema_for_every_staff_action() -> None:
    """Each action's body is a component of its own, named for the action, with the fields of the form that
    validates it, and the action endpoint's body is one of them."""
    document = _document()
    operation = document["paths"]["/api/v1/cases/{case_number}/{action}"]["post"]
    body = _resolve(document, operation["requestBody"]["content"]["application/json"]["schema"])
    alternatives = {_resolve(document, ref)["title"]: _resolve(document, ref) for ref in body["anyOf"]}
    assert set(alternatives) == set(ACTIONS)
    for name, action in ACTIONS.items():
        camel = "".join(part.capitalize() for part in name.split("_"))
        component = document["components"]["schemas"][f"{camel}ActionRequest"]
        assert component == alternatives[name]
        assert component["type"] == "object"
        # A file is attached on the page only (multipart): the API's bodies are JSON.
        fields = {
            key: field
            for key, field in (action.form.base_fields if action.form else {}).items()
            if not isinstance(field, forms.FileField)
        }
        assert set(component["properties"]) == set(fields), name
        assert set(component.get("required", [])) == {key for key, field in fields.items() if field.required}


def test_only_the_message_to_the_reporter_takes_a_file_and_only_on_the_page() -> None:
    document = _document()
    with_files = {
        name
        for name, action in ACTIONS.items()
        if action.form and any(isinstance(field, forms.FileField) for field in action.form.base_fields.values())
    }
    assert with_files == {"ask_reporter"}
    assert "file" not in document["components"]["schemas"]["AskReporterActionRequest"]["properties"]


def test_every_action_on_the_case_page_is_declared_in_the_registry() -> None:
    """The page's labels and the API's actions are the registry's: claim is only a button."""
    assert set(ACTIONS) - {name for name, action in ACTIONS.items() if action.heading} == {"claim"}
    assert all(callable(action.run) and callable(action.banner) for action in ACTIONS.values())


# Written by hand: who may take each action and the case statuses it may be taken in.
HELPLINE, SUPERVISOR = Permission.HELPLINE_WORK, Permission.REOPEN_CASE
DELETE_FILE = Permission.DELETE_CASE_FILE
NEW, TRIAGE, AWAITING, REFERRED, REVIEW, CLOSED = (
    "new",
    "in_triage",
    "awaiting_reporter",
    "referred",
    "national_review",
    "closed",
)
OPEN = {NEW, TRIAGE, AWAITING, REFERRED, REVIEW}
EXPECTED: dict[str, tuple[Permission, set[str]]] = {
    "claim": (HELPLINE, {NEW, TRIAGE, AWAITING}),
    "assign": (HELPLINE, OPEN),
    "set_priority": (HELPLINE, OPEN),
    "set_concern_types": (HELPLINE, OPEN),
    "set_authority": (HELPLINE, {NEW, TRIAGE, AWAITING}),
    "ask_reporter": (HELPLINE, OPEN),
    "add_note": (HELPLINE, OPEN | {CLOSED}),
    "refer": (HELPLINE, {NEW, TRIAGE, AWAITING, REFERRED}),
    "escalate": (HELPLINE, OPEN),
    "refer_national_body": (HELPLINE, OPEN),
    "link_duplicate": (HELPLINE, OPEN | {CLOSED}),
    "close": (HELPLINE, OPEN),
    "reopen": (SUPERVISOR, {CLOSED}),
    "reply_to_authority": (HELPLINE, OPEN | {CLOSED}),
    "relay_to_reporter": (HELPLINE, OPEN),
    "update_authority": (HELPLINE, {REFERRED}),
    "record_facts": (HELPLINE, OPEN | {CLOSED}),
    "delete_attachment": (DELETE_FILE, OPEN | {CLOSED}),
}


@pytest.mark.parametrize("action", list(EXPECTED))
def test_each_action_says_who_may_take_it_and_from_which_statuses(action: str) -> None:
    permission, statuses = EXPECTED[action]
    assert permission_of(action) == permission
    assert allowed_from(action) == statuses


def test_the_table_covers_every_action() -> None:
    assert set(EXPECTED) == set(ACTIONS)


def test_each_action_with_several_transitions_needs_one_permission() -> None:
    for name in ACTIONS:
        assert len({TRANSITIONS[entry].permission for entry in transitions_of(name)}) == 1, name


def test_each_form_gets_its_choices_from_its_declaration() -> None:
    handler = staff_user("registry-handler", role=User.Role.CALL_HANDLER)
    staff_user("registry-officer", role=User.Role.AUTHORITY_OFFICER)
    assign = action_form("assign")
    assert assign is not None
    assert [value for value, _ in assign.fields["assignee"].choices if value] == [handler.username]
    authority = action_form("set_authority", authorities=lambda: [("E08000018", "Rotherham")])
    assert authority is not None
    assert [value for value, _ in authority.fields["authority"].choices if value] == ["E08000018"]
    assert action_form("claim") is None


def test_the_officers_actions_are_declared_once_and_typed_in_the_api() -> None:
    """The referral page, the authority API and the bad-input tests read referrals.officer_actions; the API
    has a typed input for each of them and no other."""
    assert set(ACTION_INPUTS) == set(OFFICER_ACTIONS)
    document = _document()
    operation = document["paths"]["/api/v1/referrals/{referral_id}/{action}"]["post"]
    assert next(p for p in operation["parameters"] if p["name"] == "action")["schema"]["enum"] == list(OFFICER_ACTIONS)
    assert all(action.button and action.banner for action in OFFICER_ACTIONS.values())
