"""Identifiers and deadlines for seeded rows, made by the services' own code.

Seeded cases must be indistinguishable from routed ones, so nothing here has rules of its own: references
and case numbers come from core.identifiers (drawn with a seeded ``random.Random`` rather than
``secrets``), and every deadline is the answer of a function in triage.deadlines. The only addition is
speed: the working-day calendar is walked once per date and rule rather than once per row, which is what
makes a million rows take minutes, and the cache is checked against the rule as it goes.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from functools import cache

from django.core.management.base import CommandError
from django.utils import timezone

from core import identifiers
from triage import deadlines

# The alphabets seeded identifiers are drawn from: the services' own. They are names of this module so
# that a test can shrink them and force the clashes the bulk writer must resolve.
REFERENCE_ALPHABET = identifiers.REFERENCE_ALPHABET
CASE_NUMBER_ALPHABET = identifiers.CASE_NUMBER_ALPHABET


def _drawn_from(alphabet: str, rng: random.Random) -> Callable[[str], str]:
    """The ``choice`` function for core.identifiers: a seeded pick from ``alphabet`` (the services' own
    unless a test shrank it)."""
    return lambda _offered: rng.choice(alphabet)


def reference(rng: random.Random) -> str:
    """A report reference as report_submit makes one: core.identifiers.new_reference."""
    return identifiers.new_reference(choice=_drawn_from(REFERENCE_ALPHABET, rng))


def case_number(rng: random.Random, year: int) -> str:
    """A case number as report_route makes one: core.identifiers.new_case_number."""
    return identifiers.new_case_number(year, choice=_drawn_from(CASE_NUMBER_ALPHABET, rng))


# --- deadlines --------------------------------------------------------------------------------------

Rule = Callable[[datetime], datetime]
_calls = itertools.count()
SPOT_CHECK_EVERY = 1000
HALF_DAY = timedelta(hours=12)


@cache
def _day_rule(rule: Rule, day: date) -> tuple[timedelta | None, datetime | None]:
    """How ``rule`` treats starts on ``day`` (a date in the calendar's time zone, London), found by
    calling it at midnight and at noon: a whole number of days later at the same clock time (a working
    day), one fixed moment whatever the time (a weekend or bank holiday), or neither (no shortcut: the
    rule is called for every start)."""
    zone = timezone.get_current_timezone()
    midnight = datetime(day.year, day.month, day.day, tzinfo=zone)
    noon = datetime(day.year, day.month, day.day, 12, tzinfo=zone)
    at_midnight, at_noon = rule(midnight), rule(noon)
    wall_midnight = timezone.localtime(at_midnight, zone).replace(tzinfo=None)
    wall_noon = timezone.localtime(at_noon, zone).replace(tzinfo=None)
    if wall_midnight.time() == time.min and wall_noon - wall_midnight == HALF_DAY:
        return timedelta(days=(wall_midnight.date() - day).days), None
    if at_noon == at_midnight:
        return None, at_midnight
    return None, None


def cached_deadline(rule: Rule, start: datetime) -> datetime:
    """``rule(start)``, with the working-day calendar walked once per date rather than once per row.
    Every thousandth call is checked against the rule itself, so a rule whose shape the cache does not
    understand stops the run instead of seeding wrong deadlines."""
    local = timezone.localtime(start)
    shift, fixed = _day_rule(rule, local.date())
    if shift is not None:
        due = local + shift  # wall-clock arithmetic, as the calendar does: same clock time, N days on
    elif fixed is not None:
        due = fixed
    else:
        return rule(start)
    # Compared by subtraction: == never matches a time in a clock-change gap against another zone (PEP 495).
    if next(_calls) % SPOT_CHECK_EVERY == 0 and due - rule(start) != timedelta(0):
        raise CommandError(f"the cached deadline {due} for {start} differs from {rule.__name__}: fix devdata.seeding")
    return due


def standard_triage_due(start: datetime) -> datetime:
    """deadlines.triage_due for a standard case, as a one-argument rule the cache can key on."""
    return deadlines.triage_due(start, urgent=False)


def triage_due(start: datetime, *, urgent: bool) -> datetime:
    """deadlines.triage_due: urgent cases directly (a fixed interval, nothing to cache), others cached."""
    if urgent:
        return deadlines.triage_due(start, urgent=True)
    return cached_deadline(standard_triage_due, start)
