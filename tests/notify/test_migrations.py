"""triage/migrations/0013: the emails triage recorded become notify's notifications, with the same ids (the
outbox rows waiting to send them still point at them), the case as their subject, and every field kept; new
notifications then take ids after them. Migrating back returns them."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.factories import submit_report
from triage.intake import report_route

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fast_kdf")]

BEFORE = [("triage", "0012_referral_particulars"), ("notify", "0001_initial")]
AFTER = [("triage", "0013_emailrecord_to_notify")]
AT = datetime(2026, 3, 11, 9, 0, tzinfo=ZoneInfo("Europe/London"))


def migrate(targets: list[tuple[str, str]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection)


def test_emails_become_notifications_with_their_ids_and_come_back() -> None:
    case = report_route(report_id=submit_report().report.pk)
    old = migrate(BEFORE).loader.project_state(BEFORE).apps
    EmailRecord = old.get_model("triage", "EmailRecord")
    sent = EmailRecord.objects.create(
        id=41,
        case_id=case.pk,
        recipient="sup@helpline.test",
        template="urgent_case",
        occasion="",
        state="sent",
        attempts=2,
        provider_message_id="abc",
        created_at=AT,
        sent_at=AT,
    )
    EmailRecord.objects.create(
        id=42, case_id=case.pk, recipient="reporter", template="reporter_update", occasion="message-3", created_at=AT
    )
    EmailRecord.objects.create(
        id=43, case=None, recipient="admin@helpline.test", template="admin_approval_waiting", created_at=AT
    )
    new = migrate(AFTER).loader.project_state(AFTER).apps
    Notification = new.get_model("notify", "Notification")
    rows = {
        n.pk: (n.subject_kind, n.subject_id, n.recipient, n.template, n.occasion, n.state, n.attempts)
        for n in Notification.objects.all()
    }
    assert rows == {
        41: ("case", case.pk, "sup@helpline.test", "urgent_case", "", "sent", 2),
        42: ("case", case.pk, "reporter", "reporter_update", "message-3", "queued", 0),
        43: ("", None, "admin@helpline.test", "admin_approval_waiting", "", "queued", 0),
    }
    moved = Notification.objects.get(pk=sent.pk)
    assert (moved.channel, moved.provider_message_id, moved.created_at, moved.sent_at) == ("email", "abc", AT, AT)
    fresh = Notification.objects.create(recipient="x@helpline.test", template="urgent_case", created_at=AT)
    assert fresh.pk > 43, "new notifications take ids after the moved ones"
    fresh.delete()

    back = migrate(BEFORE).loader.project_state(BEFORE).apps
    returned = back.get_model("triage", "EmailRecord").objects.order_by("pk")
    assert [(e.pk, e.case_id, e.template) for e in returned] == [
        (41, case.pk, "urgent_case"),
        (42, case.pk, "reporter_update"),
        (43, None, "admin_approval_waiting"),
    ]
    # Back to the latest schema of every app (the referrals' migrations come after notify's), so later tests
    # find the database as they expect it.
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    migrate(latest)
