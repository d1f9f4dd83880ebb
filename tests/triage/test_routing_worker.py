"""Routing with a real Celery worker and a real Redis: every committed report reaches a queue."""

from pathlib import Path

import pytest

from notify.models import Notification
from outbox.models import OutboxMessage
from reports.models import Report
from reports.outbox_kinds import ROUTE_REPORT, SIGN_RECEIPT
from tests.factories import staff_user, submit_report
from tests.live import Process, point_publisher_at, start_worker, wait_for
from triage.models import Case

pytestmark = [pytest.mark.worker, pytest.mark.usefixtures("fast_kdf", "authorities_committed")]


def case_for(report: Report) -> Case | None:
    return Case.objects.filter(report=report).select_related("queue").first()


def test_a_submitted_report_becomes_a_case_in_the_triage_queue(celery_worker: Process) -> None:
    submitted = submit_report()

    wait_for(lambda: case_for(submitted.report) is not None, timeout=60, what="the case")

    case = case_for(submitted.report)
    assert case is not None
    assert case.queue.slug == "national"
    assert case.priority == Case.Priority.STANDARD
    assert case.authority is not None and case.authority.gss_code == "E08000018"
    assert case.case_number != submitted.report.reference
    assert OutboxMessage.objects.get(kind="route_report", target_id=submitted.report.pk).processed_at is not None


def test_an_urgent_report_alerts_the_supervisors_naming_only_the_reference(tmp_path: Path, test_broker: str) -> None:
    staff_user("supervisor-1", email="sup1@helpline.test")
    staff_user("supervisor-2", email="sup2@helpline.test")
    mail_dir = tmp_path / "mail"
    worker = start_worker(
        tmp_path / "worker.log",
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(mail_dir),
    )
    try:
        submitted = submit_report(child_at_immediate_risk=True, details="CANARY-urgent-details")
        wait_for(
            lambda: Notification.objects.filter(state=Notification.State.SENT).count() == 2,
            timeout=60,
            what="two alert emails",
        )
    finally:
        worker.stop()

    case = case_for(submitted.report)
    assert case is not None and case.queue.slug == "urgent" and case.priority == Case.Priority.URGENT
    sent = "".join(path.read_text() for path in mail_dir.iterdir())
    assert sent.count(submitted.report.reference) >= 2
    assert "CANARY" not in sent
    assert "Northside" not in sent
    assert {"sup1@helpline.test", "sup2@helpline.test"} == set(Notification.objects.values_list("recipient", flat=True))


def test_reports_submitted_while_redis_is_down_are_routed_once_it_is_back(tmp_path: Path, test_broker: str) -> None:
    point_publisher_at("redis://127.0.0.1:1/0")  # nothing listens there: the broker is "down"
    reports = [submit_report().report for _ in range(3)]
    waiting = OutboxMessage.objects.filter(processed_at__isnull=True).values_list("kind", flat=True)
    assert sorted(waiting) == [ROUTE_REPORT] * 3 + [SIGN_RECEIPT] * 3  # each report's routing and its receipt

    point_publisher_at(test_broker)
    worker = start_worker(tmp_path / "worker.log", with_beat=True, OUTBOX_SWEEP_SECONDS="1")
    try:
        wait_for(lambda: Case.objects.count() == 3, timeout=90, what="three routed cases")
    finally:
        worker.stop()
    assert {c.report_id for c in Case.objects.all()} == {r.pk for r in reports}
