"""When the helpline is staffed, from ``HELPLINE_HOURS`` ("Monday to Friday, 8am to 8pm; Saturday, 9am to
1pm"), closed on England-and-Wales bank holidays (core.calendar). Until a 24/7 rota exists, what the
service promises an urgent report depends on it: inside the hours, a look within the hour; outside them,
when the helpline next opens, and 999, the council's emergency duty team and police 101 first.

The setting is read as people write it: ``;``-separated parts of days ("Monday to Friday", "Saturday",
"Saturday and Sunday") and a span ("8am to 8pm", "9:30am to 1pm"). A setting this cannot read is an error
at the first use, not a silent "always open"."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache

from django.conf import settings
from django.utils import timezone

from core.calendar import _bank_holidays

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_TIME = r"(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm)"
_PART = re.compile(rf"^(?P<days>[a-z ,]+?),?\s+(?P<start>{_TIME})\s*(?:to|-|–)\s*(?P<end>{_TIME})$")


class HoursUnreadable(ValueError):
    """HELPLINE_HOURS is not written in a form this module reads."""


@dataclass(frozen=True)
class Span:
    weekday: int  # Monday 0
    start: time
    end: time


def _time(text: str) -> time:
    match = re.fullmatch(_TIME, text.strip())
    if match is None:
        raise HoursUnreadable(f"not a time: {text!r}")
    hour, minute, half = int(match[1]), int(match[2] or 0), match[3]
    if not 1 <= hour <= 12 or minute > 59:
        raise HoursUnreadable(f"not a time: {text!r}")
    return time(hour % 12 + (12 if half == "pm" else 0), minute)


def _days(text: str) -> list[int]:
    words = text.replace(",", " and ").split(" and ")
    days: list[int] = []
    for word in (w.strip() for w in words if w.strip()):
        if " to " in word:
            first, last = (DAYS.index(d.strip()) if d.strip() in DAYS else -1 for d in word.split(" to ", 1))
            if first < 0 or last < 0 or last < first:
                raise HoursUnreadable(f"not a range of days: {word!r}")
            days += range(first, last + 1)
        elif word in DAYS:
            days.append(DAYS.index(word))
        else:
            raise HoursUnreadable(f"not a day: {word!r}")
    return days


@cache
def spans(text: str) -> tuple[Span, ...]:
    """The opening spans of an hours text, e.g. Monday 08:00–20:00 … Saturday 09:00–13:00."""
    found: list[Span] = []
    for part in (p.strip().lower() for p in text.split(";") if p.strip()):
        match = _PART.match(part)
        if match is None:
            raise HoursUnreadable(f"HELPLINE_HOURS: cannot read {part!r}")
        start, end = _time(match["start"]), _time(match["end"])
        if end <= start:
            raise HoursUnreadable(f"HELPLINE_HOURS: {part!r} ends before it starts")
        found += [Span(day, start, end) for day in _days(match["days"])]
    if not found:
        raise HoursUnreadable("HELPLINE_HOURS names no opening hours")
    return tuple(sorted(found, key=lambda s: (s.weekday, s.start)))


def _closed_all_day(day: date) -> bool:
    return day in _bank_holidays(day.year)


@dataclass(frozen=True)
class HelplineHours:
    text: str  # HELPLINE_HOURS, as the footer says it
    open_now: bool
    # When the helpline next opens (London time); None while it is open.
    next_opening: datetime | None


def helpline_hours(now: datetime | None = None, text: str | None = None) -> HelplineHours:
    """Whether the helpline is open at ``now`` (default: now), and if not, when it next opens."""
    text = settings.HELPLINE_HOURS if text is None else text
    opening = spans(text)
    local = timezone.localtime(now or timezone.now())
    tz = local.tzinfo
    for offset in range(0, 15):  # two weeks always holds an opening, bank holidays included
        day = local.date() + timedelta(days=offset)
        if _closed_all_day(day):
            continue
        for span in (s for s in opening if s.weekday == day.weekday()):
            start = datetime.combine(day, span.start, tzinfo=tz)
            end = datetime.combine(day, span.end, tzinfo=tz)
            if offset == 0 and start <= local < end:
                return HelplineHours(text=text, open_now=True, next_opening=None)
            if start > local:
                return HelplineHours(text=text, open_now=False, next_opening=timezone.localtime(start))
    raise HoursUnreadable("HELPLINE_HOURS: no opening in the next two weeks")


def open_intervals(start: datetime, end: datetime, text: str | None = None) -> list[tuple[datetime, datetime]]:
    """The times the helpline is open between ``start`` and ``end`` (London time, bank holidays closed), each
    cut to that window: what the on-call rota need not cover."""
    text = settings.HELPLINE_HOURS if text is None else text
    opening = spans(text)
    first, last = timezone.localtime(start), timezone.localtime(end)
    tz = first.tzinfo
    found: list[tuple[datetime, datetime]] = []
    day = first.date()
    while day <= last.date():
        if not _closed_all_day(day):
            for span in (s for s in opening if s.weekday == day.weekday()):
                opens = max(timezone.make_aware(datetime.combine(day, span.start)), first)
                closes = min(timezone.make_aware(datetime.combine(day, span.end)), last)
                if opens < closes:
                    found.append((opens.astimezone(tz), closes.astimezone(tz)))
        day += timedelta(days=1)
    return found
