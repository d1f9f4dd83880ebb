"""Development mail never reaches the process output (issue 21, point 5).

Under the development settings a real Celery worker sends a reporter's "You have a new message" email. The
worker's whole output (what `make run` prints) must not hold the reporter's address; the message goes to a
file only the service's user can read."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction

from notify.models import Notification
from reports.models import Anonymity
from reports.services import Contact
from tests.factories import submit_report
from tests.live import start_worker, wait_for
from triage import notifications
from triage.intake import report_route

pytestmark = [pytest.mark.worker, pytest.mark.usefixtures("fast_kdf", "authorities_committed")]

ADDRESS = "canary.reporter.7f3a@private.test"


def test_the_development_backend_is_a_private_file_and_never_the_console() -> None:
    assert not settings.PRODUCTION
    assert "console" not in settings.EMAIL_BACKEND


def test_a_reporter_email_sent_by_a_worker_under_development_settings_stays_out_of_its_output(
    tmp_path: Path, test_broker: str
) -> None:
    mail_dir = tmp_path / "var" / "mail"
    # EMAIL_BACKEND empty: the worker takes the development default, as `make run` does.
    worker = start_worker(tmp_path / "worker.log", EMAIL_BACKEND="", EMAIL_FILE_PATH=str(mail_dir))
    try:
        submitted = submit_report(
            anonymity=Anonymity.CONFIDENTIAL, contact=Contact(name="Sam", email=ADDRESS, phone="")
        )
        case = report_route(report_id=submitted.report.pk)
        with transaction.atomic():
            notifications.reporter_tell(case=case, template="reporter_update", occasion="dev-mail-test")
        wait_for(
            lambda: Notification.objects.filter(
                recipient=Notification.REPORTER, state=Notification.State.SENT
            ).exists(),
            timeout=60,
            what="the reporter's email sent",
        )
    finally:
        worker.stop()

    output = worker.log()
    assert "email" in output.lower() or "succeeded" in output, "the worker ran the send task"
    assert ADDRESS not in output
    assert ADDRESS.split("@")[0] not in output
    files = list(mail_dir.iterdir())
    assert files and ADDRESS in "".join(path.read_text() for path in files)
    assert stat.S_IMODE(mail_dir.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in files)
