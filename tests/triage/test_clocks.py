"""triage.deadlines' clocks: deadline_state for each clock in each state, for a Case and for a .values()
row, and the query form (Clock.overdue_q, overdue_q) selecting exactly what the Python form calls overdue.
A referral's clocks, on the referral, are tested in tests/referrals/test_clocks.py."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.factories import submit_report
from triage import deadlines
from triage.deadlines import (
    CASE_PAGE_CLOCKS,
    REPORTER_FEEDBACK,
    TRIAGE,
    Clock,
    deadline_state,
    is_overdue,
    overdue_q,
)
from triage.intake import report_route
from triage.models import Case

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

NOW = datetime(2026, 3, 11, 9, 0, tzinfo=ZoneInfo("Europe/London"))
S = Case.Status
HOUR = timedelta(hours=1)
ALL_CLOCKS = (TRIAGE, REPORTER_FEEDBACK)
FAR = timedelta(days=30)  # the other clocks' deadlines, out of the way


def case_with(status: str, **fields: Any) -> Case:
    """A routed case put into ``status``, its deadlines far off unless ``fields`` says otherwise."""
    case = report_route(report_id=submit_report().report.pk)
    values: dict[str, Any] = {"status": status, "triage_due_at": NOW + FAR, "reporter_feedback_due_at": NOW + FAR}
    values.update(fields)
    Case.objects.filter(pk=case.pk).update(**values)
    return Case.objects.get(pk=case.pk)


def as_row(case: Case, clock: Clock) -> dict[str, Any]:
    return Case.objects.filter(pk=case.pk).values(*clock.fields).get()


# (clock, status, due relative to NOW or None, met, expected state)
SCENARIOS: list[tuple[Clock, str, timedelta | None, bool, str]] = [
    (TRIAGE, S.NEW, -HOUR, False, "overdue"),
    (TRIAGE, S.AWAITING_REPORTER, -HOUR, False, "overdue"),
    (TRIAGE, S.IN_TRIAGE, HOUR, False, "due soon"),
    (TRIAGE, S.NEW, timedelta(days=2), False, "on time"),
    (TRIAGE, S.REFERRED, -HOUR, False, "done"),
    (TRIAGE, S.CLOSED, -HOUR, False, "done"),
    (REPORTER_FEEDBACK, S.REFERRED, -HOUR, False, "overdue"),
    (REPORTER_FEEDBACK, S.NATIONAL_REVIEW, HOUR, False, "due soon"),
    (REPORTER_FEEDBACK, S.NEW, timedelta(days=2), False, "on time"),
    (REPORTER_FEEDBACK, S.CLOSED, -HOUR, False, "done"),
]


def scenario_case(clock: Clock, status: str, due: timedelta | None, met: bool) -> Case:
    fields: dict[str, Any] = {clock.due_field: None if due is None else NOW + due}
    if met:
        assert clock.met_field is not None
        fields[clock.met_field] = NOW - 2 * HOUR
    return case_with(status, **fields)


@pytest.mark.parametrize("form", ["case", "row"])
@pytest.mark.parametrize(
    ("clock", "status", "due", "met", "expected"),
    SCENARIOS,
    ids=[
        f"{c.key}-{status}-{'met' if met else 'unmet'}-{state or 'not started'}"
        for c, status, _, met, state in SCENARIOS
    ],
)
def test_deadline_state(clock: Clock, status: str, due: timedelta | None, met: bool, expected: str, form: str) -> None:
    case = scenario_case(clock, status, due, met)
    subject: Case | dict[str, Any] = case if form == "case" else as_row(case, clock)
    assert deadline_state(subject, clock, NOW) == expected


@pytest.mark.parametrize("form", ["case", "row"])
def test_a_deadline_exactly_now_is_due_soon_and_a_full_day_off_is_on_time(form: str) -> None:
    now_case = case_with(S.NEW, triage_due_at=NOW)
    day_case = case_with(S.NEW, triage_due_at=NOW + deadlines.DUE_SOON)
    pick = (lambda c: c) if form == "case" else (lambda c: as_row(c, TRIAGE))
    assert deadline_state(pick(now_case), TRIAGE, NOW) == "due soon"
    assert deadline_state(pick(day_case), TRIAGE, NOW) == "on time"


def test_a_clock_without_a_met_field_is_done_rather_than_stopped_when_the_case_moves_on() -> None:
    assert TRIAGE.met_field is None and REPORTER_FEEDBACK.met_field is None
    closed = case_with(S.CLOSED, triage_due_at=NOW + HOUR, reporter_feedback_due_at=NOW + HOUR)
    assert deadline_state(closed, TRIAGE, NOW) == "done"
    assert deadline_state(closed, REPORTER_FEEDBACK, NOW) == "done"


def test_each_clock_names_the_fields_a_row_needs() -> None:
    assert TRIAGE.fields == ("status", "triage_due_at")
    assert REPORTER_FEEDBACK.fields == ("status", "reporter_feedback_due_at")


# --- the query form agrees with the Python form --------------------------------------------------------


@pytest.fixture
def population() -> dict[str, Case]:
    """Every scenario above as its own case, cases due exactly now, and the two the brief names."""
    cases = {f"scenario-{i}": scenario_case(*scenario[:4]) for i, scenario in enumerate(SCENARIOS)}
    cases["waiting, past triage"] = case_with(S.AWAITING_REPORTER, triage_due_at=NOW - HOUR)
    cases["due exactly now"] = case_with(S.REFERRED, reporter_feedback_due_at=NOW)
    cases["triage due exactly now"] = case_with(S.NEW, triage_due_at=NOW)
    cases["closed, past everything"] = case_with(
        S.CLOSED,
        triage_due_at=NOW - FAR,
        reporter_feedback_due_at=NOW - FAR,
    )
    return cases


def selected(q: Any) -> set[int]:
    return set(Case.objects.filter(q).values_list("pk", flat=True))


def test_each_clocks_overdue_query_selects_exactly_the_cases_it_calls_overdue(population: dict[str, Case]) -> None:
    for clock in ALL_CLOCKS:
        by_python = {case.pk for case in population.values() if deadline_state(case, clock, NOW) == "overdue"}
        rows = Case.objects.values("id", *clock.fields)
        by_row = {row["id"] for row in rows if deadline_state(row, clock, NOW) == "overdue"}
        assert by_python, f"the population must hold a case overdue on {clock.key}"
        assert selected(clock.overdue_q(NOW)) == by_python == by_row, clock.key
        assert population["closed, past everything"].pk not in by_python


def test_overdue_q_selects_exactly_the_cases_is_overdue_calls_overdue(population: dict[str, Case]) -> None:
    everyone = set(Case.objects.values_list("pk", flat=True))
    for clocks in (deadlines.HELPLINE_CLOCKS, CASE_PAGE_CLOCKS, ALL_CLOCKS):
        by_python = {case.pk for case in population.values() if is_overdue(case, NOW, clocks)}
        assert selected(overdue_q(NOW, clocks)) == by_python, [clock.key for clock in clocks]
        assert population["waiting, past triage"].pk in by_python
        assert population["closed, past everything"].pk not in by_python
        assert everyone - by_python, "some cases must not be overdue"


def test_overdue_q_and_is_overdue_default_to_the_helpline_clocks(population: dict[str, Case]) -> None:
    assert deadlines.HELPLINE_CLOCKS == (TRIAGE, REPORTER_FEEDBACK)
    by_python = {case.pk for case in population.values() if is_overdue(case, NOW)}
    assert selected(overdue_q(NOW)) == by_python
