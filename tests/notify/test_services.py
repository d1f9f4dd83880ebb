"""notify: a notification is recorded once per occasion with one outbox row, sent by the outbox handler with
growing retries and then given up, addressed to a placeholder through the resolver an upper app registered
(the reporter's address is never stored), cancelled when what it pointed to is gone, and never carries
content."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import IntegrityError, transaction

from notify import registry, services
from notify.models import Notification
from outbox.models import OutboxMessage
from outbox.registry import Retry, registration_for
from reports.models import Anonymity
from reports.notifications import CHECKIN_NUDGE, REPORT
from reports.services import Contact
from tests.factories import submit_report

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf")]

NOW = datetime(2026, 3, 11, 9, 0, tzinfo=ZoneInfo("Europe/London"))
# A template some app registered (reports' check-in nudge): its context needs no subject.
TEMPLATE = CHECKIN_NUDGE
THING = "test-thing"
ADDRESS = "resolved@private.example"
FAILING = "tests.failing_mail.FailingBackend"


def queue(**overrides: Any) -> Notification:
    values: dict[str, Any] = {"recipient": "a@helpline.test", "template": TEMPLATE, "subject_kind": THING}
    values |= {"subject_id": 1, "occasion": "x"} | overrides
    return services.notification_queue(**values)


def send_rows(notification: Notification) -> int:
    return OutboxMessage.objects.filter(kind=services.SEND_EMAIL, target_id=notification.pk).count()


@pytest.fixture
def resolver() -> Iterator[list[int]]:
    """A placeholder audience for a test subject kind; records which subject ids it was asked about."""
    asked: list[int] = []

    def resolve(subject_id: int) -> str:
        asked.append(subject_id)
        return ADDRESS if subject_id == 1 else ""

    registry.register_resolver(audience=Notification.REPORTER, subject_kind=THING, resolver=resolve)
    yield asked
    registry._resolvers.pop((Notification.REPORTER, THING))


# --- exactly once per occasion ---------------------------------------------------------------------------


def test_a_notification_is_recorded_once_per_occasion_with_one_outbox_row() -> None:
    first = queue()
    again = queue()
    assert again.pk == first.pk
    assert (first.state, first.attempts, first.channel) == (Notification.State.QUEUED, 0, "email")
    assert send_rows(first) == 1
    assert OutboxMessage.objects.filter(kind=services.SEND_EMAIL).count() == 1


@pytest.mark.parametrize(
    "change",
    [{"occasion": "y"}, {"recipient": "b@helpline.test"}, {"subject_id": 2}, {"subject_kind": "other-thing"}],
)
def test_another_occasion_recipient_or_subject_is_another_notification(change: dict[str, Any]) -> None:
    first = queue()
    second = queue(**change)
    assert second.pk != first.pk
    assert send_rows(first) == send_rows(second) == 1


def test_a_notification_about_no_subject_is_also_once_per_occasion() -> None:
    first = queue(subject_kind="", subject_id=None)
    assert queue(subject_kind="", subject_id=None).pk == first.pk
    assert Notification.objects.count() == 1


def test_the_database_refuses_a_second_row_for_one_occasion_even_without_a_subject() -> None:
    """The constraint, not only get_or_create: two workers racing cannot both record it (NULLs count as equal)."""
    first = queue(subject_kind="", subject_id=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(
            recipient=first.recipient, template=first.template, occasion=first.occasion, created_at=NOW
        )


def test_a_template_no_app_registered_is_refused() -> None:
    with pytest.raises(services.UnknownTemplate):
        queue(template="no_such_template")
    assert not Notification.objects.exists()


def test_sending_email_is_notifys_outbox_kind() -> None:
    registration = registration_for(services.SEND_EMAIL)
    assert registration is not None
    assert (registration.handler, registration.atomic) == (services.notification_deliver, False)


# --- delivery and retries --------------------------------------------------------------------------------


def test_a_delivered_email_returns_none_and_is_sent_once(mailoutbox: list[Any]) -> None:
    notification = queue()
    with time_machine.travel(NOW, tick=False):
        assert services.notification_deliver(notification.pk) is None
    notification.refresh_from_db()
    assert (notification.state, notification.attempts, notification.sent_at) == (Notification.State.SENT, 1, NOW)
    assert [message.to for message in mailoutbox] == [["a@helpline.test"]]
    assert services.notification_deliver(notification.pk) is None  # already sent: nothing more
    assert len(mailoutbox) == 1


def test_a_provider_failure_returns_a_retry_after_the_first_delay(settings: Any, mailoutbox: list[Any]) -> None:
    settings.EMAIL_BACKEND = FAILING
    notification = queue()
    with time_machine.travel(NOW, tick=False):
        retry = services.notification_deliver(notification.pk)
    assert retry == Retry(at=NOW + timedelta(minutes=1), error="ConnectionError")
    notification.refresh_from_db()
    assert (notification.state, notification.attempts) == (Notification.State.RETRYING, 1)
    assert notification.next_attempt_at == retry.at
    assert mailoutbox == []


def test_a_failed_email_to_a_reporter_retries_at_a_bucket_boundary_never_at_its_exact_time(
    settings: Any, resolver: list[int]
) -> None:
    """Mail to a reporter keeps no time of day (docs/privacy.md): nor does its retry, which would otherwise say
    to the second when the first try failed, just after what the reporter did."""
    settings.EMAIL_BACKEND = FAILING
    settings.TIME_TRAIL_BUCKET_SECONDS = 900
    notification = queue(recipient=Notification.REPORTER, subject_id=1)
    moment = NOW + timedelta(minutes=3, seconds=17)
    with time_machine.travel(moment, tick=False):
        retry = services.notification_deliver(notification.pk)
    assert retry is not None
    # At least the first delay (1 minute) on, rounded up to the next quarter of an hour.
    assert retry.at == NOW + timedelta(minutes=15)
    notification.refresh_from_db()
    assert notification.next_attempt_at == retry.at


def test_after_max_attempts_the_email_is_failed_and_no_longer_retried(settings: Any) -> None:
    settings.EMAIL_BACKEND = FAILING
    notification = queue()
    results = []
    delays = []
    for attempt in range(services.MAX_ATTEMPTS):
        moment = NOW + timedelta(hours=attempt)
        with time_machine.travel(moment, tick=False):
            results.append(result := services.notification_deliver(notification.pk))
        if isinstance(result, Retry):
            delays.append(result.at - moment)
    assert delays == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16)]
    assert results[-1] is None
    notification.refresh_from_db()
    assert (notification.state, notification.attempts, notification.next_attempt_at) == (
        Notification.State.FAILED,
        6,
        None,
    )
    assert services.notification_deliver(notification.pk) is None
    notification.refresh_from_db()
    assert notification.attempts == 6, "a failed email is not tried again"


def test_a_retried_email_that_then_goes_through_is_sent(settings: Any, mailoutbox: list[Any]) -> None:
    settings.EMAIL_BACKEND = FAILING
    notification = queue()
    assert isinstance(services.notification_deliver(notification.pk), Retry)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert services.notification_deliver(notification.pk) is None
    notification.refresh_from_db()
    assert (notification.state, notification.attempts) == (Notification.State.SENT, 2)
    assert len(mailoutbox) == 1


# --- placeholder audiences: resolved only to send ---------------------------------------------------------


def test_a_placeholder_is_resolved_at_send_time_and_the_address_never_stored(
    resolver: list[int], mailoutbox: list[Any]
) -> None:
    notification = queue(recipient=Notification.REPORTER)
    assert resolver == [], "nothing is resolved when it is queued"
    assert services.notification_deliver(notification.pk) is None
    assert resolver == [1]
    assert [message.to for message in mailoutbox] == [[ADDRESS]]
    notification.refresh_from_db()
    assert (notification.recipient, notification.state) == (Notification.REPORTER, Notification.State.SENT)
    assert not Notification.objects.filter(recipient=ADDRESS).exists()


def test_a_placeholder_nobody_resolves_is_failed_at_once_without_mail(
    resolver: list[int], mailoutbox: list[Any]
) -> None:
    unresolvable = queue(recipient=Notification.REPORTER, subject_id=2)  # the resolver finds no address
    unregistered = queue(recipient=Notification.REPORTER, subject_kind="nobody-resolves-this")
    for notification in (unresolvable, unregistered):
        assert services.notification_deliver(notification.pk) is None, "not retried: nobody to send to"
        notification.refresh_from_db()
        assert (notification.state, notification.attempts) == (Notification.State.FAILED, 1)
    assert mailoutbox == []


def test_a_reporters_email_has_a_neutral_sender_and_subject(
    resolver: list[int], settings: Any, mailoutbox: list[Any]
) -> None:
    settings.REPORTER_EMAIL_SUBJECT, settings.REPORTER_EMAIL_FROM = "A new message", "Online <n@x.test>"
    services.notification_deliver(queue(recipient=Notification.REPORTER).pk)
    (message,) = mailoutbox
    assert (message.subject, message.from_email) == ("A new message", "Online <n@x.test>")


def test_the_reporters_address_is_unsealed_from_their_report_only_to_send(mailoutbox: list[Any]) -> None:
    """reports' resolver, for real: the address lives only inside the sealed report."""
    canary = "Canary-Zq81"
    submitted = submit_report(
        anonymity=Anonymity.CONFIDENTIAL,
        contact=Contact(name=f"{canary} Name", email="canary.reporter@private.example"),
        summary=f"{canary} summary",
        details=f"{canary} details",
    )
    report = submitted.report
    notification = services.notification_queue(
        recipient=Notification.REPORTER, template=TEMPLATE, subject_kind=REPORT, subject_id=report.pk
    )
    assert services.notification_deliver(notification.pk) is None
    (message,) = mailoutbox
    assert message.to == ["canary.reporter@private.example"]
    # No content: nothing the reporter wrote, not their address, not their reference.
    everything = " ".join([message.subject, str(message.body), str(message.alternatives[0][0]), message.from_email])
    assert canary not in everything
    assert "canary.reporter" not in everything
    assert report.reference not in everything
    assert not Notification.objects.filter(recipient__icontains="canary").exists()


# --- what it pointed to is gone --------------------------------------------------------------------------


def test_a_notification_whose_context_has_nothing_to_send_is_cancelled_and_settled(mailoutbox: list[Any]) -> None:
    settled: list[int] = []

    def gone(notification: Notification) -> dict[str, object]:
        raise registry.NothingToSend

    registry.register_templates(["test_gone"], context=gone, settled=lambda n: settled.append(n.pk))
    try:
        notification = queue(template="test_gone")
        assert services.notification_deliver(notification.pk) is None
    finally:
        registry._templates.pop("test_gone")
    notification.refresh_from_db()
    assert notification.state == Notification.State.CANCELLED
    assert settled == [notification.pk]
    assert mailoutbox == []
