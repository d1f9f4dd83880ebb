"""Administrators are emailed when a request waits for their approval (issue 22, point 15): accounts queues the
email through notify, in the transaction that records the request, like every other staff email (a
Notification and its outbox row)."""

from __future__ import annotations

import pytest

from accounts import administration
from accounts.models import MfaResetRequest, User
from accounts.notifications import APPROVAL_WAITING
from notify import services as notify_services
from notify.models import Notification
from outbox.models import OutboxMessage
from tests.factories import staff_user, staff_with_mfa

pytestmark = pytest.mark.django_db


def test_a_waiting_request_emails_each_administrator_who_may_approve_it_once() -> None:
    first, _ = staff_with_mfa("admin-a", role=User.Role.ADMINISTRATOR, email="a@helpline.test")
    staff_with_mfa("admin-b", role=User.Role.ADMINISTRATOR, email="b@helpline.test")
    staff_with_mfa("admin-c", role=User.Role.ADMINISTRATOR, email="c@helpline.test")
    user, _ = staff_with_mfa("lost-phone", role=User.Role.SUPERVISOR)
    leaver = staff_user("leaver", role=User.Role.CALL_HANDLER, is_active=False)
    reset = administration.mfa_reset_request(user=user, reason="Lost phone", acting_user=first)
    enable = administration.user_enable_request(user=leaver, reason="Back", acting_user=first)
    records = Notification.objects.filter(template=APPROVAL_WAITING).order_by("pk")
    assert [(r.recipient, r.subject_kind, r.subject_id) for r in records] == [
        ("b@helpline.test", "staff_request", reset.pk),
        ("c@helpline.test", "staff_request", reset.pk),
        ("b@helpline.test", "staff_request", enable.pk),
        ("c@helpline.test", "staff_request", enable.pk),
    ]
    sent = OutboxMessage.objects.filter(kind=notify_services.SEND_EMAIL, target_id__in=[r.pk for r in records])
    assert sent.count() == 4
    rendered = notify_services.email_render(records[0])
    body = str(rendered.body)
    assert rendered.subject == "A request is waiting for your approval"
    assert "/staff/admin/staff" in body
    assert "lost-phone" not in body + rendered.subject and "Lost phone" not in body  # names nothing
    assert MfaResetRequest.objects.count() == 2


def test_a_request_nobody_else_can_approve_emails_nobody() -> None:
    only, _ = staff_with_mfa("admin-a", role=User.Role.ADMINISTRATOR, email="a@helpline.test")
    user, _ = staff_with_mfa("lost-phone", role=User.Role.SUPERVISOR)
    administration.mfa_reset_request(user=user, reason="Lost phone", acting_user=only)
    assert not Notification.objects.filter(template=APPROVAL_WAITING).exists()
