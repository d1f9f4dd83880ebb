"""Bad input on the HTML forms, in staff query strings and on the staff JSON API: never a 500.

Each form field, one at a time, gets each of these, in a URL-encoded body exactly as a client sends it:

- the percent-encoded bytes of a lone UTF-16 surrogate encoded as if it were UTF-8 (``%ED%A0%80``,
  ``%ED%BF%BF``) and other invalid UTF-8 (``%FF``, ``%C3%28``): Django decodes a form body with
  ``errors="replace"``, so these arrive as U+FFFD and are ordinary (if useless) text;
- a NUL (``%00``) inside the value, a value that is only a NUL, and a NUL or an invalid byte in the field's name;
- a value longer than any field allows (25,000 characters, still well under the request size limit);
- the wrong shape: the field repeated (same and different values) and PHP-style ``name[]`` list syntax.

The pages covered: every question page of the reporter's journey, check your answers, "check a concern" and
its message form, the three sign-in pages; every helpline case action, every authority referral action,
the administrator's authority inbox and the phone report form. Query strings carry the same bytes on the
staff lists, statistics, patterns and the JSON list endpoints. The staff JSON API gets, in each field of each
action, text with a NUL, an over-long string, a number, a list, an object, null and booleans, bodies that
are not an object at all, and values nested hundreds of levels deep (on the public JSON API too: a lone
surrogate nested deep in any field was a 500 on every JSON endpoint; see helpline/json_codec.py).

What must hold: every answer is a 2xx, 3xx or 4xx; a 4xx page is the GOV.UK page; a form re-shown with
errors (a 400) carries the GOV.UK error summary; a NUL or an over-long value in a text or choice field is
always refused that way; an API 400 is JSON naming the offending field. The Django test client re-raises
whatever a view lets escape, so a would-be 500 fails with the application's own traceback.

Every request runs in a savepoint that is rolled back, and the client's cookies are put back afterwards,
so one signed-in client, draft or case serves every example of a test.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import pytest
from django import forms
from django.test import Client

from accounts.forms import NationalBodyForm, PartnershipForm
from accounts.models import User
from directory import lookup as authorities
from directory.models import NationalBody
from helpline.json_codec import MAX_ERROR_DEPTH, unencodable_fields
from referrals import identity
from referrals import services as authority_service
from referrals import services as referral_services
from referrals.listing import ReferralFilterForm
from referrals.officer_actions import ACTIONS as REFERRAL_ACTIONS
from reports import journey
from reports.forms import AccessForm, ReporterMessageForm
from reports.identity import report_add_contact
from tests.bad_input import (
    FORM,
    REFUSED,
    FormData,
    Kind,
    assert_every_variant_answered,
    assert_gov_uk_answer,
    encoded,
    form_variants,
    joined,
    page_errors,
    post_form,
    query_answer,
    query_cases,
    rolled_back,
)
from tests.factories import (
    PASSWORD,
    QUESTION_PAGE_ANSWERS,
    attachment_make,
    client_with_a_draft,
    page_waiting,
    partnership_make,
    referral_of,
    signed_in_as,
    staff_user,
    staff_with_mfa,
    submit_report,
)
from triage import case_actions as actions
from triage.admin_views import ReferralInboxForm
from triage.case_content import case_data_key
from triage.forms import CaseFilterForm
from triage.intake import report_route
from triage.models import Case
from triage.staff_actions import ACTION_FORMS, action_form
from triage.views import PHONE_STEPS

pytestmark = [
    pytest.mark.slow,
    pytest.mark.isolated,
    pytest.mark.django_db,
    pytest.mark.usefixtures("fast_kdf", "local_authorities"),
]

ROTHERHAM = "E08000018"


def new_case() -> Case:
    return report_route(report_id=submit_report(local_authority=authorities.authority_by_code(ROTHERHAM)).report.pk)


# --- the reporter's pages --------------------------------------------------------------------------------

# One valid answer per question page, for a draft that is confidential with a postcode covering two councils.


def test_every_question_page_has_a_valid_answer_here() -> None:
    assert set(QUESTION_PAGE_ANSWERS) == {step.slug for step in journey.STEPS}


# Fields that take only some text (a format), and fields the form's own checks require.
STEP_KINDS: dict[str, dict[str, Kind]] = {"where": {"postcode": Kind.CHECKED}, "contact": {"phone": Kind.CHECKED}}
STEP_REQUIRED = {
    "where": {"postcode"},  # a postcode or a council: the valid answer gives only the postcode
    "council": {"council"},  # one of the councils offered, or another: the valid answer gives the first
    "about-council": {"which_council"},  # which council, since the valid answer says it is about one
}


@pytest.mark.parametrize("step", journey.STEPS, ids=lambda step: step.slug)
def test_bad_form_input_on_any_question_page_is_a_gov_uk_page(step: journey.Step) -> None:
    client = client_with_a_draft()
    path = f"/report/{step.slug}"
    with rolled_back(client):
        valid = client.post(path, QUESTION_PAGE_ANSWERS[step.slug])
    assert valid.status_code == 302, valid.content[:300]
    variants = form_variants(
        QUESTION_PAGE_ANSWERS[step.slug],
        step.form_class.base_fields,
        answered=302,
        kinds=STEP_KINDS.get(step.slug),
        required=STEP_REQUIRED.get(step.slug, ()),
    )
    assert_every_variant_answered(client, path, variants)


def test_a_bad_form_body_on_check_your_answers_is_ignored() -> None:
    client = client_with_a_draft()
    for step in journey.STEPS:
        if step.slug != "anonymity":
            assert client.post(f"/report/{step.slug}", QUESTION_PAGE_ANSWERS[step.slug]).status_code == 302, step.slug
    assert client.get("/report/check-your-answers").status_code == 200
    fields = {"confirm": forms.CharField()}
    bodies = [variant.body for variant in form_variants({"confirm": "yes"}, fields, validated=False)]
    for body in bodies:
        with rolled_back(client):
            response = client.generic("POST", "/report/check-your-answers", body.encode(), content_type=FORM)
            # The page has no fields: whatever is sent, the report is submitted and the confirmation shown.
            assert (response.status_code, response["Location"]) == (302, "/report/confirmation"), body[:80]
            response = client.get(response["Location"])
        assert response.status_code == 200, (body[:80], response.status_code)
        assert b"Report sent" in response.content


def test_bad_form_input_on_check_a_concern_is_a_gov_uk_page() -> None:
    submitted = submit_report()
    valid = {"reference": submitted.report.reference, "access_code": submitted.access_code}
    client = Client()
    with rolled_back(client):
        assert client.post("/check", valid).status_code == 302
    # Any text is taken and looked up: a reference or code that matches nothing is not found.
    looked_up = {"reference": Kind.LOOKED_UP, "access_code": Kind.LOOKED_UP}
    variants = form_variants(valid, AccessForm.base_fields, answered=302, kinds=looked_up)
    assert_every_variant_answered(client, "/check", variants)


def test_bad_form_input_on_a_reporter_message_is_a_gov_uk_page() -> None:
    submitted = submit_report()
    client = Client()
    opened = client.post("/check", {"reference": submitted.report.reference, "access_code": submitted.access_code})
    assert opened.status_code == 302
    valid = {"body": "Is there any news?", "kind": "message"}
    # Sent or refused, the message form redirects to the concern's page: sent, that page is a 200.
    assert post_form(client, "/check/concern/message", joined(encoded(valid))).status_code == 200
    variants = form_variants(valid, ReporterMessageForm.base_fields, answered=200)
    assert_every_variant_answered(client, "/check/concern/message", variants)


# --- signing in ----------------------------------------------------------------------------------------


def test_bad_form_input_on_the_sign_in_page_is_a_gov_uk_page() -> None:
    user, _ = staff_with_mfa("bad-input-sign-in", role=User.Role.SUPERVISOR)
    valid = {"username": user.username, "password": PASSWORD}
    client = Client()
    with rolled_back(client):
        assert client.post("/staff/sign-in", valid).status_code == 302
    fields = {"username": forms.CharField(), "password": forms.CharField()}
    # A name or password that is not the account's is a form error.
    wrong = {"username": Kind.CHECKED, "password": Kind.CHECKED}
    assert_every_variant_answered(client, "/staff/sign-in", form_variants(valid, fields, answered=302, kinds=wrong))


def test_bad_form_input_on_the_security_code_page_is_a_gov_uk_page() -> None:
    user, _ = staff_with_mfa("bad-input-code", role=User.Role.SUPERVISOR)
    client = Client()
    response = client.post("/staff/sign-in", {"username": user.username, "password": PASSWORD})
    assert response["Location"] == "/staff/sign-in/code"
    path = "/staff/sign-in/code"
    # The code is wrong whatever is sent (nobody can know the authenticator's): every answer is the form again.
    variants = form_variants({"code": "123456"}, {"code": forms.CharField()}, answered=REFUSED)
    with rolled_back(client):
        # A wrong code: the form again, after a redirect to its own page.
        assert client.post(path, {"code": "123456"}, follow=True).status_code == 400
    assert_every_variant_answered(client, path, variants)


def test_bad_form_input_on_the_invitation_pages_is_a_gov_uk_page() -> None:
    """Both steps of enrolment: the password (step 1), then the authenticator's code (step 2), which opens only
    in the browser that did step 1."""
    from accounts.services import staff_invite

    issued = staff_invite(username="bad-input-invited", email="", role=User.Role.CALL_HANDLER, acting_user=None)
    path = urlsplit(issued.link).path
    password = "a long enough password 1"
    valid = {"enrolment_code": issued.enrolment_code, "password": password, "password_again": password}
    fields = {"enrolment_code": forms.CharField(), "password": forms.CharField(), "password_again": forms.CharField()}
    client = Client()
    with rolled_back(client):
        assert client.post(path, {**valid, "password_again": "x"}, follow=True).status_code == 400  # refused
    # The code must be the invitation's, and the two passwords the same: anything else is a form error.
    must_match = {name: Kind.CHECKED for name in fields}
    assert_every_variant_answered(client, path, form_variants(valid, fields, answered=302, kinds=must_match))
    assert client.post(path, valid)["Location"] == f"{path}/authenticator"
    with rolled_back(client):
        assert client.post(f"{path}/authenticator", {"code": "123456"}, follow=True).status_code == 400  # wrong
    code = {"code": forms.CharField()}
    variants = form_variants({"code": "123456"}, code, answered=REFUSED)  # a wrong code, as on sign-in
    assert_every_variant_answered(client, f"{path}/authenticator", variants)


# --- the helpline's case actions -------------------------------------------------------------------------


# Escalate's other answer (its first is independent review): each route's questions are checked only for it.
ESCALATE_TO_THE_POLICE = "escalate (police)"
# Every answer tried: each action's, and escalate's for each route.
ANSWERS = [*ACTION_FORMS, ESCALATE_TO_THE_POLICE]


def action_of(answer: str) -> str:
    """The action an answer is for ("escalate (police)" is escalate's)."""
    return answer.split(" ", 1)[0]


def case_action_answers(supervisor: User, other: Case) -> dict[str, dict[str, str | list[str]]]:
    return {
        "claim": {},
        "assign": {"assignee": supervisor.username},
        "set_priority": {"priority": "urgent"},
        "set_concern_types": {"concern_types": ["other", "concern_not_acted_on"]},
        "set_authority": {"authority": ROTHERHAM},
        "ask_reporter": {"body": "Can you tell us more?"},
        "add_note": {"body": "Called the school."},
        "refer": {"summary": "Please look into this.", "share_organisation": ""},
        "escalate": {"route": "national_review", "reason": "The concern is about the council."},
        ESCALATE_TO_THE_POLICE: {
            "route": "police",
            "force": "police-south-yorkshire",
            "how_sent": "telephone",
            "crime_reference": "14/123456/26",
        },
        "refer_national_body": {
            "national_body": "ofsted",
            "how_sent": "telephone",
            "reference": "OFS-2026-1",
            "summary": "A systemic failure in the council's children's services.",
        },
        "link_duplicate": {"other": other.case_number},
        "close": {"outcome": "no_further_action", "feedback": "Thank you.", "confirm": "on"},
        "reopen": {"reason": "The authority sent new information."},
        "reply_to_authority": {"question": "1", "body": "The reporter says it was Year 9."},
        "relay_to_reporter": {"question": "1", "body": "Can you tell us which year group?"},
        "update_authority": {"summary": "The man drives a silver hatchback."},
        "record_facts": {
            "ofsted_class": "systemic_failure",
            "group_based": "yes",
            "settings": ["taxis", "online"],
            "looked_after": "yes",
            "placed_out_of_area": "not_known",
            # No counts by category: they need the number of suspects, which a variant takes away.
            "suspects": "5",
        },
        "delete_attachment": {"reason": "Sent to the wrong case."},
        "place_hold": {"basis": "inquiry_notice", "reason": "Notice IIGG/2027/3"},
        "release_hold": {"confirm": "on"},
        # Issue 27: the reporter's identity (ready_for gives the case a reporter who gave their details, a
        # referral, and a proposal by another supervisor).
        "reveal_contact": {"reason": "contact_reporter"},
        "ask_identity_consent": {"referral": "1", "covers": ["name"]},
        "propose_identity_disclosure": {
            "referral": "1",
            "covers": ["name"],
            "basis": "court_order",
            "legal_reference": "Order 2027/9",
        },
        "decide_identity_disclosure": {"proposal": "1", "decision": "approve"},
        # Issue 28: "I'm dealing with it" (ready_for gives the case an urgent page nobody has answered).
        "acknowledge_page": {},
    }


def test_every_case_action_has_a_valid_answer_here() -> None:
    supervisor = staff_user("bad-input-answers", role=User.Role.SUPERVISOR)
    answers = case_action_answers(supervisor, Case(case_number="X"))
    assert {action_of(answer) for answer in answers} == set(ACTION_FORMS)


def prefixed(action: str, data: FormData) -> dict[str, str | list[str]]:
    return {f"{action}-{name}": value for name, value in data.items()}


# Fields that take only some text, by action.
CASE_ACTION_KINDS: dict[str, dict[str, Kind]] = {
    "refer": {"postcode_district": Kind.CHECKED},  # a postcode district, like S60
    # Any text, looked up: a number or reference that is no case's is a field error (400), like any other.
    "link_duplicate": {"other": Kind.LOOKED_UP},
}


# Fields the form requires only for the answer given here (escalate's reason, for independent review; the
# police route asks for the force and how instead): what form_variants calls required by the form's checks.
REQUIRED_FOR_THE_ANSWER: dict[str, frozenset[str]] = {
    "escalate": frozenset({"reason"}),
    ESCALATE_TO_THE_POLICE: frozenset({"force", "how_sent"}),
}
# Fields the answer given here does not read, whatever they are sent: another route's questions, revealed
# under its radio (triage.forms.EscalateForm).
UNREAD_FOR_THE_ANSWER: dict[str, frozenset[str]] = {
    "escalate": frozenset({"force", "how_sent", "crime_reference"}),
    ESCALATE_TO_THE_POLICE: frozenset({"reason"}),
}


def required_here(action: str, name: str, field: forms.Field) -> bool:
    return field.required or name in REQUIRED_FOR_THE_ANSWER.get(action, frozenset())


IDENTITY_ACTIONS = frozenset(
    {"reveal_contact", "ask_identity_consent", "propose_identity_disclosure", "decide_identity_disclosure"}
)


def ready_for(action: str, case: Case, supervisor: User) -> dict[str, str]:
    """Put a new case where ``action`` is allowed, so that a valid answer is done (a refusal in the wrong
    state would hide what the form does with bad input); the answer's changes that it needs."""
    if action == "reopen":
        actions.case_close(case=case, outcome="no_further_action", feedback="Thank you.", acting_user=supervisor)
    if action in {"update_authority", "reply_to_authority", "relay_to_reporter"}:
        referral = referral_services.case_refer(case=case, summary="Please look into this.", acting_user=supervisor)
    if action in {"reply_to_authority", "relay_to_reporter"}:
        _, officer = signed_in_as(User.Role.AUTHORITY_OFFICER, ROTHERHAM)
        question = referral_services.referral_ask_helpline(
            referral=referral, question="Which year?", acting_user=officer
        )
        return {"question": str(question.pk)}
    if action == "delete_attachment":
        return {"attachment": str(attachment_make(case).public_id)}
    if action == "acknowledge_page":
        page_waiting(case)
    if action == "release_hold":
        actions.case_hold_place(case=case, basis="court_order", reason="Order 2027/5", acting_user=supervisor)
    if action in IDENTITY_ACTIONS:
        report_add_contact(report=case.report, data_key=case_data_key(case), name="Sam", phone="07700 900982")
        referral = referral_services.case_refer(case=case, summary="Please look into this.", acting_user=supervisor)
        if action == "decide_identity_disclosure":
            proposal = identity.identity_propose(
                case=case,
                referral_id=referral.pk,
                covers=["name"],
                basis="immediate_risk",
                legal_reference="Strategy discussion 4",
                acting_user=staff_user("proposing-supervisor", role=User.Role.SUPERVISOR),
            )
            return {"proposal": str(proposal.pk)}
        if action != "reveal_contact":
            return {"referral": str(referral.pk)}
    return {}


@pytest.mark.parametrize("answered", ANSWERS)
def test_bad_form_input_on_any_case_action_is_a_gov_uk_page(answered: str) -> None:
    action = action_of(answered)
    client, supervisor = signed_in_as(User.Role.SUPERVISOR)
    case, other = new_case(), new_case()
    path = f"/staff/cases/{case.case_number}/{action}"
    answer = case_action_answers(supervisor, other)[answered] | ready_for(action, case, supervisor)
    # Done: the redirect to the case page, which is then a 200 (a refusal would be a 400 or 409 there).
    assert post_form(client, path, joined(encoded(prefixed(action, answer)))).status_code == 200
    form = action_form(action, case=case)
    # A file is never sent as form text (a page's file upload is the upload tests'): its text is ignored.
    unread = UNREAD_FOR_THE_ANSWER.get(answered, frozenset())
    fields = (
        {
            name: field
            for name, field in form.fields.items()
            if not isinstance(field, forms.FileField) and name not in unread
        }
        if form is not None
        else {"anything": forms.CharField()}
    )
    prefix = action if form is not None else ""
    # The valid answer as the page sends it, prefixed like the fields: each variant changes one field of it.
    sent = prefixed(action, answer) if form is not None else answer
    variants = form_variants(
        sent,
        fields,
        prefix=prefix,
        validated=form is not None,
        answered=200,
        kinds=CASE_ACTION_KINDS.get(action),
        required=REQUIRED_FOR_THE_ANSWER.get(answered, frozenset()),
        unmatched=400,
    )
    assert_every_variant_answered(client, path, variants)


# --- the authority's referral actions --------------------------------------------------------------------

REFERRAL_ANSWERS: dict[str, dict[str, str | list[str]]] = {
    "acknowledge": {},
    "record_action": {"kind": "strategy_discussion", "note": "Met on Monday."},
    "record_outcome": {"outcome": "early_help", "note": "Family supported."},
    "ask_helpline": {"note": "Is the child's school known?"},
    "record_findings": {"outcome": "review_upheld", "note": "The reports were kept from the panel."},
    "refer_on": {"body": "ofsted", "how_sent": "telephone", "reference": "OFS-1"},
}
# The independent review's own actions, taken by a national reviewer on a case sent for review.
REVIEW_ACTIONS = frozenset({"record_findings", "refer_on"})


def test_every_referral_action_has_a_valid_answer_here() -> None:
    assert set(REFERRAL_ANSWERS) == set(REFERRAL_ACTIONS)


@pytest.mark.parametrize("action", list(REFERRAL_ACTIONS))
def test_bad_form_input_on_any_referral_action_is_a_gov_uk_page(action: str) -> None:
    supervisor = staff_user("bad-input-referrer", role=User.Role.SUPERVISOR)
    case = new_case()
    if action in REVIEW_ACTIONS:
        client, officer = signed_in_as(User.Role.NATIONAL_REVIEWER)
        referral_services.case_send_for_review(case=case, reason="About the council.", acting_user=supervisor)
    else:
        client, officer = signed_in_as(User.Role.AUTHORITY_OFFICER, ROTHERHAM)
        referral_services.case_refer(case=case, summary="Please look into this.", acting_user=supervisor)
    if action != "acknowledge":
        authority_service.referral_acknowledge(referral=referral_of(case), acting_user=officer)
    path = f"/staff/referrals/{case.case_number}/{referral_of(case).pk}/{action}"
    answer = REFERRAL_ANSWERS[action]
    # Done: the redirect to the referral's page, which is then a 200 (a refusal would be a 400 or 409 there).
    assert post_form(client, path, joined(encoded(prefixed(action, answer)))).status_code == 200
    form_class = REFERRAL_ACTIONS[action].form
    # The form's own fields, with the choices it offers (the bodies to refer on to come from the directory).
    fields = form_class().fields if form_class is not None else {"anything": forms.CharField()}
    has_form = form_class is not None
    prefix = action if has_form else ""
    sent = prefixed(action, answer) if has_form else answer  # as the page sends it, prefixed like the fields
    variants = form_variants(sent, fields, prefix=prefix, validated=has_form, answered=200)
    assert_every_variant_answered(client, path, variants)


# --- administration and phone intake ---------------------------------------------------------------------


def test_bad_form_input_on_an_authority_inbox_is_a_gov_uk_page() -> None:
    client, _ = signed_in_as(User.Role.ADMINISTRATOR)
    path = f"/staff/admin/authorities/{ROTHERHAM}"
    valid = {"referral_email": "referrals@rotherham.gov.test"}
    with rolled_back(client):
        assert client.post(path, valid).status_code == 302
    phones = {"childrens_services_contact": Kind.CHECKED, "emergency_duty_phone": Kind.CHECKED}  # UK numbers
    variants = form_variants(valid, ReferralInboxForm.base_fields, answered=302, kinds=phones)
    assert_every_variant_answered(client, path, variants)


def test_bad_form_input_on_a_safeguarding_partnership_is_a_gov_uk_page() -> None:
    client, _ = signed_in_as(User.Role.ADMINISTRATOR)
    # A partnership of its own changed by every variant: none can clash with another's name.
    path = f"/staff/admin/partnerships/{partnership_make('Pan-Dorset', 'E06000058').pk}"
    valid = {"name": "Pan-Dorset Safeguarding Children Partnership", "authorities": "E06000058\nDorset Council"}
    with rolled_back(client):
        assert client.post(path, valid)["Location"] == "/staff/admin/partnerships"
    authorities_named = {"authorities": Kind.CHECKED}  # each line must name an authority
    variants = form_variants(valid, PartnershipForm.base_fields, answered=302, kinds=authorities_named)
    assert_every_variant_answered(client, path, variants)


def test_bad_form_input_on_a_national_body_is_a_gov_uk_page() -> None:
    client, _ = signed_in_as(User.Role.ADMINISTRATOR)
    # A police force changed by every variant: nothing refers to it, so its code may change, but only to a
    # police force's (police-…), which no other text is.
    path = f"/staff/admin/national-bodies/{NationalBody.objects.get(code='police-kent').pk}"
    valid = {
        "name": "Kent Police",
        "kind": "police_force",
        "body_code": "police-kent",
        "contact_email": "a@kent.example",
    }
    with rolled_back(client):
        assert client.post(path, valid)["Location"] == "/staff/admin/national-bodies"
    code = {"body_code": Kind.CHECKED}
    variants = form_variants(valid, NationalBodyForm.base_fields, answered=302, kinds=code)
    assert_every_variant_answered(client, path, variants)


PHONE_ANSWERS: dict[str, dict[str, str | list[str]]] = {
    **QUESTION_PAGE_ANSWERS,
    "where": {"postcode": "S60 1AA", "council": ""},
}


def test_bad_form_input_on_the_phone_report_is_a_gov_uk_page() -> None:
    """The question pages' forms, prefixed and on one page: every form's first field (the question pages test
    every field of the same forms), and the council, which the view reads itself."""
    client, _ = signed_in_as(User.Role.CALL_HANDLER)
    valid: dict[str, str | list[str]] = {}
    fields: dict[str, forms.Field] = {}
    for step in PHONE_STEPS:
        valid |= prefixed(step.slug, PHONE_ANSWERS[step.slug])
        name, field = next(iter(step.form_class.base_fields.items()))
        fields[f"{step.slug}-{name}"] = field
    fields["where-council"] = journey.STEP_BY_SLUG["where"].form_class.base_fields["council"]
    with rolled_back(client):
        response = client.post("/staff/phone-report", valid, follow=True)
    assert response.status_code == 200 and b"access code" in response.content.lower(), response.content[:300]
    # As on the reporter's "where" page: a real postcode, required since no council is chosen.
    postcode = {"where-postcode": Kind.CHECKED}
    variants = form_variants(valid, fields, answered=302, kinds=postcode, required={"where-postcode"})
    assert_every_variant_answered(client, "/staff/phone-report", variants)


# --- query strings ---------------------------------------------------------------------------------------


CASE_FILTERS = list(CaseFilterForm.base_fields)
# The parameters each page reads (the rest are ignored).
READS: dict[str, Mapping[str, forms.Field]] = {
    "/staff/cases": CaseFilterForm.base_fields,
    "/staff/referrals": ReferralFilterForm.base_fields,
    "/api/v1/cases": CaseFilterForm.base_fields,
    "/api/v1/local-authorities": {"postcode": forms.RegexField(r"")},  # a postcode: only some text is one
}
QUERY_KINDS = {"/staff/referrals": {"case_number": Kind.CHECKED}}  # letters, numbers and hyphens only
# Answers other than the kind's: "b", the repeated parameter's last value, has a case number's shape.
QUERY_ANSWERS = {("/staff/referrals", "'case_number' repeated"): 200}
STAFF_QUERY_PAGES = [
    (User.Role.SUPERVISOR, "/staff/cases", CASE_FILTERS),
    (User.Role.AUTHORITY_OFFICER, "/staff/referrals", list(ReferralFilterForm.base_fields)),
    # The statistics and pattern pages take no parameters: whatever is sent is ignored.
    (User.Role.SUPERVISOR, "/staff/statistics", ["authority"]),
    (User.Role.PARTNERSHIP, "/staff/statistics", ["since"]),
    (User.Role.OVERSIGHT_ANALYST, "/staff/statistics.csv", ["authority"]),
    (User.Role.SUPERVISOR, "/staff/patterns", ["authority"]),
]


@pytest.mark.parametrize(
    ("role", "path", "names"), [pytest.param(*page, id=f"{page[0]}:{page[1]}") for page in STAFF_QUERY_PAGES]
)
def test_bad_bytes_in_a_staff_query_string_are_a_page_or_a_form_error(role: str, path: str, names: list[str]) -> None:
    client, user = signed_in_as(role, ROTHERHAM)
    if role == User.Role.PARTNERSHIP:
        User.objects.filter(pk=user.pk).update(partnership=partnership_make("Rotherham partnership", ROTHERHAM))
    assert client.get(path).status_code == 200
    failures = []
    for name, what, query, effect in query_cases(names):
        with rolled_back(client):
            response = client.get(f"{path}?{query}")
        expected = QUERY_ANSWERS.get((path, what)) or query_answer(
            READS.get(path, {}), name, effect, QUERY_KINDS.get(path)
        )
        try:
            assert_gov_uk_answer(response, f"{path}: {what}", expected=expected)
        except AssertionError:
            failures.append(f"{what}: {response.status_code}, not {expected} {page_errors(response)}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    ("path", "names"),
    [("/api/v1/cases", CASE_FILTERS), ("/api/v1/local-authorities", ["postcode"])],
    ids=["cases", "local-authorities"],
)
def test_bad_bytes_in_an_api_query_string_are_a_field_error(path: str, names: list[str]) -> None:
    client = signed_in_as(User.Role.SUPERVISOR)[0] if path == "/api/v1/cases" else Client()
    failures = []
    for name, what, query, effect in query_cases(names):
        response = client.get(f"{path}?{query}")
        assert response["Content-Type"] == "application/json"
        expected = query_answer(READS[path], name, effect)
        if response.status_code != expected:
            failures.append(f"{what}: {response.status_code}, not {expected} {response.content[:200]!r}")
        elif expected == 400:
            errors = json.loads(response.content.decode("utf-8"))
            assert isinstance(errors, dict) and name in errors, (what, errors)
    assert not failures, "\n".join(failures)


# --- the staff JSON API ----------------------------------------------------------------------------------

API_BAD_TEXT: dict[str, Any] = {
    "a NUL inside": "a\u0000b",
    "only a NUL": "\u0000",
    "an over-long string": "x" * 25_000,
}
API_WRONG_SHAPES: dict[str, Any] = {
    "a number": 12345,
    "a fraction": 1.5,
    "a list": ["a", "b"],
    "an empty list": [],
    "a list holding a NUL": ["\u0000"],
    "an object": {"a": "b"},
    "null": None,
    "true": True,
    "false": False,
}


def api_answers(supervisor: User, other: Case) -> dict[str, dict[str, Any]]:
    answers: dict[str, dict[str, Any]] = dict(case_action_answers(supervisor, other))
    answers["refer"] = {"summary": "Please look into this.", "share_organisation": False}
    answers["close"] = {**answers["close"], "confirm": True}
    answers["release_hold"] = {"confirm": True}
    return answers


def post_json(client: Client, path: str, body: Any) -> Any:
    with rolled_back(client):
        return client.post(path, json.dumps(body), content_type="application/json")


def json_errors(response: Any, what: object) -> dict[str, Any]:
    assert response["Content-Type"] == "application/json", (what, response["Content-Type"])
    errors = json.loads(response.content.decode("utf-8"))  # strict UTF-8
    assert isinstance(errors, dict) and errors, (what, errors)
    return errors


@pytest.fixture(autouse=True)
def authorities_with_an_inbox(local_authorities: None) -> None:
    """Every authority has a referral inbox here, so a referral needs only its summary: referring to one no
    email reaches asks more, and has tests of its own (tests/referrals/test_referral_reach.py)."""
    from directory.models import LocalAuthority

    LocalAuthority.objects.update(referral_email="referrals@council.test")


@pytest.fixture
def api_case() -> tuple[Client, User, Case, Case]:
    client, supervisor = signed_in_as(User.Role.SUPERVISOR)
    return client, supervisor, new_case(), new_case()


@pytest.mark.parametrize("answered", ANSWERS)
def test_a_nul_or_an_over_long_string_in_any_staff_action_field_is_a_field_error(
    api_case: tuple[Client, User, Case, Case], answered: str
) -> None:
    action = action_of(answered)
    client, supervisor, case, other = api_case
    path = f"/api/v1/cases/{case.case_number}/{action}"
    answer = api_answers(supervisor, other)[answered] | ready_for(action, case, supervisor)
    valid = post_json(client, path, answer)
    assert valid.status_code == 200, valid.content[:300]
    form = action_form(action, case=case)
    for field_name in set(api_fields(form)) - UNREAD_FOR_THE_ANSWER.get(answered, frozenset()):
        for label, value in API_BAD_TEXT.items():
            what = (action, field_name, label)
            response = post_json(client, path, {**answer, field_name: value})
            # Text is refused everywhere: where a yes or no is asked (share_organisation) it must be a JSON boolean.
            assert response.status_code == 400, (what, response.status_code, response.content[:300])
            assert field_name in json_errors(response, what), what


@pytest.mark.parametrize("action", list(ACTION_FORMS))
def test_a_value_of_the_wrong_shape_in_any_staff_action_field_is_never_a_500(
    api_case: tuple[Client, User, Case, Case], action: str
) -> None:
    client, supervisor, case, other = api_case
    path = f"/api/v1/cases/{case.case_number}/{action}"
    answer = api_answers(supervisor, other)[action] | ready_for(action, case, supervisor)
    form = action_form(action, case=case)
    failures = []
    for field_name, field in (api_fields(form) if form is not None else {"anything": forms.CharField()}).items():
        for label, value in API_WRONG_SHAPES.items():
            what = (action, field_name, label)
            response = post_json(client, path, {**answer, field_name: value})
            errors = json_errors(response, what)
            expected = 200 if form is None or accepted(field, value, required_here(action, field_name, field)) else 400
            if response.status_code != expected:
                failures.append(f"{what}: {response.status_code}, not {expected} {errors}")
            elif expected == 400:
                assert field_name in errors, (what, errors)
    assert not failures, "\n".join(failures)


def api_fields(form: forms.Form | None) -> dict[str, forms.Field]:
    """The fields the API takes: a form's but its file (attached on the page only; in JSON, an unknown key)."""
    fields = form.fields if form is not None else {}
    return {name: field for name, field in fields.items() if not isinstance(field, forms.FileField)}


def accepted(field: forms.Field, value: Any, required: bool) -> bool:
    """Whether one of API_WRONG_SHAPES is an answer ``field`` takes: null leaves an optional field out, a
    checkbox takes true (and false where it is optional), and an optional list of codes an empty list.
    Nothing is coerced from the wrong JSON type, and no
    list of API_WRONG_SHAPES holds only the field's choices."""
    if value is None:
        return not required
    if isinstance(field, forms.BooleanField):
        return isinstance(value, bool) and (value or not required)
    if isinstance(field, forms.MultipleChoiceField):
        return value == [] and not required  # none chosen, where none is an answer (record_facts' settings)
    return False


@pytest.mark.parametrize("action", list(ACTION_FORMS))
def test_a_nul_or_bad_bytes_in_a_staff_action_field_name_are_never_a_500(
    api_case: tuple[Client, User, Case, Case], action: str
) -> None:
    client, supervisor, case, other = api_case
    path = f"/api/v1/cases/{case.case_number}/{action}"
    answer = api_answers(supervisor, other)[action] | ready_for(action, case, supervisor)
    for extra in ["\u0000", "body\u0000", "\ufffd", "x" * 10_000]:
        response = post_json(client, path, {**answer, extra: "x"})
        # A field the action does not read is ignored: the action is done.
        assert response.status_code == 200, (action, extra[:20], response.status_code, response.content[:300])
        json_errors(response, (action, extra[:20]))
    form = action_form(action, case=case)
    for name in answer:
        renamed = {key: value for key, value in answer.items() if key != name} | {f"{name}\u0000": answer[name]}
        response = post_json(client, path, renamed)
        # Renamed, the field is missing: refused if the action needs it, otherwise done without it.
        field = form.fields.get(name) if form is not None else None  # share_organisation: a named organisation only
        expected = 400 if field is not None and required_here(action, name, field) else 200
        assert response.status_code == expected, (action, name, response.status_code, response.content[:300])
        if expected == 400:
            assert name in json_errors(response, (action, name))


@pytest.mark.parametrize(
    "body", [[], ["assignee"], [{"priority": "urgent"}], "urgent", "", "\u0000", 7, None, True], ids=repr
)
def test_a_json_body_that_is_not_an_object_names_the_required_fields(
    api_case: tuple[Client, User, Case, Case], body: Any
) -> None:
    client, _, case, _ = api_case
    page_waiting(case)  # an urgent page waits for an answer: acknowledge_page, like claim, reads nothing
    for action in ACTION_FORMS:
        response = post_json(client, f"/api/v1/cases/{case.case_number}/{action}", body)
        form = action_form(action, case=case)
        if form is None:
            assert response.status_code == 200, (action, body, response.status_code)  # claim reads nothing
            continue
        assert response.status_code == 400, (action, body, response.status_code, response.content[:300])
        errors = json_errors(response, (action, body))
        required = {name for name, field in form.fields.items() if field.required}
        # A form with nothing required (record_facts) says what it needs: an object.
        assert set(errors) == (required or {"non_field_errors"}), (action, errors)


# --- JSON nested deep --------------------------------------------------------------------------------------


def nested(depth: int, inner: Any) -> Any:
    value = inner
    for _ in range(depth):
        value = [value]
    return value


def error_depth(errors: Any) -> int:
    depth = 0
    while isinstance(errors, dict):
        errors = next(iter(errors.values()))
        depth += 1
    return depth


@pytest.mark.parametrize("depth", [1, 40, 500, 700])
@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/cases/{case}/add_note", "body"),
        ("/api/v1/cases/{case}/close", "feedback"),
        ("/api/v1/reports", "summary"),
        ("/api/v1/reports/access", "reference"),
        ("/api/v1/reports/messages", "body"),
    ],
)
def test_a_lone_surrogate_nested_deep_in_a_json_field_is_a_field_error(
    api_case: tuple[Client, User, Case, Case], path: str, field: str, depth: int
) -> None:
    """It was a 500 from about 450 levels down (the decoder itself allows about 900): the parser's error for
    the surrogate was as deep as the input, and DRF's ValidationError ran out of recursion building it."""
    client, _, case, _ = api_case
    response = post_json(client, path.format(case=case.case_number), {field: nested(depth, "x\ud800")})
    assert response.status_code == 400, (depth, response.status_code, response.content[:300])
    errors = json_errors(response, depth)
    assert field in errors, errors
    assert error_depth(errors) <= MAX_ERROR_DEPTH + 1


@pytest.mark.parametrize("depth", [40, 500, 700])
def test_plain_text_nested_deep_in_a_staff_action_field_is_never_a_500(
    api_case: tuple[Client, User, Case, Case], depth: int
) -> None:
    client, _, case, _ = api_case
    for action, field in [("add_note", "body"), ("set_priority", "priority"), ("link_duplicate", "other")]:
        response = post_json(client, f"/api/v1/cases/{case.case_number}/{action}", {field: nested(depth, "x")})
        # A list is not text: nothing is coerced from the wrong JSON type.
        assert response.status_code == 400, (action, depth, response.status_code)
        assert field in json_errors(response, (action, depth))


def test_the_surrogate_check_reports_a_deep_value_once_at_a_bounded_depth() -> None:
    errors = unencodable_fields({"body": nested(5_000, "\udfff"), "ok": nested(5_000, "fine")})
    assert set(errors) == {"body"}
    assert error_depth(errors) == MAX_ERROR_DEPTH
    assert unencodable_fields({"deep": nested(5_000, {"\ud800": 1})})  # a bad key, however deep
