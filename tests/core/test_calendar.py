"""The one working-day rule every clock uses (core.calendar.working_days_after): a clock of N working days
ends at the end of the Nth working day after the London day the thing arrived, whatever day that was and
whatever time of it."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from core.calendar import is_working_day, working_days_after

LONDON = ZoneInfo("Europe/London")
UTC = ZoneInfo("UTC")


def end_of(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=LONDON)


# A week in November 2026 with no bank holiday in or after it.
WEEK = [
    (date(2026, 11, 9), "Monday", date(2026, 11, 10)),
    (date(2026, 11, 10), "Tuesday", date(2026, 11, 11)),
    (date(2026, 11, 11), "Wednesday", date(2026, 11, 12)),
    (date(2026, 11, 12), "Thursday", date(2026, 11, 13)),
    (date(2026, 11, 13), "Friday", date(2026, 11, 16)),
    (date(2026, 11, 14), "Saturday", date(2026, 11, 16)),
    (date(2026, 11, 15), "Sunday", date(2026, 11, 16)),
]


@pytest.mark.parametrize(("arrived", "weekday", "due"), WEEK, ids=[weekday for _, weekday, _ in WEEK])
@pytest.mark.parametrize("at", [time(0, 0), time(0, 30), time(9, 0), time(17, 45), time(23, 59, 59, 999999)])
def test_one_working_day_ends_at_the_end_of_the_next_working_day_after_the_day_it_arrived(
    arrived: date, weekday: str, due: date, at: time
) -> None:
    assert f"{arrived:%A}" == weekday
    assert working_days_after(datetime.combine(arrived, at, tzinfo=LONDON), 1) == end_of(due)


@pytest.mark.parametrize(("arrived", "weekday", "due"), WEEK, ids=[weekday for _, weekday, _ in WEEK])
def test_a_day_counts_as_the_day_it_arrived_given_as_a_date(arrived: date, weekday: str, due: date) -> None:
    assert working_days_after(arrived, 1) == end_of(due)


@pytest.mark.parametrize(
    ("arrived", "days", "due"),
    [
        (date(2026, 11, 15), 2, date(2026, 11, 17)),  # Sunday + 2: Tuesday, never Wednesday
        (date(2026, 11, 14), 3, date(2026, 11, 18)),  # Saturday + 3: Wednesday
        (date(2026, 11, 11), 2, date(2026, 11, 13)),  # Wednesday + 2: Friday
        (date(2026, 11, 12), 2, date(2026, 11, 16)),  # Thursday + 2: Monday
        (date(2026, 11, 13), 3, date(2026, 11, 18)),  # Friday + 3: Wednesday
    ],
)
def test_n_working_days_are_counted_from_the_day_after_the_day_it_arrived(arrived: date, days: int, due: date) -> None:
    assert working_days_after(datetime.combine(arrived, time(14, 0), tzinfo=LONDON), days) == end_of(due)


@pytest.mark.parametrize(
    ("arrived", "days", "due"),
    [
        (date(2026, 8, 31), 1, date(2026, 9, 1)),  # the summer bank holiday (a Monday): the end of Tuesday
        (date(2026, 8, 29), 1, date(2026, 9, 1)),  # the Saturday before it: the end of Tuesday too
        (date(2026, 8, 28), 1, date(2026, 9, 1)),  # the Friday before it: the bank holiday is skipped
        (date(2026, 4, 2), 1, date(2026, 4, 7)),  # Thursday before Easter: Good Friday and Easter Monday skipped
        (date(2026, 4, 3), 1, date(2026, 4, 7)),  # Good Friday itself
        (date(2026, 12, 24), 1, date(2026, 12, 29)),  # Christmas Day and Boxing Day's substitute (Monday 28th)
        (date(2026, 12, 25), 2, date(2026, 12, 30)),
        (date(2026, 3, 2), 45, date(2026, 5, 7)),  # past Easter and the early May bank holiday
    ],
)
def test_bank_holidays_are_not_working_days(arrived: date, days: int, due: date) -> None:
    assert working_days_after(datetime.combine(arrived, time(10, 0), tzinfo=LONDON), days) == end_of(due)


def test_the_day_is_the_london_day_whatever_zone_the_moment_is_given_in() -> None:
    # 23:30 UTC on Wednesday 10 June 2026 is 00:30 on Thursday 11 June in London (BST): the end of Friday.
    assert working_days_after(datetime(2026, 6, 10, 23, 30, tzinfo=UTC), 1) == end_of(date(2026, 6, 12))
    # 23:30 UTC on Friday 13 November (GMT) is still Friday in London: the end of Monday.
    assert working_days_after(datetime(2026, 11, 13, 23, 30, tzinfo=UTC), 1) == end_of(date(2026, 11, 16))


def test_the_deadline_is_the_end_of_the_day_in_london_time_in_summer_and_winter() -> None:
    summer = working_days_after(datetime(2026, 7, 1, 9, 0, tzinfo=LONDON), 1)
    winter = working_days_after(datetime(2026, 1, 7, 9, 0, tzinfo=LONDON), 1)
    assert summer.astimezone(UTC) == datetime(2026, 7, 2, 22, 59, 59, tzinfo=UTC)  # 23:59:59 BST
    assert winter.astimezone(UTC) == datetime(2026, 1, 8, 23, 59, 59, tzinfo=UTC)  # 23:59:59 GMT


def test_the_arrival_day_is_never_counted() -> None:
    from core.calendar import nth_working_day_after

    assert nth_working_day_after(date(2026, 11, 11), 1) == date(2026, 11, 12)
    assert is_working_day(date(2026, 11, 11)) and not is_working_day(date(2026, 11, 15))
    assert not is_working_day(date(2026, 8, 31))


def test_a_clock_has_at_least_one_working_day() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        working_days_after(datetime(2026, 11, 11, 9, 0, tzinfo=LONDON), 0)
