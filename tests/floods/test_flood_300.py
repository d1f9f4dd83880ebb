"""The flood test (issue 28): 300 reports sent as fast as the test can, through the real intake service, a
share of them urgent, routed by a real Celery worker with the real flood counter (its own Redis database).

Every report becomes a case in a queue; the supervisors get at most 5 emails in all (the urgent alerts before
the flood, the flood's one email, the urgent digest), and the digest names how many urgent concerns it holds.
A supervisor then closes 250 of the cases in one bulk request.
It prints the audit events written per second while the worker routed the flood (no timing assertion: the
figure is for the closing note; the real-time version belongs in the bench).
"""

from __future__ import annotations

import email
import time
from email import policy
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from accounts.models import User
from audit.models import AuditEvent
from audit.trail import audit_verify
from notify.models import Notification
from tests.factories import signed_in, staff_user, staff_with_mfa, submit_report
from tests.floods.conftest import FLOOD_TEST_REDIS_URL
from tests.live import start_worker, wait_for
from triage.models import Case
from triage.notifications import FLOOD_ALERT, URGENT_DIGEST_TEMPLATE

pytestmark = [
    pytest.mark.slow,
    pytest.mark.worker,
    pytest.mark.usefixtures("fast_kdf", "authorities_committed", "flood_redis"),
]

REPORTS = 300
SUPERVISORS = ("flood-sup-a@helpline.test", "flood-sup-b@helpline.test")


def urgent(index: int) -> bool:
    """One report in 20 is urgent: two before the flood (reports 11 and 31), the rest during it."""
    return index % 20 == 10


def mails_to(mail_dir: Path) -> dict[str, list[Any]]:
    """The emails the worker wrote (the file backend: one file per connection, messages separated by a line of
    dashes), by recipient."""
    found: dict[str, list[Any]] = {address: [] for address in SUPERVISORS}
    if not mail_dir.exists():
        return found
    for path in mail_dir.iterdir():
        for chunk in path.read_text().split("-" * 79):
            if not chunk.strip():
                continue
            message = email.message_from_string(chunk.strip(), policy=policy.default)
            found.setdefault(str(message["To"]), []).append(message)
    return found


def text_of(message: Any) -> str:
    part = message.get_body(preferencelist=("plain",))
    return str(part.get_content()) if part is not None else ""


def bulk_close_250_in_one_request(cases: list[Case]) -> None:
    """A supervisor closes 250 of the flood's cases with an outcome and the reporters' feedback in one request
    (triage.staff_actions.run_bulk, as the case list's bulk triage sends it): every one closed, one audit
    event each, the chain still whole; the audit events per second of that request printed."""
    closer, _ = staff_with_mfa("flood-closer", role=User.Role.SUPERVISOR)
    client = signed_in(closer)
    before = AuditEvent.objects.count()
    started = time.perf_counter()
    response = client.post(
        "/staff/cases/bulk",
        {
            "action": "close",
            "cases": [case.case_number for case in cases],
            "step": "apply",
            "close-outcome": "duplicate",
            "close-feedback": "Thank you. We had many reports about this and have acted on them together.",
            "close-confirm": "on",
        },
    )
    seconds = time.perf_counter() - started
    assert response.status_code == 200 and f"{len(cases)} cases changed" in response.content.decode()
    assert Case.objects.filter(pk__in=[case.pk for case in cases], status=Case.Status.CLOSED).count() == len(cases)
    events = AuditEvent.objects.count() - before
    assert events == len(cases)
    assert audit_verify() == []
    print(f"bulk close of {len(cases)} flood cases: {seconds:.2f} s, {events / seconds:.0f} audit events per second")


@pytest.mark.django_db(transaction=True)
def test_300_reports_as_fast_as_they_come_are_all_routed_and_supervisors_get_at_most_5_emails(
    tmp_path: Path, test_broker: str
) -> None:
    assert settings.FLOOD_THRESHOLD == 50 and REPORTS > settings.FLOOD_THRESHOLD
    for number, address in enumerate(SUPERVISORS):
        staff_user(f"flood-sup-{number}", email=address)
    mail_dir = tmp_path / "mail"
    worker = start_worker(
        tmp_path / "worker.log",
        concurrency=2,
        FLOOD_REDIS_URL=FLOOD_TEST_REDIS_URL,
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(mail_dir),
    )
    try:
        events_before = AuditEvent.objects.count()
        started = time.monotonic()
        for index in range(REPORTS):
            submit_report(child_at_immediate_risk=urgent(index))
        submitted = time.monotonic()
        wait_for(lambda: Case.objects.count() == REPORTS, timeout=900, interval=1, what=f"{REPORTS} cases")
        routed = time.monotonic()
        events = AuditEvent.objects.count() - events_before

        # The digest round the beat would run every DIGEST_MINUTES, run once now by the same worker.
        from helpline.celery import app

        app.send_task("notify.tasks.send_digests")
        wait_for(
            lambda: (
                Notification.objects.filter(template=URGENT_DIGEST_TEMPLATE, state=Notification.State.SENT).count()
                == len(SUPERVISORS)
            ),
            timeout=120,
            what="the digests sent",
        )
        wait_for(
            lambda: (
                not Notification.objects.filter(
                    state__in=[Notification.State.QUEUED, Notification.State.RETRYING]
                ).exists()
            ),
            timeout=120,
            what="every email sent",
        )
    finally:
        worker.stop()

    print(
        f"\nflood of {REPORTS}: submitted in {submitted - started:.1f}s, routed in {routed - started:.1f}s; "
        f"{events} audit events, {events / max(routed - started, 0.001):.1f} audit events per second"
    )

    # Every report is routed: a case in a queue.
    assert Case.objects.filter(queue__isnull=False).count() == REPORTS
    urgent_cases = Case.objects.filter(priority=Case.Priority.URGENT)
    assert urgent_cases.count() == sum(urgent(i) for i in range(REPORTS)) == 15
    assert set(urgent_cases.values_list("queue__slug", flat=True)) == {"urgent"}

    # At most 5 emails to each supervisor in all: alerts before the flood, the flood's email, the digest.
    mails = mails_to(mail_dir)
    for address in SUPERVISORS:
        sent = Notification.objects.filter(recipient=address, state=Notification.State.SENT)
        assert len(mails[address]) == sent.count() <= 5, (address, list(sent.values_list("template", flat=True)))
        assert sent.filter(template=FLOOD_ALERT).count() == 1
        assert sent.filter(template=URGENT_DIGEST_TEMPLATE).count() == 1
        assert sent.filter(template="urgent_case").count() == 2  # the two urgent reports before the flood

    # The digest names the count: each urgent concern of the flood, and nothing else.
    digested = Notification.objects.filter(template="urgent_case", state=Notification.State.DIGESTED)
    held_per_supervisor = digested.filter(recipient=SUPERVISORS[0]).count()
    assert held_per_supervisor == 13
    for address in SUPERVISORS:
        digest = next(m for m in mails[address] if "urgent concerns waiting" in str(m["Subject"]))
        body = text_of(digest)
        assert f"{held_per_supervisor} urgent concerns arrived" in body
        for case in urgent_cases.select_related("report"):
            assert case.case_number not in body and case.report.reference not in body

    bulk_close_250_in_one_request(list(Case.objects.order_by("pk")[:250]))
