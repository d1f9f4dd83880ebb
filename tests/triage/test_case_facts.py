"""What the helpline records for the national picture (issue 24, point 2): the record_facts action on the
case page and the staff API, its rules, and its audit events (which fields changed, never their values)."""

from __future__ import annotations

import json

import pytest

from accounts.models import User
from audit.models import AuditEvent, Subject
from tests.factories import (
    ROTHERHAM,
    SHEFFIELD,
    authority,
    facts_record,
    partnership_of_region,
    routed_case,
    signed_in_as,
    staff_user,
)
from triage import workflow
from triage.models import CaseFacts

pytestmark = pytest.mark.django_db


def _events(case: object) -> list[dict[str, object]]:
    return [
        event.detail
        for event in AuditEvent.objects.filter(
            subject_kind=Subject.CASE, subject_id=case.pk, kind="record_facts"
        ).order_by("id")  # type: ignore[attr-defined]
    ]


def test_nothing_recorded_is_not_known_everywhere(local_authorities: None) -> None:
    client, _ = signed_in_as(User.Role.CALL_HANDLER)
    case = routed_case(local_authority=authority(ROTHERHAM))
    page = client.get(f"/staff/cases/{case.case_number}")
    assert page.status_code == 200
    facts = dict(page.context["facts"])
    assert facts["Ofsted's classification"] == "Not known"
    assert facts["Suspects"] == "Not known"
    assert facts["Suspects by ethnicity"] == "Not known"
    assert not CaseFacts.objects.exists()


def test_recording_stores_codes_and_counts_and_audits_which_fields_changed(local_authorities: None) -> None:
    handler = staff_user("facts-handler", role=User.Role.CALL_HANDLER)
    case = routed_case(local_authority=authority(ROTHERHAM))
    changed = facts_record(
        case,
        handler,
        ofsted_class="systemic_failure",
        group_based="yes",
        settings=("online", "taxis"),
        placed_out_of_area="yes",
        placing_authority=authority(SHEFFIELD),
        suspects=5,
        suspect_ethnicity={"asian_pakistani": 2, "not_recorded": 1},
        suspect_nationality={"british": 3},
    )
    facts = CaseFacts.objects.get(case=case)
    assert facts.settings == ["taxis", "online"]  # in the list's order
    assert facts.placing_authority == authority(SHEFFIELD)
    # The 2 suspects counted by no category are not known; the organisation's gap is kept apart.
    assert facts.suspect_ethnicity == {"asian_pakistani": 2, "not_known": 2, "not_recorded": 1}
    assert facts.suspect_nationality == {"british": 3, "not_known": 2}
    assert changed == [
        "ofsted_class",
        "group_based",
        "settings",
        "placed_out_of_area",
        "placing_authority",
        "suspects",
        "suspect_ethnicity",
        "suspect_nationality",
    ]
    assert _events(case) == [{"status": "new", "changed": changed}]


def test_a_second_record_audits_only_what_changed_and_can_go_back_to_not_known(local_authorities: None) -> None:
    handler = staff_user("facts-handler", role=User.Role.CALL_HANDLER)
    case = routed_case(local_authority=authority(ROTHERHAM))
    facts_record(case, handler, ofsted_class="regulatory", looked_after="yes")
    assert facts_record(case, handler, ofsted_class="regulatory", looked_after="yes") == []
    assert facts_record(case, handler, looked_after="yes") == ["ofsted_class"]
    assert CaseFacts.objects.get(case=case).ofsted_class == ""
    assert [event["changed"] for event in _events(case)] == [["ofsted_class", "looked_after"], [], ["ofsted_class"]]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"suspect_ethnicity": {"white_british": 1}}, "Enter how many suspects there are"),
        ({"suspects": 2, "suspect_nationality": {"british": 2, "irish": 1}}, "more than the 2 suspects"),
        ({"suspects": 2, "suspect_ethnicity": {"martian": 1}}, "categories on the list"),
        ({"placing_authority": "sheffield"}, "placed out of area"),
        ({"settings": ("beach",)}, "settings from the list"),
        ({"group_based": "maybe"}, "yes, no or not known"),
        ({"suspects": 1000}, "from 0 to 999"),
    ],
)
def test_the_service_refuses_what_breaks_the_rules(
    local_authorities: None, fields: dict[str, object], message: str
) -> None:
    handler = staff_user("facts-handler", role=User.Role.CALL_HANDLER)
    case = routed_case(local_authority=authority(ROTHERHAM))
    if fields.get("placing_authority") == "sheffield":
        fields = {"placing_authority": authority(SHEFFIELD), "placed_out_of_area": "no"}
    with pytest.raises(workflow.ActionNotAllowed, match=message):
        facts_record(case, handler, **fields)
    assert not CaseFacts.objects.exists()
    assert _events(case) == []


def test_the_case_page_form_records_and_shows_what_is_known(local_authorities: None) -> None:
    client, _ = signed_in_as(User.Role.CALL_HANDLER)
    case = routed_case(local_authority=authority(ROTHERHAM))
    response = client.post(
        f"/staff/cases/{case.case_number}/record_facts",
        {
            "record_facts-ofsted_class": "specific_child",
            "record_facts-group_based": "yes",
            "record_facts-settings": ["hotels", "takeaways"],
            "record_facts-missing_episodes": "yes",
            "record_facts-suspects": "3",
            "record_facts-ethnicity_white_british": "1",
            "record_facts-ethnicity_not_recorded": "2",
        },
    )
    assert response.status_code == 302
    page = client.get(response["Location"])
    facts = dict(page.context["facts"])
    assert facts["Ofsted's classification"] == "A specific child at risk"
    assert facts["Settings"] == "Hotels and short-term lets; Takeaways and the night-time economy"
    assert facts["Missing episodes"] == "Yes"
    assert facts["Looked after"] == "Not known"
    assert facts["Suspects by ethnicity"] == (
        "White: English, Welsh, Scottish, Northern Irish or British: 1; Not recorded by the organisation: 2"
    )
    assert "What is known is recorded" in page.content.decode()
    # The form starts from what is recorded, so saving it unchanged changes nothing.
    form = page.context["action_forms"]["record_facts"]
    assert form.initial["suspects"] == 3
    assert form.initial["ethnicity_not_recorded"] == 2


def test_counts_over_the_number_of_suspects_are_a_gov_uk_error(local_authorities: None) -> None:
    client, _ = signed_in_as(User.Role.CALL_HANDLER)
    case = routed_case(local_authority=authority(ROTHERHAM))
    response = client.post(
        f"/staff/cases/{case.case_number}/record_facts",
        {"record_facts-suspects": "1", "record_facts-nationality_irish": "2"},
        follow=True,
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "govuk-error-summary" in body
    assert "The counts by nationality add up to 2: more than the 1 suspects" in body
    assert not CaseFacts.objects.exists()


def test_the_staff_api_records_through_the_same_form(local_authorities: None) -> None:
    client, _ = signed_in_as(User.Role.SUPERVISOR)
    case = routed_case(local_authority=authority(ROTHERHAM))
    path = f"/api/v1/cases/{case.case_number}/record_facts"
    body = {
        "ofsted_class": "quality_of_care",
        "placed_out_of_area": "yes",
        "placing_authority": SHEFFIELD,
        "settings": ["childrens_homes"],
        "suspects": "4",
        "ethnicity_black_african": "1",
        "nationality_not_known": "4",
    }
    response = client.post(path, json.dumps(body), content_type="application/json")
    assert response.status_code == 200, response.content
    facts = CaseFacts.objects.get(case=case)
    assert facts.placing_authority == authority(SHEFFIELD)
    assert facts.suspect_ethnicity == {"black_african": 1, "not_known": 3}
    assert facts.suspect_nationality == {"not_known": 4}

    replaced = client.post(path, json.dumps({"suspects": "4"}), content_type="application/json")
    assert replaced.status_code == 200  # the whole record again: what is left out is not known
    assert CaseFacts.objects.get(case=case).ofsted_class == ""
    wrong = client.post(
        path, json.dumps({"placing_authority": SHEFFIELD, "suspects": "4"}), content_type="application/json"
    )
    assert wrong.status_code == 400
    assert wrong.json() == {
        "placing_authority": ["Choose the placing authority only when the child is placed out of area"]
    }
    not_a_number = client.post(path, json.dumps({"suspects": 4.5}), content_type="application/json")
    assert not_a_number.status_code == 400
    assert not_a_number.json() == {"suspects": ["Must be text."]}


def test_the_openapi_document_describes_each_field_of_record_facts(local_authorities: None) -> None:
    client, _ = signed_in_as(User.Role.SUPERVISOR)
    document = client.get("/api/schema/?format=json").json()
    body = document["components"]["schemas"]["RecordFactsActionRequest"]
    properties = body["properties"]
    assert "required" not in body
    assert properties["ofsted_class"]["enum"] == [
        "specific_child",
        "systemic_failure",
        "quality_of_care",
        "regulatory",
        "",
    ]
    assert properties["group_based"]["enum"] == ["yes", "no", "not_known", ""]
    assert properties["settings"]["items"]["enum"][0] == "taxis"
    assert properties["suspects"]["pattern"] == "^(?:0|[1-9][0-9]{0,2})?$"
    assert properties["ethnicity_asian_pakistani"]["pattern"] == "^(?:0|[1-9][0-9]{0,2})?$"
    assert properties["ethnicity_not_recorded"]["type"] == "string"
    assert properties["nationality_british"]["type"] == "string"
    assert properties["placing_authority"]["pattern"] == "^(?:E(?:0[689]|10)[0-9]{6})?$"
    assert len([name for name in properties if name.startswith("ethnicity_")]) == 21  # 19 census groups, 2 gaps


def test_oversight_and_partnerships_cannot_record_or_open_the_facts(local_authorities: None) -> None:
    case = routed_case(local_authority=authority(ROTHERHAM))
    for role, extra in (
        (User.Role.OVERSIGHT_ANALYST, {}),
        (User.Role.PARTNERSHIP, {"partnership": partnership_of_region("Yorkshire and The Humber")}),
    ):
        client, _ = signed_in_as(role, **extra)
        assert client.get(f"/staff/cases/{case.case_number}").status_code == 403
        response = client.post(f"/staff/cases/{case.case_number}/record_facts", {"record_facts-suspects": "1"})
        assert response.status_code == 403
    assert not CaseFacts.objects.exists()
