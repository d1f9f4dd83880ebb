"""Who hears of a referral: the authority it was made to (its referral inbox and its active officers with
an address). The emails themselves are triage.notifications' (content-free, once per occasion)."""

from __future__ import annotations

from referrals.models import Referral
from triage.notifications import email_queue


def authority_tell(*, referral: Referral, template: str, occasion: str) -> int:
    """How many emails were queued to ``referral``'s authority: 0 when it has neither an inbox nor an
    officer with an address (nobody is told; callers must say so)."""
    authority = referral.authority
    recipients = {authority.referral_email} | set(
        authority.officers.filter(is_active=True).exclude(email="").values_list("email", flat=True)
    )
    queued = sorted(r for r in recipients if r)
    for recipient in queued:
        email_queue(case=referral.case, recipient=recipient, template=template, occasion=occasion)
    return len(queued)


def thread_occasion(prefix: str, action_id: int, referral: Referral) -> str:
    """The occasion of an email about one message in a referral's thread: it names the referral, so the
    email links to that referral's page (triage.notifications.case_email_context)."""
    return f"{prefix}-{action_id}-r{referral.pk}"
