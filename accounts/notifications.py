"""What accounts emails, through notify: an invitation link to the member of staff it is for, and the news
that a decision waits for an administrator's approval. Registered from AccountsConfig.ready.

An invitation email carries its link and nothing else of use: enrolling also takes the enrolment code the
administrator passes on by phone or in person. The approval email names no account.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import Invitation
from core import crypto
from notify.models import Notification
from notify.registry import NothingToSend, register_templates
from notify.services import notification_queue

INVITATION = "staff_invitation"
APPROVAL_WAITING = "admin_approval_waiting"
# What these emails are about, in notify's terms.
INVITATION_SUBJECT = "invitation"
APPROVAL_SUBJECT = "staff_request"


def invitation_link(secret: str) -> str:
    return f"{settings.STAFF_SITE_URL.rstrip('/')}/staff{reverse('invitation', urlconf='accounts.urls', args=[secret])}"


def invitation_email_queue(*, invitation: Invitation) -> Notification | None:
    """The link, emailed to the invitee after the caller's transaction commits (no address: not emailed)."""
    if not invitation.user.email:
        return None
    return notification_queue(
        recipient=invitation.user.email,
        template=INVITATION,
        subject_kind=INVITATION_SUBJECT,
        subject_id=invitation.pk,
    )


def invitation_context(notification: Notification) -> dict[str, object]:
    """The link, while the invitation still works; NothingToSend once it is used, revoked or expired."""
    invitation = Invitation.objects.filter(pk=notification.subject_id or 0).first()
    if invitation is None or invitation.state(timezone.now()) != "waiting" or not invitation.secret_sealed:
        raise NothingToSend
    secret = crypto.open_otp_secret(invitation.secret_sealed).decode("ascii")
    return {
        "link": invitation_link(secret),
        "expires": timezone.localtime(invitation.expires_at).strftime("%-d %B %Y at %H:%M"),
        "again": invitation.origin != Invitation.Origin.INVITE,
    }


def invitation_email_settled(notification: Notification) -> None:
    """Sent or given up: the sealed secret is not needed any more, and only the link's hash stays."""
    Invitation.objects.filter(pk=notification.subject_id or 0).update(secret_sealed="")


def approval_waiting_tell(*, request_id: int, recipients: Iterable[str]) -> None:
    """Each administrator who may decide a request gets one email about it, in the caller's transaction."""
    for recipient in recipients:
        notification_queue(
            recipient=recipient, template=APPROVAL_WAITING, subject_kind=APPROVAL_SUBJECT, subject_id=request_id
        )


def approval_waiting_context(notification: Notification) -> dict[str, object]:
    """No account, no reason: only the staff page that lists what waits. Reversed in the staff pages' own
    URLconf, as the worker that sends it serves no pages."""
    path = reverse("admin_staff", urlconf="accounts.urls")
    return {"staff_url": f"{settings.STAFF_SITE_URL.rstrip('/')}/staff{path}"}


def register_account_templates() -> None:
    register_templates([INVITATION], context=invitation_context, settled=invitation_email_settled)
    register_templates([APPROVAL_WAITING], context=approval_waiting_context)
