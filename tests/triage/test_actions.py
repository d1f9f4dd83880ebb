"""What helpline staff do to a case: each action's effect, its audit event and its refusals."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from accounts.models import User
from audit.models import AuditEvent
from audit.trail import audit_verify
from directory.lookup import authority_by_code
from directory.models import LocalAuthority, NationalBody
from notify.models import Notification
from outbox.models import OutboxMessage
from outbox.services import outbox_process
from referrals import identity
from referrals import services as referral_services
from referrals.deadlines import clocks_start
from referrals.models import AuthorityAction, Referral
from reports.identity import report_add_contact
from reports.models import Anonymity, Message
from reports.services import Contact, report_read, report_unlock
from tests.factories import (
    attachment_make,
    facts_record,
    page_waiting,
    referral_make,
    referral_of,
    staff_user,
    submit_report,
)
from triage import case_actions as actions
from triage import case_content, deadlines, staff_actions, workflow
from triage.events import case_events
from triage.intake import report_route
from triage.models import Case, CaseLink, CaseNote
from triage.notifications import case_emails
from triage.workflow import STAFF_ACTIONS, TRANSITIONS, ActionNotAllowed

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

LONDON = ZoneInfo("Europe/London")
CANARY = "CANARY-q7Zk"
ROTHERHAM = "E08000018"
SHEFFIELD = "E08000039"
S = Case.Status
REPORTER_EMAIL = "whistle.blower@private.example"


# --- helpers ----------------------------------------------------------------------------------------


def make_case(**overrides: object) -> tuple[Case, str]:
    """A routed case whose report carries the canary in every free-text answer; with its access code."""
    values: dict[str, object] = {
        "summary": f"{CANARY} summary",
        "details": f"{CANARY} details",
        "organisation_name": f"{CANARY} Children's Home",
        "internal_response": f"{CANARY} told to drop it",
    }
    values.update(overrides)
    submitted = submit_report(**values)
    return report_route(report_id=submitted.report.pk), submitted.access_code


def confidential(**overrides: object) -> dict[str, object]:
    return {
        "anonymity": Anonymity.CONFIDENTIAL,
        "contact": Contact(name=f"{CANARY} Name", email=REPORTER_EMAIL),
        **overrides,
    }


def with_status(case: Case, status: str) -> Case:
    Case.objects.filter(pk=case.pk).update(status=status)
    case.refresh_from_db()
    return case


def events(case: Case, kind: str) -> list[AuditEvent]:
    return list(case_events(case).filter(kind=kind))


def one_event(case: Case, kind: str, actor: User) -> AuditEvent:
    found = events(case, kind)
    assert len(found) == 1, f"expected one {kind} event, got {len(found)}"
    assert found[0].actor_id == actor.pk
    return found[0]


def assert_no_free_text_in_audit() -> None:
    for event in AuditEvent.objects.all():
        assert CANARY not in json.dumps(event.detail), f"free text in the {event.kind} event's detail"
    assert audit_verify() == []


def reporter_messages(case: Case, access_code: str) -> list[str]:
    report, key = report_unlock(reference=case.report.reference, access_code=access_code, client="test-client")
    return [message.body for message in report_read(report=report, data_key=key).messages]


def send_all_queued_email() -> None:
    for row in OutboxMessage.objects.filter(kind="send_email", processed_at__isnull=True):
        outbox_process(outbox_id=row.pk)


def email_text(message: object) -> str:
    """Subject, plain text and every alternative of one sent email."""
    parts = [message.subject, message.body]  # type: ignore[attr-defined]
    parts += [content for content, _ in getattr(message, "alternatives", [])]
    return "\n".join(str(part) for part in parts)


@pytest.fixture
def handler() -> User:
    return staff_user("handler", role=User.Role.CALL_HANDLER)


@pytest.fixture
def colleague() -> User:
    return staff_user("colleague", role=User.Role.CALL_HANDLER)


# --- the workflow matrix: every action in every status ----------------------------------------------

Runner = Callable[[Case, User], object]


def _other_case() -> Case:
    return make_case()[0]


def _asked(case: Case, user: User) -> int:
    """The case as referred, with a question from its authority: what the thread actions need."""
    referral = case.referrals.order_by("-id").first()
    if referral is None:
        referral = Referral(
            case=case,
            authority=case.authority or authority_by_code(SHEFFIELD),
            summary=b"",
            referred_by=user,
            referred_at=timezone.now(),
        )
        clocks_start(referral, referral.referred_at)
        referral.save()
    officer = User.objects.filter(username="officer").first() or staff_user("officer", role=User.Role.AUTHORITY_OFFICER)
    question = AuthorityAction.objects.create(
        referral=referral,
        case=case,
        kind=AuthorityAction.Kind.QUESTION,
        note=b"",
        recorded_by=officer,
        created_at=timezone.now(),
        answer_due_at=timezone.now() + timedelta(days=2),
    )
    return question.pk


RUNNERS: dict[str, Runner] = {
    "claim": lambda case, user: actions.case_claim(case=case, acting_user=user),
    "assign": lambda case, user: actions.case_assign(
        case=case, assignee=staff_user("colleague", role=User.Role.CALL_HANDLER), acting_user=user
    ),
    "set_priority": lambda case, user: actions.case_set_priority(case=case, priority="urgent", acting_user=user),
    "set_concern_types": lambda case, user: actions.case_set_concern_types(
        case=case, concern_types=["retaliation_against_staff"], acting_user=user
    ),
    "set_authority": lambda case, user: actions.case_set_authority(
        case=case, authority=authority_by_code(SHEFFIELD), acting_user=user
    ),
    "ask_reporter": lambda case, user: actions.case_ask_reporter(
        case=case, body=f"{CANARY} question", acting_user=user
    ),
    "add_note": lambda case, user: actions.case_add_note(case=case, body=f"{CANARY} note", acting_user=user),
    "refer": lambda case, user: referral_services.case_refer(
        case=case, summary=f"{CANARY} summary for the LA", acting_user=user
    ),
    "escalate_national_review": lambda case, user: actions.case_escalate(
        case=case, route="national_review", reason=f"{CANARY} reason", acting_user=user
    ),
    "escalate_police": lambda case, user: actions.case_escalate(
        case=case, route="police", force="police-south-yorkshire", how_sent="telephone", acting_user=user
    ),
    "refer_national_body": lambda case, user: referral_services.case_refer_national_body(
        case=case,
        body=NationalBody.objects.get(code="cqc"),
        how_sent="telephone",
        summary=f"{CANARY} passed on",
        acting_user=user,
    ),
    "link_duplicate": lambda case, user: actions.case_link_duplicate(case=case, other=_other_case(), acting_user=user),
    "close": lambda case, user: actions.case_close(
        case=case, outcome="no_further_action", feedback=f"{CANARY} feedback", acting_user=user
    ),
    # The matrix's actor as a supervisor (the only role that may reopen), the same user otherwise.
    "reopen": lambda case, user: actions.case_reopen(
        case=case, reason=f"{CANARY} reason", acting_user=_as_role(user, User.Role.SUPERVISOR)
    ),
    "reply_to_authority": lambda case, user: referral_services.case_reply_to_authority(
        case=case, question_id=_asked(case, user), body=f"{CANARY} reply", acting_user=user
    ),
    "relay_to_reporter": lambda case, user: referral_services.case_relay_to_reporter(
        case=case, question_id=_asked(case, user), body=f"{CANARY} relayed", acting_user=user
    ),
    "update_authority": lambda case, user: (
        _asked(case, user),
        referral_services.case_update_authority(case=case, summary=f"{CANARY} update", acting_user=user),
    ),
    "record_facts": lambda case, user: facts_record(case, user, ofsted_class="systemic_failure", suspects=2),
    # A supervisor's too, with a reason: a file of the case deleted.
    "delete_attachment": lambda case, user: actions.case_delete_attachment(
        case=case,
        attachment_id=str(attachment_make(case).public_id),
        reason=f"{CANARY} reason",
        acting_user=_as_role(user, User.Role.SUPERVISOR),
    ),
    # A supervisor's too: legal hold, with the basis and a reference (sealed), and its release.
    "place_hold": lambda case, user: actions.case_hold_place(
        case=case, basis="court_order", reason=f"{CANARY} order", acting_user=_as_role(user, User.Role.SUPERVISOR)
    ),
    "release_hold": lambda case, user: (
        actions.case_hold_place(
            case=case,
            basis="court_order",
            reason=f"{CANARY} order",
            acting_user=staff_user("holding-supervisor", role=User.Role.SUPERVISOR),
        ),
        actions.case_hold_release(case=case, acting_user=_as_role(user, User.Role.SUPERVISOR)),
    ),
    # Issue 27: the reporter's identity (a reporter who gave the helpline their details, a referral to share with).
    "reveal_contact": lambda case, user: (
        _identity_ready(case),
        actions.case_reveal_contact(case=case, reason="contact_reporter", acting_user=user),
    ),
    "ask_identity_consent": lambda case, user: identity.identity_ask_consent(
        case=case, referral_id=_identity_ready(case).pk, covers=["name"], acting_user=user
    ),
    "propose_identity_disclosure": lambda case, user: identity.identity_propose(
        case=case,
        referral_id=_identity_ready(case).pk,
        covers=["name", "phone"],
        basis="court_order",
        legal_reference=f"{CANARY} order",
        acting_user=_as_role(user, User.Role.SUPERVISOR),
    ),
    "decide_identity_disclosure": lambda case, user: identity.identity_decide(
        case=case,
        proposal_id=identity.identity_propose(
            case=case,
            referral_id=_identity_ready(case).pk,
            covers=["name"],
            basis="immediate_risk",
            legal_reference=f"{CANARY} strategy discussion",
            acting_user=staff_user("proposing-supervisor", role=User.Role.SUPERVISOR),
        ).pk,
        approve=True,
        acting_user=_as_role(user, User.Role.SUPERVISOR),
    ),
    # An urgent page waits for an answer (triage.paging); answering it claims the unclaimed case.
    "acknowledge_page": lambda case, user: (
        page_waiting(case),
        actions.case_acknowledge_page(case=case, acting_user=user),
    ),
}
# The event each action records, where it is not the action's own name (legal hold's are triage.retention's).
EVENT_OF = {
    "place_hold": "legal_hold_placed",
    "release_hold": "legal_hold_released",
    "reveal_contact": "contact_revealed",
}


def _identity_ready(case: Case) -> Referral:
    """The reporter gave the helpline their details (from /check), and the case has a referral to share them
    with; its status is kept as it was."""
    status = case.status
    report_add_contact(
        report=case.report, data_key=case_content.case_data_key(case), name=f"{CANARY} Name", phone="07700 900982"
    )
    referral = referral_make(case)
    Case.objects.filter(pk=case.pk).update(status=status)
    case.refresh_from_db()
    return referral


def test_every_workflow_action_has_a_runner_in_this_matrix() -> None:
    assert set(RUNNERS) == set(STAFF_ACTIONS)


# Where each action leaves a case, by the status the case is in; REFUSED where it is refused. Written out by
# hand from the product's rules, not computed from triage/workflow.py, so that a change to the workflow has to
# be made here too, on purpose. The actor is a call handler (a supervisor for reopen, which only they may take:
# who may take what is tests/triage/test_workflow.py's table).
NEW, TRIAGE, WAITING, REFERRED, REVIEW, CLOSED = (
    S.NEW,
    S.IN_TRIAGE,
    S.AWAITING_REPORTER,
    S.REFERRED,
    S.NATIONAL_REVIEW,
    S.CLOSED,
)
REFUSED = None
STATUSES = (NEW, TRIAGE, WAITING, REFERRED, REVIEW, CLOSED)
# fmt: off
LEAVES_IN: dict[str, tuple[str | None, ...]] = {
    # action                     new       in triage waiting   referred  review    closed
    "claim":                    (TRIAGE,   TRIAGE,   TRIAGE,   REFUSED,  REFUSED,  REFUSED),
    "assign":                   (NEW,      TRIAGE,   WAITING,  REFERRED, REVIEW,   REFUSED),
    "set_priority":             (NEW,      TRIAGE,   WAITING,  REFERRED, REVIEW,   REFUSED),
    "set_concern_types":        (NEW,      TRIAGE,   WAITING,  REFERRED, REVIEW,   REFUSED),
    "set_authority":            (NEW,      TRIAGE,   WAITING,  REFUSED,  REFUSED,  REFUSED),
    "ask_reporter":             (WAITING,  WAITING,  WAITING,  REFERRED, REVIEW,   REFUSED),
    "add_note":                 (NEW,      TRIAGE,   WAITING,  REFERRED, REVIEW,   CLOSED),
    # A referred case may be referred to another authority (referrals refuses the same one twice).
    "refer":                    (REFERRED, REFERRED, REFERRED, REFERRED, REFUSED,  REFUSED),
    "escalate_national_review": (REVIEW,   REVIEW,   REVIEW,   REVIEW,   REFUSED,  REFUSED),
    "escalate_police":          (NEW,      TRIAGE,   WAITING,  REFERRED, REVIEW,   REFUSED),
    "refer_national_body":      (NEW,      TRIAGE,   WAITING,  REFERRED, REVIEW,   REFUSED),
    "link_duplicate":           (NEW,      TRIAGE,   WAITING,  REFERRED, REVIEW,   CLOSED),
    "close":                    (CLOSED,   CLOSED,   CLOSED,   CLOSED,   CLOSED,   REFUSED),
    "reopen":                   (REFUSED,  REFUSED,  REFUSED,  REFUSED,  REFUSED,  TRIAGE),
    "reply_to_authority":       (NEW,      TRIAGE,   WAITING,  REFERRED, REVIEW,   CLOSED),
    "relay_to_reporter":        (NEW,      TRIAGE,   WAITING,  REFERRED, REVIEW,   REFUSED),
    "update_authority":         (REFUSED,  REFUSED,  REFUSED,  REFERRED, REFUSED,  REFUSED),
    # What is known for the national picture may be learnt at any time, after closure too.
    "record_facts":             (NEW,      TRIAGE,   WAITING,  REFERRED, REVIEW,   CLOSED),
    # A file may be deleted whenever the case has one, after closure too.
    "delete_attachment":        (NEW,      TRIAGE,   WAITING,  REFERRED, REVIEW,   CLOSED),
    # Legal hold leaves the status as it is, open or closed.
    "place_hold":               (NEW,      TRIAGE,   WAITING,  REFERRED, REVIEW,   CLOSED),
    "release_hold":             (NEW,      TRIAGE,   WAITING,  REFERRED, REVIEW,   CLOSED),
    # The reporter's identity: shown with a reason, or shared per referral, and never a change of status.
    "reveal_contact":           (NEW,      TRIAGE,   WAITING,  REFERRED, REVIEW,   CLOSED),
    "ask_identity_consent":     (NEW,      TRIAGE,   WAITING,  REFERRED, REVIEW,   REFUSED),
    "propose_identity_disclosure": (NEW,   TRIAGE,   WAITING,  REFERRED, REVIEW,   CLOSED),
    "decide_identity_disclosure": (NEW,    TRIAGE,   WAITING,  REFERRED, REVIEW,   CLOSED),
    # A page is answered while the urgent clock runs: a new case is claimed, so in triage.
    "acknowledge_page":         (TRIAGE,   TRIAGE,   WAITING,  REFUSED,  REFUSED,  REFUSED),
}
# fmt: on


def test_the_matrix_covers_every_staff_action_and_every_status() -> None:
    assert list(LEAVES_IN) == STAFF_ACTIONS
    assert set(STATUSES) == set(S.values)


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("action", list(LEAVES_IN))
def test_each_action_in_each_status_is_taken_or_refused_as_the_matrix_says(
    action: str, status: str, handler: User
) -> None:
    case = with_status(make_case()[0], status)
    expected = LEAVES_IN[action][STATUSES.index(status)]
    if expected is not REFUSED:
        RUNNERS[action](case, handler)
        case.refresh_from_db()
        assert case.status == expected
        event = one_event(case, EVENT_OF.get(action, action), handler)
        assert event.detail["status"] == expected
    else:
        with pytest.raises(ActionNotAllowed) as refused:
            RUNNERS[action](case, handler)
        message = str(refused.value)
        assert message == (
            f"You cannot {TRANSITIONS[action].label.lower()} while the case is {case.get_status_display().lower()}."
        )
        case.refresh_from_db()
        assert case.status == status
        assert events(case, EVENT_OF.get(action, action)) == []
    assert_no_free_text_in_audit()


@pytest.mark.parametrize(
    "action",
    sorted(
        set(STAFF_ACTIONS)
        - {
            "add_note",
            "link_duplicate",
            "reply_to_authority",
            "reopen",
            "record_facts",
            "delete_attachment",
            "place_hold",
            "release_hold",
            # A court order may come after closure; contact details may be needed to tell the reporter.
            "reveal_contact",
            "propose_identity_disclosure",
            "decide_identity_disclosure",
        }
    ),
)
def test_a_closed_case_refuses_everything_but_a_note_a_link_or_an_answer(action: str, handler: User) -> None:
    case = with_status(make_case()[0], S.CLOSED)
    with pytest.raises(ActionNotAllowed, match="while the case is closed"):
        RUNNERS[action](case, handler)
    assert case_events(case).exclude(kind="case_routed").count() == 0


def test_a_closed_case_still_takes_a_note_and_a_duplicate_link(handler: User) -> None:
    case = with_status(make_case()[0], S.CLOSED)
    RUNNERS["add_note"](case, handler)
    RUNNERS["link_duplicate"](case, handler)
    case.refresh_from_db()
    assert case.status == S.CLOSED
    assert CaseNote.objects.filter(case=case).count() == 1
    assert CaseLink.objects.filter(case=case).count() == 1


def _as_role(user: User, role: str) -> User:
    acting = copy.copy(user)
    acting.role = role
    return acting


def test_a_supervisor_reopens_a_closed_case_with_a_reason(handler: User) -> None:
    supervisor = staff_user("reopening-supervisor", role=User.Role.SUPERVISOR)
    case, _ = make_case()
    actions.case_close(case=case, outcome="not_substantiated", feedback="Thank you.", acting_user=handler)
    actions.case_reopen(case=case, reason=f"{CANARY} new information", acting_user=supervisor)
    case.refresh_from_db()
    assert (case.status, case.outcome, case.closed_at) == (S.IN_TRIAGE, "", None)
    event = one_event(case, "reopen", supervisor)
    assert event.detail["previous_outcome"] == "not_substantiated"
    note = CaseNote.objects.get(pk=event.detail["note_id"])
    assert CANARY.encode() not in bytes(note.body), "the reason is sealed like any note"
    assert_no_free_text_in_audit()
    # Reopened, it can be closed again.
    actions.case_close(case=case, outcome="substantiated", feedback="We looked again.", acting_user=handler)


def test_only_a_supervisor_may_reopen_and_only_with_a_reason(handler: User) -> None:
    supervisor = staff_user("reopening-supervisor", role=User.Role.SUPERVISOR)
    case, _ = make_case()
    actions.case_close(case=case, outcome="not_substantiated", feedback="Thank you.", acting_user=handler)
    with pytest.raises(ActionNotAllowed, match="Only a supervisor can reopen"):
        actions.case_reopen(case=case, reason="I think it should be open", acting_user=handler)
    with pytest.raises(ActionNotAllowed, match="Give the reason"):
        actions.case_reopen(case=case, reason="   ", acting_user=supervisor)
    case.refresh_from_db()
    assert case.status == S.CLOSED
    assert events(case, "reopen") == []


def test_the_dispatcher_refuses_an_unknown_action(handler: User) -> None:
    case, _ = make_case()
    with pytest.raises(ActionNotAllowed, match="There is no action called 'delete'"):
        staff_actions.case_act(case=case, action="delete", data={}, acting_user=handler)
    with pytest.raises(ActionNotAllowed, match="There is no action called 'delete'"):
        workflow.check_allowed(case, "delete")


# --- claim and assign ---------------------------------------------------------------------------------


def test_claim_assigns_the_case_to_the_claimant_and_starts_triage(handler: User) -> None:
    case, _ = make_case()
    assert case.status == S.NEW and case.assignee is None
    actions.case_claim(case=case, acting_user=handler)
    case.refresh_from_db()
    assert case.assignee == handler
    assert case.status == S.IN_TRIAGE
    event = one_event(case, "claim", handler)
    assert event.detail == {"status": "in_triage", "assignee": handler.pk}


def test_assign_gives_the_case_to_another_member_of_helpline_staff(handler: User, colleague: User) -> None:
    case, _ = make_case()
    staff_actions.case_act(case=case, action="assign", data={"assignee": "colleague"}, acting_user=handler)
    case.refresh_from_db()
    assert case.assignee == colleague
    assert case.status == S.NEW
    assert one_event(case, "assign", handler).detail == {"status": "new", "assignee": colleague.pk}


@pytest.mark.parametrize(
    "who",
    [
        {"username": "officer", "role": User.Role.AUTHORITY_OFFICER},
        {"username": "analyst", "role": User.Role.OVERSIGHT_ANALYST},
        {"username": "leaver", "role": User.Role.CALL_HANDLER, "is_active": False},
    ],
)
def test_assign_refuses_anyone_but_active_helpline_staff(who: dict[str, object], handler: User) -> None:
    case, _ = make_case()
    assignee = staff_user(**who)  # type: ignore[arg-type]
    with pytest.raises(ActionNotAllowed, match="only be assigned to active helpline staff"):
        actions.case_assign(case=case, assignee=assignee, acting_user=handler)
    case.refresh_from_db()
    assert case.assignee is None
    assert events(case, "assign") == []


def test_assign_through_the_dispatcher_refuses_an_unknown_username(handler: User) -> None:
    case, _ = make_case()
    with pytest.raises(ActionNotAllowed, match="no such member of staff"):
        staff_actions.case_act(case=case, action="assign", data={"assignee": "nobody"}, acting_user=handler)


# --- priority, concern types, authority -----------------------------------------------------------------


def test_set_priority_to_urgent_starts_a_one_hour_clock_and_back_to_standard_restores_the_day(handler: User) -> None:
    case, _ = make_case()
    submitted_at = case.report.submitted_at
    standard_due = deadlines.triage_due(submitted_at, urgent=False)
    assert case.priority == Case.Priority.STANDARD
    assert case.triage_due_at == standard_due
    moment = timezone.now()
    with time_machine.travel(moment, tick=False):
        actions.case_set_priority(case=case, priority="urgent", acting_user=handler)
    case.refresh_from_db()
    assert case.priority == Case.Priority.URGENT
    # The report keeps the day only, so the hour runs from when staff made it urgent.
    assert case.triage_due_at == moment + timedelta(hours=1)
    assert one_event(case, "set_priority", handler).detail == {"status": "new", "from": "standard", "to": "urgent"}

    actions.case_set_priority(case=case, priority="urgent", acting_user=handler)
    case.refresh_from_db()
    assert case.triage_due_at == moment + timedelta(hours=1), "urgent again does not restart the hour"

    actions.case_set_priority(case=case, priority="standard", acting_user=handler)
    case.refresh_from_db()
    assert case.triage_due_at == standard_due


def test_set_priority_refuses_an_unknown_priority(handler: User) -> None:
    case, _ = make_case()
    with pytest.raises(ActionNotAllowed, match="Choose urgent or standard"):
        actions.case_set_priority(case=case, priority="whenever", acting_user=handler)
    case.refresh_from_db()
    assert case.priority == Case.Priority.STANDARD
    assert events(case, "set_priority") == []


def test_set_concern_types_replaces_the_report_codes(handler: User) -> None:
    case, _ = make_case()
    actions.case_set_concern_types(
        case=case, concern_types=["retaliation_against_staff", "cover_up_to_protect_reputation"], acting_user=handler
    )
    case.report.refresh_from_db()
    assert case.report.concern_types == ["cover_up_to_protect_reputation", "retaliation_against_staff"]
    assert one_event(case, "set_concern_types", handler).detail["concern_types"] == [
        "cover_up_to_protect_reputation",
        "retaliation_against_staff",
    ]


@pytest.mark.parametrize("codes", [[], ["not_a_code"], ["other", "made_up"]])
def test_set_concern_types_refuses_none_or_unknown_codes(codes: list[str], handler: User) -> None:
    case, _ = make_case()
    with pytest.raises(ActionNotAllowed, match="at least one concern type from the list"):
        actions.case_set_concern_types(case=case, concern_types=codes, acting_user=handler)
    case.report.refresh_from_db()
    assert case.report.concern_types == ["concern_not_acted_on"]


def test_set_authority_confirms_an_unknown_authority(handler: User) -> None:
    case, _ = make_case(local_authority=None)
    assert case.authority is None
    staff_actions.case_act(case=case, action="set_authority", data={"authority": SHEFFIELD}, acting_user=handler)
    case.refresh_from_db()
    assert case.authority.gss_code == SHEFFIELD
    assert one_event(case, "set_authority", handler).detail == {"status": "new", "authority": SHEFFIELD}


def test_set_authority_refuses_the_council_the_concern_is_about(handler: User) -> None:
    case, _ = make_case(about_authority=authority_by_code(ROTHERHAM))
    assert case.conflict_authority.gss_code == ROTHERHAM
    assert case.authority is None and case.independent_review
    with pytest.raises(ActionNotAllowed, match="The concern is about Rotherham: it cannot be routed to that council"):
        actions.case_set_authority(case=case, authority=authority_by_code(ROTHERHAM), acting_user=handler)
    case.refresh_from_db()
    assert case.authority is None
    assert events(case, "set_authority") == []


def test_set_authority_through_the_dispatcher_refuses_an_unknown_code(handler: User) -> None:
    case, _ = make_case()
    with pytest.raises(ActionNotAllowed, match="English children's services authority"):
        staff_actions.case_act(case=case, action="set_authority", data={"authority": "W06000015"}, acting_user=handler)


# --- the mailbox -----------------------------------------------------------------------------------------


def test_ask_reporter_seals_the_message_and_the_reporter_reads_it_with_their_code(handler: User) -> None:
    case, access_code = make_case()
    question = f"{CANARY} Which home was it?"
    message = actions.case_ask_reporter(case=case, body=question, acting_user=handler)
    case.refresh_from_db()
    assert case.status == S.AWAITING_REPORTER
    stored = Message.objects.get(pk=message.pk)
    assert CANARY.encode() not in bytes(stored.body)
    assert stored.direction == Message.Direction.FROM_HELPLINE
    assert stored.author == handler
    assert reporter_messages(case, access_code) == [question]
    assert one_event(case, "ask_reporter", handler).detail == {"status": "awaiting_reporter", "message_id": message.pk}
    assert not case_emails(case).exists(), "an anonymous reporter has no email to send to"
    assert_no_free_text_in_audit()


def test_asking_a_referred_case_reporter_keeps_the_case_referred(handler: User) -> None:
    case = with_status(make_case()[0], S.REFERRED)
    actions.case_ask_reporter(case=case, body=f"{CANARY} one more thing", acting_user=handler)
    case.refresh_from_db()
    assert case.status == S.REFERRED


def test_a_confidential_reporter_is_emailed_that_there_is_an_update_and_nothing_else(
    handler: User, mailoutbox: list[object]
) -> None:
    case, access_code = make_case(**confidential())
    assert case.report.has_contact_email
    message = actions.case_ask_reporter(case=case, body=f"{CANARY} question", acting_user=handler)
    record = case_emails(case).get()
    assert (record.recipient, record.template, record.state) == ("reporter", "reporter_update", "queued")
    assert record.occasion == f"message-{message.pk}"
    row = OutboxMessage.objects.get(kind="send_email", target_id=record.pk)

    outbox_process(outbox_id=row.pk)

    assert len(mailoutbox) == 1
    sent = mailoutbox[0]
    assert sent.to == [REPORTER_EMAIL]  # type: ignore[attr-defined]
    record.refresh_from_db()
    assert record.state == Notification.State.SENT
    assert record.recipient == "reporter", "the reporter's address must never be stored outside the sealed report"
    assert not Notification.objects.filter(recipient__icontains="private.example").exists()
    text = email_text(sent)
    assert "You have a new message" in text
    for secret in (CANARY, case.report.reference, case.case_number, access_code, REPORTER_EMAIL):
        assert secret not in text
    assert reporter_messages(case, access_code) == [f"{CANARY} question"]


def test_add_note_is_sealed_and_stays_internal(handler: User) -> None:
    case, access_code = make_case()
    note = actions.case_add_note(case=case, body=f"{CANARY} internal note", acting_user=handler)
    assert CANARY.encode() not in bytes(CaseNote.objects.get(pk=note.pk).body)
    assert reporter_messages(case, access_code) == []
    case.refresh_from_db()
    assert case.status == S.NEW
    assert one_event(case, "add_note", handler).detail == {"status": "new", "note_id": note.pk}
    assert_no_free_text_in_audit()


# --- referral ----------------------------------------------------------------------------------------------


@pytest.fixture
def rotherham_inbox() -> LocalAuthority:
    LocalAuthority.objects.filter(gss_code=ROTHERHAM).update(referral_email="mash@rotherham.example")
    authority = LocalAuthority.objects.get(gss_code=ROTHERHAM)
    for username, active in (("lado", True), ("duty", True), ("left", False)):
        officer = staff_user(
            username, role=User.Role.AUTHORITY_OFFICER, email=f"{username}@rotherham.example", is_active=active
        )
        officer.authorities.add(authority)
    staff_user("elsewhere", role=User.Role.AUTHORITY_OFFICER, email="lado@sheffield.example").authorities.add(
        LocalAuthority.objects.get(gss_code=SHEFFIELD)
    )
    return authority


@time_machine.travel(datetime(2026, 3, 11, 10, 0, tzinfo=LONDON), tick=False)  # a Wednesday
def test_refer_sends_the_case_to_the_authority_with_deadlines_and_content_free_emails(
    handler: User, rotherham_inbox: LocalAuthority, mailoutbox: list[object]
) -> None:
    case, _ = make_case()
    actions.case_claim(case=case, acting_user=handler)
    referral = referral_services.case_refer(case=case, summary=f"{CANARY} please visit the home", acting_user=handler)
    now = datetime(2026, 3, 11, 10, 0, tzinfo=LONDON)
    case.refresh_from_db()
    assert case.status == S.REFERRED
    assert referral_of(case).referred_at == now
    assert referral_of(case).ack_due_at == datetime(2026, 3, 12, 23, 59, 59, tzinfo=LONDON)  # the end of 1 working day
    assert referral_of(case).outcome_due_at is not None
    stored = Referral.objects.get(case=case)
    assert stored.pk == referral.pk
    assert (stored.authority, stored.referred_by) == (rotherham_inbox, handler)
    assert not stored.identity_sharings.exists()
    assert CANARY.encode() not in bytes(stored.summary)
    assert one_event(case, "refer", handler).detail == {
        "status": "referred",
        "referral_id": referral.pk,
        "authority": ROTHERHAM,
        # Issue 22: what was passed on, and how many emails were queued (codes and counts only).
        "organisation_shared": False,
        "emails": 3,
    }

    records = case_emails(case).filter(template="authority_referral")
    assert sorted(records.values_list("recipient", flat=True)) == [
        "duty@rotherham.example",
        "lado@rotherham.example",
        "mash@rotherham.example",
    ]
    send_all_queued_email()
    assert sorted(m.to[0] for m in mailoutbox) == [  # type: ignore[attr-defined]
        "duty@rotherham.example",
        "lado@rotherham.example",
        "mash@rotherham.example",
    ]
    for sent in mailoutbox:
        assert case.case_number in sent.subject  # type: ignore[attr-defined]
        text = email_text(sent)
        assert case.case_number in text
        assert case.report.reference not in text
        assert CANARY not in text
    assert_no_free_text_in_audit()


@time_machine.travel(datetime(2026, 3, 11, 10, 0, tzinfo=LONDON), tick=False)  # a Wednesday, in GMT
def test_referral_deadlines_end_at_the_end_of_a_london_day_across_the_clock_change(handler: User) -> None:
    """Working days are London days: 45 working days after 11 March end at the end of 18 May in London
    time (BST), not at the end of a UTC day.

    The services pass ``timezone.now()`` (UTC) to core.calendar.working_days_after: counted in UTC the
    deadline would land at 23:59:59 UTC, 00:59:59 on 19 May in London, an hour late."""
    case, _ = make_case()
    referral_services.case_refer(case=case, summary="Please visit", acting_user=handler)
    case.refresh_from_db()
    assert referral_of(case).outcome_due_at == datetime(2026, 5, 18, 23, 59, 59, tzinfo=LONDON)


@time_machine.travel(datetime(2026, 3, 13, 16, 0, tzinfo=LONDON), tick=False)  # a Friday
def test_a_friday_referral_is_due_for_acknowledgement_on_monday(handler: User) -> None:
    case, _ = make_case()
    referral_services.case_refer(case=case, summary="Please visit", acting_user=handler)
    case.refresh_from_db()
    assert referral_of(case).ack_due_at == datetime(2026, 3, 16, 23, 59, 59, tzinfo=LONDON)  # the end of Monday


def test_refer_is_refused_until_the_authority_is_known(handler: User) -> None:
    case, _ = make_case(local_authority=None)
    with pytest.raises(ActionNotAllowed, match="Confirm the local authority before referring the case"):
        referral_services.case_refer(case=case, summary="x", acting_user=handler)
    case.refresh_from_db()
    assert case.status == S.NEW
    assert not Referral.objects.filter(case=case).exists()
    assert not case_emails(case).exists()


def test_refer_is_refused_for_a_case_under_independent_review(handler: User) -> None:
    # About another council: the area authority is known, but the case is for independent review.
    case, _ = make_case(about_authority=authority_by_code(SHEFFIELD))
    assert case.independent_review and case.authority.gss_code == ROTHERHAM
    with pytest.raises(ActionNotAllowed, match="send it to independent national review"):
        referral_services.case_refer(case=case, summary="x", acting_user=handler)
    case.refresh_from_db()
    assert case.status == S.NEW
    assert not Referral.objects.filter(case=case).exists()
    assert events(case, "refer") == []


def test_refer_is_refused_to_the_council_the_concern_is_about(handler: User) -> None:
    case, _ = make_case(about_authority=authority_by_code(ROTHERHAM))
    # Whatever got it there, the authority on the case is the one the concern is about.
    Case.objects.filter(pk=case.pk).update(authority=case.conflict_authority)
    case.refresh_from_db()
    with pytest.raises(ActionNotAllowed, match="send it to independent national review"):
        referral_services.case_refer(case=case, summary="x", acting_user=handler)
    assert not Referral.objects.filter(case=case).exists()
    assert not case_emails(case).filter(template="authority_referral").exists()


def test_referring_never_shares_a_named_reporters_identity(handler: User) -> None:
    """Issue 27: the refer form no longer records a consent; identity is shared per referral afterwards
    (referrals.identity, tests/referrals/test_identity_sharing.py)."""
    case, _ = make_case(**confidential(anonymity=Anonymity.NAMED))
    refer_form = staff_actions.ACTION_FORMS["refer"]
    assert refer_form is not None and not {"share_identity", "shared_contact"} & set(refer_form.base_fields)
    referral = referral_services.case_refer(case=case, summary="x", acting_user=handler)
    assert not referral.identity_sharings.exists()


# --- escalation -------------------------------------------------------------------------------------------


def test_escalating_to_national_review_marks_the_case_and_stops_a_referral(handler: User) -> None:
    case, _ = make_case()
    staff_actions.case_act(
        case=case,
        action="escalate",
        data={"route": "national_review", "reason": "About the council."},
        acting_user=handler,
    )
    case.refresh_from_db()
    assert case.status == S.NATIONAL_REVIEW
    assert case.independent_review
    one_event(case, "escalate_national_review", handler)
    with pytest.raises(ActionNotAllowed):
        referral_services.case_refer(case=case, summary="x", acting_user=handler)


def test_escalating_to_the_police_keeps_the_status(handler: User) -> None:
    case, _ = make_case()
    actions.case_escalate(
        case=case, route="police", force="police-south-yorkshire", how_sent="telephone", acting_user=handler
    )
    case.refresh_from_db()
    assert case.escalated_to_police
    assert case.status == S.NEW
    one_event(case, "escalate_police", handler)


def test_escalate_refuses_an_unknown_route(handler: User) -> None:
    case, _ = make_case()
    with pytest.raises(ActionNotAllowed, match="Choose independent national review or the police"):
        actions.case_escalate(case=case, route="newspaper", acting_user=handler)


# --- duplicates -----------------------------------------------------------------------------------------


def test_link_duplicate_links_both_ways_and_each_reporter_sees_only_their_own_thread(handler: User) -> None:
    case_a, code_a = make_case()
    case_b, code_b = make_case(details="CANARY-B details of the other case")
    actions.case_ask_reporter(case=case_a, body="Question for A", acting_user=handler)
    actions.case_ask_reporter(case=case_b, body="CANARY-B question for B", acting_user=handler)

    link = staff_actions.case_act(
        case=case_a, action="link_duplicate", data={"other": case_b.case_number.lower()}, acting_user=handler
    )
    assert link == f"Case linked to {case_b.case_number}"  # what the banner says
    assert CaseLink.objects.filter(case=case_a, other=case_b).count() == 1
    assert CaseLink.objects.filter(case=case_b, other=case_a).count() == 1
    assert one_event(case_a, "link_duplicate", handler).detail == {
        "status": "awaiting_reporter",
        "other_case": case_b.case_number,
    }
    # Linking again changes nothing.
    actions.case_link_duplicate(case=case_b, other=case_a, acting_user=handler)
    assert CaseLink.objects.count() == 2

    report_a, key_a = report_unlock(reference=case_a.report.reference, access_code=code_a, client="c")
    opened_a = report_read(report=report_a, data_key=key_a)
    assert [m.body for m in opened_a.messages] == ["Question for A"]
    assert "CANARY-B" not in json.dumps(opened_a.content)
    assert reporter_messages(case_b, code_b) == ["CANARY-B question for B"]


def test_a_case_cannot_be_linked_to_itself(handler: User) -> None:
    case, _ = make_case()
    with pytest.raises(ActionNotAllowed, match="cannot be linked to itself"):
        actions.case_link_duplicate(case=case, other=case, acting_user=handler)
    with pytest.raises(ActionNotAllowed, match="no case with that number"):
        staff_actions.case_act(case=case, action="link_duplicate", data={"other": "2026-ZZZZZZ"}, acting_user=handler)
    assert not CaseLink.objects.exists()


# --- closing ----------------------------------------------------------------------------------------------


def test_close_records_the_outcome_and_the_reporter_reads_the_feedback(handler: User, mailoutbox: list[object]) -> None:
    case, access_code = make_case(**confidential())
    actions.case_claim(case=case, acting_user=handler)
    feedback = f"{CANARY} The council has acted on your concern."
    actions.case_close(case=case, outcome="substantiated", feedback=feedback, acting_user=handler)
    case.refresh_from_db()
    assert case.status == S.CLOSED
    assert case.outcome == "substantiated"
    assert case.closed_at is not None
    event = one_event(case, "close", handler)
    assert event.detail["status"] == "closed" and event.detail["outcome"] == "substantiated"
    assert reporter_messages(case, access_code) == [feedback]
    assert case_emails(case).filter(recipient="reporter", template="reporter_update").count() == 1
    send_all_queued_email()
    assert [m.to for m in mailoutbox] == [[REPORTER_EMAIL]]  # type: ignore[attr-defined]
    assert CANARY not in email_text(mailoutbox[0])
    assert_no_free_text_in_audit()


@pytest.mark.parametrize(
    ("outcome", "feedback", "message"),
    [
        ("", "Thank you", "Choose an outcome from the list"),
        ("hushed_up", "Thank you", "Choose an outcome from the list"),
        ("substantiated", "", "Write the feedback the reporter will read"),
        ("substantiated", "   \n ", "Write the feedback the reporter will read"),
    ],
)
def test_close_is_refused_without_an_outcome_or_feedback(
    outcome: str, feedback: str, message: str, handler: User
) -> None:
    case, access_code = make_case()
    with pytest.raises(ActionNotAllowed, match=message):
        actions.case_close(case=case, outcome=outcome, feedback=feedback, acting_user=handler)
    case.refresh_from_db()
    assert case.status == S.NEW
    assert case.outcome == ""
    assert reporter_messages(case, access_code) == []
    assert events(case, "close") == []


def test_a_reporters_reply_hands_a_waiting_case_back_to_the_helpline(fast_kdf: None, local_authorities: None) -> None:
    from reports.services import message_send_from_reporter, report_unlock
    from tests.factories import staff_user, submit_report
    from triage.case_actions import case_ask_reporter
    from triage.intake import report_route
    from triage.models import Case

    submitted = submit_report()
    case = report_route(report_id=submitted.report.pk)
    case_ask_reporter(case=case, body="A question", acting_user=staff_user("h", role="call_handler"))
    assert Case.objects.get(pk=case.pk).status == Case.Status.AWAITING_REPORTER
    report, key = report_unlock(reference=submitted.report.reference, access_code=submitted.access_code, client="c")
    message_send_from_reporter(report=report, data_key=key, body="An answer")
    # The helpline's side hears of the reply through the outbox, as a worker would process it.
    outbox_process(outbox_id=OutboxMessage.objects.get(kind="reporter_replied").pk)
    assert Case.objects.get(pk=case.pk).status == Case.Status.IN_TRIAGE


def test_escalating_to_the_police_records_the_force_how_it_was_sent_and_the_crime_reference(handler: User) -> None:
    case, _ = make_case()
    staff_actions.case_act(
        case=case,
        action="escalate",
        data={
            "route": "police",
            "force": "police-west-yorkshire",
            "how_sent": "telephone",
            "crime_reference": "13260099",
        },
        acting_user=handler,
    )
    referral = Referral.objects.get(case=case)
    assert referral.body is not None and referral.body.name == "West Yorkshire Police"
    assert referral.status == Referral.Status.SENT and referral.how_sent == "telephone"
    assert b"13260099" not in bytes(referral.sent_reference)
    assert case_content.case_open(case=case, acting_user=handler).referral_references == {referral.pk: "13260099"}
    detail = one_event(case, "escalate_police", handler).detail
    assert detail["body"] == "police-west-yorkshire" and detail["how_sent"] == "telephone"
    assert detail["reference_given"] is True and "13260099" not in str(detail)


def test_the_escalate_form_asks_for_a_reason_or_for_the_force_and_how(handler: User) -> None:
    review = staff_actions.action_form("escalate", {"escalate-route": "national_review"})
    assert review is not None and not review.is_valid()
    assert review.errors == {"reason": ["Write why the case needs independent review"]}
    police = staff_actions.action_form("escalate", {"escalate-route": "police"})
    assert police is not None and not police.is_valid()
    assert police.errors == {
        "force": ["Choose which police force"],
        "how_sent": ["Choose how the case was passed to the police"],
    }
    unknown = staff_actions.action_form(
        "escalate", {"escalate-route": "police", "escalate-force": "police-gotham", "escalate-how_sent": "telephone"}
    )
    assert unknown is not None and not unknown.is_valid()
    assert unknown.errors == {"force": ["Choose a police force from the list"]}
