"""Workers killed with SIGKILL mid-batch delay work but never lose or repeat it."""

import os
import re
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from notify.models import Notification
from outbox.models import OutboxMessage
from outbox.services import outbox_publish
from tests.factories import staff_user, submit_report
from tests.live import Process, point_publisher_at, start_beat, start_worker, wait_for
from tests.triage.slow_mail import LATENCY, sending_marker
from triage.models import Case

pytestmark = [pytest.mark.worker, pytest.mark.usefixtures("fast_kdf", "authorities_committed")]

REPORTS = 24
SUPERVISORS = 2


def children_of(process: Process) -> list[int]:
    found = subprocess.run(
        ["pgrep", "-P", str(process.popen.pid)], capture_output=True, text=True, check=False
    ).stdout.split()
    return [int(pid) for pid in found]


def worker_env(mail_dir: Path) -> dict[str, str]:
    return {
        "EMAIL_BACKEND": "tests.triage.slow_mail.SlowFileBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        # Long enough that a slow moment on a loaded machine never lets a second worker take over an email
        # that is still being sent; short enough that killed work is picked up again within the test.
        "OUTBOX_LEASE_SECONDS": "10",
        "OUTBOX_SWEEP_SECONDS": "1",
    }


def wait_until_sending(mail_dir: Path, pid: int) -> None:
    """Until ``pid`` has just started waiting on the provider: killed now, it has sent nothing."""

    def just_started() -> bool:
        try:
            started = float(sending_marker(mail_dir, pid).read_text())
        except (OSError, ValueError):
            return False
        return time.time() - started < LATENCY / 3

    wait_for(just_started, timeout=60, interval=0.02, what=f"process {pid} waiting on the provider")


def sent_message_ids(mail_dir: Path) -> Counter[str]:
    ids: Counter[str] = Counter()
    for path in mail_dir.glob("*.log"):
        ids.update(re.findall(r"^Message-ID: (<email-\d+@[^>]+>)", path.read_text(), flags=re.MULTILINE))
    return ids


def test_killing_workers_mid_batch_routes_every_report_once_and_sends_every_email_once(
    tmp_path: Path, test_broker: str
) -> None:
    for number in range(SUPERVISORS):
        staff_user(f"sup-{number}", email=f"sup{number}@helpline.test")
    point_publisher_at("redis://127.0.0.1:1/0")  # queue the whole batch first, then publish it at once
    reports = [submit_report(child_at_immediate_risk=number % 2 == 0).report for number in range(REPORTS)]
    point_publisher_at(test_broker)
    for row in OutboxMessage.objects.filter(processed_at__isnull=True):
        assert outbox_publish(outbox_id=row.pk)
    mail_dir = tmp_path / "mail"
    expected_emails = (REPORTS // 2) * SUPERVISORS

    first = start_worker(tmp_path / "first.log", concurrency=1, **worker_env(mail_dir))
    try:
        wait_for(lambda: Notification.objects.filter(state="sent").count() >= 2, timeout=60, what="some emails")
        wait_for(lambda: len(children_of(first)) == 1, timeout=30, what="the pool child")
        wait_until_sending(mail_dir, children_of(first)[0])
        os.kill(first.popen.pid, signal.SIGKILL)  # the main process: its child loses its parent
    finally:
        first.stop(signal.SIGKILL)  # and the child, mid-send
    assert Notification.objects.filter(state="sent").count() < expected_emails, "the kill came too late to test"

    second = start_worker(tmp_path / "second.log", concurrency=2, **worker_env(mail_dir))
    beat = start_beat(tmp_path / "beat.log", **worker_env(mail_dir))
    try:
        wait_for(lambda: len(children_of(second)) >= 1, timeout=30, what="pool children")
        wait_for(lambda: Notification.objects.filter(state="sent").count() >= 4, timeout=60, what="more emails")
        victim = children_of(second)[0]
        wait_until_sending(mail_dir, victim)
        os.kill(victim, signal.SIGKILL)  # a pool child, mid-batch
        try:
            wait_for(
                lambda: (
                    Notification.objects.filter(state="sent").count() == expected_emails
                    and Case.objects.count() == REPORTS
                ),
                timeout=120,
                what="every case and every email",
            )
        except AssertionError as error:
            pending = list(OutboxMessage.objects.filter(processed_at__isnull=True).values())
            states = list(Notification.objects.values_list("state", flat=True))
            raise AssertionError(
                f"{error}\ncases {Case.objects.count()}, emails {states}\npending: {pending}\n"
                f"worker log:\n{second.log()[-3000:]}"
            ) from error
    finally:
        second.stop()
        beat.stop()

    assert sorted(Case.objects.values_list("report_id", flat=True)) == sorted(r.pk for r in reports)
    assert not OutboxMessage.objects.filter(processed_at__isnull=True).exists()
    sent = sent_message_ids(mail_dir)
    assert len(sent) == expected_emails
    assert max(sent.values()) == 1, f"duplicate emails: {[k for k, v in sent.items() if v > 1]}"
