"""How much work the pattern alerts take, counted rather than timed (issue 22.20: 1.9 s at a million cases,
most of it turning some 150,000 referral times into London days one by one, for metadata the list of
alerts never shows). The days come from the database; the metadata behind an alert is read when its own
page shows it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from oversight.patterns import Alert, pattern_alerts
from referrals.models import Referral
from tests.factories import signed_in_as
from tests.oversight.helpers import ROTHERHAM, SHEFFIELD, referred_case

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]


def missed(now: datetime) -> list[Alert]:
    return [alert for alert in pattern_alerts(now) if alert.kind == "missed_acknowledgements"]


def counting_local_times(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = [0]
    original: Callable[..., Any] = timezone.localtime

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(timezone, "localtime", counted)
    return calls


def test_the_alerts_turn_no_referral_time_into_a_day_in_python(monkeypatch: pytest.MonkeyPatch) -> None:
    """Three conversions per referral (referred, due, acknowledged) were most of the alerts' time: the
    work must not grow with the referrals behind the alerts."""
    for _ in range(3):
        referred_case(ROTHERHAM)
    later = timezone.now() + timedelta(days=7)
    calls = counting_local_times(monkeypatch)
    [alert] = missed(later)
    assert len(alert.evidence) == 3
    with_three = calls[0]

    for _ in range(4):
        referred_case(SHEFFIELD)
        referred_case(ROTHERHAM)
    calls[0] = 0
    alerts = missed(later)
    assert sum(len(alert.evidence) for alert in alerts) == 3 + 8

    assert calls[0] == with_three


def test_the_list_of_alerts_reads_the_metadata_behind_an_alert_only_when_it_is_shown() -> None:
    for _ in range(3):
        referred_case(ROTHERHAM)
    later = timezone.now() + timedelta(days=7)
    [alert] = missed(later)

    with CaptureQueriesContext(connection) as shown:
        evidence = alert.evidence
        assert alert.evidence is evidence  # read once

    assert len(shown.captured_queries) == 1
    assert [row[2] for row in evidence] == ["Not acknowledged"] * 3


def test_the_days_behind_an_alert_are_london_days() -> None:
    """Referred at 23:30 UTC on 30 June, 00:30 in London on 1 July: the metadata says 1 July, as the
    day in London, where staff work."""
    moment = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)
    with time_machine.travel(moment, tick=False):
        cases = [referred_case(ROTHERHAM) for _ in range(3)]
    Referral.objects.filter(case__in=[c.pk for c in cases]).update(referred_at=moment)

    [alert] = missed(moment + timedelta(days=20))

    assert [row[0] for row in alert.evidence] == ["1 July 2026"] * 3
    due = max(Referral.objects.filter(case__in=[c.pk for c in cases]).values_list("ack_due_at", flat=True))
    assert alert.date == timezone.localdate(due)


def test_the_metadata_page_of_an_alert_still_shows_every_referral_behind_it() -> None:
    cases = [referred_case(ROTHERHAM) for _ in range(3)]
    overdue = timezone.now() - timedelta(days=1)
    Referral.objects.filter(case__in=[c.pk for c in cases]).update(ack_due_at=overdue)
    supervisor, _ = signed_in_as(User.Role.SUPERVISOR)

    page = supervisor.get(f"/staff/patterns/missed-{ROTHERHAM}")

    assert page.status_code == 200
    assert page.content.decode().count("Not acknowledged") == len(cases)
