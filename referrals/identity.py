"""Sharing a reporter's identity with a referral's recipient: per referral, by one of two routes.

- **Consent.** The helpline asks through the reporter's mailbox, naming exactly what would be shared and
  with whom; the reporter answers yes or no on /check. A yes covers that referral only, and exactly what was
  asked. Until the recipient has opened it, the reporter may withdraw it.
- **Legal duty** (a child at immediate risk of harm, a court order). One supervisor proposes it with the legal
  basis and its reference (sealed); a second, different supervisor approves or refuses it (the service and a
  database constraint refuse the proposer). The reporter is told afterwards in their mailbox.

Every step is an audit event on the case (codes and ids only); what the reporter did is kept to the day.
A recipient sees the reporter's details only through the sharing in effect for its own referral
(``sharing_in_effect``, read by services.referral_open).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from core import crypto
from core.timetrail import reporter_paced
from referrals.models import IDENTITY_ITEM_CODES, IdentitySharing, Referral, items_words
from reports import identity as reporter_identity
from reports.models import Report
from triage import workflow
from triage.case_actions import case_locked, case_move, message_to_reporter
from triage.case_content import case_data_key, contact_of
from triage.events import case_event
from triage.models import Case
from triage.workflow import ActionNotAllowed

S = IdentitySharing.Status
# What each item is called when the recipient's use of it is named ("so they can speak to you").
BASIS_WORDS = {
    IdentitySharing.Basis.IMMEDIATE_RISK: "a child was at immediate risk of harm",
    IdentitySharing.Basis.COURT_ORDER: "a court ordered it",
}


def sharing_in_effect(referral: Referral) -> IdentitySharing | None:
    """The sharing that lets ``referral``'s recipient see who the reporter is (agreed, or approved), if any."""
    return referral.identity_sharings.filter(status__in=IdentitySharing.IN_EFFECT).order_by("-id").first()


def _referral_of(case: Case, referral_id: int) -> Referral:
    referral = (
        Referral.objects.select_for_update(of=("self",))
        .select_related("authority", "body")
        .filter(case=case, pk=referral_id)
        .first()
    )
    if referral is None:
        raise ActionNotAllowed("The case has no such referral.")
    if referral.status == Referral.Status.WITHDRAWN:
        raise ActionNotAllowed(f"The referral to {referral.recipient_name} was withdrawn: nothing is shared with it.")
    active = referral.identity_sharings.filter(status__in=IdentitySharing.ACTIVE).first()
    if active is not None:
        raise ActionNotAllowed(
            f"{active.get_status_display()} already, for the referral to {referral.recipient_name}: one decision "
            "at a time for each referral."
        )
    return referral


def _covers(case: Case, covers: Sequence[str]) -> list[str]:
    """What a sharing covers, checked against what the reporter gave the helpline."""
    chosen = [code for code in IDENTITY_ITEM_CODES if code in set(covers)]
    if not chosen or len(chosen) != len(set(covers)):
        raise ActionNotAllowed("Choose what would be shared: their name, telephone number or email address.")
    given = contact_of(crypto.open_content(case_data_key(case), bytes(workflow.report_of(case).content)))
    missing = [code for code in chosen if code not in given]
    if missing:
        raise ActionNotAllowed(f"The reporter has not given the helpline their {items_words(missing)}.")
    return chosen


def _create(**fields: object) -> IdentitySharing:
    try:
        with transaction.atomic():
            return IdentitySharing.objects.create(**fields)
    except IntegrityError as refused:  # another decision for the referral, made meanwhile
        raise ActionNotAllowed("Another decision about this referral was made meanwhile: reload the page.") from refused


@transaction.atomic(durable=True)
def identity_ask_consent(*, case: Case, referral_id: int, covers: Sequence[str], acting_user: User) -> IdentitySharing:
    """Ask the reporter, in their mailbox, whether the referral's recipient may have ``covers`` of their
    details: "May we give your name and telephone number to Rotherham so they can speak to you?"."""
    case = case_locked(case)
    workflow.check_allowed(case, "ask_identity_consent")
    referral = _referral_of(case, referral_id)
    chosen = _covers(case, covers)
    sharing = _create(
        referral=referral,
        route=IdentitySharing.Route.CONSENT,
        status=S.ASKED,
        covers=chosen,
        asked_by=acting_user,
        asked_at=timezone.now(),
    )
    message = message_to_reporter(
        case=case,
        body=(
            f"May we give your {items_words(chosen)} to {referral.recipient_called} so they can speak to you? "
            'Please answer under "Who knows who you are" on this page. If you say no, nothing changes: we keep your '
            "details to ourselves. If you say yes, only they are given them, for this referral only, and you can "
            "change your mind until they have opened them."
        ),
        acting_user=acting_user,
    )
    case_move(
        case,
        "ask_identity_consent",
        acting_user,
        {"referral_id": referral.pk, "sharing_id": sharing.pk, "covers": chosen, "message_id": message.pk},
    )
    return sharing


@transaction.atomic(durable=True)
def identity_propose(
    *, case: Case, referral_id: int, covers: Sequence[str], basis: str, legal_reference: str, acting_user: User
) -> IdentitySharing:
    """A supervisor proposes sharing the reporter's identity with the referral's recipient under a legal duty,
    with its basis and reference (sealed). Nothing is shared until a second supervisor approves."""
    case = case_locked(case)
    workflow.check_allowed(case, "propose_identity_disclosure")
    workflow.check_permitted(acting_user, "propose_identity_disclosure")
    if basis not in IdentitySharing.Basis.values:
        raise ActionNotAllowed("Choose the legal duty from the list.")
    if not legal_reference.strip():
        raise ActionNotAllowed("Enter the reference of the order or the safeguarding decision.")
    referral = _referral_of(case, referral_id)
    chosen = _covers(case, covers)
    sharing = _create(
        referral=referral,
        route=IdentitySharing.Route.LEGAL_DUTY,
        status=S.PROPOSED,
        covers=chosen,
        asked_by=acting_user,
        asked_at=timezone.now(),
        basis=basis,
        legal_reference=crypto.seal_text(case_data_key(case), legal_reference.strip()),
    )
    case_move(
        case,
        "propose_identity_disclosure",
        acting_user,
        {"referral_id": referral.pk, "sharing_id": sharing.pk, "covers": chosen, "basis": basis},
    )
    return sharing


@transaction.atomic(durable=True)
def identity_decide(*, case: Case, proposal_id: int, approve: bool, acting_user: User) -> IdentitySharing:
    """A second supervisor approves (the recipient sees what it covers from now on, and the reporter is told
    in their mailbox) or refuses a proposed legal-duty sharing. Never the supervisor who proposed it."""
    case = case_locked(case)
    workflow.check_allowed(case, "decide_identity_disclosure")
    workflow.check_permitted(acting_user, "decide_identity_disclosure")
    sharing = (
        IdentitySharing.objects.select_for_update(of=("self",))
        .select_related("referral__authority", "referral__body")
        .filter(referral__case=case, pk=proposal_id, route=IdentitySharing.Route.LEGAL_DUTY)
        .first()
    )
    if sharing is None:
        raise ActionNotAllowed("The case has no such proposal.")
    if sharing.status != S.PROPOSED:
        raise ActionNotAllowed(f"This proposal was decided already: {sharing.get_status_display().lower()}.")
    if sharing.asked_by_id == acting_user.pk:
        raise ActionNotAllowed("You proposed this: a second supervisor must approve or refuse it.")
    sharing.status = S.APPROVED if approve else S.REFUSED
    sharing.decided_by = acting_user
    sharing.decided_at = timezone.now()
    sharing.save(update_fields=["status", "decided_by", "decided_at"])
    detail: dict[str, object] = {"referral_id": sharing.referral_id, "sharing_id": sharing.pk, "approved": approve}
    if approve:
        referral = sharing.referral
        message = message_to_reporter(
            case=case,
            body=(
                f"We have given your {items_words(sharing.covers)} to {referral.recipient_called} without asking "
                f"you first, because the law required it: {BASIS_WORDS[IdentitySharing.Basis(sharing.basis)]}. Two "
                "senior members of the helpline agreed to it. Nobody else has been given them. You can see who "
                f"knows who you are on this page. You can call us on {settings.HELPLINE_PHONE} to talk about it."
            ),
            acting_user=acting_user,
        )
        detail["message_id"] = message.pk
    case_move(case, "decide_identity_disclosure", acting_user, detail)
    return sharing


# --- the reporter's side (reports.identity's port) --------------------------------------------------------


def _reporters(report: Report, sharing_id: int) -> IdentitySharing:
    sharing = (
        IdentitySharing.objects.select_for_update(of=("self",))
        .select_related("referral__case")
        .filter(referral__case__report=report, pk=sharing_id, route=IdentitySharing.Route.CONSENT)
        .first()
    )
    if sharing is None:
        raise reporter_identity.IdentityRefused("There is no such question about your concern.")
    return sharing


@transaction.atomic(durable=True)
def identity_reporter_answer(report: Report, sharing_id: int, agree: bool) -> None:
    """The reporter answers a question about sharing their identity: the day only is kept."""
    sharing = _reporters(report, sharing_id)
    if sharing.status != S.ASKED:
        raise reporter_identity.IdentityRefused("You have answered this question already.")
    sharing.status = S.AGREED if agree else S.DECLINED
    sharing.answered_on = timezone.localdate()
    sharing.save(update_fields=["status", "answered_on"])
    with reporter_paced():
        case_event(
            kind="identity_consent_given" if agree else "identity_consent_refused",
            case=sharing.referral.case,
            detail={"referral_id": sharing.referral_id, "sharing_id": sharing.pk, "covers": list(sharing.covers)},
        )


@transaction.atomic(durable=True)
def identity_reporter_withdraw(report: Report, sharing_id: int) -> None:
    """The reporter withdraws a consent whose recipient has not yet opened what it covers."""
    sharing = _reporters(report, sharing_id)
    if sharing.status != S.AGREED:
        raise reporter_identity.IdentityRefused("There is no consent of yours to withdraw here.")
    if sharing.seen_on is not None:
        raise reporter_identity.IdentityRefused(
            "They have already been given your details, so this cannot be undone. Call the helpline to talk about it."
        )
    sharing.status = S.WITHDRAWN
    sharing.withdrawn_on = timezone.localdate()
    sharing.save(update_fields=["status", "withdrawn_on"])
    with reporter_paced():
        case_event(
            kind="identity_consent_withdrawn",
            case=sharing.referral.case,
            detail={"referral_id": sharing.referral_id, "sharing_id": sharing.pk},
        )


def reporter_sharings(report: Report) -> list[reporter_identity.Sharing]:
    """Every sharing of the report's identity as the reporter sees it (a proposal or a refusal under a legal
    duty is the helpline's internal decision: the reporter is told once one is approved)."""
    sharings = (
        IdentitySharing.objects.filter(referral__case__report=report)
        .exclude(status__in=[S.PROPOSED, S.REFUSED])
        .select_related("referral__authority", "referral__body")
        .order_by("id")
    )
    return [
        reporter_identity.Sharing(
            id=sharing.pk,
            recipient=sharing.referral.recipient_called,
            covers=sharing.covers_words,
            route=sharing.route,
            status=sharing.status,
            shared_on=sharing.shared_on,  # type: ignore[arg-type]
            basis=BASIS_WORDS.get(IdentitySharing.Basis(sharing.basis), "") if sharing.basis else "",
            can_withdraw=sharing.status == S.AGREED and sharing.seen_on is None,
            withdrawn_on=sharing.withdrawn_on,
        )
        for sharing in sharings
    ]


# --- the case page's choices ------------------------------------------------------------------------------


def identity_referral_choices(case: Case) -> list[tuple[str, str]]:
    """The case's referrals a sharing may be asked or proposed for: not withdrawn, none already in hand."""
    busy = IdentitySharing.objects.filter(referral__case=case, status__in=IdentitySharing.ACTIVE).values("referral_id")
    referrals = (
        case.referrals.exclude(status=Referral.Status.WITHDRAWN)
        .exclude(pk__in=busy)
        .select_related("authority", "body")
        .order_by("id")
    )
    return [
        (str(r.pk), f"{r.recipient_name}, referred {timezone.localtime(r.referred_at):%d/%m/%Y}") for r in referrals
    ]


def identity_proposal_choices(case: Case) -> list[tuple[str, str]]:
    """The case's legal-duty proposals waiting for a second supervisor."""
    proposals = (
        IdentitySharing.objects.filter(referral__case=case, status=S.PROPOSED)
        .select_related("referral__authority", "referral__body", "asked_by")
        .order_by("id")
    )
    return [
        (
            str(p.pk),
            f"{capitalised(p.covers_words)} to {p.referral.recipient_name} "
            f"({IdentitySharing.Basis(p.basis).label.lower()}), proposed by {p.asked_by.username}",
        )
        for p in proposals
    ]


def capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]
