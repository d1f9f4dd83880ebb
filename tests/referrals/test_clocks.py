"""A referral's own clocks (referrals.deadlines): deadline_state for each clock in each referral status,
for a Referral and for a .values() row, and the query form selecting exactly what the Python form calls
overdue. Two referrals of one case keep independent clocks."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from directory.lookup import authority_by_code
from referrals.deadlines import ACK, ACK_ESCALATION, OUTCOME, OUTCOME_ESCALATION
from referrals.models import Referral
from tests.factories import referral_make, submit_report
from triage.deadlines import Clock, deadline_state
from triage.intake import report_route

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

NOW = datetime(2026, 3, 11, 9, 0, tzinfo=ZoneInfo("Europe/London"))
HOUR = timedelta(hours=1)
FAR = timedelta(days=30)
R = Referral.Status
CLOCKS = (ACK, ACK_ESCALATION, OUTCOME, OUTCOME_ESCALATION)

# (clock, referral status, due relative to NOW, met, expected state)
SCENARIOS: list[tuple[Clock, str, timedelta, bool, str]] = []
for _clock in (ACK, ACK_ESCALATION):
    SCENARIOS += [
        (_clock, R.AWAITING_ACKNOWLEDGEMENT, -HOUR, False, "overdue"),
        (_clock, R.AWAITING_ACKNOWLEDGEMENT, HOUR, False, "due soon"),
        (_clock, R.AWAITING_ACKNOWLEDGEMENT, timedelta(days=2), False, "on time"),
        (_clock, R.ACKNOWLEDGED, -HOUR, True, "done"),
        (_clock, R.WITHDRAWN, -HOUR, False, "stopped"),
    ]
for _clock in (OUTCOME, OUTCOME_ESCALATION):
    SCENARIOS += [
        (_clock, R.AWAITING_ACKNOWLEDGEMENT, -HOUR, False, "overdue"),
        (_clock, R.ACKNOWLEDGED, -HOUR, False, "overdue"),
        (_clock, R.ACKNOWLEDGED, HOUR, False, "due soon"),
        (_clock, R.ACKNOWLEDGED, timedelta(days=2), False, "on time"),
        (_clock, R.OUTCOME_RECORDED, -HOUR, True, "done"),
        (_clock, R.WITHDRAWN, -HOUR, False, "stopped"),
    ]


def referral_with(clock: Clock, status: str, due: timedelta, met: bool) -> Referral:
    case = report_route(report_id=submit_report().report.pk)
    fields: dict[str, Any] = {c.due_field: NOW + FAR for c in CLOCKS}
    fields.update(status=status, **{clock.due_field: NOW + due})
    if met:
        assert clock.met_field is not None
        fields[clock.met_field] = NOW - 2 * HOUR
        if clock.met_field == "outcome_at":
            fields.update(outcome="early_help", acknowledged_at=NOW - 3 * HOUR)
    return referral_make(case, **fields)


@pytest.mark.parametrize("form", ["referral", "row"])
@pytest.mark.parametrize(
    ("clock", "status", "due", "met", "expected"),
    SCENARIOS,
    ids=[f"{c.key}-{status}-{'met' if met else 'unmet'}-{state}" for c, status, _, met, state in SCENARIOS],
)
def test_deadline_state(clock: Clock, status: str, due: timedelta, met: bool, expected: str, form: str) -> None:
    referral = referral_with(clock, status, due, met)
    row = Referral.objects.filter(pk=referral.pk).values(*clock.fields).get()
    assert deadline_state(referral if form == "referral" else row, clock, NOW) == expected


def test_each_clocks_overdue_query_selects_exactly_the_referrals_it_calls_overdue() -> None:
    population = [referral_with(*scenario[:4]) for scenario in SCENARIOS]
    for clock in CLOCKS:
        by_python = {r.pk for r in population if deadline_state(r, clock, NOW) == "overdue"}
        assert by_python, clock.key
        assert set(Referral.objects.filter(clock.overdue_q(NOW)).values_list("pk", flat=True)) == by_python


def test_two_referrals_of_one_case_keep_their_own_clocks() -> None:
    case = report_route(report_id=submit_report().report.pk)
    sheffield = authority_by_code("E08000039")
    late = referral_make(case, ack_due_at=NOW - HOUR)
    on_time = referral_make(case, authority=sheffield, ack_due_at=NOW + timedelta(days=2))
    late.refresh_from_db()
    assert deadline_state(late, ACK, NOW) == "overdue"
    assert deadline_state(on_time, ACK, NOW) == "on time"
    on_time.acknowledged_at, on_time.status = NOW - HOUR, R.ACKNOWLEDGED
    on_time.save()
    late.refresh_from_db()
    assert deadline_state(late, ACK, NOW) == "overdue"
    assert deadline_state(on_time, ACK, NOW) == "done"
