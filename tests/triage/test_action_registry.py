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
from referrals import services as referral_services
from referrals.api import ACTION_INPUTS
from referrals.officer_actions import ACTIONS as OFFICER_ACTIONS
from tests.factories import (
    ROTHERHAM,
    authority,
    referral_make,
    reviewed_case,
    routed_case,
    signed_in,
    staff_user,
    staff_with_mfa,
)
from triage.staff_actions import (
    ACTIONS,
    action_form,
    action_labels,
    allowed_from,
    page_actions,
    permission_of,
    transitions_of,
)
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
    """The page's labels and the API's actions are the registry's: claim, and "I'm dealing with it" (an urgent
    page's answer), are only buttons."""
    assert set(ACTIONS) - {name for name, action in ACTIONS.items() if action.heading} == {"claim", "acknowledge_page"}
    assert all(callable(action.run) and callable(action.banner) for action in ACTIONS.values())


# Written by hand: who may take each action and the case statuses it may be taken in.
HELPLINE, SUPERVISOR = Permission.HELPLINE_WORK, Permission.REOPEN_CASE
DELETE_FILE = Permission.DELETE_CASE_FILE
LEGAL_HOLD = Permission.LEGAL_HOLD
REVEAL, LEGAL_DUTY = Permission.REVEAL_CONTACT, Permission.IDENTITY_LEGAL_DUTY
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
    "place_hold": (LEGAL_HOLD, OPEN | {CLOSED}),
    "release_hold": (LEGAL_HOLD, OPEN | {CLOSED}),
    "reveal_contact": (REVEAL, OPEN | {CLOSED}),
    "ask_identity_consent": (HELPLINE, OPEN),
    "propose_identity_disclosure": (LEGAL_DUTY, OPEN | {CLOSED}),
    "decide_identity_disclosure": (LEGAL_DUTY, OPEN | {CLOSED}),
    "acknowledge_page": (HELPLINE, {NEW, TRIAGE, AWAITING}),
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


@pytest.mark.usefixtures("fast_kdf", "local_authorities")
def test_a_case_about_its_own_council_is_not_offered_confirming_or_changing_its_authority() -> None:
    supervisor = staff_user("registry-supervisor", role=User.Role.SUPERVISOR)
    about_rotherham = routed_case(about_authority=authority(ROTHERHAM))
    assert about_rotherham.conflict_authority_id and about_rotherham.status == "new"
    assert "set_authority" not in page_actions(about_rotherham, supervisor)
    assert "set_authority" in page_actions(routed_case(), supervisor)
    page = signed_in(staff_with_mfa("registry-page", role=User.Role.SUPERVISOR)[0]).get(
        f"/staff/cases/{about_rotherham.case_number}"
    )
    assert "Confirm or change the authority" not in page.content.decode()


@pytest.mark.usefixtures("fast_kdf", "local_authorities")
def test_the_thread_actions_name_whom_they_address_on_the_case() -> None:
    supervisor = staff_user("registry-namer", role=User.Role.SUPERVISOR)
    officer = staff_user("registry-officer", role=User.Role.AUTHORITY_OFFICER)
    reviewer = staff_user("registry-reviewer", role=User.Role.NATIONAL_REVIEWER)
    to_rotherham = referral_make(routed_case(local_authority=authority(ROTHERHAM)))
    referral_services.referral_ask_helpline(referral=to_rotherham, question="Which school?", acting_user=officer)
    case, review = reviewed_case(supervisor)
    referral_services.referral_ask_helpline(referral=review, question="Was the LADO told?", acting_user=reviewer)
    rotherham_labels, review_labels = action_labels(to_rotherham.case), action_labels(case)
    assert rotherham_labels["reply_to_authority"][0] == "Reply to Rotherham"
    assert rotherham_labels["update_authority"][0] == "Send an update to Rotherham"
    assert review_labels["reply_to_authority"][0] == "Reply to the independent review team"
    assert review_labels["relay_to_reporter"][0] == "Ask the reporter for the independent review team"
    reply = action_form("reply_to_authority", case=case)
    assert reply is not None and reply.fields["body"].label == "Your reply to the independent review team"
    # Without a case, the authority in general (the API's schema reads the forms so).
    assert ACTIONS["reply_to_authority"].form is not None
    assert ACTIONS["reply_to_authority"].form.base_fields["body"].label == "Your reply to the authority"
