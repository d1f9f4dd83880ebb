"""`make bench` times routing (submission answered -> case committed) on its own clock (bench/routing.py).

It used to subtract the report's ``submitted_at`` from the case's ``created_at``: both are kept to the day
now, so every routing latency read 0.0 ms (issue 22.22)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.db import connection

from bench import routing
from tests.factories import submit_report
from tests.oversight.helpers import ROTHERHAM, authority
from triage.intake import report_route
from triage.models import Case

ROUTING_TAKES = 0.25  # seconds between the answer and the routing, here


@pytest.fixture
def cases_announced() -> Iterator[None]:
    """The bench database's trigger, on the test database for this test only."""
    with connection.cursor() as cursor:
        cursor.execute(routing.NOTIFY_NEW_CASES)
    yield
    with connection.cursor() as cursor:
        cursor.execute(routing.FORGET_NEW_CASES)


def listening_connection() -> psycopg.Connection[Any]:
    settings = connection.settings_dict
    return psycopg.connect(
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        user=settings["USER"] or None,
        password=settings["PASSWORD"] or None,
        dbname=settings["NAME"],
        autocommit=True,
    )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fast_kdf", "authorities_committed", "cases_announced")
def test_routing_is_timed_from_the_answer_to_the_committed_case_on_the_benchs_own_clock() -> None:
    with routing.CaseWatch(listening_connection) as watch:
        submitted = submit_report(local_authority=authority(ROTHERHAM))
        reference = submitted.report.reference
        watch.answered(reference)
        time.sleep(ROUTING_TAKES)
        report_route(report_id=submitted.report.pk)
        deadline = time.monotonic() + 10
        while not watch.routed([reference]) and time.monotonic() < deadline:
            time.sleep(0.02)
        latencies = watch.latencies([reference])

    assert len(latencies) == 1, "the case was never announced"
    assert ROUTING_TAKES <= latencies[0] < ROUTING_TAKES + 5
    # What the bench used to read: the two columns differ by whole days only, zero here.
    case = Case.objects.select_related("report").get(report_id=submitted.report.pk)
    assert (case.created_at - case.report.submitted_at).total_seconds() % 86400 == 0


def test_latencies_pair_each_answer_with_its_case_and_leave_out_the_rest() -> None:
    ticks = iter([10.0, 10.5])
    watch = routing.CaseWatch(listening_connection, clock=lambda: next(ticks))
    watch.answered("AAAA-AAAA")  # 10.0
    watch.answered("BBBB-BBBB", at=11.0)
    watch.appeared.update({"AAAA-AAAA": 10.03, "BBBB-BBBB": 11.25, "CCCC-CCCC": 12.0})

    assert watch.latencies(["AAAA-AAAA", "BBBB-BBBB", "CCCC-CCCC", "DDDD-DDDD"]) == pytest.approx([0.03, 0.25])
    assert watch.routed(["AAAA-AAAA", "DDDD-DDDD"]) == 1
    assert routing.summary_ms([0.03, 0.25])["max_ms"] == 250.0
