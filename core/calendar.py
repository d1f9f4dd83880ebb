"""The working-day calendar every clock uses: weekends and England-and-Wales bank holidays.

One rule for every clock counted in working days: a clock of N working days ends at the end of the Nth
working day after the (London) day the thing arrived, whatever day that was. Sent on a Sunday or a
Saturday, or on a Friday: the end of Monday; on a Wednesday: the end of Thursday; on a bank-holiday
Monday: the end of Tuesday. The end of a day is ``core.timetrail.day_end`` (23:59:59 London time), the
one representation every deadline counted in whole days is stored in.
"""

from datetime import date, datetime, timedelta
from functools import cache

import holidays
from django.utils import timezone

from core.timetrail import day_end


@cache
def _bank_holidays(year: int) -> holidays.HolidayBase:
    # England's list; Wales shares every bank holiday with it.
    return holidays.country_holidays("GB", subdiv="ENG", years=year)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def nth_working_day_after(day: date, days: int) -> date:
    """The ``days``-th working day after ``day`` (``day`` itself is never counted, working or not)."""
    if days < 1:
        raise ValueError("days must be at least 1")
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return day


def working_days_after(start: datetime | date, days: int) -> datetime:
    """The end (``day_end``) of the ``days``-th working day after the London day of ``start``: the time
    of day ``start`` arrived at does not matter, nor whether that day was a working day."""
    arrived = timezone.localdate(start) if isinstance(start, datetime) and timezone.is_aware(start) else start
    if isinstance(arrived, datetime):  # a naive datetime is taken as London time already
        arrived = arrived.date()
    return day_end(nth_working_day_after(arrived, days))


def add_months(start: datetime, months: int) -> datetime:
    """Calendar months, clamped to the month's last day (31 January + 1 month = 28/29 February)."""
    start = timezone.localtime(start) if timezone.is_aware(start) else start
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    for day in (start.day, 30, 29, 28):
        try:
            return start.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise ValueError("unreachable")
