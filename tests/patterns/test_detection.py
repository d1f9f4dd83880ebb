"""Detection on seeded histories (manage.py seed_history, then manage.py detect_patterns): each injected
cluster is found, and the same history without it raises nothing; an always-late authority alerts against
the 1 working day standard; an alert dismissed for its weeks is not raised again for them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.core.management import call_command

from accounts.models import User
from oversight import detection, series
from oversight.alerts import alert_dismiss
from oversight.models import PatternAlert
from tests.factories import staff_user
from tests.patterns.kit import LAST_WEEK, NOW, ROTHERHAM, YORKSHIRE, detect_json, open_alerts, seed

pytestmark = [pytest.mark.usefixtures("local_authorities")]

CONCERN = "information_not_shared"
SURGE = {"region": YORKSHIRE, "concern_type": CONCERN}
WEEKS = 30


@pytest.fixture(autouse=True)
def _no_known_step(settings: object) -> None:
    """Seeded histories have no step change at the duty to report's start: none is declared here (a known
    step with few weeks after it shortens every baseline to those weeks; test_known_steps covers them)."""
    settings.PATTERN_KNOWN_EVENTS = []  # type: ignore[attr-defined]


@time_machine.travel(NOW, tick=False)
def test_an_injected_surge_is_found_in_the_last_complete_week(db: None) -> None:
    seed(WEEKS, f"surge:{YORKSHIRE}:{CONCERN}:1:8")
    found = [row for row in detect_json() if row["kind"] == "surge"]
    assert [row["series"] for row in found] == [SURGE]
    alert = found[0]
    assert alert["period"] == {"start": "2026-11-30", "end": "2026-12-06"}
    assert alert["observed"] > alert["threshold"] > alert["expected"]
    assert alert["status"] == "open"


@time_machine.travel(NOW, tick=False)
def test_the_same_history_without_the_surge_raises_nothing(db: None) -> None:
    seed(WEEKS)
    assert detect_json() == []


@time_machine.travel(NOW, tick=False)
def test_a_surge_in_the_current_week_is_not_judged_until_the_week_is_complete(db: None) -> None:
    seed(WEEKS, f"surge:{YORKSHIRE}:{CONCERN}:0:8")
    assert [row for row in detect_json() if row["kind"] == "surge"] == []


@time_machine.travel(NOW, tick=False)
def test_an_authority_that_stops_acknowledging_alerts_against_its_own_history(db: None) -> None:
    seed(WEEKS, f"late:{ROTHERHAM}:2")
    lateness = [row for row in detect_json() if row["kind"] == "authority_lateness"]
    own = [row for row in lateness if "against" not in row["series"]]
    assert [row["series"] for row in own] == [{"authority": ROTHERHAM, "outcome_class": "ack_late"}]
    assert own[0]["method"] == "short_history"


@time_machine.travel(NOW, tick=False)
def test_an_authority_that_was_always_late_alerts_against_the_standard_only(db: None) -> None:
    seed(WEEKS, f"late:{ROTHERHAM}:{WEEKS - 1}")
    lateness = [row for row in detect_json() if row["kind"] == "authority_lateness"]
    # Against its own past nothing has changed; against 1 working day it is late every time.
    assert [row["series"] for row in lateness] == [
        {"authority": ROTHERHAM, "outcome_class": "ack_late", "against": "1_working_day"}
    ]
    alert = lateness[0]
    assert alert["method"] == "standard"
    assert alert["period"] == {"start": "2026-11-09", "end": "2026-12-06"}  # the last 4 complete weeks
    assert alert["observed"] > alert["threshold"]


@time_machine.travel(NOW, tick=False)
def test_an_authority_acknowledging_on_time_does_not_alert_against_the_standard(db: None) -> None:
    # The same steady referrals as above, acknowledged (the late week is this one, not judged yet).
    seed(WEEKS, f"late:{ROTHERHAM}:0")
    assert [row for row in detect_json() if row["kind"] == "authority_lateness"] == []


@time_machine.travel(NOW, tick=False)
def test_an_organisation_in_four_reports_across_three_authorities_alerts(db: None) -> None:
    seed(12, "organisation:Acme Care Ltd:4:3:1", per_week=20)
    found = [row for row in detect_json() if row["kind"] == "organisation"]
    assert len(found) == 1
    assert found[0]["observed"] == 4
    assert len(found[0]["series"]["organisation"]) == 16
    assert found[0]["period"] == {"start": "2026-11-30", "end": "2026-12-06"}


@time_machine.travel(NOW, tick=False)
def test_an_organisation_in_two_reports_does_not(db: None) -> None:
    seed(12, "organisation:Acme Care Ltd:2:2:1", per_week=20)
    assert [row for row in detect_json() if row["kind"] == "organisation"] == []


@time_machine.travel(NOW, tick=False)
def test_running_again_adds_nothing(db: None) -> None:
    seed(WEEKS, f"surge:{YORKSHIRE}:{CONCERN}:1:8", "organisation:Acme Care Ltd:4:3:1")
    first = detection.detect()
    assert len(first.created) == 2
    again = detection.detect()
    assert again.created == [] and len(again.findings) == 2
    assert PatternAlert.objects.count() == 2


def test_a_dismissed_alert_is_not_raised_again_for_its_weeks_but_is_for_a_later_week(db: None) -> None:
    analyst = staff_user("dismissing-analyst", role=User.Role.OVERSIGHT_ANALYST)
    with time_machine.travel(NOW, tick=False):
        seed(WEEKS, f"surge:{YORKSHIRE}:{CONCERN}:2:8", f"surge:{YORKSHIRE}:{CONCERN}:1:8")
    with time_machine.travel(NOW - timedelta(weeks=1), tick=False):  # the week before: week 2 is the last complete
        detection.detect()
        [alert] = open_alerts("surge")
        assert alert.period_start == LAST_WEEK - timedelta(weeks=1)
        alert_dismiss(alert, user=analyst, note="Explained by a national awareness campaign that week")
        detection.detect()
        assert open_alerts("surge") == []  # the same weeks: not again
        assert PatternAlert.objects.get(pk=alert.pk).status == PatternAlert.Status.DISMISSED
    with time_machine.travel(NOW, tick=False):
        detection.detect()
        [later] = open_alerts("surge")
        assert later.period_start == LAST_WEEK and later.series == SURGE
    # The control: without the dismissal, the first run's alert would have been open still.
    assert PatternAlert.objects.filter(kind="surge").count() == 2


def test_known_events_become_step_positions_in_each_series(settings: object) -> None:
    weeks = series.weeks_judged(date(2026, 12, 9), history=20)
    assert weeks.last == LAST_WEEK
    settings.PATTERN_KNOWN_EVENTS = [  # type: ignore[attr-defined]
        (date(2026, 10, 1), "duty to report"),  # a Thursday: its week starts on Monday 28 September
        (date(2020, 1, 1), "before the history: ignored"),
    ]
    position = weeks.index(date(2026, 9, 28))
    assert detection.known_steps(weeks, 0) == [position]
    assert detection.known_steps(weeks, 3) == [position - 3]
    assert detection.known_steps(weeks, position) == []  # at the series' very start: nothing before it


def test_weeks_start_on_monday_and_the_period_is_a_setting(settings: object) -> None:
    assert series.period_start(date(2026, 12, 9)) == date(2026, 12, 7)
    assert series.period_start(date(2026, 12, 6)) == date(2026, 11, 30)
    settings.PATTERN_PERIOD_DAYS = 14  # type: ignore[attr-defined]
    start = series.period_start(date(2026, 12, 9))
    assert start.weekday() == 0 and (date(2026, 12, 9) - start).days < 14


@time_machine.travel(NOW, tick=False)
def test_detect_patterns_prints_the_open_alerts_as_json_with_the_api_fields(db: None) -> None:
    seed(12, "organisation:Acme Care Ltd:4:3:1", per_week=20)
    [row] = detect_json()
    assert set(row) == {"id", "kind", "series", "period", "observed", "expected", "threshold", "method", "status"}
    PatternAlert.objects.update(status=PatternAlert.Status.ACKNOWLEDGED)
    assert detect_json() == []  # open alerts only


def test_detect_patterns_says_what_it_judged(db: None, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("detect_patterns")
    assert "series for the week of" in capsys.readouterr().out


@time_machine.travel(NOW, tick=False)
def test_the_false_alert_budget_counts_every_series_and_the_minimum_count_holds(
    db: None, settings: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(WEEKS, f"surge:{YORKSHIRE}:{CONCERN}:1:8")
    given: list[int] = []
    control = detection.farrington.false_discovery_control

    def spied(assessments: list[detection.farrington.Assessment], *, q: float) -> list[bool]:
        given.append(len(assessments))
        return control(assessments, q=q)

    monkeypatch.setattr(detection.farrington, "false_discovery_control", spied)
    weeks = series.weeks_judged(NOW.date())
    every = len(series.concern_series(weeks)) + len(series.facts_series(weeks)) + len(series.lateness_series(weeks))
    judged, found = detection.statistical_findings(weeks)
    assert given == [judged] and judged == every > 50  # quiet series included
    assert [finding.key for finding in found] == [SURGE]
    settings.PATTERN_MIN_COUNT = 100  # type: ignore[attr-defined]
    assert detection.statistical_findings(weeks)[1] == []
