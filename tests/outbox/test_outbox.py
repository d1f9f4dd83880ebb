from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from audit.trail import audit_verify
from core.timetrail import day_start
from notify.models import Notification
from outbox import services as outbox
from outbox.models import OutboxMessage
from outbox.services import outbox_process
from tests.factories import staff_user, submit_report
from triage.events import case_events
from triage.intake import report_route
from triage.models import Case
from triage.notifications import case_emails

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]


def route_row(report_id: int) -> OutboxMessage:
    return OutboxMessage.objects.get(kind="route_report", target_id=report_id)


def test_processing_a_route_row_twice_creates_one_case() -> None:
    report = submit_report().report
    row = route_row(report.pk)
    outbox_process(outbox_id=row.pk)
    OutboxMessage.objects.filter(pk=row.pk).update(processed_at=None, claimed_until=None)
    outbox_process(outbox_id=row.pk)
    assert Case.objects.filter(report=report).count() == 1


def test_a_row_leased_to_another_worker_is_left_alone_until_the_lease_expires() -> None:
    report = submit_report().report
    row = route_row(report.pk)
    assert outbox.outbox_claim(outbox_id=row.pk)
    outbox_process(outbox_id=row.pk)  # a second worker: the lease holds, so it does nothing
    assert not Case.objects.filter(report=report).exists()
    with time_machine.travel(timezone.now() + timedelta(minutes=3)):
        assert outbox.outbox_due() == [row.pk]
        outbox_process(outbox_id=row.pk)
    assert Case.objects.filter(report=report).exists()


def test_the_sweeper_resends_a_row_from_the_second_sweep_that_finds_it_unclaimed(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    published: list[int] = []
    monkeypatch.setattr(outbox, "outbox_publish", lambda *, outbox_id: published.append(outbox_id) or True)
    report = submit_report().report
    row = route_row(report.pk)
    assert outbox.outbox_due() == []
    assert outbox.outbox_sweep() == 0, "the first sweep only counts it: its publish may still be on its way"
    # Routing's row and the receipt's (reports/outbox_kinds.py), both left unclaimed.
    waiting = sorted(OutboxMessage.objects.filter(processed_at__isnull=True).values_list("pk", flat=True))
    assert row.pk in waiting and len(waiting) == 2
    assert outbox.outbox_sweep() == 2 and sorted(published) == waiting
    row.refresh_from_db()
    assert row.sweeps == 2 and row.created_at == day_start(), "the row keeps the day only"


def test_a_broker_outage_is_absorbed_by_publish(settings) -> None:  # type: ignore[no-untyped-def]
    from tests.live import point_publisher_at

    point_publisher_at("redis://127.0.0.1:1/0")
    try:
        assert outbox.outbox_publish(outbox_id=12345) is False
    finally:
        point_publisher_at(settings.CELERY_BROKER_URL)


def test_routing_records_a_chained_audit_event_without_content() -> None:
    report = submit_report(details="CANARY-audit").report
    case = report_route(report_id=report.pk)
    event = case_events(case).get(kind="case_routed")
    assert "CANARY" not in str(event.detail)
    assert audit_verify() == []


def test_an_urgent_case_queues_one_alert_per_supervisor_each_sent_once(mailoutbox) -> None:  # type: ignore[no-untyped-def]
    staff_user("sup-a", email="a@helpline.test")
    staff_user("sup-b", email="b@helpline.test")
    staff_user("handler", role="call_handler", email="h@helpline.test")
    report = submit_report(child_at_immediate_risk=True).report
    case = report_route(report_id=report.pk)
    rows = OutboxMessage.objects.filter(kind="send_email")
    assert rows.count() == 2
    for row in rows:
        outbox_process(outbox_id=row.pk)
        outbox_process(outbox_id=row.pk)
    assert sorted(m.to[0] for m in mailoutbox) == ["a@helpline.test", "b@helpline.test"]
    assert all(case.case_number in m.subject and case.report.reference not in m.subject for m in mailoutbox)
    assert all(m.track_opens is False and m.track_clicks is False for m in mailoutbox)
    assert set(Notification.objects.values_list("state", flat=True)) == {"sent"}


def test_a_failing_mail_provider_is_retried_with_growing_delays_then_marked_failed(settings) -> None:  # type: ignore[no-untyped-def]
    settings.EMAIL_BACKEND = "tests.failing_mail.FailingBackend"
    staff_user("sup-a", email="a@helpline.test")
    case = report_route(report_id=submit_report(child_at_immediate_risk=True).report.pk)
    row = OutboxMessage.objects.get(kind="send_email")
    delays = []
    now = timezone.now()
    for _ in range(6):
        with time_machine.travel(now):
            outbox_process(outbox_id=row.pk)
        record = case_emails(case).get()
        if record.next_attempt_at:
            delays.append(record.next_attempt_at - now)
            now = record.next_attempt_at + timedelta(seconds=1)
    assert record.state == Notification.State.FAILED
    assert record.attempts == 6
    assert delays == sorted(delays) and len(set(delays)) == len(delays)
    assert OutboxMessage.objects.get(pk=row.pk).processed_at is not None
    assert Case.objects.get(pk=case.pk).status == Case.Status.NEW
