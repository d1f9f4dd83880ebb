"""Pattern alerts worked out in the workers, not in the page (issue 22.20: the alerts read hundreds of
thousands of reports and referrals at a million cases, p95 over the 500 ms target). After each refresh the
workers store them; the page reads what was stored while it is recent, and works them out itself
otherwise. Counted, never timed."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from oversight import patterns, tasks
from oversight.models import StoredAlerts
from referrals.models import Referral
from tests.factories import signed_in_as
from tests.oversight.helpers import MANCHESTER, ROTHERHAM, SHEFFIELD, new_case, referred_case, text

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

NAMES = ["Northside Children's Home Ltd", "NORTHSIDE CHILDREN'S HOME", "northside children's home, ltd."]


def alerts_of_both_kinds() -> None:
    """Three reports naming one organisation, and three referrals Rotherham did not acknowledge in time."""
    for code, name in zip((ROTHERHAM, SHEFFIELD, MANCHESTER), NAMES, strict=True):
        new_case(code, organisation_name=name)
    for _ in range(3):
        case = referred_case(ROTHERHAM)
        Referral.objects.filter(case=case).update(ack_due_at=timezone.now() - timedelta(days=1))


def as_shown(alerts: list[patterns.Alert]) -> list[tuple[object, ...]]:
    return [
        (a.kind, a.key, a.title, a.detail, a.count, a.date, a.evidence_columns, a.case_numbers, a.evidence)
        for a in alerts
    ]


def test_after_a_refresh_the_alerts_page_reads_no_report_or_case() -> None:
    alerts_of_both_kinds()
    tasks.refresh_statistics()
    supervisor, _ = signed_in_as(User.Role.SUPERVISOR)

    with CaptureQueriesContext(connection) as page:
        response = supervisor.get("/staff/patterns")

    assert response.status_code == 200
    assert "The same organisation named in 3 reports" in text(response)
    assert "missed 3 acknowledgement deadlines" in text(response)
    read = " ".join(query["sql"] for query in page.captured_queries)
    assert "oversight_stored_alerts" in read
    assert "reports_report" not in read and "triage_case" not in read


def test_what_the_workers_store_is_what_working_them_out_gives() -> None:
    alerts_of_both_kinds()
    now = timezone.now()
    patterns.alerts_store(now)

    stored = patterns.pattern_alerts()
    afresh = patterns.alerts_worked_out(now)

    assert {a.kind for a in afresh} == {"same_organisation", "missed_acknowledgements"}
    assert as_shown(stored) == as_shown(afresh)  # the metadata behind each alert included


def test_an_alert_stored_by_the_workers_opens_with_its_metadata() -> None:
    alerts_of_both_kinds()
    tasks.refresh_statistics()
    supervisor, _ = signed_in_as(User.Role.SUPERVISOR)

    response = supervisor.get("/staff/patterns/missed-E08000018")

    assert response.status_code == 200
    assert text(response).count("Not acknowledged") == 3


def test_alerts_stored_too_long_ago_are_worked_out_again() -> None:
    """A worker that stopped must not leave the page showing old alerts: after two refreshes' time the
    page works them out itself, and shows what is true now."""
    patterns.alerts_store()  # nothing to alert about yet
    alerts_of_both_kinds()
    assert patterns.pattern_alerts() == []  # the stored alerts, still recent

    with time_machine.travel(timezone.now() + patterns.stored_alerts_fresh() + timedelta(minutes=1)):
        assert {a.kind for a in patterns.pattern_alerts()} == {"same_organisation", "missed_acknowledgements"}


def test_only_the_latest_alerts_are_kept() -> None:
    patterns.alerts_store()
    alerts_of_both_kinds()
    patterns.alerts_store()

    assert StoredAlerts.objects.count() == 1
    latest = [a.key for a in patterns.alerts_worked_out(timezone.now())]
    assert latest and [a.key for a in patterns.pattern_alerts()] == latest
