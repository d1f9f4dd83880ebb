"""Deadlines as GOV.UK writes them (core/templatetags/deadlines.py): "by 11:59pm on Monday 7 December 2026",
never "00:00"; exact clocks with their time; the time left on a clock."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template

from core.calendar import working_days_after
from core.templatetags.deadlines import clock_time, deadline, time_left
from core.timetrail import day_end, day_start

LONDON = ZoneInfo("Europe/London")
UTC = ZoneInfo("UTC")


def test_a_deadline_at_the_end_of_a_day_is_11_59pm_on_that_day() -> None:
    due = day_end(datetime(2026, 12, 7, 9, 0, tzinfo=LONDON))
    assert deadline(due) == "11:59pm on Monday 7 December 2026"
    assert deadline(due, "by") == "by 11:59pm on Monday 7 December 2026"
    # Whatever zone it comes in (the database gives UTC), and in summer time too.
    assert deadline(due.astimezone(UTC), "by") == "by 11:59pm on Monday 7 December 2026"
    assert deadline(day_end(datetime(2026, 6, 1, tzinfo=LONDON))) == "11:59pm on Monday 1 June 2026"


def test_a_working_day_clock_reads_as_the_end_of_its_day() -> None:
    # A Sunday report: one working day is the end of Monday.
    due = working_days_after(datetime(2026, 12, 6, 15, 0, tzinfo=LONDON), 1)
    assert deadline(due, "by") == "by 11:59pm on Monday 7 December 2026"


def test_a_stored_midnight_deadline_of_a_timed_clock_is_the_end_of_the_day_before() -> None:
    """A deadline counted before the end-of-day rule (a weekend referral: Monday's midnight start plus a
    working day) is stored as midnight on the 8th: it is the end of the 7th, never "8 December 2026 00:00"."""
    midnight = datetime(2026, 12, 8, 0, 0, tzinfo=LONDON)
    assert deadline(midnight, "by,timed") == "by 11:59pm on Monday 7 December 2026"
    assert deadline(midnight.astimezone(UTC), "timed") == "11:59pm on Monday 7 December 2026"


def test_a_deadline_kept_to_the_day_shows_the_day_only() -> None:
    """A met triage clock keeps the day only (core.timetrail.day_start): the day, with no clock time."""
    assert deadline(day_start(datetime(2026, 12, 7, 15, 15, tzinfo=LONDON))) == "Monday 7 December 2026"
    assert deadline(day_start(datetime(2026, 12, 7, 15, 15, tzinfo=LONDON)), "by") == "by Monday 7 December 2026"


@pytest.mark.parametrize(
    ("hour", "minute", "shown"),
    [
        (15, 15, "3:15pm"),
        (10, 0, "10am"),
        (9, 5, "9:05am"),
        (12, 0, "midday"),
        (12, 30, "12:30pm"),
        (0, 30, "12:30am"),
        (23, 30, "11:30pm"),
    ],
)
def test_an_exact_clock_keeps_its_time_in_gov_uk_style(hour: int, minute: int, shown: str) -> None:
    due = datetime(2026, 12, 7, hour, minute, 12, tzinfo=LONDON)
    assert clock_time(due) == shown
    assert deadline(due, "by") == f"by {shown} on Monday 7 December 2026"


def test_the_urgent_one_hour_clock_shows_its_time() -> None:
    sent = datetime(2026, 7, 6, 14, 15, 42, tzinfo=LONDON)
    assert deadline((sent + timedelta(hours=1)).astimezone(UTC), "by") == "by 3:15pm on Monday 6 July 2026"


def test_a_deadline_given_as_a_date_is_that_day() -> None:
    assert deadline(date(2026, 12, 7)) == "Monday 7 December 2026"
    assert deadline(date(2026, 12, 7), "by,timed") == "by Monday 7 December 2026"


def test_no_deadline_is_empty_and_an_iso_text_is_read() -> None:
    assert deadline(None) == ""
    assert deadline("") == ""
    assert deadline("2026-12-07T23:59:59+00:00") == "11:59pm on Monday 7 December 2026"
    assert deadline("2026-12-07T00:00:00+00:00") == "Monday 7 December 2026"


@pytest.mark.parametrize(
    ("delta", "shown"),
    [
        (timedelta(minutes=45), "45 minutes left"),
        (timedelta(minutes=45, seconds=59), "45 minutes left"),  # rounded down: never more than there is
        (timedelta(minutes=1), "1 minute left"),
        (timedelta(seconds=20), "less than a minute left"),
        (timedelta(hours=1), "1 hour left"),
        (timedelta(hours=1, minutes=5), "1 hour 5 minutes left"),
        (timedelta(hours=23, minutes=59), "23 hours 59 minutes left"),
        (timedelta(days=2, hours=3, minutes=10), "2 days 3 hours left"),
        (timedelta(days=1), "1 day left"),
        (timedelta(minutes=-10), "overdue by 10 minutes"),
        (timedelta(hours=-2, minutes=-1), "overdue by 2 hours 1 minute"),
        (timedelta(seconds=-5), "overdue by less than a minute"),
    ],
)
def test_the_time_left_on_a_clock(delta: timedelta, shown: str) -> None:
    now = datetime(2026, 12, 7, 14, 30, tzinfo=LONDON)
    assert time_left(now + delta, now) == shown


def test_templates_load_the_filters() -> None:
    now = datetime(2026, 12, 7, 14, 30, tzinfo=LONDON)
    rendered = Template("{% load deadlines %}{{ due|deadline:'by' }}; {{ soon|time_left:now }}").render(
        Context({"due": day_end(now), "soon": now + timedelta(minutes=45), "now": now})
    )
    assert rendered == "by 11:59pm on Monday 7 December 2026; 45 minutes left"
