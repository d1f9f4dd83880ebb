"""Paging with the real pieces (issue 28): a Celery worker routes an urgent report sent outside office hours,
its minute sweep (the task beat runs) pages the primary on call, and the worker sends the text through GOV.UK
Notify's client to the fake Notify on loopback, then asks Notify how it went. The text carries nothing of the
case."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from notify.models import Notification
from rota.models import Shift
from tests.factories import staff_user, submit_report
from tests.fake_notify import API_KEY, PAGE_TEMPLATE_ID, FakeNotify
from tests.live import start_worker, wait_for
from triage.models import Case, Page

pytestmark = [pytest.mark.worker, pytest.mark.usefixtures("fast_kdf", "authorities_committed")]

PRIMARY_PHONE = "07700 900111"


@pytest.mark.django_db(transaction=True)
def test_a_worker_pages_the_primary_for_an_urgent_report_out_of_hours_through_notifys_client(
    tmp_path: Path, test_broker: str, fake_notify: FakeNotify, settings: Any
) -> None:
    on_call = staff_user("worker-on-call")
    now = timezone.now()
    Shift.objects.create(
        person=on_call,
        role=Shift.Role.PRIMARY,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=12),
        phone=PRIMARY_PHONE,
        created_by=staff_user("worker-rota-keeper"),
    )
    worker = start_worker(
        tmp_path / "worker.log",
        # The helpline is closed all week but for an hour on one day long past: now is outside office hours.
        HELPLINE_HOURS="Sunday, 6am to 7am",
        NOTIFY_API_KEY=API_KEY,
        NOTIFY_BASE_URL=settings.NOTIFY_BASE_URL,
        NOTIFY_PAGE_TEMPLATE_ID=PAGE_TEMPLATE_ID,
    )
    try:
        submitted = submit_report(child_at_immediate_risk=True, details="CANARY-paging-details")
        wait_for(lambda: Case.objects.filter(report=submitted.report).exists(), timeout=60, what="the case")
        case = Case.objects.get(report=submitted.report)
        from helpline.celery import app

        app.send_task("triage.tasks.sweep_deadlines")
        wait_for(lambda: Page.objects.filter(case=case).exists(), timeout=60, what="the page")
        wait_for(lambda: len(fake_notify.sent()) == 1, timeout=60, what="the text sent to the fake Notify")
        wait_for(
            lambda: Notification.objects.filter(channel="sms", delivery_status="delivered").exists(),
            timeout=90,
            what="the text's status asked of Notify",
        )
    finally:
        worker.stop()

    page = Page.objects.get(case=case)
    assert page.level == Page.Level.PRIMARY and page.person == on_call and page.phone == PRIMARY_PHONE
    assert [body["phone_number"] for body in fake_notify.sent()] == [PRIMARY_PHONE]
    recorded = json.dumps(fake_notify.requests())
    for content in ("CANARY", case.case_number, submitted.report.reference, "Northside"):
        assert content not in recorded
    assert all(request["authorised"] for request in fake_notify.requests())
