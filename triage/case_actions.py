"""What helpline staff do to a case. Each action: allowed by triage.workflow, one transaction, one
audit event (codes and ids only), side effects (emails) through the outbox after commit.

Callers find the case through triage.selectors first; triage.staff_actions runs an action by name. The
actions on a case's referrals (refer, the thread with the authority) are referrals.services'; case_locked,
case_move and message_to_reporter are the steps they share with these."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from accounts import policy
from accounts.models import User
from accounts.policy import Permission
from audit.models import Subject
from audit.trail import event_record
from core import crypto
from core.timetrail import day_start, reporter_paced
from directory.models import LocalAuthority, PostcodeArea
from reports.attachments import (
    TooLarge,
    attachment_blob_delete,
    attachment_meta,
    attachment_processing_start,
    helpline_files_left,
    incoming_keep,
    max_helpline_files,
)
from reports.filetypes import RefusedType, sniff
from reports.models import URGENT_TRIAGE, Attachment, ConcernType, Message, Report
from reports.uploads import SealedUpload
from triage import deadlines, paging, retention, workflow
from triage.case_content import CONTACT_REVEALED, case_data_key, contact_of, report_data_key
from triage.events import case_event
from triage.facts import (
    ETHNICITY_ANSWERS,
    NATIONALITY_ANSWERS,
    NOT_KNOWN,
    SUSPECTS_MAX,
    Known,
    OfstedClass,
    Setting,
)
from triage.intake import queue_for
from triage.links import cases_link
from triage.models import Case, CaseFacts, CaseLink, CaseNote, Escalation, LegalHold, Outcome, Page
from triage.notifications import SUPERVISOR_FLAG, reporter_tell, supervisors_alert
from triage.ports import referral_port
from triage.routing import needs_supervisor

# The statuses in which a case's open referrals are with their recipients (authorities, or the review team).
WITH_RECIPIENTS = frozenset({Case.Status.REFERRED, Case.Status.NATIONAL_REVIEW})


def case_locked(case: Case) -> Case:
    return Case.objects.select_for_update(of=("self",)).select_related("report").get(pk=case.pk)


def case_move(case: Case, action: str, acting_user: User, detail: dict[str, object] | None = None) -> Case:
    """Check the action against the workflow, set the new status, record the event."""
    new_status = workflow.status_after(case, action)
    fields = []
    if case.status in workflow.IN_TRIAGE and new_status not in workflow.IN_TRIAGE:
        fields += _triage_clock_met(case)
    # Closed, or sent to independent review: the case leaves the recipients its open referrals are with.
    left_authorities = case.status in WITH_RECIPIENTS and new_status != case.status
    if new_status != case.status:
        case.status = new_status
        fields.append("status")
    if fields:
        case.save(update_fields=fields)
    if left_authorities:
        # Their clocks stop with their open referrals.
        referral_port().withdraw_open(case, acting_user)
    case_event(kind=action, case=case, actor=acting_user, detail={"status": case.status, **(detail or {})})
    return case


def _triage_clock_met(case: Case) -> list[str]:
    """The triage clock is met: its deadline, and the alert taken when it was missed, keep the day only.
    An urgent deadline is the submission time plus an hour, and no longer needed to the second."""
    case.triage_due_at = day_start(case.triage_due_at)
    Escalation.objects.filter(case=case, step=Escalation.Step.TRIAGE_OVERDUE).update(
        deadline=day_start(case.triage_due_at)
    )
    # Its pages, and their texts, keep the day only too (triage.paging).
    paging.pages_settle(case)
    return ["triage_due_at"]


@transaction.atomic(durable=True)
def case_claim(*, case: Case, acting_user: User) -> Case:
    case = case_locked(case)
    workflow.check_allowed(case, "claim")
    case.assignee = acting_user
    case.save(update_fields=["assignee"])
    return case_move(case, "claim", acting_user, {"assignee": acting_user.pk})


@transaction.atomic(durable=True)
def case_acknowledge_page(*, case: Case, acting_user: User) -> Page:
    """ "I'm dealing with it": the pages about the urgent case stop falling through to the next person, and the
    case is claimed if nobody has it. What it answered is on the timeline with the day only (triage.paging)."""
    case = case_locked(case)
    workflow.check_allowed(case, "acknowledge_page")
    waiting = paging.pages_waiting(case)
    if not waiting:
        raise workflow.ActionNotAllowed("No page about this case is waiting for an answer.")
    now = timezone.now()
    Page.objects.filter(pk__in=[page.pk for page in waiting]).update(acknowledged_at=now, acknowledged_by=acting_user)
    answered = waiting[-1]
    if case.assignee_id is None:
        case.assignee = acting_user
        case.save(update_fields=["assignee"])
        if case.status == Case.Status.NEW:
            # As claiming does: a new case is then in triage.
            case = case_move(case, "claim", acting_user, {"assignee": acting_user.pk})
        else:
            case_event(
                kind="claim", case=case, actor=acting_user, detail={"status": case.status, "assignee": acting_user.pk}
            )
    with reporter_paced():
        case_event(
            kind="acknowledge_page",
            case=case,
            actor=acting_user,
            detail={
                "status": case.status,
                "level": answered.level,
                "deadline": day_start(answered.deadline).isoformat(),
                "triage_deadline": day_start(case.triage_due_at).isoformat(),
            },
        )
    paging.pages_settle(case)
    return answered


@transaction.atomic(durable=True)
def case_assign(*, case: Case, assignee: User, acting_user: User) -> Case:
    case = case_locked(case)
    workflow.check_allowed(case, "assign")
    if not policy.may(assignee, Permission.HELPLINE_WORK):
        raise workflow.ActionNotAllowed("Cases can only be assigned to active helpline staff.")
    case.assignee = assignee
    case.save(update_fields=["assignee"])
    return case_move(case, "assign", acting_user, {"assignee": assignee.pk})


@transaction.atomic(durable=True)
def case_set_priority(*, case: Case, priority: str, acting_user: User) -> Case:
    case = case_locked(case)
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
            timezone.now() + URGENT_TRIAGE
            if urgent
            else deadlines.triage_due(case.report.submitted_at if case.report else case.created_at, urgent=False)
        )
        fields.append("triage_due_at")
    if urgent and previous != priority:
        # Now urgent: into the urgent queue, and the supervisors hear of it as for any urgent case.
        case.queue = queue_for("urgent")
        fields.append("queue")
    case.save(update_fields=fields)
    case_move(case, "set_priority", acting_user, {"from": previous, "to": priority})
    if urgent and previous != priority:
        supervisors_alert(case=case, template="urgent_case")
    return case


@transaction.atomic(durable=True)
def case_set_concern_types(*, case: Case, concern_types: Sequence[str], acting_user: User) -> Case:
    case = case_locked(case)
    workflow.check_allowed(case, "set_concern_types")
    codes = sorted(set(concern_types))
    if not codes or any(code not in ConcernType.values for code in codes):
        raise workflow.ActionNotAllowed("Choose at least one concern type from the list.")
    report = workflow.report_of(case)
    flagged_before = needs_supervisor(report.concern_types)
    report.concern_types = codes
    report.save(update_fields=["concern_types"])
    case = case_move(case, "set_concern_types", acting_user, {"concern_types": codes})
    if needs_supervisor(codes) and not flagged_before:
        # As if it had come in so: the supervisors hear of it (once per case, whenever it was flagged).
        supervisors_alert(case=case, template=SUPERVISOR_FLAG)
    return case


@transaction.atomic(durable=True)
def case_set_authority(*, case: Case, authority: LocalAuthority, acting_user: User) -> Case:
    case = case_locked(case)
    workflow.check_allowed(case, "set_authority")
    if case.conflict_authority_id == authority.pk:
        raise workflow.ActionNotAllowed(f"The concern is about {authority.name}: it cannot be routed to that council.")
    case.authority = authority
    case.save(update_fields=["authority"])
    return case_move(case, "set_authority", acting_user, {"authority": authority.gss_code})


def message_to_reporter(*, case: Case, body: str, acting_user: User) -> Message:
    message = Message.objects.create(
        report=workflow.report_of(case),
        direction=Message.Direction.FROM_HELPLINE,
        author=acting_user,
        body=crypto.seal_text(case_data_key(case), body),
        sent_on=timezone.localdate(),
    )
    reporter_tell(case=case, template="reporter_update", occasion=f"message-{message.pk}")
    return message


@transaction.atomic(durable=True)
def case_ask_reporter(*, case: Case, body: str, acting_user: User, upload: SealedUpload | None = None) -> Message:
    """Message the reporter, with a file (``upload``, already sealed as it arrived) when one is attached:
    the reporter can open it once the workers have checked and cleaned it."""
    case = case_locked(case)
    workflow.check_allowed(case, "ask_reporter")
    message = message_to_reporter(case=case, body=body, acting_user=acting_user)
    detail: dict[str, object] = {"message_id": message.pk}
    if upload is not None:
        attachment = helpline_file_keep(
            report=workflow.report_of(case),
            key=case_data_key(case),
            upload=upload,
            acting_user=acting_user,
            message=message,
        )
        detail["attachment_id"] = attachment.pk
    case_move(case, "ask_reporter", acting_user, detail)
    return message


@transaction.atomic(durable=True)
def case_add_note(*, case: Case, body: str, acting_user: User) -> CaseNote:
    case = case_locked(case)
    workflow.check_allowed(case, "add_note")
    note = CaseNote.objects.create(
        case=case, author=acting_user, body=crypto.seal_text(case_data_key(case), body), created_at=timezone.now()
    )
    case_move(case, "add_note", acting_user, {"note_id": note.pk})
    return note


# How the helpline will make sure an authority that no email reaches knows of a referral (the refer form's
# choice, kept on the follow-up note and, as its code, on the audit event).
HOW_TOLD: dict[str, str] = {
    "phone": "Phone the council's children's services (or its emergency duty team) and tell them",
    "email_manual": "Email a named address at the council by hand, with no case details in it",
    "other": "Another way, written in the note",
}
# How a case was passed to a body that has no accounts here (a police force, Ofsted …): never by an email
# with case content (the codes are referrals.models.HowSent's).
HOW_SENT: dict[str, str] = {
    "telephone": "By telephone",
    "secure_channel": "Through the body's own secure channel",
}
# Why a member of staff shows a reporter's contact details (case_reveal_contact): the audit event keeps the code.
REVEAL_REASONS: dict[str, str] = {
    "contact_reporter": "To contact the reporter, who asked us to or expects it",
    "child_at_risk": "A child may be at immediate risk: we need to reach the reporter now",
    "check_sharing": "To check what a consent or a legal-duty decision would share",
    "reporter_asked_for_record": "The reporter asked what we hold about them",
}


def postcode_district_clean(text: str) -> str:
    """A postcode district ("S60"), upper case, or "" for none; ActionNotAllowed for anything else (a full
    postcode is refused: the authority needs the area, and a full postcode can point at one house)."""
    district = (text or "").strip().upper()
    if not district:
        return ""
    if not re.fullmatch(r"[A-Z][A-HJ-Y]?[0-9][A-Z0-9]?", district):
        raise workflow.ActionNotAllowed("Enter a postcode district only, like S60: not a full postcode.")
    return district


def district_outside(district: str, authority: LocalAuthority) -> bool:
    """Whether the directory knows the district and it touches none of the authority's area."""
    area = PostcodeArea.objects.filter(level=PostcodeArea.Level.DISTRICT, code=district).first()
    if area is None:
        return False
    codes = {area.authority_code, *(str(c[0]) for c in area.candidates if c)}
    return authority.gss_code not in codes and not set(authority.former_gss_codes) & codes


def case_escalate(
    *,
    case: Case,
    route: str,
    acting_user: User,
    reason: str = "",
    force: str = "",
    how_sent: str = "",
    crime_reference: str = "",
) -> Case:
    """Send the case to independent national review (with the reason) or to a police force (which, how it
    was sent, the crime reference when given). Each is a referral the referrals app records in its own
    transaction (referrals.services.case_send_for_review, case_escalate_police), through triage/ports.py."""
    if route not in ("national_review", "police"):
        raise workflow.ActionNotAllowed("Choose independent national review or the police.")
    data = {"route": route, "reason": reason, "force": force, "how_sent": how_sent, "crime_reference": crime_reference}
    referral_port().actions["escalate"](case, data, acting_user)
    case.refresh_from_db()
    return case


@transaction.atomic(durable=True)
def case_link_duplicate(*, case: Case, other: Case, acting_user: User) -> CaseLink:
    case = case_locked(case)
    workflow.check_allowed(case, "link_duplicate")
    if other.pk == case.pk:
        raise workflow.ActionNotAllowed("A case cannot be linked to itself.")
    link = cases_link(case=case, other=other, linked_by=acting_user)
    case_move(case, "link_duplicate", acting_user, {"other_case": other.case_number})
    case_event(kind="link_duplicate", case=other, actor=acting_user, detail={"other_case": case.case_number})
    return link


@transaction.atomic(durable=True)
def case_close(*, case: Case, outcome: str, feedback: str, acting_user: User) -> Case:
    """Close with an outcome; the feedback goes to the reporter's mailbox."""
    case = case_locked(case)
    workflow.check_allowed(case, "close")
    if outcome not in Outcome.values:
        raise workflow.ActionNotAllowed("Choose an outcome from the list.")
    if not feedback.strip():
        raise workflow.ActionNotAllowed("Write the feedback the reporter will read.")
    if case.report_id is None:
        # A review case has no reporter: what the helpline would have told one is kept as a sealed note.
        note = CaseNote.objects.create(
            case=case,
            author=acting_user,
            body=crypto.seal_text(case_data_key(case), f"Closed: {feedback.strip()}"),
            created_at=timezone.now(),
        )
        detail: dict[str, object] = {"outcome": outcome, "note_id": note.pk}
    else:
        message = message_to_reporter(case=case, body=feedback, acting_user=acting_user)
        detail = {"outcome": outcome, "message_id": message.pk}
    case.outcome = outcome
    case.closed_at = timezone.now()
    case.save(update_fields=["outcome", "closed_at"])
    retention.rehome(case)
    return case_move(case, "close", acting_user, detail)


@transaction.atomic(durable=True)
def case_reopen(*, case: Case, reason: str, acting_user: User) -> Case:
    """Undo a closure: a supervisor only, with a reason kept as a sealed internal note. The case goes back
    to triage with its outcome cleared; what the reporter was told stays in their messages."""
    case = case_locked(case)
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
    retention.rehome(case)
    return case_move(case, "reopen", acting_user, {"note_id": note.pk, "previous_outcome": previous})


@dataclass(frozen=True)
class FactsRecorded:
    """What the helpline knows about a case for the national picture, as the record_facts form cleans it:
    every field is "not known" unless given (an empty code, None, an empty list or mapping)."""

    ofsted_class: str = ""
    group_based: str = Known.NOT_KNOWN
    settings: tuple[str, ...] = ()
    looked_after: str = Known.NOT_KNOWN
    placed_out_of_area: str = Known.NOT_KNOWN
    placing_authority: LocalAuthority | None = None
    missing_episodes: str = Known.NOT_KNOWN
    suspects: int | None = None
    suspect_ethnicity: Mapping[str, int] = field(default_factory=dict)
    suspect_nationality: Mapping[str, int] = field(default_factory=dict)


def suspect_counts(
    counts: Mapping[str, int], *, answers: Sequence[tuple[str, str]], suspects: int | None
) -> dict[str, int]:
    """Counts by category as stored: only the categories given with a count above 0, in the list's order,
    adding up to the number of suspects (those not accounted for are counted as not known). ActionNotAllowed
    for an unknown category, a negative count, counts without a number of suspects or more than it."""
    codes = [code for code, _ in answers]
    if any(code not in codes for code in counts) or any(count < 0 for count in counts.values()):
        raise workflow.ActionNotAllowed("Give counts only for the categories on the list.")
    given = {code: counts[code] for code in codes if counts.get(code, 0) > 0}
    if suspects is None:
        if given:
            raise workflow.ActionNotAllowed("Enter how many suspects there are before counting them by category.")
        return {}
    left = suspects - sum(given.values())
    if left < 0:
        raise workflow.ActionNotAllowed(f"The counts add up to more than the {suspects} suspects.")
    if left:
        given[NOT_KNOWN] = given.get(NOT_KNOWN, 0) + left
    return {code: given[code] for code in codes if code in given}


@transaction.atomic(durable=True)
def case_record_facts(*, case: Case, facts: FactsRecorded, acting_user: User) -> list[str]:
    """Record what is known about the case for the national picture, replacing what was recorded: one
    event naming the fields that changed (never their values, so the trail holds no answer a case page
    does not show). The fields changed, in the record's order."""
    case = case_locked(case)
    workflow.check_allowed(case, "record_facts")
    if facts.ofsted_class and facts.ofsted_class not in OfstedClass.values:
        raise workflow.ActionNotAllowed("Choose one of Ofsted's classifications, or not known.")
    for answer in (facts.group_based, facts.looked_after, facts.placed_out_of_area, facts.missing_episodes):
        if answer not in Known.values:
            raise workflow.ActionNotAllowed("Answer yes, no or not known.")
    if any(code not in Setting.values for code in facts.settings):
        raise workflow.ActionNotAllowed("Choose settings from the list.")
    if facts.placing_authority is not None and facts.placed_out_of_area != Known.YES:
        raise workflow.ActionNotAllowed("Name the placing authority only for a child placed out of area.")
    if facts.suspects is not None and not 0 <= facts.suspects <= SUSPECTS_MAX:
        raise workflow.ActionNotAllowed(f"Enter a number of suspects from 0 to {SUSPECTS_MAX}.")
    values: dict[str, object] = {
        "ofsted_class": facts.ofsted_class,
        "group_based": facts.group_based,
        "settings": [code for code in Setting.values if code in facts.settings],
        "looked_after": facts.looked_after,
        "placed_out_of_area": facts.placed_out_of_area,
        "placing_authority_id": facts.placing_authority.pk if facts.placing_authority else None,
        "missing_episodes": facts.missing_episodes,
        "suspects": facts.suspects,
        "suspect_ethnicity": suspect_counts(
            facts.suspect_ethnicity, answers=ETHNICITY_ANSWERS, suspects=facts.suspects
        ),
        "suspect_nationality": suspect_counts(
            facts.suspect_nationality, answers=NATIONALITY_ANSWERS, suspects=facts.suspects
        ),
    }
    record = CaseFacts.objects.select_for_update().filter(case=case).first() or CaseFacts(case=case)
    changed = [name for name, value in values.items() if getattr(record, name) != value]
    for name in changed:
        setattr(record, name, values[name])
    if record._state.adding:
        record.save(force_insert=True)
    elif changed:
        record.save(update_fields=changed)
    recorded = [name.removesuffix("_id") for name in changed]
    case_move(case, "record_facts", acting_user, {"changed": recorded})
    return recorded


# --- the case's files -----------------------------------------------------------------------------------


def helpline_file_keep(
    *, report: Report, key: bytes, upload: SealedUpload, acting_user: User, message: Message | None = None
) -> Attachment:
    """Keep a file the helpline uploaded for a report (``key``: its data key), in the caller's transaction,
    and ask the workers to scan and clean it, as for the reporter's own files. Within the helpline's own limit
    (ATTACHMENT_MAX_HELPLINE_FILES): the reporter's places are theirs."""
    try:
        kind = sniff(upload.name or "", upload.head)
    except RefusedType as refused:
        raise workflow.ActionNotAllowed(str(refused)) from refused
    if helpline_files_left(report.pk) <= 0:
        raise workflow.ActionNotAllowed(
            f"The helpline has already added {max_helpline_files()} files to this case, the most it can add. "
            "A supervisor can delete one of them."
        )
    try:
        attachment = incoming_keep(
            upload.incoming,
            content_type=kind.content_type,
            key=key,
            report_id=report.pk,
            source=Attachment.Source.HELPLINE,
            added_by_id=acting_user.pk,
            message_id=message.pk if message else None,
        )
    except TooLarge as refused:
        raise workflow.ActionNotAllowed("The file is too large.") from refused
    attachment_processing_start(attachment)
    return attachment


@transaction.atomic(durable=True)
def report_file_by_phone(*, report: Report, upload: SealedUpload, acting_user: User) -> Attachment:
    """A file a caller emailed in, kept with the report the call handler has just recorded for them (its
    case does not exist yet: the event is on the report, as the phone call's own, and the case's timeline
    shows both)."""
    attachment = helpline_file_keep(report=report, key=report_data_key(report), upload=upload, acting_user=acting_user)
    event_record(
        kind="attachment_added",
        subject=(Subject.REPORT, report.pk),
        actor=acting_user,
        detail={"report_id": report.pk, "attachment_id": attachment.pk, "source": Attachment.Source.HELPLINE},
    )
    return attachment


# A file that still has content to delete: a pending one is being processed by the workers, and is deleted
# once they are done with it.
DELETABLE = frozenset({Attachment.Status.CLEAN, Attachment.Status.NOT_CLEANED, Attachment.Status.BLOCKED})


@transaction.atomic(durable=True)
def case_delete_attachment(*, case: Case, attachment_id: str, reason: str, acting_user: User) -> Attachment:
    """Delete a file of the case for good: a supervisor only, with a reason kept as a sealed internal note.
    Its content goes (its chunks and key); its row stays, marked removed, for the trail and the lists."""
    case = case_locked(case)
    workflow.check_allowed(case, "delete_attachment")
    workflow.check_permitted(acting_user, "delete_attachment")
    if not reason.strip():
        raise workflow.ActionNotAllowed("Give the reason for deleting the file.")
    try:
        public_id = uuid.UUID(str(attachment_id))
    except ValueError as refused:
        raise workflow.ActionNotAllowed("The case has no such file.") from refused
    report = workflow.report_of(case)
    attachment = Attachment.objects.select_for_update().filter(report_id=report.pk, public_id=public_id).first()
    if attachment is None:
        raise workflow.ActionNotAllowed("The case has no such file.")
    if attachment.status == Attachment.Status.REMOVED:
        raise workflow.ActionNotAllowed("This file has already been deleted.")
    if attachment.status not in DELETABLE:
        raise workflow.ActionNotAllowed("This file is still being checked: delete it once the checks are done.")
    key = case_data_key(case)
    name = attachment_meta(attachment, key).name
    note = CaseNote.objects.create(
        case=case,
        author=acting_user,
        body=crypto.seal_text(key, f"File deleted: {name}. Reason: {reason.strip()}"),
        created_at=timezone.now(),
    )
    previous = attachment.status
    attachment_blob_delete(attachment)
    case_move(
        case,
        "delete_attachment",
        acting_user,
        {"attachment_id": attachment.pk, "note_id": note.pk, "previous_status": previous},
    )
    return attachment


@transaction.atomic(durable=True)
def case_hold_place(*, case: Case, basis: str, reason: str, acting_user: User) -> list[LegalHold]:
    """Put the case on legal hold, and its linked cases with it (triage.retention.hold_place: an audit event
    each, and each data key moved under the held key). A supervisor's, with the legal basis and the reason
    (the notice's or the order's reference), sealed. Returns the holds placed, this case's first."""
    case = case_locked(case)
    workflow.check_allowed(case, "place_hold")
    workflow.check_permitted(acting_user, "place_hold")
    destroyed = retention.content_destroyed_on(case)
    if destroyed is not None:
        raise workflow.ActionNotAllowed(
            f"This case's content was destroyed on {destroyed.day} {destroyed:%B %Y}: nothing is left to hold."
        )
    if retention.on_hold(case):
        raise workflow.ActionNotAllowed("This case is already on legal hold.")
    try:
        return retention.hold_place(case=case, basis=basis, reason=reason, acting_user=acting_user)
    except ValueError as refused:
        raise workflow.ActionNotAllowed(str(refused)) from refused


@transaction.atomic(durable=True)
def case_hold_release(*, case: Case, acting_user: User) -> LegalHold:
    """Release the case's legal hold (a supervisor's; an audit event): the retention schedule applies to it
    again. The holds its linked cases were given with it stay until each is released."""
    case = case_locked(case)
    workflow.check_allowed(case, "release_hold")
    workflow.check_permitted(acting_user, "release_hold")
    hold = retention.hold_release(case=case, acting_user=acting_user)
    if hold is None:
        raise workflow.ActionNotAllowed("This case is not on legal hold.")
    return hold


def deletable_files(case: Case) -> bool:
    """Whether the case has a file a supervisor could delete (what the case page offers them)."""
    if case.report_id is None:
        return False
    return Attachment.objects.filter(report_id=case.report_id, status__in=DELETABLE).exists()


def uploads_unkept_drop(uploads: list[SealedUpload]) -> int:
    """Drop the uploads of a request that nobody kept (a refused form, a file sent with an action that takes
    none) now, rather than at their expiry; a kept file is left alone. How many were dropped."""
    pks = [upload.incoming.attachment.pk for upload in uploads]
    dropped, _ = Attachment.objects.filter(pk__in=pks, report__isnull=True, draft_id__isnull=True).delete()
    return dropped


@transaction.atomic(durable=True)
def case_reveal_contact(*, case: Case, reason: str, acting_user: User) -> list[str]:
    """Show the reporter's name and contact details to ``acting_user``, for a reason from REVEAL_REASONS: an
    audit event naming the reason and which details were shown (never the details), which supervisors see on
    the case page. They stay shown to that member of staff for case_content.CONTACT_SHOWN_FOR. Returns which
    details there are."""
    case = case_locked(case)
    workflow.check_allowed(case, "reveal_contact")
    workflow.check_permitted(acting_user, "reveal_contact")
    if reason not in REVEAL_REASONS:
        raise workflow.ActionNotAllowed("Choose why you need to see the contact details from the list.")
    report = workflow.report_of(case)
    shown = sorted(contact_of(crypto.open_content(case_data_key(case), bytes(report.content))))
    if not shown:
        raise workflow.ActionNotAllowed("The reporter has not given the helpline their name or contact details.")
    case_event(
        kind=CONTACT_REVEALED,
        case=case,
        actor=acting_user,
        detail={"status": case.status, "reason": reason, "shown": shown},
    )
    return shown
