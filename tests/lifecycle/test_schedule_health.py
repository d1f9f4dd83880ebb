"""The staff health page shows the retention schedule's last run and the reports waiting to be routed."""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import User
from lifecycle import schedule
from reports.models import Report
from tests.factories import case_closed, routed_case, signed_in_as, staff_user, submit_report

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]


@pytest.fixture(autouse=True)
def _broker(settings: Any) -> None:
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/15"


def test_before_the_first_run_the_page_says_so() -> None:
    client = signed_in_as(User.Role.SUPERVISOR)[0]
    page = client.get("/staff/health")
    assert page.status_code == 200
    assert "Retention schedule" in page.content.decode() and "It has not run yet" in page.content.decode()
    assert client.get("/staff/health", {"format": "json"}).json()["retention"]["last_run"] is None


def test_the_last_run_and_the_reports_not_routed_are_shown() -> None:
    supervisor = staff_user()
    due = case_closed(routed_case(), supervisor)
    held = case_closed(routed_case(), supervisor)
    from triage import retention

    retention.hold_place(case=held, basis="court_order", reason="Order 7", acting_user=supervisor)
    unrouted = submit_report()
    Report.objects.filter(pk=unrouted.report.pk).update(submitted_at=timezone.now() - timedelta(days=4))
    run = schedule.retention_apply(today=due.destroy_on)
    assert run is not None
    client = signed_in_as(User.Role.SUPERVISOR, username="watcher")[0]

    page = client.get("/staff/health")
    body = client.get("/staff/health", {"format": "json"}).json()["retention"]

    text = html.unescape(page.content.decode())
    day = due.destroy_on
    assert f"Last run {day.day} {day:%B %Y}" in text  # type: ignore[union-attr]
    assert "1 case destroyed" in text and "1 due case kept on legal hold" in text
    assert "1 alert about reports not routed" in text
    assert "1 report has had no case for more than 24 hours" in text and unrouted.report.reference in text
    assert body["last_run"] == {
        "day": day.isoformat(),  # type: ignore[union-attr]
        "finished": True,
        "capped": False,
        "destroyed": 1,
        "skipped_held": 1,
        "waiting": 0,
        "epochs_destroyed": 0,
        "unrouted_alerts": 1,
        "outbox_purged": 0,
        "emails_purged": 0,
    }
    assert body["unrouted"]["count"] == 1
    assert body["unrouted"]["reports"][0]["reference"] == unrouted.report.reference
    assert body["unrouted"]["reports"][0]["alerted_on"] == day.isoformat()  # type: ignore[union-attr]


def test_a_report_routed_later_leaves_the_list() -> None:
    from triage.intake import report_route

    late = submit_report()
    Report.objects.filter(pk=late.report.pk).update(submitted_at=timezone.now() - timedelta(days=4))
    schedule.retention_apply()
    assert schedule.schedule_health()["unrouted"]["count"] == 1

    report_route(report_id=late.report.pk)

    assert schedule.schedule_health()["unrouted"] == {"count": 0, "hours": 24, "reports": []}
