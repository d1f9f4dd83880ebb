"""The referral app's side of triage's port (triage/ports.py): the helpline's referral actions by name,
the questions an authority waits on, withdrawing a case's open referrals, and the referrals' sweeper."""

from __future__ import annotations

from typing import Any

from django.utils.text import capfirst

from accounts.models import User
from directory.lookup import authority_by_code, national_body_by_code
from directory.models import NationalBody
from referrals import escalations, identity, selectors, services
from referrals.models import AuthorityAction, Referral
from referrals.notifications import thread_occasion
from reports import identity as reporter_identity
from triage.models import Case
from triage.notifications import case_emails
from triage.ports import ReferralPort
from triage.ports import register as port_register
from triage.workflow import ActionNotAllowed


def _emails_for(case: Case, template: str, occasion: str) -> int:
    return case_emails(case).filter(template=template, occasion=occasion).count()


def _refer(case: Case, data: dict[str, Any], acting_user: User) -> str:
    recipient = None
    if code := str(data.get("recipient") or ""):
        recipient = authority_by_code(code)
        if recipient is None:
            raise ActionNotAllowed("Choose an English children's services authority.")
    referral = services.case_refer(
        case=case,
        summary=str(data["summary"]),
        recipient=recipient,
        postcode_district=str(data.get("postcode_district") or ""),
        share_organisation=bool(data.get("share_organisation")),
        how_told=str(data.get("how_told") or ""),
        how_told_note=str(data.get("how_told_note") or ""),
        attachments=[str(item) for item in data.get("attachments") or []],
        acting_user=acting_user,
    )
    return _referred(referral)


def _referred(referral: Referral) -> str:
    """What the referral did, and only that: how many emails were queued, or that none was and why."""
    authority = referral.recipient_name
    emails = _emails_for(referral.case, "authority_referral", f"referral-{referral.pk}")
    if emails:
        return (
            f"Case referred to {authority}. An email saying a referral is waiting (with no case details in it) "
            f"is being sent to {emails} address{'es' if emails != 1 else ''} there."
        )
    return (
        f"Case referred to {authority}. No email was sent: {authority} has no referral inbox and no officer "
        f"with an account. A follow-up is on the case: the helpline must make sure {authority} knows of the "
        "referral. Their acknowledgement deadline has started."
    )


def _escalate(case: Case, data: dict[str, Any], acting_user: User) -> str:
    """The helpline's escalate action: to independent national review (a referral to the review team, with
    the reason) or to a police force (recorded as passed on, with how and the crime reference)."""
    route = str(data.get("route") or "")
    if route == "national_review":
        referral = services.case_send_for_review(
            case=case, reason=str(data.get("reason") or ""), acting_user=acting_user
        )
        emails = _emails_for(referral.case, "review_referral", f"referral-{referral.pk}")
        told = (
            f"An email saying a case is waiting (with no case details in it) is being sent to {emails} "
            f"address{'es' if emails != 1 else ''} there."
            if emails
            else "No email was sent: the review team has no address and no reviewer with an account. A follow-up "
            "is on the case: the helpline must make sure the review team knows."
        )
        return (
            f"Case sent for independent national review. The review team must acknowledge it within 1 working "
            f"day and record its findings within 45 working days. {told}"
        )
    if route == "police":
        force = NationalBody.objects.filter(
            code=str(data.get("force") or ""), kind=NationalBody.Kind.POLICE_FORCE
        ).first()
        referral = services.case_escalate_police(
            case=case,
            force=force,
            how_sent=str(data.get("how_sent") or ""),
            crime_reference=str(data.get("crime_reference") or ""),
            acting_user=acting_user,
        )
        reference = " with its crime reference" if referral.sent_reference else ""
        return (
            f"Referral to {referral.recipient_name} recorded{reference}. No email was sent: nothing about the "
            "case leaves this service by email."
        )
    raise ActionNotAllowed("Choose independent national review or the police.")


def _refer_national_body(case: Case, data: dict[str, Any], acting_user: User) -> str:
    """The helpline's referral to Ofsted, the Care Quality Commission or the review panel: recorded as passed
    on outside the service, and nothing sent to the body."""
    referral = services.case_refer_national_body(
        case=case,
        body=national_body_by_code(str(data.get("national_body") or "")),
        how_sent=str(data.get("how_sent") or ""),
        reference=str(data.get("reference") or ""),
        summary=str(data.get("summary") or ""),
        acting_user=acting_user,
    )
    reference = " with the reference it gave" if referral.sent_reference else ""
    return (
        f"Referral to {referral.recipient_name} recorded{reference}. No email was sent: nothing about the case "
        "leaves this service by email."
    )


def _sent(action: AuthorityAction, what: str, template: str, prefix: str) -> str:
    """What the helpline's reply or update did, naming its recipient: "Reply added to Rotherham's referral
    page. Rotherham has been emailed that it is there." """
    referral = action.referral
    who = referral.recipient_called
    emails = _emails_for(action.case, template, thread_occasion(prefix, action.pk, referral))
    if emails:
        told = f"{capfirst(who)} has been emailed that it is there."
    elif referral.to_review:
        told = f"No email was sent: {who} has no address and no reviewer with an account."
    else:
        told = f"No email was sent: {who} has no referral inbox and no officer with an account."
    return f"{what} added to {who}'s referral page. {told}"


def _reply(case: Case, data: dict[str, Any], acting_user: User) -> str:
    reply = services.case_reply_to_authority(
        case=case, question_id=int(data["question"]), body=str(data["body"]), acting_user=acting_user
    )
    return _sent(reply, "Reply", "authority_reply", "reply")


def _relay(case: Case, data: dict[str, Any], acting_user: User) -> str:
    question_id = int(data["question"])
    services.case_relay_to_reporter(case=case, question_id=question_id, body=str(data["body"]), acting_user=acting_user)
    asked = AuthorityAction.objects.select_related("referral__authority", "referral__body").get(pk=question_id)
    return (
        f"Message sent to the reporter. The question from {asked.referral.recipient_called} stays open until you "
        "reply to it."
    )


def _update(case: Case, data: dict[str, Any], acting_user: User) -> str:
    update = services.case_update_authority(
        case=case, summary=str(data["summary"]), recipient=str(data.get("recipient") or ""), acting_user=acting_user
    )
    return _sent(update, "Update", "authority_update", "update")


def _ask_identity_consent(case: Case, data: dict[str, Any], acting_user: User) -> str:
    sharing = identity.identity_ask_consent(
        case=case, referral_id=int(data["referral"]), covers=list(data.get("covers") or []), acting_user=acting_user
    )
    return (
        f"The reporter has been asked, in their messages, whether {sharing.referral.recipient_called} may have their "
        f"{sharing.covers_words}. Nothing is shared unless they say yes."
    )


def _propose_identity_disclosure(case: Case, data: dict[str, Any], acting_user: User) -> str:
    sharing = identity.identity_propose(
        case=case,
        referral_id=int(data["referral"]),
        covers=list(data.get("covers") or []),
        basis=str(data.get("basis") or ""),
        legal_reference=str(data.get("legal_reference") or ""),
        acting_user=acting_user,
    )
    return (
        f"Proposed: the reporter's {sharing.covers_words} to {sharing.referral.recipient_called}. Nothing is shared "
        "until a second supervisor approves."
    )


def _decide_identity_disclosure(case: Case, data: dict[str, Any], acting_user: User) -> str:
    approve = str(data.get("decision") or "") == "approve"
    sharing = identity.identity_decide(
        case=case, proposal_id=int(data["proposal"]), approve=approve, acting_user=acting_user
    )
    if approve:
        return (
            f"Approved: {sharing.referral.recipient_called} can now see the reporter's {sharing.covers_words}. The "
            "reporter has been told in their messages."
        )
    return "Refused: nothing is shared."


def register() -> None:
    reporter_identity.register(
        reporter_identity.IdentityPort(
            sharings=identity.reporter_sharings,
            answer=identity.identity_reporter_answer,
            withdraw=identity.identity_reporter_withdraw,
        )
    )
    port_register(
        ReferralPort(
            actions={
                "refer": _refer,
                "escalate": _escalate,
                "refer_national_body": _refer_national_body,
                "reply_to_authority": _reply,
                "relay_to_reporter": _relay,
                "update_authority": _update,
                "ask_identity_consent": _ask_identity_consent,
                "propose_identity_disclosure": _propose_identity_disclosure,
                "decide_identity_disclosure": _decide_identity_disclosure,
            },
            has_unanswered_question=lambda case: selectors.unanswered_questions(case).exists(),
            question_choices=selectors.unanswered_question_choices,
            open_recipients=selectors.open_recipients,
            addressee=selectors.thread_addressee,
            withdraw_open=services.referrals_withdraw_open,
            sweep=escalations.referrals_sweep,
            identity_referrals=identity.identity_referral_choices,
            identity_proposals=identity.identity_proposal_choices,
        )
    )
