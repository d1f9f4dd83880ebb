"""Alerts about the trail itself: a break the checkpointer found, kept in front of people until one acts.

When the trail no longer extends its last signed checkpoint (audit.checkpoints), the checkpointer signs
nothing and raises an alert: a row shown on /staff/health (``alerts_health``) and an email to every active
supervisor and administrator, repeated every AUDIT_ALERT_REPEAT_SECONDS (an hour by default) until one of
them acknowledges it (``alert_acknowledge``, manage.py audit_alert_acknowledge). Acknowledging stops the
emails, not the refusal: the checkpointer keeps signing nothing while the break is there.

The email is sent straight from the checkpointer, not through the outbox: audit sits below the apps that
own the outbox and the staff emails (docs/adr/0001-layers.md), and an alert that waits for the workers
could wait for ever if they are what was tampered with. Like every staff email it names nothing and
links to the page that says more. A failed send is logged and tried again at the next run.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from anymail.message import AnymailMessage
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.mail import get_connection
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from audit.models import AuditAlert
from audit.trail import event_record

log = logging.getLogger(__name__)

# The staff roles (accounts.User.Role values) that run the service: they are told, and may acknowledge.
ALERT_ROLES = ("supervisor", "administrator")
DEFAULT_REPEAT_SECONDS = 3600
TEMPLATE = "emails/audit_trail_broken"


def alert_raise(*, fingerprint: str, reason: str) -> AuditAlert:
    """Raise the alert for one break, or note that it is still there; email if it is due."""
    now = timezone.now()
    alert, _ = AuditAlert.objects.get_or_create(
        fingerprint=fingerprint, defaults={"reason": reason, "raised_at": now, "last_found_at": now}
    )
    alert.last_found_at = now
    if alert.acknowledged_at is None and _email_due(alert, now) and _email(alert) > 0:
        alert.emailed_at = now
    alert.save(update_fields=["last_found_at", "emailed_at"])
    return alert


def _email_due(alert: AuditAlert, now: datetime) -> bool:
    repeat = timedelta(seconds=int(getattr(settings, "AUDIT_ALERT_REPEAT_SECONDS", DEFAULT_REPEAT_SECONDS)))
    return alert.emailed_at is None or now - alert.emailed_at >= repeat


def alert_recipients() -> list[str]:
    users = get_user_model().objects.filter(role__in=ALERT_ROLES, is_active=True).exclude(email="")
    return sorted(set(users.values_list("email", flat=True)))


def _email(alert: AuditAlert) -> int:
    """One message per recipient, as every staff email; how many were sent (0 if the send failed)."""
    recipients = alert_recipients()
    if not recipients:
        log.error("Audit alert %s: no active supervisor or administrator with an email address", alert.pk)
        return 0
    context = {"health_url": f"{settings.STAFF_SITE_URL.rstrip('/')}/staff/health"}
    subject = render_to_string(f"{TEMPLATE}/subject.txt", context).strip()
    body = render_to_string(f"{TEMPLATE}/body.txt", context)
    html = render_to_string(f"{TEMPLATE}/body.html", context)
    messages = []
    for recipient in recipients:
        message = AnymailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[recipient])
        message.attach_alternative(html, "text/html")
        message.track_opens = False
        message.track_clicks = False
        messages.append(message)
    try:
        return get_connection(fail_silently=False).send_messages(messages) or 0
    except Exception as error:  # noqa: BLE001 - never let mail stop the checkpointer; the next run tries again
        log.warning("Audit alert %s: email failed: %s", alert.pk, type(error).__name__)
        return 0


@transaction.atomic
def alert_acknowledge(alert: AuditAlert, *, by: AbstractBaseUser) -> None:
    """A supervisor or administrator has taken it on: the emails stop, and the trail says who and when."""
    if getattr(by, "role", "") not in ALERT_ROLES or not by.is_active:
        raise PermissionError("only an active supervisor or administrator can acknowledge an audit alert")
    if alert.acknowledged_at is not None:
        return
    alert.acknowledged_at = timezone.now()
    alert.acknowledged_by_id = by.pk
    alert.save(update_fields=["acknowledged_at", "acknowledged_by_id"])
    event_record(kind="audit_alert_acknowledged", actor=by, detail={"alert": alert.pk})


def alerts_health() -> dict[str, Any]:
    """What /staff/health shows: not ok while any alert waits for a person; each alert still open, or still
    being found by the checkpointer (an acknowledged break it keeps refusing to sign)."""
    interval = timedelta(seconds=int(settings.AUDIT_CHECKPOINT_SECONDS))
    recent = timezone.now() - 2 * interval
    alerts = [
        {
            "id": alert.pk,
            "reason": alert.reason,
            "raised_at": alert.raised_at.isoformat(),
            "last_found_at": alert.last_found_at.isoformat(),
            "acknowledged": alert.acknowledged_at is not None,
            "still_found": alert.last_found_at >= recent,
        }
        for alert in AuditAlert.objects.filter(Q(acknowledged_at__isnull=True) | Q(last_found_at__gte=recent))
    ]
    return {"ok": not any(not alert["acknowledged"] for alert in alerts), "alerts": alerts}
