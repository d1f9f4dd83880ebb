"""The local authority workspace under /staff/referrals, through the real sign-in and the test client:
what an officer may see (their own authority's referrals, by case number, the helpline's summary) and
never see (the reference, the reporter's words or identity, other authorities' referrals, a case about
their own council), what each action records, and who is refused."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from core import crypto
from directory.lookup import authority_by_code
from directory.models import LocalAuthority
from notify import services as notify_services
from notify.models import Notification
from referrals import identity
from referrals import services as referral_services
from referrals.models import AuthorityAction
from reports.models import Anonymity
from reports.services import Contact
from tests.factories import (
    identity_consented,
    partnership_of_region,
    referral_make,
    referral_of,
    signed_in,
    staff_user,
    staff_with_mfa,
    submit_report,
)
from triage import case_actions as actions
from triage import case_content
from triage.events import case_events
from triage.intake import report_route
from triage.models import Case
from triage.notifications import case_emails
from triage.workflow import ActionNotAllowed

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

ROTHERHAM = "E08000018"
SHEFFIELD = "E08000039"
CANARY = "CANARY-Wq3x"
SUMMARY = "HELPLINE-SUMMARY-Kp7: a girl goes missing from a children's home and nobody acts."
REPORTER_NAME = "Reporter Name Zr9"
REPORTER_EMAIL = "canary.reporter@private.example"
REPORTER_PHONE = "07700 900123"
REFERRAL_INBOX = "referrals@rotherham.gov.test"


# --- helpers --------------------------------------------------------------------------------------------


def text(response: Any) -> str:
    return html.unescape(response.content.decode())


def new_case(**overrides: Any) -> Case:
    """A routed case whose report carries the canary in every free-text answer."""
    values: dict[str, Any] = {
        "summary": f"{CANARY} summary",
        "details": f"{CANARY} details",
        "organisation_name": f"{CANARY} Children's Home",
        "internal_response": f"{CANARY} told to drop it",
    }
    values.update(overrides)
    return report_route(report_id=submit_report(**values).report.pk)


def referred(referrer: User, *, share_identity: bool = False, **overrides: Any) -> Case:
    case = new_case(**overrides)
    referral = referral_services.case_refer(case=case, summary=SUMMARY, acting_user=referrer)
    if share_identity:
        identity_consented(referral, ("name",))
    case.refresh_from_db()
    return case


def named(**overrides: Any) -> dict[str, Any]:
    return {
        "anonymity": Anonymity.NAMED,
        "contact": Contact(name=REPORTER_NAME, email=REPORTER_EMAIL, phone=REPORTER_PHONE),
        **overrides,
    }


def assert_nothing_of_the_reporter(body: str, case: Case) -> None:
    assert case.report.reference not in body
    assert CANARY not in body
    assert REPORTER_EMAIL not in body
    assert REPORTER_PHONE not in body


# --- fixtures -------------------------------------------------------------------------------------------


@pytest.fixture
def rotherham() -> LocalAuthority:
    authority = authority_by_code(ROTHERHAM)
    assert authority is not None
    LocalAuthority.objects.filter(pk=authority.pk).update(referral_email=REFERRAL_INBOX)
    authority.refresh_from_db()
    return authority


@pytest.fixture
def sheffield() -> LocalAuthority:
    authority = authority_by_code(SHEFFIELD)
    assert authority is not None
    return authority


@pytest.fixture
def supervisor() -> User:
    return staff_user("sup-one", role=User.Role.SUPERVISOR, email="sup-one@helpline.test")


@pytest.fixture
def officer(rotherham: LocalAuthority) -> User:
    user = staff_with_mfa("rotherham-officer", role=User.Role.AUTHORITY_OFFICER, email="officer@rotherham.gov.test")[0]
    user.authorities.add(rotherham)
    return user


@pytest.fixture
def sheffield_officer(sheffield: LocalAuthority) -> User:
    user = staff_with_mfa("sheffield-officer", role=User.Role.AUTHORITY_OFFICER, email="officer@sheffield.gov.test")[0]
    user.authorities.add(sheffield)
    return user


@pytest.fixture
def officer_client(officer: User) -> Client:
    return signed_in(officer)


@pytest.fixture
def referral(supervisor: User, officer: User) -> Case:
    """A confidential reporter's concern, referred to Rotherham (whose officer exists already)."""
    return referred(
        supervisor,
        anonymity=Anonymity.CONFIDENTIAL,
        contact=Contact(name=f"{CANARY} Name", email=REPORTER_EMAIL, phone=REPORTER_PHONE),
    )


def post(client: Client, case: Case, action: str, data: dict[str, str] | None = None) -> Any:
    return client.post(f"/staff/referrals/{case.case_number}/{action}", data or {})


def refused(client: Client, case: Case, action: str, data: dict[str, str] | None = None) -> Any:
    """A refused action redirects to the referral page (post/redirect/get), which shows why, once."""
    response = post(client, case, action, data)
    assert response.status_code == 302, response.status_code
    assert re.fullmatch(rf"/staff/referrals/{case.case_number}/\d+#[a-z_-]+", response["Location"])
    return client.get(f"/staff/referrals/{case.case_number}", follow=True)


# --- what an officer sees -------------------------------------------------------------------------------


def test_an_officer_sees_only_referrals_to_their_own_authority_by_case_number(
    officer_client: Client, supervisor: User, sheffield: LocalAuthority, rotherham: LocalAuthority
) -> None:
    mine = [referred(supervisor), referred(supervisor)]
    theirs = referred(supervisor, local_authority=sheffield)
    not_yet_referred = new_case()
    assert not_yet_referred.authority_id == rotherham.pk

    response = officer_client.get("/staff/referrals")

    assert response.status_code == 200
    listed = [row["case_number"] for row in response.context["rows"]]
    assert sorted(listed) == sorted(case.case_number for case in mine)
    body = text(response)
    for case in mine:
        assert case.case_number in body
        assert f'href="/staff/referrals/{case.case_number}/' in body
    for case in (theirs, not_yet_referred):
        assert case.case_number not in body
    for case in (*mine, theirs, not_yet_referred):
        assert case.report.reference not in body
    assert CANARY not in body
    # Deadline states: freshly referred, nothing is overdue yet.
    assert {row["ack_state"] for row in response.context["rows"]} <= {"on time", "due soon"}


def test_the_referral_page_shows_the_helplines_summary_and_none_of_the_reporters_own_words(
    officer_client: Client, referral: Case
) -> None:
    response = officer_client.get(f"/staff/referrals/{referral.case_number}", follow=True)

    assert response.status_code == 200
    body = text(response)
    assert referral.case_number in body
    assert SUMMARY in body
    assert_nothing_of_the_reporter(body, referral)
    assert f"{CANARY} Name" not in body
    assert "Not shared" in body
    # Opening the referral decrypted the summary: that is audited, against the officer.
    viewed = case_events(referral).filter(kind="content_viewed").last()
    assert viewed is not None
    assert viewed.detail == {"view": "referral"}
    assert viewed.actor is not None
    assert viewed.actor.role == User.Role.AUTHORITY_OFFICER


def test_a_named_reporters_name_appears_only_when_they_consented_to_share_it(
    officer_client: Client, supervisor: User
) -> None:
    shared = referred(supervisor, share_identity=True, **named())
    withheld = referred(supervisor, **named())

    shared_body = text(officer_client.get(f"/staff/referrals/{shared.case_number}", follow=True))
    withheld_body = text(officer_client.get(f"/staff/referrals/{withheld.case_number}", follow=True))

    assert REPORTER_NAME in shared_body
    assert "Shared with their consent, for this referral only" in shared_body
    assert_nothing_of_the_reporter(shared_body, shared)  # the name only: never the email or phone
    assert REPORTER_NAME not in withheld_body
    assert_nothing_of_the_reporter(withheld_body, withheld)


def test_an_anonymous_reporters_identity_cannot_be_asked_for(supervisor: User) -> None:
    case = new_case(anonymity=Anonymity.ANONYMOUS, contact=Contact())
    referral = referral_services.case_refer(case=case, summary=SUMMARY, acting_user=supervisor)
    with pytest.raises(ActionNotAllowed, match="has not given the helpline their name"):
        identity.identity_ask_consent(case=case, referral_id=referral.pk, covers=["name"], acting_user=supervisor)
    assert not referral.identity_sharings.exists()


def test_the_referral_email_to_the_authority_names_the_case_number_and_never_the_reference(
    referral: Case, officer: User
) -> None:
    records = case_emails(referral).filter(template="authority_referral")
    assert {r.recipient for r in records} == {REFERRAL_INBOX, officer.email}
    for record in records:
        message = notify_services.email_render(record)
        alternative = str(message.alternatives[0][0])  # type: ignore[index]
        assert referral.case_number in message.subject
        assert referral.case_number in str(message.body)
        for part in (message.subject, str(message.body), alternative):
            assert referral.report.reference not in part
            assert CANARY not in part
            assert SUMMARY not in part


# --- actions --------------------------------------------------------------------------------------------


def test_acknowledging_is_recorded_and_audited_and_a_second_acknowledgement_is_refused(
    officer_client: Client, officer: User, referral: Case
) -> None:
    response = post(officer_client, referral, "acknowledge")

    assert response.status_code == 302
    assert re.fullmatch(rf"/staff/referrals/{referral.case_number}/\d+", response["Location"])
    referral.refresh_from_db()
    assert referral_of(referral).acknowledged_at is not None
    acknowledged_at = referral_of(referral).acknowledged_at
    action = AuthorityAction.objects.get(case=referral)
    assert action.kind == AuthorityAction.Kind.ACKNOWLEDGED
    assert action.recorded_by == officer
    event = case_events(referral).get(kind="authority_acknowledged")
    assert event.actor == officer
    assert event.detail == {"action_id": action.pk, "referral_id": action.referral_id}

    again = refused(officer_client, referral, "acknowledge")

    assert again.status_code == 409
    assert "already been acknowledged" in text(again)
    referral.refresh_from_db()
    assert referral_of(referral).acknowledged_at == acknowledged_at
    assert AuthorityAction.objects.filter(case=referral).count() == 1
    assert case_events(referral).filter(kind="authority_acknowledged").count() == 1


@pytest.mark.parametrize(
    "kind",
    [
        AuthorityAction.Kind.STRATEGY_DISCUSSION,
        AuthorityAction.Kind.SECTION_47,
        AuthorityAction.Kind.POLICE_REFERRAL,
        AuthorityAction.Kind.LADO,
        AuthorityAction.Kind.PRACTICE_REVIEW,
    ],
)
def test_recording_what_was_done_needs_an_acknowledgement_first(
    officer_client: Client, officer: User, referral: Case, kind: str
) -> None:
    note = f"{CANARY} enquiry opened"
    data = {"record_action-kind": kind, "record_action-note": note}

    refused_page = refused(officer_client, referral, "record_action", data)

    assert refused_page.status_code == 409
    assert "Acknowledge the referral first" in text(refused_page)
    assert not AuthorityAction.objects.filter(case=referral).exists()

    assert post(officer_client, referral, "acknowledge").status_code == 302
    done = post(officer_client, referral, "record_action", data)

    assert done.status_code == 302
    action = AuthorityAction.objects.get(case=referral, kind=kind)
    assert action.recorded_by == officer
    assert note.encode() not in bytes(action.note)  # sealed like all free text
    event = case_events(referral).get(kind=f"authority_{kind}")
    assert event.actor == officer
    assert CANARY not in json.dumps(event.detail)
    # The officer reads their own note back on the referral page.
    assert note in text(officer_client.get(f"/staff/referrals/{referral.case_number}", follow=True))


def test_an_action_not_on_the_list_is_refused(officer_client: Client, referral: Case) -> None:
    assert post(officer_client, referral, "acknowledge").status_code == 302
    for kind in ("outcome", "question", "acknowledged", "made_up"):
        response = refused(officer_client, referral, "record_action", {"record_action-kind": kind})
        assert response.status_code == 400
    assert AuthorityAction.objects.filter(case=referral).count() == 1


def test_recording_the_outcome_emails_the_helpline_with_the_reference_and_nobody_else(
    officer_client: Client, officer: User, referral: Case, supervisor: User
) -> None:
    second_supervisor = staff_user("sup-two", role=User.Role.SUPERVISOR, email="sup-two@helpline.test")
    handler = staff_user("handler", role=User.Role.CALL_HANDLER, email="handler@helpline.test")
    Case.objects.filter(pk=referral.pk).update(assignee=handler)
    staff_user("analyst", role=User.Role.OVERSIGHT_ANALYST, email="analyst@oversight.test")
    staff_user(
        "board",
        role=User.Role.PARTNERSHIP,
        email="board@yorkshire.test",
        partnership=partnership_of_region("Yorkshire and The Humber"),
    )
    data = {"record_outcome-outcome": "early_help", "record_outcome-note": f"{CANARY} family supported"}

    too_soon = refused(officer_client, referral, "record_outcome", data)

    assert too_soon.status_code == 409
    assert not Notification.objects.filter(template="authority_outcome_recorded").exists()

    assert post(officer_client, referral, "acknowledge").status_code == 302
    response = post(officer_client, referral, "record_outcome", data)

    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral_of(referral).outcome == "early_help"
    assert referral_of(referral).outcome_at is not None
    assert referral.status == Case.Status.REFERRED  # the helpline closes the case, with feedback
    event = case_events(referral).get(kind="authority_outcome")
    assert event.actor == officer
    records = list(case_emails(referral).filter(template="authority_outcome_recorded"))
    assert {r.recipient for r in records} == {supervisor.email, second_supervisor.email, handler.email}
    for record in records:
        message = notify_services.email_render(record)
        assert referral.case_number in message.subject and referral.report.reference not in message.subject
        assert referral.case_number in str(message.body)
        assert CANARY not in str(message.body)
    # Every email about this case carrying the reference went to a helpline address.
    helpline_addresses = {supervisor.email, second_supervisor.email, handler.email}
    for record in case_emails(referral):
        rendered = notify_services.email_render(record)
        if referral.report.reference in rendered.subject + str(rendered.body):
            assert record.recipient in helpline_addresses, record.template

    twice = refused(officer_client, referral, "record_outcome", {"record_outcome-outcome": "concern_not_upheld"})
    assert twice.status_code == 409
    referral.refresh_from_db()
    assert referral_of(referral).outcome == "early_help"


def test_an_officer_can_ask_the_helpline_a_question(
    officer_client: Client, officer: User, referral: Case, supervisor: User
) -> None:
    question = f"{CANARY} can the reporter tell us which shift?"

    response = post(officer_client, referral, "ask_helpline", {"ask_helpline-note": question})

    assert response.status_code == 302
    action = AuthorityAction.objects.get(case=referral, kind=AuthorityAction.Kind.QUESTION)
    assert action.recorded_by == officer
    assert question.encode() not in bytes(action.note)
    assert crypto.open_text(case_content.case_data_key(referral), bytes(action.note)) == question
    assert case_events(referral).filter(kind="authority_question", actor=officer).count() == 1
    record = case_emails(referral).get(template="authority_question")
    assert record.recipient == supervisor.email
    rendered = notify_services.email_render(record)
    assert CANARY not in rendered.subject + str(rendered.body)
    # An empty question is refused with an error.
    empty = refused(officer_client, referral, "ask_helpline", {"ask_helpline-note": "   "})
    assert empty.status_code == 400
    assert AuthorityAction.objects.filter(case=referral, kind=AuthorityAction.Kind.QUESTION).count() == 1


def test_a_closed_referral_takes_no_more_actions(officer_client: Client, referral: Case, supervisor: User) -> None:
    actions.case_close(case=referral, outcome="referred_and_acted_on", feedback="Thank you.", acting_user=supervisor)

    response = refused(officer_client, referral, "acknowledge")

    assert response.status_code == 409
    referral.refresh_from_db()
    assert referral_of(referral).acknowledged_at is None
    assert referral.case_number not in [
        r["case_number"] for r in officer_client.get("/staff/referrals").context["rows"]
    ]
    assert referral.case_number in text(officer_client.get("/staff/referrals?closed=1"))


# --- refusals -------------------------------------------------------------------------------------------

ACTION_POSTS = [
    ("acknowledge", {}),
    ("record_action", {"record_action-kind": "section_47"}),
    ("record_outcome", {"record_outcome-outcome": "early_help"}),
    ("ask_helpline", {"ask_helpline-note": "A question"}),
]


def test_an_officer_of_another_authority_gets_404_on_the_referral_and_every_action(
    sheffield_officer: User, referral: Case
) -> None:
    client = signed_in(sheffield_officer)
    events_before = case_events(referral).count()

    assert client.get(f"/staff/referrals/{referral.case_number}", follow=True).status_code == 404
    assert referral.case_number not in text(client.get("/staff/referrals?closed=1"))
    for action, data in ACTION_POSTS:
        assert post(client, referral, action, data).status_code == 404, action

    referral.refresh_from_db()
    assert referral_of(referral).acknowledged_at is None
    assert not AuthorityAction.objects.filter(case=referral).exists()
    assert case_events(referral).count() == events_before  # not even a content view


def test_an_unknown_case_number_is_404_like_anyone_elses(officer_client: Client) -> None:
    assert officer_client.get("/staff/referrals/2026-ZZZZZZ").status_code == 404
    assert officer_client.post("/staff/referrals/2026-ZZZZZZ/acknowledge").status_code == 404


@pytest.mark.parametrize("routed_to_rotherham_anyway", [False, True])
def test_a_case_about_rotherham_itself_never_reaches_a_rotherham_officer(
    officer_client: Client, rotherham: LocalAuthority, routed_to_rotherham_anyway: bool
) -> None:
    about_us = new_case(about_authority=rotherham)
    assert about_us.independent_review
    assert about_us.conflict_authority_id == rotherham.pk
    assert about_us.authority_id is None
    if routed_to_rotherham_anyway:
        # However it came to carry Rotherham as its authority and a referral row, it stays invisible.
        Case.objects.filter(pk=about_us.pk).update(authority=rotherham)
        referral_make(about_us, authority=rotherham)

    listed = officer_client.get("/staff/referrals?closed=1")
    assert about_us.case_number not in text(listed)
    assert officer_client.get(f"/staff/referrals/{about_us.case_number}", follow=True).status_code == 404
    for action, data in ACTION_POSTS:
        assert post(officer_client, about_us, action, data).status_code == 404, action
    assert not AuthorityAction.objects.filter(case=about_us).exists()
    assert not case_events(about_us).filter(kind="content_viewed").exists()


def test_a_case_about_rotherham_cannot_be_referred_to_rotherham(supervisor: User, rotherham: LocalAuthority) -> None:
    about_us = new_case(about_authority=rotherham)
    Case.objects.filter(pk=about_us.pk).update(authority=rotherham)
    about_us.refresh_from_db()
    with pytest.raises(ActionNotAllowed):
        referral_services.case_refer(case=about_us, summary=SUMMARY, acting_user=supervisor)
    assert not about_us.referrals.exists()


def test_helpline_pages_and_the_staff_api_are_refused_to_an_officer(officer_client: Client, referral: Case) -> None:
    number = referral.case_number
    assert officer_client.get("/staff/cases").status_code == 403
    assert officer_client.get(f"/staff/cases/{number}").status_code == 403
    assert officer_client.post(f"/staff/cases/{number}/claim").status_code == 403
    assert officer_client.get("/staff/cases", {"search": referral.report.reference}).status_code == 403
    assert officer_client.get("/api/v1/cases").status_code == 403
    assert officer_client.get(f"/api/v1/cases/{number}").status_code == 403
    assert officer_client.post(f"/api/v1/cases/{number}/claim").status_code == 403


@pytest.mark.parametrize(
    "role",
    [
        User.Role.PARTNERSHIP,
        User.Role.OVERSIGHT_ANALYST,
        User.Role.ADMINISTRATOR,
        User.Role.CALL_HANDLER,
        User.Role.SUPERVISOR,
    ],
)
def test_only_authority_officers_may_open_the_referral_workspace(role: str, referral: Case) -> None:
    user = staff_with_mfa(f"someone-{role}", role=role, partnership=partnership_of_region("Yorkshire and The Humber"))[
        0
    ]
    client = signed_in(user)

    assert client.get("/staff/referrals").status_code == 403
    assert client.get(f"/staff/referrals/{referral.case_number}", follow=True).status_code == 403
    for action, data in ACTION_POSTS:
        assert post(client, referral, action, data).status_code == 403, action
    referral.refresh_from_db()
    assert referral_of(referral).acknowledged_at is None


def test_the_workspace_needs_a_signed_in_verified_officer(referral: Case) -> None:
    anonymous = Client()
    response = anonymous.get("/staff/referrals")
    assert response.status_code == 302
    assert response["Location"].startswith("/staff/sign-in")
    assert anonymous.post(f"/staff/referrals/{referral.case_number}/acknowledge").status_code == 302
    referral.refresh_from_db()
    assert referral_of(referral).acknowledged_at is None
