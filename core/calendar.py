"""The working-day calendar every clock uses: weekends and England-and-Wales bank holidays."""

from datetime import date, datetime, timedelta
from functools import cache

import holidays
from django.utils import timezone


@cache
def _bank_holidays(year: int) -> holidays.HolidayBase:
    # England's list; Wales shares every bank holiday with it.
    return holidays.country_holidays("GB", subdiv="ENG", years=year)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def working_days_after(start: datetime, days: int) -> datetime:
    """The same local time ``days`` working days later. A start outside working days counts from
    the next working day's start, so a Saturday referral is due at the end of Monday's next day."""
    if days < 1:
        raise ValueError("days must be at least 1")
    # Count in London time, so deadlines keep the clock time across the change to and from summer time.
    moment = timezone.localtime(start) if timezone.is_aware(start) else start
    if not is_working_day(moment.date()):
        moment = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        while not is_working_day(moment.date()):
            moment += timedelta(days=1)
    counted = 0
    while counted < days:
        moment += timedelta(days=1)
        if is_working_day(moment.date()):
            counted += 1
    return moment


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
