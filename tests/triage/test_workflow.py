"""triage.workflow on its own: which action is allowed in which status and to whom, the refusal messages,
the actions offered for a case, and the status an action leaves a case in. Pure (unsaved cases and users,
no database), but for the last tests, which show through the staff API that every action it offers a
role is one it accepts from that role."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from knox.models import AuthToken

from accounts.models import User
from directory import lookup as authorities
from referrals import identity
from referrals import selectors as referral_selectors
from referrals import services as referral_services
from reports.identity import report_add_contact
from reports.models import Attachment
from tests.factories import (
    attachment_make,
    page_waiting,
    referral_of,
    rolled_back_block,
    staff_user,
    submit_report,
)
from triage import case_actions, workflow
from triage.case_content import case_data_key
from triage.intake import report_route
from triage.models import Case
from triage.staff_actions import ACTION_FORMS
from triage.workflow import (
    ActionNotAllowed,
    ActionNotPermitted,
    allowed_actions,
    check_allowed,
    check_permitted,
    permitted,
    status_after,
)

S = Case.Status
ALL = frozenset(S.values)
OPEN = ALL - {S.CLOSED}
TRIAGE = frozenset({S.NEW, S.IN_TRIAGE, S.AWAITING_REPORTER})

# Written out independently of the module: the statuses each action is allowed from.
ALLOWED_FROM: dict[str, frozenset[str]] = {
    "claim": TRIAGE,
    "assign": OPEN,
    "set_priority": OPEN,
    "set_concern_types": OPEN,
    "set_authority": TRIAGE,
    "ask_reporter": OPEN,
    "add_note": ALL,
    # Again while referred: to another authority (issue 23).
    "refer": TRIAGE | {S.REFERRED},
    "escalate_national_review": OPEN - {S.NATIONAL_REVIEW},
    "escalate_police": OPEN,
    # Ofsted, the Care Quality Commission or the review panel, while the case is open (issue 24).
    "refer_national_body": OPEN,
    "link_duplicate": ALL,
    "close": OPEN,
    "reopen": frozenset({S.CLOSED}),
    "reply_to_authority": ALL,
    "relay_to_reporter": OPEN,
    "update_authority": frozenset({S.REFERRED}),
    # What the helpline learns for the national picture: whenever it learns it, closed cases too (issue 24).
    "record_facts": ALL,
    # A file of the case deleted (a supervisor, with a reason): whenever, closed cases too (issue 25).
    "delete_attachment": ALL,
    # Legal hold, placed and released by a supervisor, open or closed (issue 26).
    "place_hold": ALL,
    "release_hold": ALL,
    # The reporter's identity (issue 27): contact details shown with a reason, open or closed; consent asked
    # through the mailbox while the case is open; a legal-duty sharing proposed and decided, after closure too.
    "reveal_contact": ALL,
    "ask_identity_consent": OPEN,
    "propose_identity_disclosure": ALL,
    "decide_identity_disclosure": ALL,
    # "I'm dealing with it": answers an urgent page while the urgent clock runs, in triage (issue 28).
    "acknowledge_page": TRIAGE,
    "reporter_replied": frozenset({S.AWAITING_REPORTER}),
}
STAFF = [name for name in ALLOWED_FROM if name != "reporter_replied"]


def case_in(status: str) -> Case:
    return Case(status=status)


def test_the_workflow_defines_exactly_the_actions_of_this_table() -> None:
    assert set(workflow.TRANSITIONS) == set(ALLOWED_FROM)
    assert workflow.STAFF_ACTIONS == STAFF


def test_the_status_groups() -> None:
    assert workflow.OPEN == OPEN
    assert workflow.IN_TRIAGE == TRIAGE


@pytest.mark.parametrize("status", sorted(ALL))
@pytest.mark.parametrize("action", list(ALLOWED_FROM))
def test_check_allowed_allows_or_refuses_each_action_in_each_status(action: str, status: str) -> None:
    case = case_in(status)
    if status in ALLOWED_FROM[action]:
        assert check_allowed(case, action) is workflow.TRANSITIONS[action]
    else:
        with pytest.raises(ActionNotAllowed):
            check_allowed(case, action)


@pytest.mark.parametrize(
    ("action", "status", "message"),
    [
        ("claim", S.REFERRED, "You cannot claim while the case is referred to the local authority."),
        ("refer", S.CLOSED, "You cannot refer to the local authority while the case is closed."),
        ("close", S.CLOSED, "You cannot close with an outcome while the case is closed."),
        ("ask_reporter", S.CLOSED, "You cannot message the reporter while the case is closed."),
        (
            "set_authority",
            S.REFERRED,
            "You cannot confirm or change the authority while the case is referred to the local authority.",
        ),
    ],
)
def test_a_refusal_names_the_action_and_the_status(action: str, status: str, message: str) -> None:
    with pytest.raises(ActionNotAllowed) as refused:
        check_allowed(case_in(status), action)
    assert str(refused.value) == message


def test_an_unknown_action_is_refused_by_name() -> None:
    with pytest.raises(ActionNotAllowed) as refused:
        check_allowed(case_in(S.NEW), "shred")
    assert str(refused.value) == "There is no action called 'shred'."


@pytest.mark.parametrize("status", sorted(ALL))
def test_allowed_actions_lists_the_staff_actions_allowed_now_in_workflow_order(status: str) -> None:
    expected = [name for name in STAFF if status in ALLOWED_FROM[name]]
    assert allowed_actions(case_in(status)) == expected
    assert "reporter_replied" not in allowed_actions(case_in(status))


def test_a_closed_case_offers_only_a_note_a_duplicate_link_reopening_an_answer_or_what_is_known() -> None:
    assert allowed_actions(case_in(S.CLOSED)) == [
        "add_note",
        "link_duplicate",
        "reopen",
        "reply_to_authority",
        "record_facts",
        "delete_attachment",
        "place_hold",
        "release_hold",
        "reveal_contact",
        "propose_identity_disclosure",
        "decide_identity_disclosure",
    ]


# --- who may take an action -----------------------------------------------------------------------------

R = User.Role
HELPLINE = [R.CALL_HANDLER, R.SUPERVISOR]
# Written out independently of the module: the actions only some of the helpline may take, and who.
ONLY: dict[str, frozenset[str]] = {
    "reopen": frozenset({R.SUPERVISOR}),
    "delete_attachment": frozenset({R.SUPERVISOR}),
    "place_hold": frozenset({R.SUPERVISOR}),
    "release_hold": frozenset({R.SUPERVISOR}),
    "propose_identity_disclosure": frozenset({R.SUPERVISOR}),
    "decide_identity_disclosure": frozenset({R.SUPERVISOR}),
}


def user_in(role: str) -> User:
    return User(username=f"unsaved-{role}", role=role)


@pytest.mark.parametrize("role", R.values)
@pytest.mark.parametrize("action", STAFF)
def test_permitted_lets_the_helpline_take_each_action_and_only_the_named_roles_the_restricted_ones(
    action: str, role: str
) -> None:
    expected = role in HELPLINE and role in ONLY.get(action, frozenset(HELPLINE))
    assert permitted(user_in(role), action) is expected
    if expected:
        check_permitted(user_in(role), action)
    else:
        with pytest.raises(ActionNotPermitted):
            check_permitted(user_in(role), action)


def test_a_call_handler_is_told_only_a_supervisor_can_reopen() -> None:
    with pytest.raises(ActionNotPermitted) as refused:
        check_permitted(user_in(R.CALL_HANDLER), "reopen")
    assert str(refused.value) == "Only a supervisor can reopen a closed case."
    assert isinstance(refused.value, ActionNotAllowed), "callers catching ActionNotAllowed still refuse it"


@pytest.mark.parametrize("role", R.values)
@pytest.mark.parametrize("status", sorted(ALL))
def test_allowed_actions_for_a_user_are_exactly_those_neither_check_refuses(status: str, role: str) -> None:
    """One rule: an action is offered to a user exactly when neither the status check nor the role check,
    which the actions themselves run, would refuse it."""
    case, user = case_in(status), user_in(role)

    def accepted(action: str) -> bool:
        try:
            check_allowed(case, action)
            check_permitted(user, action)
        except ActionNotAllowed:
            return False
        return True

    assert allowed_actions(case, user) == [action for action in STAFF if accepted(action)]


def test_reopen_is_offered_to_a_supervisor_and_never_to_a_call_handler() -> None:
    closed = case_in(S.CLOSED)
    assert "reopen" in allowed_actions(closed, user_in(R.SUPERVISOR))
    assert "reopen" not in allowed_actions(closed, user_in(R.CALL_HANDLER))
    assert allowed_actions(closed, user_in(R.AUTHORITY_OFFICER)) == []


# --- through the staff API: what it offers, it accepts --------------------------------------------------

ROTHERHAM = "E08000018"
SHEFFIELD = "E08000039"


def api_bodies(case: Case, other: Case, assignee: User) -> dict[str, dict[str, Any]]:
    """A valid body for each of the API's actions on ``case``."""
    question = next(iter(referral_selectors.unanswered_question_choices(case)), ("1", ""))[0]
    sharable = next(iter(identity.identity_referral_choices(case)), ("1", ""))[0]
    proposal = next(iter(identity.identity_proposal_choices(case)), ("1", ""))[0]
    return {
        "claim": {},
        "assign": {"assignee": assignee.username},
        "set_priority": {"priority": "urgent"},
        "set_concern_types": {"concern_types": ["other"]},
        "set_authority": {"authority": ROTHERHAM},
        "ask_reporter": {"body": "Can you tell us more?"},
        "add_note": {"body": "Called the school."},
        # Once referred, a second referral goes to another authority (the placing or the host council).
        # Sheffield has no inbox or officer here: the helpline says how it will tell them.
        "refer": {"summary": "Please look into this."}
        | (
            {
                "recipient": {"kind": "local_authority", "code": SHEFFIELD},
                "how_told": "phone",
                "how_told_note": "Call Sheffield's front door",
            }
            if case.status == S.REFERRED
            else {}
        ),
        "escalate": {"route": "police", "force": "police-south-yorkshire", "how_sent": "telephone"},
        "refer_national_body": {
            "national_body": "ofsted",
            "how_sent": "secure_channel",
            "summary": "A systemic failure in the council's children's services.",
        },
        "link_duplicate": {"other": other.case_number},
        "close": {"outcome": "no_further_action", "feedback": "Thank you.", "confirm": True},
        "reopen": {"reason": "The school sent new information."},
        "reply_to_authority": {"question": question, "body": "It was Year 9."},
        "relay_to_reporter": {"question": question, "body": "Which year group?"},
        "update_authority": {"summary": "The man drives a silver hatchback."},
        "record_facts": {"ofsted_class": "specific_child"},
        "delete_attachment": {"attachment": str(case_file(case).public_id), "reason": "Sent to the wrong case."},
        "place_hold": {"basis": "inquiry_notice", "reason": "Notice IIGG/2027/3"},
        "release_hold": {"confirm": True},
        "reveal_contact": {"reason": "contact_reporter"},
        "ask_identity_consent": {"referral": sharable, "covers": ["name"]},
        "propose_identity_disclosure": {
            "referral": sharable,
            "covers": ["name"],
            "basis": "court_order",
            "legal_reference": "Order 2027/9",
        },
        "decide_identity_disclosure": {"proposal": proposal, "decision": "approve"},
        "acknowledge_page": {},
    }


def case_file(case: Case) -> Any:
    """The case's file (each case of cases_in_every_state has one)."""
    return Attachment.objects.filter(report_id=case.report_id).order_by("id").first()


def cases_in_every_state(supervisor: User) -> dict[str, Case]:
    def new() -> Case:
        return report_route(report_id=submit_report(local_authority=authorities.authority_by_code(ROTHERHAM)).report.pk)

    officer = staff_user("workflow-officer", role=R.AUTHORITY_OFFICER)
    rotherham = authorities.authority_by_code(ROTHERHAM)
    assert rotherham is not None
    officer.authorities.set([rotherham])
    cases = {name: new() for name in ("new", "awaiting_reporter", "referred", "national_review", "closed")}
    case_actions.case_ask_reporter(case=cases["awaiting_reporter"], body="Which school?", acting_user=supervisor)
    referral_services.case_refer(case=cases["referred"], summary="Please look.", acting_user=supervisor)
    referral_services.referral_ask_helpline(
        referral=referral_of(cases["referred"]), question="Which year group?", acting_user=officer
    )
    case_actions.case_escalate(
        case=cases["national_review"], route="national_review", reason="About the council.", acting_user=supervisor
    )
    case_actions.case_close(case=cases["closed"], outcome="duplicate", feedback="Thank you.", acting_user=supervisor)
    for case in cases.values():
        case.refresh_from_db()
        attachment_make(case)  # a supervisor may delete it
    # On legal hold: a supervisor may release it (and may hold each of the others).
    case_actions.case_hold_place(
        case=cases["national_review"], basis="court_order", reason="Order 2027/5", acting_user=supervisor
    )
    # The reporter's identity: two reporters who gave the helpline their details; a legal-duty sharing with
    # Rotherham proposed by another supervisor (so that the supervisor may decide it), the review's referral free
    # for consent to be asked or a sharing proposed.
    for name in ("referred", "national_review"):
        report_add_contact(
            report=cases[name].report, data_key=case_data_key(cases[name]), name="Sam", phone="07700 900982"
        )
        cases[name].refresh_from_db()
    identity.identity_propose(
        case=cases["referred"],
        referral_id=referral_of(cases["referred"]).pk,
        covers=["name"],
        basis="immediate_risk",
        legal_reference="Strategy discussion 4",
        acting_user=staff_user("workflow-proposer", role=R.SUPERVISOR),
    )
    # An urgent page nobody has answered: acknowledge_page is offered on it.
    page_waiting(cases["new"])
    return cases


@pytest.mark.slow
@pytest.mark.isolated
@pytest.mark.django_db
@pytest.mark.usefixtures("fast_kdf", "local_authorities")
@pytest.mark.parametrize("role", HELPLINE)
def test_every_action_the_staff_api_offers_a_role_is_one_it_accepts_from_that_role(role: str) -> None:
    supervisor = staff_user("workflow-supervisor", role=R.SUPERVISOR)
    user = staff_user(f"workflow-{role}", role=role)
    cases = cases_in_every_state(supervisor)
    other = report_route(report_id=submit_report().report.pk)
    token = AuthToken.objects.create(user)[1]
    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    offered_anywhere: set[str] = set()
    refused: list[tuple[str, str, int]] = []  # (state, action, status) for every offer that was not taken
    for state, case in cases.items():
        assert case.status == state
        detail = client.get(f"/api/v1/cases/{case.case_number}")
        assert detail.status_code == 200, detail.content
        offered = detail.json()["allowed_actions"]
        offered_anywhere |= set(offered)
        bodies = api_bodies(case, other, supervisor)
        for action in offered:
            with rolled_back_block():
                done = client.post(
                    f"/api/v1/cases/{case.case_number}/{action}",
                    bodies.get(action, {}),
                    content_type="application/json",
                )
                transaction.set_rollback(True)
            if done.status_code != 200:
                refused.append((state, action, done.status_code))
    assert refused == [], f"offered to a {role}, then refused"
    if role == R.SUPERVISOR:
        assert offered_anywhere == set(ACTION_FORMS), "each of the API's actions was offered, and taken, here"
    else:
        assert offered_anywhere == set(ACTION_FORMS) - {
            "reopen",
            "delete_attachment",
            "place_hold",
            "release_hold",
            "propose_identity_disclosure",
            "decide_identity_disclosure",
        }, "only a supervisor's"
        refused = client.post(
            f"/api/v1/cases/{cases['closed'].case_number}/reopen",
            {"reason": "I think it should be open."},
            content_type="application/json",
        )
        assert refused.status_code == 403
        assert refused.json() == {"detail": "Only a supervisor can reopen a closed case."}


@pytest.mark.parametrize(
    ("action", "status", "after"),
    [
        ("claim", S.NEW, S.IN_TRIAGE),
        ("claim", S.AWAITING_REPORTER, S.IN_TRIAGE),
        ("ask_reporter", S.NEW, S.AWAITING_REPORTER),
        ("ask_reporter", S.IN_TRIAGE, S.AWAITING_REPORTER),
        ("ask_reporter", S.AWAITING_REPORTER, S.AWAITING_REPORTER),
        ("ask_reporter", S.REFERRED, S.REFERRED),
        ("ask_reporter", S.NATIONAL_REVIEW, S.NATIONAL_REVIEW),
        ("refer", S.IN_TRIAGE, S.REFERRED),
        ("escalate_national_review", S.REFERRED, S.NATIONAL_REVIEW),
        ("close", S.NATIONAL_REVIEW, S.CLOSED),
        ("reopen", S.CLOSED, S.IN_TRIAGE),
        ("reporter_replied", S.AWAITING_REPORTER, S.IN_TRIAGE),
        ("assign", S.REFERRED, S.REFERRED),
        ("set_priority", S.NEW, S.NEW),
        ("set_concern_types", S.AWAITING_REPORTER, S.AWAITING_REPORTER),
        ("set_authority", S.IN_TRIAGE, S.IN_TRIAGE),
        ("escalate_police", S.NATIONAL_REVIEW, S.NATIONAL_REVIEW),
        ("add_note", S.CLOSED, S.CLOSED),
        ("link_duplicate", S.CLOSED, S.CLOSED),
    ],
)
def test_status_after_an_action(action: str, status: str, after: str) -> None:
    assert status_after(case_in(status), action) == after


@pytest.mark.parametrize(("action", "status"), [("close", S.CLOSED), ("claim", S.REFERRED), ("nope", S.NEW)])
def test_status_after_refuses_what_check_allowed_refuses(action: str, status: str) -> None:
    with pytest.raises(ActionNotAllowed):
        status_after(case_in(status), action)


def test_a_refusal_by_status_reads_as_a_sentence_for_every_transition() -> None:
    """Each refusal is "You cannot <label> while the case is <status>": every label is what someone does."""
    verbs = {
        "claim",
        "assign",
        "set",
        "confirm",
        "message",
        "add",
        "refer",
        "send",
        "link",
        "close",
        "reopen",
        "reply",
        "ask",
        "take",
        "record",
        "delete",
        "put",
        "release",
        "show",
        "propose",
        "approve",
    }
    for name, transition in workflow.TRANSITIONS.items():
        assert transition.label.split()[0].lower() in verbs, name
    case = Case(status=Case.Status.NATIONAL_REVIEW)
    with pytest.raises(workflow.ActionNotAllowed) as refused:
        workflow.check_allowed(case, "escalate_national_review")
    assert str(refused.value) == (
        "You cannot send to independent national review while the case is independent national review."
    )
