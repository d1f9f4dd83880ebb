"""Who hears of a referral: its recipient. An authority: its referral inbox and its active officers with an
address. The independent national review team: its contact address and the active national reviewers. A
body with no accounts here hears nothing from the service (the referral is passed on outside it). The
emails themselves are triage.notifications' (content-free, once per occasion)."""

from __future__ import annotations

from accounts import policy
from accounts.policy import Permission
from referrals.models import Referral
from triage.notifications import email_queue


def recipient_addresses(referral: Referral) -> list[str]:
    """Where an email about ``referral`` goes: [] when nobody at its recipient can be told."""
    if referral.authority is not None:
        authority = referral.authority
        recipients = {authority.referral_email} | set(
            authority.officers.filter(is_active=True).exclude(email="").values_list("email", flat=True)
        )
    elif referral.body is not None and referral.body.has_workspace:
        recipients = {referral.body.contact_email} | set(
            policy.holders(Permission.NATIONAL_REVIEW).exclude(email="").values_list("email", flat=True)
        )
    else:
        recipients = set()
    return sorted(r for r in recipients if r)


def recipient_tell(*, referral: Referral, template: str, occasion: str) -> int:
    """How many emails were queued to ``referral``'s recipient: 0 when nobody there has an address
    (nobody is told; callers must say so)."""
    queued = recipient_addresses(referral)
    for recipient in queued:
        email_queue(case=referral.case, recipient=recipient, template=template, occasion=occasion)
    return len(queued)


def thread_occasion(prefix: str, action_id: int, referral: Referral) -> str:
    """The occasion of an email about one message in a referral's thread: it names the referral, so the
    email links to that referral's page (triage.notifications.case_email_context)."""
    return f"{prefix}-{action_id}-r{referral.pk}"
