"""Every write to a referral. The helpline refers a case (to one authority or several, and again after a
reopen), replies to and updates each authority, and passes an authority's question on to the reporter; an
authority officer acknowledges, records actions and the outcome, and asks the helpline a question. Each
acts on one referral and its own state and thread; each is one transaction and one audit event on the
case (codes and ids only); notes are sealed. Callers find the case or referral through the selectors."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts import policy
from accounts.models import User
from accounts.policy import Permission
from core import crypto
from directory.models import LocalAuthority, NationalBody
from referrals.deadlines import clocks_start
from referrals.identity import sharing_in_effect
from referrals.models import AuthorityAction, AuthorityOutcome, HowSent, IdentitySharing, Referral, ReviewOutcome
from referrals.notifications import recipient_tell, thread_occasion
from reports.models import Attachment, Message
from triage import workflow
from triage.case_actions import (
    HOW_TOLD,
    case_locked,
    case_move,
    district_outside,
    message_to_reporter,
    postcode_district_clean,
)
from triage.case_content import (
    CaseFile,
    FileUnavailable,
    case_data_key,
    contact_of,
    content_viewed,
    file_download,
    file_for_preview,
    files_of,
)
from triage.deadlines import question_answer_due
from triage.events import case_event
from triage.models import Case, CaseNote
from triage.notifications import helpline_tell
from triage.retention import content_destroyed_on
from triage.workflow import ActionNotAllowed

RECORDABLE = [
    AuthorityAction.Kind.STRATEGY_DISCUSSION,
    AuthorityAction.Kind.SECTION_47,
    AuthorityAction.Kind.POLICE_REFERRAL,
    AuthorityAction.Kind.LADO,
    AuthorityAction.Kind.PRACTICE_REVIEW,
    AuthorityAction.Kind.OTHER,
]


def referral_particulars(referral: Referral, key: bytes) -> dict[str, object]:
    """What else the helpline passed on with a referral (empty for referrals made before it was kept)."""
    if not referral.particulars:
        return {}
    opened = json.loads(crypto.open_text(key, bytes(referral.particulars)))
    return opened if isinstance(opened, dict) else {}


# --- the helpline's side ----------------------------------------------------------------------------


def _check_recipient(case: Case, authority: LocalAuthority | None) -> LocalAuthority:
    if authority is None:
        raise ActionNotAllowed("Confirm the local authority before referring the case.")
    if case.conflict_authority_id == authority.pk:
        raise ActionNotAllowed(
            f"The concern is about {authority.name}: it is never referred to that council; send it to "
            "independent national review."
        )
    if case.independent_review:
        raise ActionNotAllowed(
            "This concern is about a council: send it to independent national review, not to an authority."
        )
    if case.referrals.filter(authority=authority, status__in=Referral.OPEN).exists():
        raise ActionNotAllowed(
            f"The case already has an open referral to {authority.name}: send an update on that referral instead."
        )
    return authority


@transaction.atomic(durable=True)
def case_refer(
    *,
    case: Case,
    summary: str,
    acting_user: User,
    recipient: LocalAuthority | None = None,
    postcode_district: str = "",
    share_organisation: bool = False,
    how_told: str = "",
    how_told_note: str = "",
    attachments: Sequence[str] = (),
) -> Referral:
    """Refer the case to ``recipient`` (by default its own authority) with a summary written for it. A case
    may be referred to several authorities (a child placed out of area: the placing and the host authority),
    each with its own summary, clocks and thread, and referred again after a reopen; never to the council
    the concern is about. The reporter's identity never goes with it: it is shared afterwards, for one
    referral at a time, with the reporter's consent or under a legal duty two supervisors approve
    (referrals.identity).

    The authority is told by email only when it has a referral inbox or an active officer with an
    address. When nothing reaches it, no email is claimed: the referral stands (its acknowledgement clock
    starts now) and a follow-up note on the case says the helpline must confirm that the authority knows,
    and how (``how_told``; the refer form requires it)."""
    case = case_locked(case)
    workflow.check_allowed(case, "refer")
    authority = _check_recipient(case, recipient or case.authority)
    if share_organisation and (case.report is None or not case.report.organisation_hash):
        raise ActionNotAllowed("The reporter named no organisation.")
    district = postcode_district_clean(postcode_district)
    if district and district_outside(district, authority):
        raise ActionNotAllowed(f"{district} is not in {authority.name}'s area: check the postcode district.")
    if how_told and how_told not in HOW_TOLD:
        raise ActionNotAllowed("Choose how the helpline will make sure the authority knows.")
    key = case_data_key(case)
    now = timezone.now()
    particulars = {"postcode_district": district, "organisation": share_organisation}
    referral = Referral(
        case=case,
        authority=authority,
        summary=crypto.seal_text(key, summary),
        particulars=crypto.seal_text(key, json.dumps(particulars)),
        referred_by=acting_user,
        referred_at=now,
    )
    clocks_start(referral, now)
    referral.save()
    shared = referral_files_share(referral=referral, public_ids=attachments)
    emails = recipient_tell(referral=referral, template="authority_referral", occasion=f"referral-{referral.pk}")
    case_move(
        case,
        "refer",
        acting_user,
        {
            "referral_id": referral.pk,
            "authority": authority.gss_code,
            "organisation_shared": share_organisation,
            "emails": emails,
            # The case's files shared with it, when any were (their ids).
            **({"attachments_shared": shared} if shared else {}),
        },
    )
    if not emails:
        _follow_up(case, authority, how_told, how_told_note, acting_user)
    return referral


def _follow_up(
    case: Case, recipient: LocalAuthority | NationalBody, how: str, note: str, acting_user: User
) -> CaseNote:
    """The task left on the case when no email reached the recipient: a sealed internal note, and an
    audited event with its code (never the note's words)."""
    name = recipient.name
    code = recipient.gss_code if isinstance(recipient, LocalAuthority) else recipient.code
    lines = [
        f"Follow-up: no email told {name} of this referral (it has no referral inbox and no "
        f"officer with an account). The helpline must confirm that {name} knows.",
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
        detail={"authority": code, "how": how or "not_chosen", "note_id": follow_up.pk},
    )
    return follow_up


def _question(case: Case, question_id: int) -> AuthorityAction:
    question = (
        AuthorityAction.objects.select_for_update(of=("self",))
        .select_related("referral__authority", "referral__body")
        .filter(case=case, pk=question_id, kind=AuthorityAction.Kind.QUESTION)
        .first()
    )
    if question is None:
        raise ActionNotAllowed("The authority asked no such question on this case.")
    return question


def _to_authority(
    referral: Referral, kind: str, body: str, acting_user: User, reply_to: AuthorityAction | None = None
) -> AuthorityAction:
    return AuthorityAction.objects.create(
        referral=referral,
        case_id=referral.case_id,
        kind=kind,
        note=crypto.seal_text(case_data_key(referral.case), body),
        recorded_by=acting_user,
        created_at=timezone.now(),
        reply_to=reply_to,
    )


@transaction.atomic(durable=True)
def case_reply_to_authority(*, case: Case, question_id: int, body: str, acting_user: User) -> AuthorityAction:
    """Answer an authority's question on its own referral, in words the helpline chose (a reporter's answer
    is passed on only as the helpline writes it here). The question's clock stops; that authority alone is
    told by email."""
    case = case_locked(case)
    workflow.check_allowed(case, "reply_to_authority")
    question = _question(case, question_id)
    if question.answered_at is not None:
        raise ActionNotAllowed("This question has already been answered.")
    referral = question.referral
    referral.case = case
    reply = _to_authority(referral, AuthorityAction.Kind.HELPLINE_REPLY, body, acting_user, reply_to=question)
    question.answered_at = reply.created_at
    question.save(update_fields=["answered_at"])
    case_move(
        case,
        "reply_to_authority",
        acting_user,
        {"question_id": question.pk, "reply_id": reply.pk, "referral_id": referral.pk},
    )
    recipient_tell(referral=referral, template="authority_reply", occasion=thread_occasion("reply", reply.pk, referral))
    return reply


@transaction.atomic(durable=True)
def case_relay_to_reporter(*, case: Case, question_id: int, body: str, acting_user: User) -> Message:
    """Ask the reporter what an authority wants to know, in the helpline's words. The question's clock
    keeps running: it stops when the helpline replies to the authority."""
    case = case_locked(case)
    workflow.check_allowed(case, "relay_to_reporter")
    question = _question(case, question_id)
    if question.answered_at is not None:
        raise ActionNotAllowed("This question has already been answered.")
    message = message_to_reporter(case=case, body=body, acting_user=acting_user)
    question.relayed_to_reporter = True
    question.save(update_fields=["relayed_to_reporter"])
    case_move(
        case,
        "relay_to_reporter",
        acting_user,
        {"question_id": question.pk, "message_id": message.pk, "referral_id": question.referral_id},
    )
    return message


def _open_referral_to(case: Case, recipient: str) -> Referral:
    """The open referral an update goes to: to the authority named by GSS code, or the only open one."""
    open_referrals = list(case.referrals.filter(status__in=Referral.OPEN).select_related("authority", "body", "case"))
    if recipient:
        chosen = [r for r in open_referrals if r.recipient_code == recipient]
        if not chosen:
            raise ActionNotAllowed("The case has no open referral to that authority.")
        return chosen[0]
    if not open_referrals:
        raise ActionNotAllowed("This case has no open referral to an authority.")
    if len(open_referrals) > 1:
        raise ActionNotAllowed("The case is referred to more than one authority: choose which to update.")
    return open_referrals[0]


@transaction.atomic(durable=True)
def case_update_authority(*, case: Case, summary: str, acting_user: User, recipient: str = "") -> AuthorityAction:
    """Pass later information to one authority the case is referred to (``recipient``, its GSS code; may be
    left out when there is one), as a summary the helpline wrote for it. Audited, and that authority alone
    is told by email, as for the referral."""
    case = case_locked(case)
    workflow.check_allowed(case, "update_authority")
    referral = _open_referral_to(case, recipient)
    update = _to_authority(referral, AuthorityAction.Kind.HELPLINE_UPDATE, summary, acting_user)
    case_move(case, "update_authority", acting_user, {"update_id": update.pk, "referral_id": referral.pk})
    recipient_tell(
        referral=referral, template="authority_update", occasion=thread_occasion("update", update.pk, referral)
    )
    return update


def referrals_withdraw_open(case: Case, acting_user: User | None) -> int:
    """The case left its authorities (closed, or sent to independent national review): each open referral
    is withdrawn, so its clocks stop. Inside the caller's transaction; one event per referral."""
    withdrawn = 0
    now = timezone.now()
    for referral in Referral.objects.select_for_update().filter(case=case, status__in=Referral.OPEN):
        referral.status = Referral.Status.WITHDRAWN
        referral.withdrawn_at = now
        referral.save(update_fields=["status", "withdrawn_at"])
        case_event(
            kind="referral_withdrawn",
            case=case,
            actor=acting_user,
            detail={"referral_id": referral.pk, "authority_id": referral.authority_id, "body_id": referral.body_id},
        )
        withdrawn += 1
    return withdrawn


# --- independent national review and the national bodies ------------------------------------------------

# What a referral to the review team passes on besides the reason: nothing of the reporter's identity (a
# named reporter's consent is given per referral, to an authority).
REVIEW_PARTICULARS: dict[str, object] = {"postcode_district": "", "organisation": False, "contact": []}
# Where the review team may refer a case on to.
REFER_ON_KINDS = (NationalBody.Kind.OFSTED, NationalBody.Kind.POLICE_FORCE, NationalBody.Kind.CSPR_PANEL)
REFERENCE_MAX = 64


def review_team() -> NationalBody | None:
    """The independent national review team of the bodies directory (loaded by its migration)."""
    return NationalBody.objects.filter(kind=NationalBody.Kind.REVIEW_TEAM).order_by("pk").first()


@transaction.atomic(durable=True)
def case_send_for_review(*, case: Case, reason: str, acting_user: User) -> Referral:
    """Send the case to independent national review: a referral like any other, to the review team, with the
    helpline's reason as what it reads (sealed), its clocks (acknowledgement in 1 working day, findings in
    45) and its thread. The case's open referrals to authorities are withdrawn first (case_move). The team's
    address and its reviewers are emailed that a case waits, with no content; when nobody there has an
    address, a follow-up note says the helpline must tell it."""
    return review_referral(case=case_locked(case), reason=reason, acting_user=acting_user)


def review_referral(*, case: Case, reason: str, acting_user: User) -> Referral:
    """case_send_for_review's work, in the caller's transaction with ``case`` locked: also how a national
    review case opened from a pattern alert reaches the review team (referrals.review_cases)."""
    workflow.check_allowed(case, "escalate_national_review")
    reason = reason.strip()
    if not reason:
        raise ActionNotAllowed("Give the reason for sending the case for independent review.")
    team = review_team()
    if team is None:
        raise ActionNotAllowed("There is no independent national review team in the directory: ask an administrator.")
    case.independent_review = True
    case.save(update_fields=["independent_review"])
    case_move(case, "escalate_national_review", acting_user, {"body": team.code})
    key = case_data_key(case)
    now = timezone.now()
    referral = Referral(
        case=case,
        body=team,
        summary=crypto.seal_text(key, reason),
        particulars=crypto.seal_text(key, json.dumps(REVIEW_PARTICULARS)),
        referred_by=acting_user,
        referred_at=now,
    )
    clocks_start(referral, now)
    referral.save()
    emails = recipient_tell(referral=referral, template="review_referral", occasion=f"referral-{referral.pk}")
    case_event(
        kind="review_referral_made",
        case=case,
        actor=acting_user,
        detail={"referral_id": referral.pk, "body": team.code, "emails": emails},
    )
    if not emails:
        _follow_up(case, team, "phone", "", acting_user)
    return referral


def _passed_on(
    *,
    case: Case,
    body: NationalBody,
    how_sent: str,
    reference: str,
    summary: str,
    acting_user: User,
    referred_from: Referral | None = None,
) -> Referral:
    """A referral recorded as passed to a body with no accounts here: the service sends it nothing, so it
    keeps how it was sent and the reference the body gave (sealed). No clocks run (SENT)."""
    if how_sent not in HowSent.values:
        raise ActionNotAllowed("Choose how the case was passed on.")
    reference = reference.strip()
    if len(reference) > REFERENCE_MAX:
        raise ActionNotAllowed(f"The reference must be {REFERENCE_MAX} characters or fewer.")
    key = case_data_key(case)
    now = timezone.now()
    referral = Referral(
        case=case,
        body=body,
        referred_from=referred_from,
        summary=crypto.seal_text(key, summary),
        status=Referral.Status.SENT,
        how_sent=how_sent,
        sent_reference=crypto.seal_text(key, reference) if reference else b"",
        referred_by=acting_user,
        referred_at=now,
    )
    clocks_start(referral, now)
    referral.save()
    return referral


@transaction.atomic(durable=True)
def case_escalate_police(
    *, case: Case, force: NationalBody | None, how_sent: str, crime_reference: str = "", acting_user: User
) -> Referral:
    """Refer the case to a police force: recorded as a referral passed on outside the service (which force,
    how it was sent, the crime reference when the force gave one). The case's status does not change."""
    case = case_locked(case)
    workflow.check_allowed(case, "escalate_police")
    if force is None or force.kind != NationalBody.Kind.POLICE_FORCE:
        raise ActionNotAllowed("Choose the police force.")
    referral = _passed_on(
        case=case, body=force, how_sent=how_sent, reference=crime_reference, summary="", acting_user=acting_user
    )
    case.escalated_to_police = True
    case.save(update_fields=["escalated_to_police"])
    case_move(
        case,
        "escalate_police",
        acting_user,
        {
            "referral_id": referral.pk,
            "body": force.code,
            "how_sent": how_sent,
            "reference_given": bool(referral.sent_reference),
        },
    )
    return referral


@transaction.atomic(durable=True)
def case_refer_national_body(
    *,
    case: Case,
    body: NationalBody | None,
    how_sent: str,
    summary: str,
    reference: str = "",
    acting_user: User,
) -> Referral:
    """Record that the helpline referred the case to Ofsted, the Care Quality Commission or the Child
    Safeguarding Practice Review Panel, which have no accounts here: a referral passed on outside the service
    (which body, how it was sent, the reference it gave, what the helpline passed on, sealed). The service
    sends the body nothing, and the case's status does not change. Once per body and case: a second referral
    to the same body (by the helpline or the review) is refused, so a retried request records nothing twice."""
    case = case_locked(case)
    workflow.check_allowed(case, "refer_national_body")
    if body is None or body.kind not in NationalBody.REFERRED_DIRECTLY:
        raise ActionNotAllowed(
            "Choose Ofsted, the Care Quality Commission or the Child Safeguarding Practice Review Panel."
        )
    summary = summary.strip()
    if not summary:
        raise ActionNotAllowed("Write what was passed on to the national body.")
    earlier = Referral.objects.filter(case=case, body=body, status=Referral.Status.SENT).order_by("referred_at").first()
    if earlier is not None:
        who = "the independent review" if earlier.referred_from_id else "the helpline"
        raise ActionNotAllowed(
            f"The case was already referred to {body.name} by {who} on "
            f"{timezone.localtime(earlier.referred_at):%-d %B %Y}: add anything new as an internal note."
        )
    referral = _passed_on(
        case=case, body=body, how_sent=how_sent, reference=reference, summary=summary, acting_user=acting_user
    )
    case_move(
        case,
        "refer_national_body",
        acting_user,
        {
            "referral_id": referral.pk,
            "body": body.code,
            "kind": body.kind,
            "how_sent": how_sent,
            "reference_given": bool(referral.sent_reference),
        },
    )
    return referral


# --- the authority's side ---------------------------------------------------------------------------


def _locked_open(referral: Referral) -> Referral:
    referral = (
        Referral.objects.select_for_update(of=("self",))
        .select_related("case__report", "case__assignee", "authority", "body")
        .get(pk=referral.pk)
    )
    if referral.status == Referral.Status.SENT:
        raise ActionNotAllowed("This referral was passed on outside this service: nothing is recorded on it here.")
    # After its outcome, a recipient may still add to its thread while the case is with its recipients.
    if referral.status == Referral.Status.WITHDRAWN or referral.case.status not in Referral.CASE_WITH_RECIPIENTS:
        raise ActionNotAllowed("This referral is no longer open: the helpline has closed or moved it.")
    return referral


def _record(
    referral: Referral, kind: str, note: str, acting_user: User, detail: dict[str, object] | None = None
) -> AuthorityAction:
    now = timezone.now()
    case = referral.case
    action = AuthorityAction.objects.create(
        referral=referral,
        case=case,
        kind=kind,
        recorded_by=acting_user,
        created_at=now,
        note=crypto.seal_text(case_data_key(case), note) if note else b"",
        answer_due_at=question_answer_due(now) if kind == AuthorityAction.Kind.QUESTION else None,
    )
    case_event(
        kind=f"authority_{kind}",
        case=case,
        actor=acting_user,
        detail={"action_id": action.pk, "referral_id": referral.pk, **(detail or {})},
    )
    return action


def outcomes_for(referral: Referral) -> type[AuthorityOutcome] | type[ReviewOutcome]:
    """The outcomes a referral's recipient chooses from: the review's findings, or an authority's."""
    return ReviewOutcome if referral.to_review else AuthorityOutcome


def _check_outcome_open(referral: Referral) -> None:
    if referral.status == Referral.Status.OUTCOME_RECORDED:
        raise ActionNotAllowed("An outcome has already been recorded.")


@transaction.atomic(durable=True)
def referral_acknowledge(*, referral: Referral, acting_user: User) -> Referral:
    referral = _locked_open(referral)
    if referral.acknowledged_at is not None:
        raise ActionNotAllowed("This referral has already been acknowledged.")
    referral.acknowledged_at = timezone.now()
    referral.status = Referral.Status.ACKNOWLEDGED
    referral.save(update_fields=["acknowledged_at", "status"])
    _record(referral, AuthorityAction.Kind.ACKNOWLEDGED, "", acting_user)
    return referral


@transaction.atomic(durable=True)
def referral_record_action(*, referral: Referral, kind: str, note: str, acting_user: User) -> AuthorityAction:
    referral = _locked_open(referral)
    if kind not in RECORDABLE:
        raise ActionNotAllowed("Choose what was done from the list.")
    if referral.acknowledged_at is None:
        raise ActionNotAllowed("Acknowledge the referral first.")
    return _record(referral, kind, note, acting_user)


@transaction.atomic(durable=True)
def referral_record_outcome(*, referral: Referral, outcome: str, note: str, acting_user: User) -> Referral:
    referral = _locked_open(referral)
    if outcome not in outcomes_for(referral).values:
        raise ActionNotAllowed("Choose an outcome from the list.")
    if referral.acknowledged_at is None:
        raise ActionNotAllowed("Acknowledge the referral first.")
    if referral.to_review and not note.strip():
        raise ActionNotAllowed("Write the review's findings.")
    _check_outcome_open(referral)
    referral.outcome = outcome
    referral.outcome_at = timezone.now()
    referral.status = Referral.Status.OUTCOME_RECORDED
    referral.save(update_fields=["outcome", "outcome_at", "status"])
    action = _record(referral, AuthorityAction.Kind.OUTCOME, note, acting_user)
    # Feedback to the reporter waits for every authority's outcome: until then the helpline hears of one.
    waiting = referral.case.referrals.filter(status__in=Referral.OPEN).exists()
    template = "authority_outcome_recorded_one" if waiting else "authority_outcome_recorded"
    if referral.to_review:
        template = "review_findings_recorded"
    helpline_tell(case=referral.case, template=template, occasion=f"outcome-{action.pk}")
    return referral


@transaction.atomic(durable=True)
def referral_ask_helpline(*, referral: Referral, question: str, acting_user: User) -> AuthorityAction:
    referral = _locked_open(referral)
    action = _record(referral, AuthorityAction.Kind.QUESTION, question, acting_user)
    helpline_tell(case=referral.case, template="authority_question", occasion=f"question-{action.pk}")
    return action


@transaction.atomic(durable=True)
def referral_refer_on(
    *, referral: Referral, body: NationalBody | None, how_sent: str, reference: str = "", acting_user: User
) -> Referral:
    """The independent review refers the case on to Ofsted, a police force or the Child Safeguarding
    Practice Review Panel: a referral of the case passed on outside the service (how it was sent, the
    reference given), named in the review's thread. The helpline is told, without content."""
    referral = _locked_open(referral)
    if not referral.to_review:
        raise ActionNotAllowed("Only the independent national review refers a case on.")
    if referral.acknowledged_at is None:
        raise ActionNotAllowed("Acknowledge the referral first.")
    if body is None or body.kind not in REFER_ON_KINDS:
        raise ActionNotAllowed("Choose Ofsted, a police force or the Child Safeguarding Practice Review Panel.")
    if Referral.objects.filter(referred_from=referral, body=body).exists():
        raise ActionNotAllowed(f"The review has already referred the case to {body.name}.")
    onward = _passed_on(
        case=referral.case,
        body=body,
        how_sent=how_sent,
        reference=reference,
        summary="",
        acting_user=acting_user,
        referred_from=referral,
    )
    _record(
        referral,
        AuthorityAction.Kind.REFERRED_ON,
        f"Referred on to {body.name}, {onward.how_sent_label.lower()}.",
        acting_user,
        {"onward_referral_id": onward.pk, "body": body.code, "how_sent": how_sent},
    )
    helpline_tell(case=referral.case, template="review_referred_on", occasion=f"referred-on-{onward.pk}")
    return onward


@dataclass(frozen=True)
class PassedOn:
    """A referral passed on outside the service, as a page shows it."""

    referral: Referral
    reference: str


def passed_on_open(referral: Referral, key: bytes) -> PassedOn:
    reference = crypto.open_text(key, bytes(referral.sent_reference)) if referral.sent_reference else ""
    return PassedOn(referral=referral, reference=reference)


@dataclass(frozen=True)
class OpenedReferral:
    referral: Referral
    summary: str
    reporter_name: str  # only when a sharing for this referral covers it (consent, legal duty); otherwise empty
    actions: list[tuple[AuthorityAction, str]]
    # What the helpline chose to pass on with this referral, each empty when it did not.
    reporter_email: str = ""
    reporter_phone: str = ""
    organisation: str = ""
    postcode_district: str = ""
    area: str = ""
    child_at_immediate_risk: bool = False
    helpline_phone: str = ""
    # Under independent review: the council the concern is about, and where the review referred it on.
    about_council: str = ""
    referred_on: tuple[PassedOn, ...] = ()
    # The day the case's content was destroyed: nothing above was opened.
    destroyed_on: date | None = None
    # How the reporter's details above came to be shared with this referral: "consent" or "legal_duty" ("": not).
    identity_route: str = ""


def referral_area(referral: Referral) -> str:
    """The authority's area the referral is about, in words ("Rotherham, Yorkshire and The Humber")."""
    case = referral.case
    authority = referral.authority or case.conflict_authority or case.authority
    if authority is None:
        return ""
    return f"{authority.name}, {authority.region}" if authority.region else authority.name


def referral_stub(referral: Referral, destroyed_on: date) -> OpenedReferral:
    """A referral of a case whose content was destroyed, as its recipient's page shows it: its record, its
    thread's rows with nothing opened, since nothing is left to open. Not an audit event."""
    case = referral.case
    about = case.conflict_authority
    onward = referral.referred_on.select_related("body").order_by("id") if referral.to_review else []
    return OpenedReferral(
        referral=referral,
        summary="",
        reporter_name="",
        area=referral_area(referral),
        about_council=about.name if referral.to_review and about is not None else "",
        referred_on=tuple(PassedOn(referral=r, reference="") for r in onward),
        child_at_immediate_risk=bool(case.report and case.report.child_at_immediate_risk),
        helpline_phone=settings.HELPLINE_PHONE,
        actions=[(a, "") for a in referral.actions.select_related("recorded_by")],
        destroyed_on=destroyed_on,
    )


def referral_open(*, referral: Referral, acting_user: User) -> OpenedReferral:
    """What an authority may read of its referral: the summary written for it, its own thread (never
    another authority's on the same case), where (the postcode district the helpline gave, and the
    authority's area), whether a child is at immediate risk, the organisation when the helpline chose to
    name it, and exactly the reporter's details that the sharing in effect for THIS referral covers (their
    consent, or a legal duty two supervisors approved; referrals.identity), nothing without one. The
    recipient's first sight of them is an audit event, after which the reporter can no longer withdraw it.
    Never the reporter's own words or reference. A case whose content was destroyed: the referral's stub."""
    case = referral.case
    destroyed_on = content_destroyed_on(case)
    if destroyed_on is not None:
        return referral_stub(referral, destroyed_on)
    key = case_data_key(case)
    particulars = referral_particulars(referral, key)
    sharing = sharing_in_effect(referral)
    content: dict[str, object] = {}
    if case.report is not None and (sharing is not None or particulars.get("organisation")):
        content = crypto.open_content(key, bytes(case.report.content))
    contact = contact_of(content) if sharing is not None else {}
    covers = set(sharing.covers) if sharing is not None else set()
    if sharing is not None and sharing.carried_over:
        # Shared under the old rule: the name, and the contact details its particulars named.
        legacy = particulars.get("contact") or []
        covers |= {str(item) for item in legacy} if isinstance(legacy, list) else set()
    shown = {item: value for item, value in contact.items() if item in covers}
    if sharing is not None and shown and sharing.seen_on is None and policy.may(acting_user, Permission.REFERRAL_WORK):
        # The recipient has it: from now on the sharing is made, and the reporter can no longer withdraw it.
        IdentitySharing.objects.filter(pk=sharing.pk, seen_on__isnull=True).update(seen_on=timezone.localdate())
        case_event(
            kind="identity_seen",
            case=case,
            actor=acting_user,
            detail={"referral_id": referral.pk, "sharing_id": sharing.pk, "shown": sorted(shown)},
        )
    actions = [
        (a, crypto.open_text(key, bytes(a.note)) if a.note else "")
        for a in referral.actions.select_related("recorded_by")
    ]
    content_viewed(case=case, acting_user=acting_user, what="referral")
    about = case.conflict_authority  # a case sent for review for another reason is about no council
    onward = referral.referred_on.select_related("body").order_by("id") if referral.to_review else []
    return OpenedReferral(
        referral=referral,
        summary=crypto.open_text(key, bytes(referral.summary)) if referral.summary else "",
        reporter_name=shown.get("name", ""),
        reporter_email=shown.get("email", ""),
        reporter_phone=shown.get("phone", ""),
        identity_route=sharing.route if sharing is not None and shown else "",
        organisation=str(content.get("organisation_name", "")) if particulars.get("organisation") else "",
        postcode_district=str(particulars.get("postcode_district") or ""),
        area=referral_area(referral),
        about_council=about.name if referral.to_review and about is not None else "",
        referred_on=tuple(passed_on_open(r, key) for r in onward),
        child_at_immediate_risk=bool(case.report and case.report.child_at_immediate_risk),
        helpline_phone=settings.HELPLINE_PHONE,
        actions=actions,
    )


# --- the case's files shared with a referral ---------------------------------------------------------


def referral_files_share(*, referral: Referral, public_ids: Sequence[str]) -> list[int]:
    """Share the case's files named by ``public_ids`` with the referral's recipient, in the caller's
    transaction: cleaned files only (one still being checked, blocked, not cleaned or removed never leaves
    the helpline). Returns their ids, for the referral's event."""
    try:
        wanted = {uuid.UUID(str(public_id)) for public_id in public_ids}
    except ValueError as refused:
        raise ActionNotAllowed("Choose files of this case.") from refused
    if not wanted:
        return []
    report = workflow.report_of(referral.case)  # a national review case has no files to share
    files = list(Attachment.objects.select_for_update().filter(report_id=report.pk, public_id__in=wanted))
    if len(files) != len(wanted):
        raise ActionNotAllowed("Choose files of this case.")
    if any(file.status != Attachment.Status.CLEAN for file in files):
        raise ActionNotAllowed("Only files that were checked and cleaned can be shared with an authority.")
    referral.attachments.add(*files)
    return sorted(file.pk for file in files)


def referral_files_open(*, referral: Referral, acting_user: User) -> list[CaseFile]:
    """The files the helpline shared with the referral that its recipient may open (cleaned ones, in
    ``acting_user``'s scope: accounts.policy.attachment_scope), with their names."""
    if content_destroyed_on(referral.case) is not None:
        return []  # destroyed with the case's content
    files = referral_files(referral=referral, acting_user=acting_user)
    return files_of(files, case_data_key(referral.case)) if files else []


def _shared(referral: Referral, acting_user: User) -> QuerySet[Attachment]:
    """The files shared with the referral, as far as ``acting_user`` may open them (whatever their status)."""
    shared = Attachment.objects.filter(referrals=referral)
    scope = policy.attachment_scope(acting_user)
    if scope is not None:
        shared = shared.filter(pk__in=Attachment.objects.filter(scope).values("pk"))
    return shared


def referral_files(*, referral: Referral, acting_user: User) -> list[Attachment]:
    return list(_shared(referral, acting_user).filter(status=Attachment.Status.CLEAN).order_by("id"))


def referral_files_list(*, referral: Referral, acting_user: User) -> list[CaseFile]:
    """What the authority API lists: the shared files, and an audit event that their names were opened."""
    files = referral_files_open(referral=referral, acting_user=acting_user)
    content_viewed(case=referral.case, acting_user=acting_user, what="referral_files")
    return files


def referral_file_for_preview(*, referral: Referral, public_id: uuid.UUID | str, acting_user: User) -> CaseFile:
    """A cleaned image shared with the referral, as its preview page names it (the image itself is streamed,
    and recorded, by referral_file_download). FileUnavailable as there."""
    attachment = _shared(referral, acting_user).filter(public_id=public_id).first()
    if attachment is None:
        raise FileUnavailable("There is no such file on this referral.", 404)
    return file_for_preview(case=referral.case, attachment=attachment, allowed=frozenset({Attachment.Status.CLEAN}))


def referral_file_download(
    *, referral: Referral, public_id: uuid.UUID | str, acting_user: User, inline: bool = False
) -> tuple[CaseFile, Iterator[bytes]]:
    """A file shared with the referral, for its recipient: streamed, and an audit event naming the referral.
    FileUnavailable (404) for a file not shared with it; a shared file that was removed since is gone (410)."""
    attachment = _shared(referral, acting_user).filter(public_id=public_id).first()
    if attachment is None:
        raise FileUnavailable("There is no such file on this referral.", 404)
    return file_download(
        case=referral.case,
        attachment=attachment,
        acting_user=acting_user,
        inline=inline,
        allowed=frozenset({Attachment.Status.CLEAN}),
        detail={"referral_id": referral.pk},
    )
