"""What a local authority officer does with a referral: acknowledge, record actions and the outcome,
ask the helpline a question; and what they may read of it. Scoped by triage.selectors (callers find the
case there first); every step audited; notes sealed."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from core import crypto
from triage.case_actions import referral_particulars
from triage.case_content import case_data_key, content_viewed
from triage.deadlines import question_answer_due
from triage.events import case_event
from triage.models import AuthorityAction, AuthorityOutcome, Case, Referral
from triage.notifications import helpline_tell
from triage.workflow import ActionNotAllowed

RECORDABLE = [
    AuthorityAction.Kind.STRATEGY_DISCUSSION,
    AuthorityAction.Kind.SECTION_47,
    AuthorityAction.Kind.POLICE_REFERRAL,
    AuthorityAction.Kind.LADO,
    AuthorityAction.Kind.PRACTICE_REVIEW,
    AuthorityAction.Kind.OTHER,
]


def _locked_referred(case: Case) -> Case:
    case = Case.objects.select_for_update(of=("self",)).select_related("report", "assignee").get(pk=case.pk)
    if case.status != Case.Status.REFERRED:
        raise ActionNotAllowed("This referral is no longer open: the helpline has closed or moved it.")
    return case


def _record(case: Case, kind: str, note: str, acting_user: User) -> AuthorityAction:
    now = timezone.now()
    action = AuthorityAction.objects.create(
        case=case,
        kind=kind,
        recorded_by=acting_user,
        created_at=now,
        note=crypto.seal_text(case_data_key(case), note) if note else b"",
        answer_due_at=question_answer_due(now) if kind == AuthorityAction.Kind.QUESTION else None,
    )
    case_event(kind=f"authority_{kind}", case=case, actor=acting_user, detail={"action_id": action.pk})
    return action


@transaction.atomic(durable=True)
def referral_acknowledge(*, case: Case, acting_user: User) -> Case:
    case = _locked_referred(case)
    if case.authority_acknowledged_at is not None:
        raise ActionNotAllowed("This referral has already been acknowledged.")
    case.authority_acknowledged_at = timezone.now()
    case.save(update_fields=["authority_acknowledged_at"])
    _record(case, AuthorityAction.Kind.ACKNOWLEDGED, "", acting_user)
    return case


@transaction.atomic(durable=True)
def referral_record_action(*, case: Case, kind: str, note: str, acting_user: User) -> AuthorityAction:
    case = _locked_referred(case)
    if kind not in RECORDABLE:
        raise ActionNotAllowed("Choose what was done from the list.")
    if case.authority_acknowledged_at is None:
        raise ActionNotAllowed("Acknowledge the referral first.")
    return _record(case, kind, note, acting_user)


@transaction.atomic(durable=True)
def referral_record_outcome(*, case: Case, outcome: str, note: str, acting_user: User) -> Case:
    case = _locked_referred(case)
    if outcome not in AuthorityOutcome.values:
        raise ActionNotAllowed("Choose an outcome from the list.")
    if case.authority_acknowledged_at is None:
        raise ActionNotAllowed("Acknowledge the referral first.")
    if case.authority_outcome_at is not None:
        raise ActionNotAllowed("An outcome has already been recorded.")
    case.authority_outcome = outcome
    case.authority_outcome_at = timezone.now()
    case.save(update_fields=["authority_outcome", "authority_outcome_at"])
    action = _record(case, AuthorityAction.Kind.OUTCOME, note, acting_user)
    helpline_tell(case=case, template="authority_outcome_recorded", occasion=f"outcome-{action.pk}")
    return case


@transaction.atomic(durable=True)
def referral_ask_helpline(*, case: Case, question: str, acting_user: User) -> AuthorityAction:
    case = _locked_referred(case)
    action = _record(case, AuthorityAction.Kind.QUESTION, question, acting_user)
    helpline_tell(case=case, template="authority_question", occasion=f"question-{action.pk}")
    return action


@dataclass(frozen=True)
class OpenedReferral:
    referral: Referral
    summary: str
    reporter_name: str  # only when a named reporter consented; otherwise empty
    actions: list[tuple[AuthorityAction, str]]
    # What the helpline chose to pass on with this referral, each empty when it did not.
    reporter_email: str = ""
    reporter_phone: str = ""
    organisation: str = ""
    postcode_district: str = ""
    area: str = ""
    child_at_immediate_risk: bool = False
    helpline_phone: str = ""


def referral_open(*, case: Case, acting_user: User) -> OpenedReferral:
    """What an authority may read: the summary written for it, its own records, where (the postcode
    district the helpline gave, and the authority's area), whether a child is at immediate risk, the
    organisation when the helpline chose to name it, and a named reporter's name and the contact details
    their consent for this referral covers. Never the reporter's own words or reference."""
    key = case_data_key(case)
    referral = case.referrals.select_related("authority").order_by("-id").first()
    if referral is None:
        raise ActionNotAllowed("This case has not been referred.")
    particulars = referral_particulars(referral, key)
    content: dict[str, object] = {}
    if referral.identity_shared or particulars.get("organisation"):
        content = crypto.open_content(key, bytes(case.report.content))
    contact = content.get("contact") if referral.identity_shared else None
    contact = contact if isinstance(contact, dict) else {}
    shared = particulars.get("contact") or []
    shared = shared if isinstance(shared, list) else []
    actions = [
        (a, crypto.open_text(key, bytes(a.note)) if a.note else "")
        for a in case.authority_actions.select_related("recorded_by")
    ]
    content_viewed(case=case, acting_user=acting_user, what="referral")
    authority = referral.authority
    return OpenedReferral(
        referral=referral,
        summary=crypto.open_text(key, bytes(referral.summary)),
        reporter_name=str(contact.get("name", "")),
        reporter_email=str(contact.get("email", "")) if "email" in shared else "",
        reporter_phone=str(contact.get("phone", "")) if "phone" in shared else "",
        organisation=str(content.get("organisation_name", "")) if particulars.get("organisation") else "",
        postcode_district=str(particulars.get("postcode_district") or ""),
        area=f"{authority.name}, {authority.region}" if authority.region else authority.name,
        child_at_immediate_risk=bool(case.report.child_at_immediate_risk),
        helpline_phone=settings.HELPLINE_PHONE,
        actions=actions,
    )
