"""Noticing a flood (core.flood, triage.flood) and urgent digests (notify): the counter lives in Redis only,
holds no report id and expires; going over FLOOD_THRESHOLD in 10 minutes gives a banner in the workspace and
one email to supervisors per flood; during a flood urgent alerts are held and sent as one digest per
supervisor naming only how many; Redis down never stops a report."""

from __future__ import annotations

import logging
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.models import User
from core import flood
from notify import registry
from notify.models import Notification
from notify.services import SEND_EMAIL, digests_send, email_render, notification_deliver
from notify.tasks import send_digests
from outbox.models import OutboxMessage
from reports.models import Report
from tests.factories import signed_in_as, staff_user, submit_report, web_report_sent
from triage.intake import report_route
from triage.models import Case
from triage.notifications import FLOOD_ALERT, URGENT_DIGEST, URGENT_DIGEST_TEMPLATE

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities", "flood_redis")]

MINUTE_KEY = re.compile(r"flood:minute:\d+")


@pytest.fixture
def supervisors() -> list[User]:
    return [staff_user("sup-a", email="sup-a@helpline.test"), staff_user("sup-b", email="sup-b@helpline.test")]


def routed(*, urgent: bool = False) -> Case:
    return report_route(report_id=submit_report(child_at_immediate_risk=urgent).report.pk)


def held_alerts() -> Any:
    return Notification.objects.filter(template="urgent_case", state=Notification.State.HELD)


# --- the counter -------------------------------------------------------------------------------------------


def test_the_counter_holds_only_per_minute_counts_that_expire_within_the_hour(flood_redis: redis.Redis) -> None:
    cases = [routed() for _ in range(3)]

    keys = sorted(flood_redis.scan_iter(match="*"))
    assert keys and all(MINUTE_KEY.fullmatch(key) for key in keys), keys
    assert sum(int(flood_redis.get(key) or 0) for key in keys) == 3
    for key in keys:
        assert flood_redis.type(key) == "string"
        assert 0 < flood_redis.ttl(key) <= flood.FLOOD_KEY_SECONDS <= 3600
    # A key names its minute (now, give or take the test's own minute boundary), and holds a count: no id.
    now_minute = int(time.time() // 60)
    assert all(now_minute - 1 <= int(key.rsplit(":", 1)[1]) <= now_minute for key in keys)
    stored = " ".join(keys + [flood_redis.get(key) or "" for key in keys])
    for case in cases:
        assert case.report.reference not in stored and case.case_number not in stored


def test_the_count_is_a_rolling_ten_minutes(settings: Any) -> None:
    start = 1_800_000_000.0  # a minute boundary
    for _ in range(3):
        flood.arrival_count(now=start)
    for _ in range(2):
        flood.arrival_count(now=start + 9 * 60)
    assert flood.window_count(now=start + 9 * 60) == 5
    # Ten minutes on, the first minute's arrivals have left the window.
    assert flood.window_count(now=start + 10 * 60) == 2
    assert flood.window_count(now=start + 19 * 60) == 0


# --- a flood: the banner and the one email -----------------------------------------------------------------


def test_going_over_the_threshold_sends_one_email_per_supervisor_for_the_whole_flood(
    settings: Any, supervisors: list[User]
) -> None:
    settings.FLOOD_THRESHOLD = 3
    for _ in range(3):
        routed()
    assert not flood.flood_on()
    assert not Notification.objects.filter(template=FLOOD_ALERT).exists()

    for _ in range(5):
        routed()

    assert flood.flood_on()
    emails = Notification.objects.filter(template=FLOOD_ALERT)
    assert sorted(emails.values_list("recipient", flat=True)) == ["sup-a@helpline.test", "sup-b@helpline.test"]
    assert len(set(emails.values_list("occasion", flat=True))) == 1
    assert OutboxMessage.objects.filter(kind=SEND_EMAIL, target_id__in=emails.values("pk")).count() == 2
    rendered = email_render(emails.first())
    everything = f"{rendered.subject} {rendered.body}"
    assert "More than 3 reports" in everything
    for case in Case.objects.select_related("report"):
        assert case.case_number not in everything and case.report.reference not in everything


def test_the_workspace_shows_a_banner_with_the_count_in_tens_during_a_flood(settings: Any) -> None:
    settings.FLOOD_THRESHOLD = 10
    handler, _ = signed_in_as(User.Role.CALL_HANDLER)
    officer, _ = signed_in_as(User.Role.AUTHORITY_OFFICER, "E08000018", username="officer")
    for _ in range(10):
        routed()
    page = handler.get("/staff/").content.decode()
    assert 'data-testid="flood-banner"' not in page

    for _ in range(4):
        routed()

    for path in ("/staff/", "/staff/cases"):
        page = handler.get(path).content.decode()
        assert page.count('data-testid="flood-banner"') == 1, path
        assert "about 10 arrived in the last 10 minutes" in page
    # Only the helpline's staff work the flood: an authority's officer sees no banner.
    referrals_page = officer.get("/staff/referrals")
    assert referrals_page.status_code == 200
    assert 'data-testid="flood-banner"' not in referrals_page.content.decode()


def test_the_metrics_say_flood_yes_or_no_and_the_count_in_tens_only_during_a_flood(settings: Any) -> None:
    from tests.metrics.scraping import TOKEN, scrape, value

    settings.METRICS_TOKEN = TOKEN
    settings.FLOOD_THRESHOLD = 10
    for _ in range(10):
        routed()
    quiet = scrape()
    assert (value(quiet, "flood"), value(quiet, "flood_arrivals_rounded")) == (0, 0)
    for _ in range(6):
        routed()
    flooding = scrape()
    assert (value(flooding, "flood"), value(flooding, "flood_arrivals_rounded")) == (1, 20)


def test_the_count_shown_is_rounded_to_tens() -> None:
    assert [flood.tens(n) for n in (0, 4, 5, 14, 15, 51, 56, 299)] == [0, 0, 10, 10, 20, 50, 60, 300]


# --- Redis down ----------------------------------------------------------------------------------------------


def test_with_redis_down_reports_are_sent_and_routed_and_urgent_alerts_go_at_once(
    settings: Any, supervisors: list[User], caplog: pytest.LogCaptureFixture
) -> None:
    settings.FLOOD_REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    settings.FLOOD_THRESHOLD = 0  # were the counter up, every arrival would be a flood

    with caplog.at_level(logging.WARNING, logger="core.flood"):
        web_report_sent(Client(), immediate_risk={"child_at_immediate_risk": "yes"})
        web_case = report_route(report_id=Report.objects.get().pk)
        case = routed(urgent=True)

    assert web_case.queue.slug == "urgent" and case.queue.slug == "urgent"
    alerts = Notification.objects.filter(template="urgent_case")
    assert alerts.count() == 4 and set(alerts.values_list("state", flat=True)) == {Notification.State.QUEUED}
    assert OutboxMessage.objects.filter(kind=SEND_EMAIL, target_id__in=alerts.values("pk")).count() == 4
    assert not Notification.objects.filter(template=FLOOD_ALERT).exists()
    # Logged once (the counter is not asked again for a while), without anything about the reports.
    warnings = [r.getMessage() for r in caplog.records if r.name == "core.flood"]
    assert warnings == ["flood counter unavailable (ConnectionError): no flood signal for now"]


# --- outside a flood ------------------------------------------------------------------------------------


def test_outside_a_flood_each_urgent_case_alerts_at_once(supervisors: list[User]) -> None:
    case = routed(urgent=True)
    alerts = Notification.objects.filter(template="urgent_case", subject_id=case.pk)
    assert alerts.count() == 2
    assert OutboxMessage.objects.filter(kind=SEND_EMAIL, target_id__in=alerts.values("pk")).count() == 2
    assert not held_alerts().exists()
    assert digests_send() == []


# --- the urgent digest -----------------------------------------------------------------------------------


@pytest.fixture
def listened() -> Any:
    rounds: list[registry.DigestSent] = []
    registry.register_digest_listener(rounds.append)
    yield rounds
    registry._digest_listeners.remove(rounds.append)


def test_during_a_flood_urgent_alerts_are_held_and_sent_as_one_digest_per_supervisor_naming_the_count(
    settings: Any, supervisors: list[User], listened: list[registry.DigestSent], django_capture_on_commit_callbacks: Any
) -> None:
    settings.FLOOD_THRESHOLD = 0  # every arrival is a flood
    cases = [routed(urgent=True) for _ in range(3)]
    routed()  # a standard case: no alert to hold

    assert held_alerts().count() == 6
    assert not OutboxMessage.objects.filter(kind=SEND_EMAIL, target_id__in=held_alerts().values("pk")).exists()

    with django_capture_on_commit_callbacks(execute=True):
        rounds = digests_send()

    digests = Notification.objects.filter(template=URGENT_DIGEST_TEMPLATE).order_by("recipient")
    assert [d.recipient for d in digests] == ["sup-a@helpline.test", "sup-b@helpline.test"]
    assert OutboxMessage.objects.filter(kind=SEND_EMAIL, target_id__in=digests.values("pk")).count() == 2
    assert Notification.objects.filter(template="urgent_case", state=Notification.State.DIGESTED).count() == 6
    assert rounds == listened
    assert [(r.key, r.collected, r.subjects, len(r.notification_ids)) for r in listened] == [(URGENT_DIGEST, 6, 3, 2)]
    for digest in digests:
        assert digest.subject_id is None
        message = email_render(digest)
        assert message.subject == "3 urgent concerns waiting for triage"
        assert "3 urgent concerns arrived" in message.body
        everything = f"{message.subject} {message.body} {message.alternatives[0][0]}"
        for case in cases:
            assert case.case_number not in everything and case.report.reference not in everything


def test_one_digest_per_recipient_per_round_and_a_second_round_sends_nothing_more(
    settings: Any, supervisors: list[User]
) -> None:
    settings.FLOOD_THRESHOLD = 0
    routed(urgent=True)
    assert len(digests_send()) == 1
    assert digests_send() == []
    assert Notification.objects.filter(template=URGENT_DIGEST_TEMPLATE).count() == 2

    # More held after the round: the next round sends each supervisor one more, counting only the new ones.
    routed(urgent=True)
    routed(urgent=True)
    digests_send()
    second = Notification.objects.filter(template=URGENT_DIGEST_TEMPLATE).order_by("-pk").first()
    assert Notification.objects.filter(template=URGENT_DIGEST_TEMPLATE).count() == 4
    assert "2 urgent concerns arrived" in email_render(second).body


def test_the_beat_task_sends_once_per_digest_window(settings: Any, supervisors: list[User]) -> None:
    settings.FLOOD_THRESHOLD = 0
    settings.DIGEST_MINUTES = 5
    with time_machine.travel(datetime(2026, 12, 2, 13, 31, tzinfo=UTC), tick=False) as clock:
        routed(urgent=True)
        assert send_digests() == 2
        routed(urgent=True)
        clock.move_to(datetime(2026, 12, 2, 13, 34, 59, tzinfo=UTC))
        assert send_digests() == 0  # a repeated beat in the same window sends nothing
        assert held_alerts().count() == 2  # kept for the next window's digest
        clock.move_to(datetime(2026, 12, 2, 13, 35, 1, tzinfo=UTC))
        assert send_digests() == 2
    assert not held_alerts().exists()


def test_sending_a_digest_twice_delivers_one_email_per_recipient(settings: Any, supervisors: list[User]) -> None:
    settings.FLOOD_THRESHOLD = 0
    routed(urgent=True)
    routed(urgent=True)
    digests_send()
    digests = list(Notification.objects.filter(template=URGENT_DIGEST_TEMPLATE))
    for digest in digests * 2:
        notification_deliver(digest.pk)
    # Held alerts are never delivered on their own, even if asked.
    for alert in Notification.objects.filter(template="urgent_case"):
        notification_deliver(alert.pk)
    assert sorted(m.to[0] for m in mail.outbox) == ["sup-a@helpline.test", "sup-b@helpline.test"]
    assert all("2 urgent concerns arrived" in m.body for m in mail.outbox)


def test_held_alerts_and_digests_keep_the_day_only(settings: Any, supervisors: list[User]) -> None:
    from core.timetrail import is_day_only

    settings.FLOOD_THRESHOLD = 0
    routed(urgent=True)
    digests_send()
    for digest in Notification.objects.filter(template=URGENT_DIGEST_TEMPLATE):
        notification_deliver(digest.pk)
    rows = Notification.objects.filter(template__in=["urgent_case", URGENT_DIGEST_TEMPLATE, FLOOD_ALERT])
    assert rows.count() == 6
    for row in rows:
        assert is_day_only(row.created_at), row
        assert row.sent_at is None or is_day_only(row.sent_at), row
    assert not any(":" in row.occasion.removeprefix("flood-") for row in rows)


def test_purging_sent_mail_takes_what_a_digest_collected_with_it(settings: Any, supervisors: list[User]) -> None:
    from notify.services import sent_purge

    settings.FLOOD_THRESHOLD = 0
    routed(urgent=True)
    digests_send()
    for digest in Notification.objects.filter(template=URGENT_DIGEST_TEMPLATE):
        notification_deliver(digest.pk)
    assert Notification.objects.filter(state=Notification.State.DIGESTED).count() == 2

    assert sent_purge(before=timezone.now() + timedelta(days=1), limit=100) == 4

    assert not Notification.objects.filter(template__in=["urgent_case", URGENT_DIGEST_TEMPLATE]).exists()
