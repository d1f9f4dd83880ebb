"""How case events read on a timeline."""

from datetime import datetime
from typing import Any

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.text import capfirst

from core.timetrail import is_day_only
from reports.models import ConcernType
from triage.models import Escalation, Page
from triage.ports import SOME_AUTHORITY

register = template.Library()


# A referral's ladder (referrals.models.ReferralEscalation.Step, in the layer above): its steps' labels.
REFERRAL_STEPS = {
    "ack_overdue": "No acknowledgement in 1 working day: supervisors alerted",
    "ack_overdue_national": "No acknowledgement in 3 working days: national oversight and the partnership alerted",
    "outcome_overdue": "No outcome in 45 working days: supervisors alerted",
    "outcome_overdue_national": "No outcome in 47 working days: national oversight and the partnership alerted",
}


@register.filter
def escalation_step(step: str) -> str:
    try:
        return str(Escalation.Step(step).label)
    except ValueError:
        return REFERRAL_STEPS.get(step, step)


@register.filter
def page_level(level: str) -> str:
    try:
        return str(Page.Level(level).label)
    except ValueError:
        return level


# A colour per case status, so that a closed case never looks like a working one.
STATUS_TAGS = {
    "new": "govuk-tag--light-blue",
    "in_triage": "govuk-tag--blue",
    "awaiting_reporter": "govuk-tag--yellow",
    "referred": "govuk-tag--purple",
    "national_review": "govuk-tag--orange",
    "closed": "govuk-tag--grey",
}


# A colour per file status: a file that cannot be opened, or must be opened with care, stands out.
FILE_STATUS_TAGS = {
    "pending": "govuk-tag--yellow",
    "clean": "govuk-tag--green",
    "blocked": "govuk-tag--red",
    "not_cleaned": "govuk-tag--orange",
    "removed": "govuk-tag--grey",
}


@register.filter
def file_status_tag(status: str) -> str:
    """The GOV.UK tag class for a file's status."""
    return FILE_STATUS_TAGS.get(status, "")


@register.filter
def status_tag(status: str) -> str:
    """The GOV.UK tag class for a case status."""
    return STATUS_TAGS.get(status, "")


@register.filter
def moment(value: datetime | None, with_year: str = "") -> str:
    """A recorded time as staff read it: the day only when only the day was kept (a reporter's doing,
    core.timetrail), else the day and the clock time."""
    if value is None:
        return ""
    day = "j M Y" if with_year else "j M"
    return date_format(timezone.localtime(value), day if is_day_only(value) else f"{day} H:i")


@register.filter
def iso_datetime(value: str) -> str:
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return str(value)
    return date_format(timezone.localtime(moment), "j M Y H:i")


EVENT_LABELS = {
    "case_routed": "Routed to a queue",
    "content_viewed": "Case opened",
    "claim": "Claimed",
    "assign": "Assigned",
    "set_priority": "Priority changed",
    "set_concern_types": "Concern types changed",
    "set_authority": "Authority confirmed",
    "ask_reporter": "Message sent to the reporter",
    "add_note": "Internal note added",
    "refer": "Referred to the local authority",
    "referral_follow_up": "Follow-up needed: the helpline must make sure {who} knows",
    "escalate_national_review": "Sent for independent national review",
    "escalate_police": "Referred to the police",
    "review_referral_made": "Referral to the independent national review team",
    "referred_on": "The independent review referred the case on",
    "refer_national_body": "Referred to a national body",
    "authority_referred_on": "The review team referred the case on",
    "link_duplicate": "Linked to a duplicate",
    "close": "Closed",
    "escalated": "Deadline missed: escalated",
    # Urgent pages by SMS (triage.paging).
    "page_sent": "Paged by text message",
    "page_nobody": "Nobody on call to page",
    "acknowledge_page": "Said they are dealing with it (urgent page answered)",
    "staff_alerted": "Staff alerted by email",
    "supervisors_alerted": "Supervisors alerted by email",
    "reporter_message_received": "Message from the reporter",
    "reporter_file_added": "The reporter added a file",
    "reporter_unread_nudge": "The reporter has not read the helpline's last message in 10 working days",
    "report_taken_by_phone": "Report taken by phone",
    "retaliation_reported": "Reporter says they suffered retaliation",
    "authority_acknowledged": "{Who} acknowledged the referral",
    "authority_outcome": "{Who} recorded an outcome",
    "authority_question": "{Who} asked a question",
    "referral_withdrawn": "The referral to {who} was withdrawn",
    "reply_to_authority": "Replied to {who}",
    "relay_to_reporter": "Asked the reporter for {who}",
    "update_authority": "Update sent to {who}",
    "record_facts": "What is known recorded (for the national picture)",
    "question_overdue": "A question from {who} was not answered in 2 working days: supervisors alerted",
    "delete_attachment": "A file was deleted (the reason is an internal note)",
    "attachment_added": "A file the caller emailed in was added",
    "attachment_downloaded": "A file was downloaded",
    "evidence_exported": "Shared as evidence (approved by a second supervisor)",
    # The retention schedule (lifecycle.schedule, lifecycle.shredding).
    "content_destroyed": "Content destroyed",
    "destruction_deferred": "Due for destruction: kept until a linked report that shares its key is due",
    "legal_hold_placed": "Put on legal hold",
    "legal_hold_reviewed": "Legal hold reviewed: kept for another year",
    "legal_hold_released": "Legal hold released",
    "early_destruction_requested": "Early destruction asked for (a second supervisor must approve)",
    "early_destruction_approved": "Early destruction approved",
    "early_destruction_refused": "Early destruction refused",
    "early_destruction_withdrawn": "Early destruction request withdrawn",
    # The reporter's identity (triage.case_actions.case_reveal_contact, referrals.identity).
    "contact_revealed": "Contact details shown",
    "reporter_gave_contact": "The reporter gave the helpline their name and contact details",
    "ask_identity_consent": "Asked the reporter whether {who} may know who they are",
    "identity_consent_given": "The reporter agreed that {who} may know who they are",
    "identity_consent_refused": "The reporter said no to {who} knowing who they are",
    "identity_consent_withdrawn": "The reporter withdrew their consent for {who}",
    "propose_identity_disclosure": "Proposed sharing the reporter's identity with {who} under a legal duty",
    "decide_identity_disclosure": "Sharing the reporter's identity with {who} under a legal duty decided",
    "identity_seen": "{Who} saw the reporter's details shared with its referral",
}

# The events whose words name the independent review team already.
NAMES_THE_REVIEW = frozenset(
    {"escalate_national_review", "review_referral_made", "referred_on", "authority_referred_on"}
)

# What each email is, as the case page lists them (by template name).
EMAIL_LABELS = {
    "urgent_case": "Urgent case alert",
    "supervisor_flag": "Flagged for a supervisor",
    "triage_overdue": "Triage overdue alert",
    "authority_referral": "Referral to the authority",
    # Sent to an authority or to the review team alike: the address says which.
    "authority_reply": "Reply to a question",
    "authority_update": "Update on the referral",
    "authority_question": "A question for the helpline",
    "authority_question_overdue": "Unanswered question alert",
    "authority_outcome_recorded": "The authority's outcome",
    "authority_outcome_recorded_one": "One authority's outcome",
    "authority_ack_overdue": "Acknowledgement overdue alert",
    "authority_ack_overdue_national": "Acknowledgement overdue: national alert",
    "authority_outcome_overdue": "Outcome overdue alert",
    "authority_outcome_overdue_national": "Outcome overdue: national alert",
    "feedback_due_soon": "Feedback due soon alert",
    "feedback_overdue": "Feedback overdue alert",
    "reporter_update": "New message notice",
    "reporter_checkin": "Check-in notice",
    "reporter_unread": "Unread message reminder",
    "review_referral": "Referral to the independent review team",
    "review_findings_recorded": "The review's findings",
    "review_referred_on": "The review referred the case on",
    "report_unrouted": "Report not routed alert",
}


@register.filter
def email_label(template_name: str) -> str:
    return EMAIL_LABELS.get(template_name, template_name.replace("_", " ").capitalize())


@register.filter
def event_label(kind: str, who: str = "") -> str:
    """What an event is, naming ``who`` it is about when its words do ("Rotherham asked a question",
    "Replied to the independent review team"); else "the authority"."""
    who = who or SOME_AUTHORITY
    if kind in EVENT_LABELS:
        return EVENT_LABELS[kind].format(who=who, Who=capfirst(who))
    if kind.startswith("authority_"):
        return f"{capfirst(who)} recorded: " + kind.removeprefix("authority_").replace("_", " ")
    return kind.replace("_", " ").capitalize()


@register.filter
def event_authority(detail: object, names: dict[str, str]) -> str:
    """The recipient a timeline event is about, as a sentence names it, by its detail's referral, authority or
    GSS code ("" when it names none)."""
    if not isinstance(detail, dict) or not names:
        return ""
    for key, prefix in (("referral_id", "referral"), ("authority_id", "authority"), ("authority", "gss")):
        if key in detail and (found := names.get(f"{prefix}:{detail[key]}")):
            return found
    return ""


@register.filter
def event_words(event: Any, names: dict[str, str]) -> str:
    """An event as the timeline says it, naming the recipient it is about ("Rotherham asked a question").
    ``names``: each of the case's referrals' recipients by the keys events name it with."""
    return event_label(event.kind, event_authority(event.detail, names))


@register.filter
def event_also_about(event: Any, names: dict[str, str]) -> str:
    """The recipient an event is about, when its words do not name it and the case has several ("" else):
    the timeline says it in brackets, "Referred to the local authority (Sheffield)"."""
    label = EVENT_LABELS.get(event.kind, "")
    if (
        event.kind in NAMES_THE_REVIEW
        or "{who}" in label.lower()
        or (not label and event.kind.startswith("authority_"))
    ):
        return ""
    return event_authority(event.detail, names) if len(set(names.values())) > 1 else ""


@register.filter
def concern_labels(codes: list[str] | None) -> str:
    """Concern types in words; a national review case (no report) has none: a pattern it reviews."""
    if codes is None:
        return "National review of a pattern"
    labels = dict(ConcernType.choices)
    return "; ".join(str(labels.get(code, code)) for code in codes)
