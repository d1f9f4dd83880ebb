"""Prometheus metrics (core/metrics.py, helpline/metrics.py) and docs/adr/0008-metrics-and-the-time-trail.md.

A reporter's visit moves no metric: sending a report (routed and its emails sent, as a worker would) and opening
a concern at /check leave every sample as it was. Staff actions, the passing of days and waiting work do move
them, so the first tests could fail.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from core import metrics as core_metrics
from notify.models import Notification
from outbox.models import OutboxMessage
from reports.models import Report
from tests.factories import reporter_opened, routed_case, staff_user, submit_report, web_report_sent
from tests.metrics.scraping import TOKEN, drain_outbox, scrape, value
from triage import case_actions
from triage.models import Case

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

LONDON = ZoneInfo("Europe/London")
# A Wednesday afternoon: yesterday and tomorrow are working days.
MOMENT = datetime(2026, 12, 2, 14, 20, 11, tzinfo=LONDON)


@pytest.fixture(autouse=True)
def metrics_token(settings) -> None:  # type: ignore[no-untyped-def]
    settings.METRICS_TOKEN = TOKEN


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(MOMENT, tick=False) as traveller:
        yield traveller


def history() -> None:
    """Cases from earlier days in several states, so that every gauge has something to count."""
    supervisor = staff_user("history-supervisor", email="history@helpline.test")
    with time_machine.travel(MOMENT - timedelta(days=1), tick=False):
        routed_case()
        claimed = routed_case()
        case_actions.case_claim(case=claimed, acting_user=supervisor)
        routed_case(child_at_immediate_risk=True)
    drain_outbox()


def test_only_gauges_registered_by_the_apps_are_served(clock) -> None:  # type: ignore[no-untyped-def]
    history()
    samples = scrape()
    names = {name for name, _ in samples}
    assert names == {
        "helpline_outbox_waiting",
        "helpline_outbox_oldest_waiting_seconds",
        "helpline_worker_heartbeat_age_seconds",
        "helpline_notifications_undelivered",
        "helpline_cases",
        "helpline_clocks_overdue",
        "helpline_pages",
        "helpline_flood",
        "helpline_flood_arrivals_rounded",
    } - ({"helpline_worker_heartbeat_age_seconds", "helpline_outbox_waiting"} - names), names
    # Nothing of prometheus_client's own (process, platform, garbage collector): no counter a request moves.
    assert not any(name.startswith(("process_", "python_")) for name in names)
    queue = Case.objects.first().queue.slug  # type: ignore[union-attr]
    assert value(samples, "cases", queue=queue, status="closed") == 0
    assert sum(v for (name, _), v in samples.items() if name == "helpline_cases") == 3
    assert value(samples, "clocks_overdue", kind="urgent_triage") == 1
    for kind in ("triage", "reporter_feedback", "authority_acknowledgement", "authority_outcome", "question_answer"):
        assert value(samples, "clocks_overdue", kind=kind) == 0
    assert value(samples, "notifications_undelivered", channel="email", state="failed") == 0


@pytest.mark.parametrize("urgent", ["no", "yes"])
def test_sending_a_report_on_the_pages_moves_no_metric(clock, urgent: str) -> None:  # type: ignore[no-untyped-def]
    history()
    staff_user("on-duty", email="on-duty@helpline.test")
    before = scrape()
    web_report_sent(Client(), immediate_risk={"child_at_immediate_risk": urgent})
    drain_outbox()
    report = Report.objects.order_by("-pk").first()
    assert report is not None and Case.objects.filter(report=report).exists(), "the report was routed"
    if urgent == "yes":
        assert Notification.objects.filter(state="sent", created_at__gte=timezone.now() - timedelta(days=1)).exists()
    clock.shift(timedelta(seconds=20))
    assert scrape() == before


def test_sending_a_report_through_the_api_moves_no_metric(clock) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import valid_api_report

    history()
    before = scrape()
    response = Client().post(
        "/api/v1/reports", valid_api_report(), content_type="application/json", HTTP_IDEMPOTENCY_KEY="a" * 32
    )
    assert response.status_code == 201, response.content
    drain_outbox()
    assert scrape() == before


def test_opening_a_concern_at_check_moves_no_metric(clock) -> None:  # type: ignore[no-untyped-def]
    history()
    submitted = submit_report()
    drain_outbox()
    before = scrape()
    reporter = reporter_opened(submitted)
    assert reporter.get("/check/concern").status_code == 200
    # And a wrong code: a failed attempt and a key derivation, counted nowhere in the metrics.
    wrong = Client().post("/check", {"reference": submitted.report.reference, "access_code": "WRONG"})
    assert wrong.status_code in {400, 404}
    drain_outbox()
    assert scrape() == before


def test_a_staff_action_moves_the_cases_gauge_at_once(clock) -> None:  # type: ignore[no-untyped-def]
    history()
    case = Case.objects.filter(status=Case.Status.NEW, priority=Case.Priority.STANDARD).get()
    queue = case.queue.slug
    before = scrape()
    case_actions.case_claim(case=case, acting_user=staff_user("claimer"))
    after = scrape()
    assert value(after, "cases", queue=queue, status="new") == value(before, "cases", queue=queue, status="new") - 1
    assert (
        value(after, "cases", queue=queue, status="in_triage")
        == value(before, "cases", queue=queue, status="in_triage") + 1
    )


def test_a_case_received_today_is_counted_from_tomorrow(clock) -> None:  # type: ignore[no-untyped-def]
    case = routed_case()
    today = scrape()
    assert ("helpline_cases", (("queue", case.queue.slug), ("status", "new"))) not in today or (
        value(today, "cases", queue=case.queue.slug, status="new") == 0
    )
    clock.move_to(datetime(2026, 12, 3, 0, 0, 1, tzinfo=LONDON))
    assert value(scrape(), "cases", queue=case.queue.slug, status="new") == 1


def test_a_missed_triage_clock_is_counted_overdue(clock) -> None:  # type: ignore[no-untyped-def]
    case = routed_case()
    assert value(scrape(), "clocks_overdue", kind="triage") == 0
    # The end of the next working day passes: the standard clock (a day's end, nothing finer) is overdue.
    clock.move_to(case.triage_due_at + timedelta(seconds=1))
    assert value(scrape(), "clocks_overdue", kind="triage") == 1
    case_actions.case_claim(case=case, acting_user=staff_user("late"))
    assert value(scrape(), "clocks_overdue", kind="triage") == 1, "claiming keeps it in triage"


def test_an_urgent_case_counts_from_the_next_day_while_still_in_triage(clock) -> None:  # type: ignore[no-untyped-def]
    case = routed_case(child_at_immediate_risk=True)
    clock.shift(timedelta(hours=2))
    assert value(scrape(), "clocks_overdue", kind="urgent_triage") == 0, "its hour is the reporter's time"
    clock.move_to(datetime(2026, 12, 3, 0, 0, 1, tzinfo=LONDON))
    assert value(scrape(), "clocks_overdue", kind="urgent_triage") == 1
    case.refresh_from_db()
    assert case.status in {"new", "in_triage"}


def test_outbox_rows_count_once_they_have_waited_a_whole_bucket(clock, settings) -> None:  # type: ignore[no-untyped-def]
    settings.OUTBOX_SWEEP_SECONDS = 30
    settings.TIME_TRAIL_BUCKET_SECONDS = 900
    submit_report()
    row = OutboxMessage.objects.get(kind="route_report")
    samples = scrape()
    assert value(samples, "outbox_oldest_waiting_seconds") == 0
    assert ("helpline_outbox_waiting", (("kind", "route_report"),)) not in samples
    OutboxMessage.objects.filter(pk=row.pk).update(sweeps=29)  # 14.5 minutes
    assert value(scrape(), "outbox_oldest_waiting_seconds") == 0
    OutboxMessage.objects.filter(pk=row.pk).update(sweeps=61)  # 30.5 minutes: two whole buckets
    samples = scrape()
    assert value(samples, "outbox_oldest_waiting_seconds") == 1800
    assert value(samples, "outbox_waiting", kind="route_report") == 1


def test_notifications_count_once_their_tries_have_spanned_a_bucket(clock, settings) -> None:  # type: ignore[no-untyped-def]
    settings.TIME_TRAIL_BUCKET_SECONDS = 900
    staff_user("sup", email="sup@helpline.test")
    routed_case(child_at_immediate_risk=True)
    notification = Notification.objects.get()
    Notification.objects.filter(pk=notification.pk).update(state="retrying", attempts=1)
    assert value(scrape(), "notifications_undelivered", channel="email", state="retrying") == 0
    # Tries after 1, 2, 4 and 8 minutes: the fifth comes a whole bucket after the first.
    Notification.objects.filter(pk=notification.pk).update(attempts=5)
    assert value(scrape(), "notifications_undelivered", channel="email", state="retrying") == 1
    Notification.objects.filter(pk=notification.pk).update(state="failed", attempts=6)
    samples = scrape()
    assert value(samples, "notifications_undelivered", channel="email", state="failed") == 1
    assert value(samples, "notifications_undelivered", channel="email", state="retrying") == 0


def test_a_worker_heartbeat_age_is_served(clock) -> None:  # type: ignore[no-untyped-def]
    from outbox.models import WorkerHeartbeat

    WorkerHeartbeat.objects.create(name="worker@host", beat_at=timezone.now() - timedelta(seconds=42))
    assert value(scrape(), "worker_heartbeat_age_seconds") == 42


# --- who may scrape --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x", f"bearer {TOKEN[:-1]}"],
)
def test_without_the_token_the_address_does_not_exist(header: str | None) -> None:
    extra = {} if header is None else {"HTTP_AUTHORIZATION": header}
    response = Client().get("/internal/metrics", **extra)
    assert response.status_code == 404
    assert b"helpline_" not in response.content


def test_with_no_token_configured_nobody_gets_the_metrics(settings) -> None:  # type: ignore[no-untyped-def]
    settings.METRICS_TOKEN = ""
    for header in ("Bearer ", f"Bearer {TOKEN}"):
        assert Client().get("/internal/metrics", HTTP_AUTHORIZATION=header).status_code == 404


def test_a_signed_in_supervisor_without_the_token_gets_nothing() -> None:
    from tests.factories import signed_in

    response = signed_in(staff_user("nosy")).get("/internal/metrics")
    assert response.status_code == 404


def test_the_token_is_compared_in_constant_time(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import hmac

    from helpline import metrics as view

    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(view.hmac, "compare_digest", spy)
    Client().get("/internal/metrics", HTTP_AUTHORIZATION="Bearer nope")
    assert compared == [(b"nope", TOKEN.encode())]


def test_the_public_role_never_serves_the_metrics(settings) -> None:  # type: ignore[no-untyped-def]
    """helpline/urls.py run again as the public service builds it (a fresh copy: the loaded module is untouched)."""
    import runpy

    settings.HELPLINE_ROLE = "public"
    built = runpy.run_module("helpline.urls", run_name="public_urls")
    settings.ROOT_URLCONF = type("PublicUrls", (), {key: built[key] for key in ("urlpatterns", "handler404")})
    response = Client().get("/internal/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 404
    assert b"helpline_" not in response.content
    assert Client().get("/healthz").status_code == 200, "the public service's own addresses still answer"
    assert Client().get("/staff/health").status_code == 404, "and it has no staff addresses either"


def test_a_gauge_name_is_registered_once_with_one_meaning() -> None:
    def collect() -> Iterator[core_metrics.Sample]:
        yield (), 1

    core_metrics.register_gauge("test_only_gauge", "A test.", (), collect)
    core_metrics.register_gauge("test_only_gauge", "A test.", (), collect)
    try:
        assert core_metrics.registered()["test_only_gauge"].collects == [collect]
        with pytest.raises(core_metrics.AlreadyRegistered):
            core_metrics.register_gauge("test_only_gauge", "Another meaning.", (), collect)
        with pytest.raises(ValueError):
            core_metrics.register_gauge("Bad-Name", "A test.", (), collect)
    finally:
        core_metrics._gauges.pop("test_only_gauge")
