"""What helpline staff do to a case. Each action: allowed by triage.workflow, one transaction, one
audit event (codes and ids only), side effects (emails) through the outbox after commit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from reports import crypto
from reports.models import Anonymity, ConcernType, Message
from triage import routing, workflow
from triage.audit import event_record
from triage.models import (
    AuthorityAction,
    Case,
    CaseLink,
    CaseNote,
    EmailRecord,
    LocalAuthority,
    OutboxMessage,
    Outcome,
    Referral,
)
from triage.outbox import outbox_add
from triage.services import queue_for, supervisors_alert


def case_data_key(case: Case) -> bytes:
    report = case.report
    return crypto.open_key_as_helpline(report.helpline_key_id, bytes(report.helpline_sealed_key))


def _locked(case: Case) -> Case:
    return Case.objects.select_for_update(of=("self",)).select_related("report").get(pk=case.pk)


def _move(case: Case, action: str, acting_user: User, detail: dict[str, object] | None = None) -> Case:
    """Check the action against the workflow, set the new status, record the event."""
    new_status = workflow.status_after(case, action)
    fields = []
    if new_status != case.status:
        case.status = new_status
        fields.append("status")
    if fields:
        case.save(update_fields=fields)
    event_record(kind=action, case=case, actor=acting_user, detail={"status": case.status, **(detail or {})})
    return case


def email_queue(*, case: Case, recipient: str, template: str, occasion: str = "") -> EmailRecord | None:
    record, created = EmailRecord.objects.get_or_create(
        case=case,
        recipient=recipient,
        template=template,
        occasion=occasion,
        defaults={"created_at": timezone.now()},
    )
    if not created:
        return None
    outbox_add(kind=OutboxMessage.Kind.SEND_EMAIL, target_id=record.pk)
    return record


@transaction.atomic
def case_claim(*, case: Case, acting_user: User) -> Case:
    case = _locked(case)
    workflow.check_allowed(case, "claim")
    case.assignee = acting_user
    case.save(update_fields=["assignee"])
    return _move(case, "claim", acting_user, {"assignee": acting_user.pk})


@transaction.atomic
def case_assign(*, case: Case, assignee: User, acting_user: User) -> Case:
    case = _locked(case)
    workflow.check_allowed(case, "assign")
    if not assignee.is_helpline or not assignee.is_active:
        raise workflow.ActionNotAllowed("Cases can only be assigned to active helpline staff.")
    case.assignee = assignee
    case.save(update_fields=["assignee"])
    return _move(case, "assign", acting_user, {"assignee": assignee.pk})


@transaction.atomic
def case_set_priority(*, case: Case, priority: str, acting_user: User) -> Case:
    case = _locked(case)
    workflow.check_allowed(case, "set_priority")
    if priority not in Case.Priority.values:
        raise workflow.ActionNotAllowed("Choose urgent or standard.")
    previous = case.priority
    case.priority = priority
    urgent = priority == Case.Priority.URGENT
    case.triage_due_at = routing.triage_due(case.report.submitted_at, urgent=urgent)
    fields = ["priority", "triage_due_at"]
    if urgent and previous != priority:
        # Now urgent: into the urgent queue, and the supervisors hear of it as for any urgent case.
        case.queue = queue_for("urgent")
        fields.append("queue")
    case.save(update_fields=fields)
    _move(case, "set_priority", acting_user, {"from": previous, "to": priority})
    if urgent and previous != priority:
        supervisors_alert(case=case, template="urgent_case")
    return case


@transaction.atomic
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


@transaction.atomic
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
    if case.report.has_contact_email:
        email_queue(
            case=case,
            recipient=EmailRecord.REPORTER_RECIPIENT,
            template="reporter_update",
            occasion=f"message-{message.pk}",
        )
    return message


@transaction.atomic
def case_ask_reporter(*, case: Case, body: str, acting_user: User) -> Message:
    case = _locked(case)
    workflow.check_allowed(case, "ask_reporter")
    message = _message_to_reporter(case=case, body=body, acting_user=acting_user)
    _move(case, "ask_reporter", acting_user, {"message_id": message.pk})
    return message


@transaction.atomic
def case_add_note(*, case: Case, body: str, acting_user: User) -> CaseNote:
    case = _locked(case)
    workflow.check_allowed(case, "add_note")
    note = CaseNote.objects.create(
        case=case, author=acting_user, body=crypto.seal_text(case_data_key(case), body), created_at=timezone.now()
    )
    _move(case, "add_note", acting_user, {"note_id": note.pk})
    return note


@transaction.atomic
def case_refer(*, case: Case, summary: str, share_identity: bool, acting_user: User) -> Referral:
    """Refer to the case's authority with a summary written for it. A confidential or anonymous
    reporter's identity never leaves the helpline; a named reporter's only with recorded consent."""
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
    now = timezone.now()
    referral = Referral.objects.create(
        case=case,
        authority=authority,
        summary=crypto.seal_text(case_data_key(case), summary),
        identity_shared=share_identity,
        referred_by=acting_user,
        referred_at=now,
    )
    case.referred_at = now
    case.authority_ack_due_at = routing.authority_ack_due(now)
    case.authority_outcome_due_at = routing.authority_outcome_due(now)
    case.authority_ack_escalate_at = routing.authority_ack_escalate(now)
    case.authority_outcome_escalate_at = routing.authority_outcome_escalate(now)
    case.save(
        update_fields=[
            "referred_at",
            "authority_ack_due_at",
            "authority_outcome_due_at",
            "authority_ack_escalate_at",
            "authority_outcome_escalate_at",
        ]
    )
    _move(case, "refer", acting_user, {"authority": authority.gss_code, "identity_shared": share_identity})
    recipients = {authority.referral_email} | set(
        authority.officers.filter(is_active=True).exclude(email="").values_list("email", flat=True)
    )
    for recipient in sorted(r for r in recipients if r):
        email_queue(case=case, recipient=recipient, template="authority_referral", occasion=f"referral-{referral.pk}")
    return referral


@transaction.atomic
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


@transaction.atomic
def case_link_duplicate(*, case: Case, other: Case, acting_user: User) -> CaseLink:
    case = _locked(case)
    workflow.check_allowed(case, "link_duplicate")
    if other.pk == case.pk:
        raise workflow.ActionNotAllowed("A case cannot be linked to itself.")
    link, _ = CaseLink.objects.get_or_create(
        case=case, other=other, defaults={"linked_by": acting_user, "created_at": timezone.now()}
    )
    CaseLink.objects.get_or_create(
        case=other, other=case, defaults={"linked_by": acting_user, "created_at": timezone.now()}
    )
    _move(case, "link_duplicate", acting_user, {"other_case": other.case_number})
    event_record(kind="link_duplicate", case=other, actor=acting_user, detail={"other_case": case.case_number})
    return link


@transaction.atomic
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


def content_viewed(*, case: Case, acting_user: User, what: str = "case") -> None:
    """Every view of decrypted content is an audit event."""
    event_record(kind="content_viewed", case=case, actor=acting_user, detail={"view": what})


@dataclass(frozen=True)
class OpenedCase:
    content: dict[str, object]
    messages: list[tuple[Message, str]]
    notes: list[tuple[CaseNote, str]]
    referrals: list[tuple[Referral, str]]
    authority_actions: list[tuple[AuthorityAction, str]]


def case_open(*, case: Case, acting_user: User) -> OpenedCase:
    """Decrypt a case for a member of staff allowed to see it (checked by the caller's selector), and
    record that they did."""
    key = case_data_key(case)
    opened = OpenedCase(
        content=crypto.open_content(key, bytes(case.report.content)),
        messages=[(m, crypto.open_text(key, bytes(m.body))) for m in case.report.messages.select_related("author")],
        notes=[(n, crypto.open_text(key, bytes(n.body))) for n in case.notes.select_related("author")],
        referrals=[(r, crypto.open_text(key, bytes(r.summary))) for r in case.referrals.select_related("authority")],
        authority_actions=[
            (a, crypto.open_text(key, bytes(a.note)) if a.note else "")
            for a in case.authority_actions.select_related("recorded_by")
        ],
    )
    content_viewed(case=case, acting_user=acting_user)
    return opened


def case_act(*, case: Case, action: str, data: dict[str, object], acting_user: User) -> None:
    """Run one named action with validated data: shared by the workspace pages and the staff API."""
    from triage import authorities

    if action == "claim":
        case_claim(case=case, acting_user=acting_user)
    elif action == "assign":
        assignee = User.objects.filter(username=data["assignee"]).first()
        if assignee is None:
            raise workflow.ActionNotAllowed("There is no such member of staff.")
        case_assign(case=case, assignee=assignee, acting_user=acting_user)
    elif action == "set_priority":
        case_set_priority(case=case, priority=str(data["priority"]), acting_user=acting_user)
    elif action == "set_concern_types":
        codes = data["concern_types"]
        case_set_concern_types(
            case=case, concern_types=list(codes) if isinstance(codes, list) else [], acting_user=acting_user
        )
    elif action == "set_authority":
        authority = authorities.authority_by_code(str(data["authority"]))
        if authority is None:
            raise workflow.ActionNotAllowed("Choose an English children's services authority.")
        case_set_authority(case=case, authority=authority, acting_user=acting_user)
    elif action == "ask_reporter":
        case_ask_reporter(case=case, body=str(data["body"]), acting_user=acting_user)
    elif action == "add_note":
        case_add_note(case=case, body=str(data["body"]), acting_user=acting_user)
    elif action == "refer":
        case_refer(
            case=case,
            summary=str(data["summary"]),
            share_identity=bool(data.get("share_identity")),
            acting_user=acting_user,
        )
    elif action == "escalate":
        case_escalate(case=case, route=str(data["route"]), acting_user=acting_user)
    elif action == "link_duplicate":
        other = Case.objects.filter(case_number=str(data["other"]).strip().upper()).first()
        if other is None:
            raise workflow.ActionNotAllowed("There is no case with that number.")
        case_link_duplicate(case=case, other=other, acting_user=acting_user)
    elif action == "close":
        case_close(case=case, outcome=str(data["outcome"]), feedback=str(data["feedback"]), acting_user=acting_user)
    else:
        raise workflow.ActionNotAllowed(f"There is no action called {action!r}.")
