"""Deadlines as GOV.UK writes them: "by 11:59pm on Monday 7 December 2026", and the time left on a clock.

One filter for every deadline a page shows (``{% load deadlines %}``, then ``{{ due|deadline }}``):

* a deadline at the end of a day (``core.timetrail.day_end``, any time from 23:59) is "11:59pm on
  Monday 7 December 2026": GOV.UK's convention for the end of a day, never "midnight" or "00:00";
* a deadline kept to the day only (local midnight, ``core.timetrail.is_day_only``: a met triage clock, the
  deadline of a missed triage alert), or given as a date, is "Monday 7 December 2026";
* any other deadline keeps its time: "3:15pm on Monday 7 December 2026" ("10am", "midday" as GOV.UK writes
  them).

Options, comma-separated: ``by`` puts "by " in front; ``timed`` is for a deadline that is never kept to the
day (the authority's and its questions' clocks), whose stored midnight (counted before the end-of-day rule)
is the end of the day before: "11:59pm on Monday 7 December 2026", never "8 December 2026 00:00".
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format

register = template.Library()

END_OF_DAY_FROM = time(23, 59)
DAY = "l j F Y"


def clock_time(moment: datetime) -> str:
    """A time of day in GOV.UK style: "3:15pm", "10am", "midday", "12:30am" (midnight itself is never a
    deadline here: see ``deadline``)."""
    if moment.hour == 12 and moment.minute == 0:
        return "midday"
    if moment.hour == 0 and moment.minute == 0:
        return "midnight"
    hour = moment.hour % 12 or 12
    suffix = "am" if moment.hour < 12 else "pm"
    return f"{hour}{suffix}" if moment.minute == 0 else f"{hour}:{moment.minute:02d}{suffix}"


def _moment(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


@register.filter
def deadline(value: object, options: str = "") -> str:
    """A deadline (an aware datetime or its ISO text, or a date) in GOV.UK style; "" for none. See the module."""
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, time.min)  # a day: shown as the day
        options = ",".join(option for option in options.split(",") if option.strip() != "timed")
    moment = _moment(value)
    if moment is None:
        return "" if value in (None, "") else str(value)
    chosen = {option.strip() for option in options.split(",")}
    local = timezone.localtime(moment) if timezone.is_aware(moment) else moment
    if local.time() == time.min and "timed" in chosen:
        local -= timedelta(microseconds=1)  # midnight ends the day before
    if local.time() == time.min:
        text = date_format(local, DAY)
    else:
        shown = "11:59pm" if local.time() >= END_OF_DAY_FROM else clock_time(local)
        text = f"{shown} on {date_format(local, DAY)}"
    return f"by {text}" if "by" in chosen else text


def _duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 1:
        return "less than a minute"
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [(days, "day"), (hours, "hour")] if days else [(hours, "hour"), (minutes, "minute")]
    return " ".join(f"{count} {unit}{'' if count == 1 else 's'}" for count, unit in parts if count)


@register.filter
def time_left(value: object, now: datetime | None = None) -> str:
    """How long a clock has left, in whole minutes (rounded down, so never more than there is):
    "45 minutes left", "1 hour 5 minutes left", "2 days 3 hours left"; once past it, "overdue by 10
    minutes". ``now`` is the page's time (the view's ``now``), else the current time."""
    moment = _moment(value)
    if moment is None:
        return ""
    now = now if isinstance(now, datetime) else timezone.now()
    if moment < now:
        return f"overdue by {_duration(now - moment)}"
    return f"{_duration(moment - now)} left"
