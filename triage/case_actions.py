"""What helpline staff do to a case. Each action: allowed by triage.workflow, one transaction, one
audit event (codes and ids only), side effects (emails) through the outbox after commit.

Callers find the case through triage.selectors first; triage.staff_actions runs an action by name."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from core import crypto
from core.timetrail import day_start
from directory.models import LocalAuthority, PostcodeArea
from reports.models import URGENT_TRIAGE, Anonymity, ConcernType, Message
from triage import deadlines, workflow
from triage.case_content import case_data_key
from triage.events import case_event
from triage.intake import queue_for
from triage.links import cases_link
from triage.models import AuthorityAction, Case, CaseLink, CaseNote, Escalation, Outcome, Referral
from triage.notifications import authority_tell, reporter_tell, supervisors_alert


def _locked(case: Case) -> Case:
    return Case.objects.select_for_update(of=("self",)).select_related("report").get(pk=case.pk)


def _move(case: Case, action: str, acting_user: User, detail: dict[str, object] | None = None) -> Case:
    """Check the action against the workflow, set the new status, record the event."""
    new_status = workflow.status_after(case, action)
    fields = []
    if case.status in workflow.IN_TRIAGE and new_status not in workflow.IN_TRIAGE:
        fields += _triage_clock_met(case)
    if new_status != case.status:
        case.status = new_status
        fields.append("status")
    if fields:
        case.save(update_fields=fields)
    case_event(kind=action, case=case, actor=acting_user, detail={"status": case.status, **(detail or {})})
    return case


def _triage_clock_met(case: Case) -> list[str]:
    """The triage clock is met: its deadline, and the alert taken when it was missed, keep the day only.
    An urgent deadline is the submission time plus an hour, and no longer needed to the second."""
    case.triage_due_at = day_start(case.triage_due_at)
    Escalation.objects.filter(case=case, step=Escalation.Step.TRIAGE_OVERDUE).update(
        deadline=day_start(case.triage_due_at)
    )
    return ["triage_due_at"]


@transaction.atomic(durable=True)
def case_claim(*, case: Case, acting_user: User) -> Case:
    case = _locked(case)
    workflow.check_allowed(case, "claim")
    case.assignee = acting_user
    case.save(update_fields=["assignee"])
    return _move(case, "claim", acting_user, {"assignee": acting_user.pk})


@transaction.atomic(durable=True)
def case_assign(*, case: Case, assignee: User, acting_user: User) -> Case:
    case = _locked(case)
    workflow.check_allowed(case, "assign")
    if not assignee.is_helpline or not assignee.is_active:
        raise workflow.ActionNotAllowed("Cases can only be assigned to active helpline staff.")
    case.assignee = assignee
    case.save(update_fields=["assignee"])
    return _move(case, "assign", acting_user, {"assignee": assignee.pk})


@transaction.atomic(durable=True)
def case_set_priority(*, case: Case, priority: str, acting_user: User) -> Case:
    case = _locked(case)
    workflow.check_allowed(case, "set_priority")
    if priority not in Case.Priority.values:
        raise workflow.ActionNotAllowed("Choose urgent or standard.")
    previous = case.priority
    case.priority = priority
    urgent = priority == Case.Priority.URGENT
    fields = ["priority"]
    if previous != priority and case.status in workflow.IN_TRIAGE:
        # Made urgent by staff: the hour runs from now. Made standard: from the day the report was sent.
        case.triage_due_at = (
            timezone.now() + URGENT_TRIAGE if urgent else deadlines.triage_due(case.report.submitted_at, urgent=False)
        )
        fields.append("triage_due_at")
    if urgent and previous != priority:
        # Now urgent: into the urgent queue, and the supervisors hear of it as for any urgent case.
        case.queue = queue_for("urgent")
        fields.append("queue")
    case.save(update_fields=fields)
    _move(case, "set_priority", acting_user, {"from": previous, "to": priority})
    if urgent and previous != priority:
        supervisors_alert(case=case, template="urgent_case")
    return case


@transaction.atomic(durable=True)
def case_set_concern_types(*, case: Case, concern_types: Sequence[str], acting_user: User) -> Case:
    case = _locked(case)
    workflow.check_allowed(case, "set_concern_types")
    codes = sorted(set(concern_types))
    if not codes or any(code not in ConcernType.values for code in codes):
        raise workflow.ActionNotAllowed("Choose at least one concern type from the list.")
    report = case.report
    report.concern_types = codes
    report.save(update_fields=["concern_types"])
    return _move(case, "set_concern_types", acting_user, {"concern_types": codes})


@transaction.atomic(durable=True)
def case_set_authority(*, case: Case, authority: LocalAuthority, acting_user: User) -> Case:
    case = _locked(case)
    workflow.check_allowed(case, "set_authority")
    if case.conflict_authority_id == authority.pk:
        raise workflow.ActionNotAllowed(f"The concern is about {authority.name}: it cannot be routed to that council.")
    case.authority = authority
    case.save(update_fields=["authority"])
    return _move(case, "set_authority", acting_user, {"authority": authority.gss_code})


def _message_to_reporter(*, case: Case, body: str, acting_user: User) -> Message:
    message = Message.objects.create(
        report=case.report,
        direction=Message.Direction.FROM_HELPLINE,
        author=acting_user,
        body=crypto.seal_text(case_data_key(case), body),
        sent_on=timezone.localdate(),
    )
    reporter_tell(case=case, template="reporter_update", occasion=f"message-{message.pk}")
    return message


@transaction.atomic(durable=True)
def case_ask_reporter(*, case: Case, body: str, acting_user: User) -> Message:
    case = _locked(case)
    workflow.check_allowed(case, "ask_reporter")
    message = _message_to_reporter(case=case, body=body, acting_user=acting_user)
    _move(case, "ask_reporter", acting_user, {"message_id": message.pk})
    return message


@transaction.atomic(durable=True)
def case_add_note(*, case: Case, body: str, acting_user: User) -> CaseNote:
    case = _locked(case)
    workflow.check_allowed(case, "add_note")
    note = CaseNote.objects.create(
        case=case, author=acting_user, body=crypto.seal_text(case_data_key(case), body), created_at=timezone.now()
    )
    _move(case, "add_note", acting_user, {"note_id": note.pk})
    return note


# How the helpline will make sure an authority that no email reaches knows of a referral (the refer form's
# choice, kept on the follow-up note and, as its code, on the audit event).
HOW_TOLD: dict[str, str] = {
    "phone": "Phone the council's children's services (or its emergency duty team) and tell them",
    "email_manual": "Email a named address at the council by hand, with no case details in it",
    "other": "Another way, written in the note",
}
# Which of a named reporter's contact details their consent may cover, besides their name.
SHARED_CONTACT = ("email", "phone")


def postcode_district_clean(text: str) -> str:
    """A postcode district ("S60"), upper case, or "" for none; ActionNotAllowed for anything else (a full
    postcode is refused: the authority needs the area, and a full postcode can point at one house)."""
    district = (text or "").strip().upper()
    if not district:
        return ""
    if not re.fullmatch(r"[A-Z][A-HJ-Y]?[0-9][A-Z0-9]?", district):
        raise workflow.ActionNotAllowed("Enter a postcode district only, like S60: not a full postcode.")
    return district


def _district_outside(district: str, authority: LocalAuthority) -> bool:
    """Whether the directory knows the district and it touches none of the authority's area."""
    area = PostcodeArea.objects.filter(level=PostcodeArea.Level.DISTRICT, code=district).first()
    if area is None:
        return False
    codes = {area.authority_code, *(str(c[0]) for c in area.candidates if c)}
    return authority.gss_code not in codes and not set(authority.former_gss_codes) & codes


def referral_particulars(referral: Referral, key: bytes) -> dict[str, object]:
    """What else the helpline passed on with a referral (empty for referrals made before it was kept)."""
    if not referral.particulars:
        return {}
    opened = json.loads(crypto.open_text(key, bytes(referral.particulars)))
    return opened if isinstance(opened, dict) else {}


@transaction.atomic(durable=True)
def case_refer(
    *,
    case: Case,
    summary: str,
    share_identity: bool,
    acting_user: User,
    postcode_district: str = "",
    share_organisation: bool = False,
    shared_contact: Sequence[str] = (),
    how_told: str = "",
    how_told_note: str = "",
) -> Referral:
    """Refer to the case's authority with a summary written for it. A confidential or anonymous
    reporter's identity never leaves the helpline; a named reporter's only with recorded consent, and only
    the contact details that consent covers.

    The authority is told by email only when it has a referral inbox or an active officer with an
    address. When nothing reaches it, no email is claimed: the referral stands (its acknowledgement clock
    starts now) and a follow-up note on the case says the helpline must confirm that the authority knows,
    and how (``how_told``; the refer form requires it)."""
    case = _locked(case)
    workflow.check_allowed(case, "refer")
    authority = case.authority
    if authority is None:
        raise workflow.ActionNotAllowed("Confirm the local authority before referring the case.")
    if case.independent_review or case.conflict_authority_id == authority.pk:
        raise workflow.ActionNotAllowed(
            "This concern is about a council: send it to independent national review, not to an authority."
        )
    if share_identity and case.report.anonymity != Anonymity.NAMED:
        raise workflow.ActionNotAllowed("Only a named reporter's identity can be shared, and only with consent.")
    contact = sorted(set(shared_contact))
    if contact and not share_identity:
        raise workflow.ActionNotAllowed(
            "Contact details are shared only with the reporter's consent to share who they are."
        )
    if any(item not in SHARED_CONTACT for item in contact):
        raise workflow.ActionNotAllowed("Choose which contact details to share from the list.")
    if share_organisation and not case.report.organisation_hash:
        raise workflow.ActionNotAllowed("The reporter named no organisation.")
    district = postcode_district_clean(postcode_district)
    if district and _district_outside(district, authority):
        raise workflow.ActionNotAllowed(f"{district} is not in {authority.name}'s area: check the postcode district.")
    if how_told and how_told not in HOW_TOLD:
        raise workflow.ActionNotAllowed("Choose how the helpline will make sure the authority knows.")
    key = case_data_key(case)
    now = timezone.now()
    particulars = {"postcode_district": district, "organisation": share_organisation, "contact": contact}
    referral = Referral.objects.create(
        case=case,
        authority=authority,
        summary=crypto.seal_text(key, summary),
        identity_shared=share_identity,
        particulars=crypto.seal_text(key, json.dumps(particulars)),
        referred_by=acting_user,
        referred_at=now,
    )
    case.referred_at = now
    case.authority_ack_due_at = deadlines.authority_ack_due(now)
    case.authority_outcome_due_at = deadlines.authority_outcome_due(now)
    case.authority_ack_escalate_at = deadlines.authority_ack_escalate(now)
    case.authority_outcome_escalate_at = deadlines.authority_outcome_escalate(now)
    case.save(
        update_fields=[
            "referred_at",
            "authority_ack_due_at",
            "authority_outcome_due_at",
            "authority_ack_escalate_at",
            "authority_outcome_escalate_at",
        ]
    )
    emails = authority_tell(case=case, template="authority_referral", occasion=f"referral-{referral.pk}")
    _move(
        case,
        "refer",
        acting_user,
        {
            "authority": authority.gss_code,
            "identity_shared": share_identity,
            "contact_shared": contact,
            "organisation_shared": share_organisation,
            "emails": emails,
        },
    )
    if not emails:
        _follow_up(case, authority, how_told, how_told_note, acting_user)
    return referral


def _follow_up(case: Case, authority: LocalAuthority, how: str, note: str, acting_user: User) -> CaseNote:
    """The task left on the case when no email reached the authority: a sealed internal note, and an
    audited event with its code (never the note's words)."""
    lines = [
        f"Follow-up: no email told {authority.name} of this referral (it has no referral inbox and no "
        f"officer with an account). The helpline must confirm that {authority.name} knows.",
        f"How: {HOW_TOLD.get(how, 'not chosen yet')}.",
    ]
    if note.strip():
        lines.append(f"Note: {note.strip()}")
    follow_up = CaseNote.objects.create(
        case=case,
        author=acting_user,
        body=crypto.seal_text(case_data_key(case), "\n".join(lines)),
        created_at=timezone.now(),
    )
    case_event(
        kind="referral_follow_up",
        case=case,
        actor=acting_user,
        detail={"authority": authority.gss_code, "how": how or "not_chosen", "note_id": follow_up.pk},
    )
    return follow_up


# --- the thread with the authority ---------------------------------------------------------------------


def _question(case: Case, question_id: int) -> AuthorityAction:
    question = (
        AuthorityAction.objects.select_for_update()
        .filter(case=case, pk=question_id, kind=AuthorityAction.Kind.QUESTION)
        .first()
    )
    if question is None:
        raise workflow.ActionNotAllowed("The authority asked no such question on this case.")
    return question


def _to_authority(
    case: Case, kind: str, body: str, acting_user: User, reply_to: AuthorityAction | None = None
) -> AuthorityAction:
    if not case.referrals.exists():
        raise workflow.ActionNotAllowed("This case has not been referred to an authority.")
    return AuthorityAction.objects.create(
        case=case,
        kind=kind,
        note=crypto.seal_text(case_data_key(case), body),
        recorded_by=acting_user,
        created_at=timezone.now(),
        reply_to=reply_to,
    )


@transaction.atomic(durable=True)
def case_reply_to_authority(*, case: Case, question_id: int, body: str, acting_user: User) -> AuthorityAction:
    """Answer the authority's question, in words the helpline chose (a reporter's answer is passed on
    only as the helpline writes it here). The question's clock stops; the authority is told by email."""
    case = _locked(case)
    workflow.check_allowed(case, "reply_to_authority")
    question = _question(case, question_id)
    if question.answered_at is not None:
        raise workflow.ActionNotAllowed("This question has already been answered.")
    reply = _to_authority(case, AuthorityAction.Kind.HELPLINE_REPLY, body, acting_user, reply_to=question)
    question.answered_at = reply.created_at
    question.save(update_fields=["answered_at"])
    _move(case, "reply_to_authority", acting_user, {"question_id": question.pk, "reply_id": reply.pk})
    authority_tell(case=case, template="authority_reply", occasion=f"reply-{reply.pk}")
    return reply


@transaction.atomic(durable=True)
def case_relay_to_reporter(*, case: Case, question_id: int, body: str, acting_user: User) -> Message:
    """Ask the reporter what the authority wants to know, in the helpline's words. The question's clock
    keeps running: it stops when the helpline replies to the authority."""
    case = _locked(case)
    workflow.check_allowed(case, "relay_to_reporter")
    question = _question(case, question_id)
    if question.answered_at is not None:
        raise workflow.ActionNotAllowed("This question has already been answered.")
    message = _message_to_reporter(case=case, body=body, acting_user=acting_user)
    question.relayed_to_reporter = True
    question.save(update_fields=["relayed_to_reporter"])
    _move(case, "relay_to_reporter", acting_user, {"question_id": question.pk, "message_id": message.pk})
    return message


@transaction.atomic(durable=True)
def case_update_authority(*, case: Case, summary: str, acting_user: User) -> AuthorityAction:
    """Pass later information to the authority (e.g. what the reporter added after the referral), as a
    summary the helpline wrote. Audited, and the authority is told by email, as for the referral."""
    case = _locked(case)
    workflow.check_allowed(case, "update_authority")
    update = _to_authority(case, AuthorityAction.Kind.HELPLINE_UPDATE, summary, acting_user)
    _move(case, "update_authority", acting_user, {"update_id": update.pk})
    authority_tell(case=case, template="authority_update", occasion=f"update-{update.pk}")
    return update


@transaction.atomic(durable=True)
def case_escalate(*, case: Case, route: str, acting_user: User) -> Case:
    case = _locked(case)
    if route == "national_review":
        workflow.check_allowed(case, "escalate_national_review")
        case.independent_review = True
        case.save(update_fields=["independent_review"])
        return _move(case, "escalate_national_review", acting_user)
    if route == "police":
        workflow.check_allowed(case, "escalate_police")
        case.escalated_to_police = True
        case.save(update_fields=["escalated_to_police"])
        return _move(case, "escalate_police", acting_user)
    raise workflow.ActionNotAllowed("Choose independent national review or the police.")


@transaction.atomic(durable=True)
def case_link_duplicate(*, case: Case, other: Case, acting_user: User) -> CaseLink:
    case = _locked(case)
    workflow.check_allowed(case, "link_duplicate")
    if other.pk == case.pk:
        raise workflow.ActionNotAllowed("A case cannot be linked to itself.")
    link = cases_link(case=case, other=other, linked_by=acting_user)
    _move(case, "link_duplicate", acting_user, {"other_case": other.case_number})
    case_event(kind="link_duplicate", case=other, actor=acting_user, detail={"other_case": case.case_number})
    return link


@transaction.atomic(durable=True)
def case_close(*, case: Case, outcome: str, feedback: str, acting_user: User) -> Case:
    """Close with an outcome; the feedback goes to the reporter's mailbox."""
    case = _locked(case)
    workflow.check_allowed(case, "close")
    if outcome not in Outcome.values:
        raise workflow.ActionNotAllowed("Choose an outcome from the list.")
    if not feedback.strip():
        raise workflow.ActionNotAllowed("Write the feedback the reporter will read.")
    message = _message_to_reporter(case=case, body=feedback, acting_user=acting_user)
    case.outcome = outcome
    case.closed_at = timezone.now()
    case.save(update_fields=["outcome", "closed_at"])
    return _move(case, "close", acting_user, {"outcome": outcome, "message_id": message.pk})


@transaction.atomic(durable=True)
def case_reopen(*, case: Case, reason: str, acting_user: User) -> Case:
    """Undo a closure: a supervisor only, with a reason kept as a sealed internal note. The case goes back
    to triage with its outcome cleared; what the reporter was told stays in their messages."""
    case = _locked(case)
    workflow.check_allowed(case, "reopen")
    workflow.check_permitted(acting_user, "reopen")
    if not reason.strip():
        raise workflow.ActionNotAllowed("Give the reason for reopening the case.")
    note = CaseNote.objects.create(
        case=case,
        author=acting_user,
        body=crypto.seal_text(case_data_key(case), f"Reopened: {reason.strip()}"),
        created_at=timezone.now(),
    )
    previous = case.outcome
    case.outcome = ""
    case.closed_at = None
    case.save(update_fields=["outcome", "closed_at"])
    return _move(case, "reopen", acting_user, {"note_id": note.pk, "previous_outcome": previous})
