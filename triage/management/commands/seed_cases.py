"""Seed many realistic, encrypted reports with their routed cases, fast (development and benchmarks only).

    manage.py seed_cases --count 1000000 [--batch 20000] [--open-fraction 0.1] [--keys 8] [--writers 2]

Rows go in with binary PostgreSQL COPY (psycopg 3), a batch per transaction, oldest first so that ids and
the rows' places on disk follow time as in a live system. One thread plans rows while two connections
write batches. About 5,500 cases a second on the shared 2-core machine (a million in about three
minutes, four when the machine is busy). Refused in production.

Every report's content is sealed with secretbox like a real one, but under one of a small pool of data
keys: each pooled key is sealed to the helpline's public key and wrapped with its own access code once,
and those envelopes are shared by every report sealed under that key (the access codes are printed at
the end). Nothing else is shortened: metadata, routing (routing.decide), queues and deadlines (the
routing rules, walked once per date) are as report_submit + report_route and the staff actions would
leave them. References and case numbers use the services' alphabets and are checked against the
tables and the batches in flight. Seeded cases have no audit events, escalation rows, messages or
referral rows: the audit hash chain is untouched. The tables are analysed at the end.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import queue
import random
import threading
import time as clock
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, models, transaction
from django.utils import timezone

from accounts.models import User
from core import crypto
from core.identifiers import CASE_NUMBER_ALPHABET, REFERENCE_ALPHABET
from directory.models import LocalAuthority
from reports.models import Anonymity, Channel, ConcernType, RaisedInternally, Report, ReporterSector
from triage import deadlines, routing
from triage.intake import queue_for, settings_regional_queues
from triage.models import AuthorityOutcome, Case, Outcome

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)

SEED_STAFF = [(f"seed-handler-{n:02d}", User.Role.CALL_HANDLER) for n in range(1, 9)] + [
    (f"seed-supervisor-{n:02d}", User.Role.SUPERVISOR) for n in range(1, 3)
]

YEARS = 3
# Reports arrive evenly over the last YEARS years. A case is still open with a probability that decays
# with its age (exp(-age / tau), tau set so that the expected open share is --open-fraction), and what
# an open case is doing depends on its age: (older than this many days, [(status, weight), ...]).
OPEN_BY_AGE: list[tuple[float, list[tuple[str, float]]]] = [
    (30, [(Case.Status.AWAITING_REPORTER, 0.15), (Case.Status.REFERRED, 0.60), (Case.Status.NATIONAL_REVIEW, 0.25)]),
    (
        5,
        [
            (Case.Status.IN_TRIAGE, 0.10),
            (Case.Status.AWAITING_REPORTER, 0.25),
            (Case.Status.REFERRED, 0.50),
            (Case.Status.NATIONAL_REVIEW, 0.15),
        ],
    ),
    (
        1,
        [
            (Case.Status.NEW, 0.10),
            (Case.Status.IN_TRIAGE, 0.50),
            (Case.Status.AWAITING_REPORTER, 0.25),
            (Case.Status.REFERRED, 0.15),
        ],
    ),
    (0, [(Case.Status.NEW, 0.60), (Case.Status.IN_TRIAGE, 0.40)]),
]
OUTCOMES: list[tuple[str, float]] = [
    (Outcome.REFERRED_AND_ACTED_ON, 0.35),
    (Outcome.SUBSTANTIATED, 0.10),
    (Outcome.PARTLY_SUBSTANTIATED, 0.10),
    (Outcome.NOT_SUBSTANTIATED, 0.15),
    (Outcome.DUPLICATE, 0.08),
    (Outcome.NO_FURTHER_ACTION, 0.12),
    (Outcome.WITHDRAWN, 0.10),
]
REFERRED_OUTCOMES = frozenset(
    {Outcome.REFERRED_AND_ACTED_ON, Outcome.SUBSTANTIATED, Outcome.PARTLY_SUBSTANTIATED, Outcome.NOT_SUBSTANTIATED}
)
CHANNELS = [(Channel.WEB, 0.85), (Channel.PHONE, 0.12), (Channel.API, 0.03)]
ANONYMITY = [(Anonymity.ANONYMOUS, 0.55), (Anonymity.CONFIDENTIAL, 0.30), (Anonymity.NAMED, 0.15)]
SECTORS = [
    (ReporterSector.CHILDRENS_SOCIAL_CARE, 0.25),
    (ReporterSector.EDUCATION, 0.20),
    (ReporterSector.POLICE, 0.10),
    (ReporterSector.HEALTH, 0.12),
    (ReporterSector.LOCAL_COUNCIL, 0.10),
    (ReporterSector.ELECTED_MEMBER, 0.03),
    (ReporterSector.VOLUNTARY_SECTOR, 0.10),
    (ReporterSector.OTHER, 0.10),
]
RAISED = [(RaisedInternally.YES, 0.55), (RaisedInternally.NO, 0.30), (RaisedInternally.NOT_SURE, 0.15)]
CONCERN_COUNTS = [(1, 0.5), (2, 0.35), (3, 0.15)]
UNKNOWN_AUTHORITY = 0.03
INDEPENDENT_REVIEW = 0.05
URGENT = 0.08

# Neutral filler, as in the benchmark: nothing seeded reads like a real concern.
WORDS = (  # noqa: SIM905 - a word list reads better as one string
    "meeting record review team manager email policy school referral note office week follow agenda training "
    "rota budget minutes report letter process summary visit plan action staff council board audit form date "
    "update response notice procedure question answer folder"
).split()
PLACES = [
    "Northside",
    "Riverside",
    "Hillcrest",
    "Oakfield",
    "Brookvale",
    "Westgate",
    "Eastbrook",
    "Southmead",
    "Highfield",
    "Lowfield",
]
KINDS = [
    "Children's Home",
    "Academy",
    "Primary School",
    "Children's Services",
    "Youth Club",
    "Foster Care Agency",
    "Health Centre",
    "Sports Club",
    "Community Centre",
    "Residential School",
]


class _Weighted:
    """Weighted choice by table lookup (weights rounded to 1/resolution): far cheaper per pick than
    random.choices, which matters a million times over."""

    def __init__(self, pairs: Sequence[tuple[Any, float]], resolution: int = 4096) -> None:
        total = sum(weight for _, weight in pairs)
        self.table: list[Any] = []
        for value, weight in pairs:
            self.table += [value] * max(1, round(weight / total * resolution))
        self.size = len(self.table)

    def pick(self, rng: random.Random) -> Any:
        return self.table[int(rng.random() * self.size)]


# --- deadlines --------------------------------------------------------------------------------------

Rule = Callable[[datetime], datetime]
_calls = itertools.count()
SPOT_CHECK_EVERY = 1000


@cache
def _day_rule(rule: Rule, day: date) -> tuple[timedelta | None, datetime | None]:
    """How ``rule`` treats starts on ``day`` (a date in the calendar's time zone, London): a whole
    number of days later at the same clock time (a working day), one fixed moment whatever the time
    (a weekend or bank holiday), or neither (no shortcut: the rule is called for every start)."""
    zone = timezone.get_current_timezone()
    midnight = datetime(day.year, day.month, day.day, tzinfo=zone)
    noon = datetime(day.year, day.month, day.day, 12, tzinfo=zone)
    at_midnight, at_noon = rule(midnight), rule(noon)
    wall_midnight = timezone.localtime(at_midnight, zone).replace(tzinfo=None)
    wall_noon = timezone.localtime(at_noon, zone).replace(tzinfo=None)
    if wall_midnight.time() == time.min and wall_noon - wall_midnight == 12 * HOUR:
        return timedelta(days=(wall_midnight.date() - day).days), None
    if at_noon == at_midnight:
        return None, at_midnight
    return None, None


def cached_deadline(rule: Rule, start: datetime) -> datetime:
    """``rule(start)``, with the working-day calendar walked once per date rather than once per row.
    Every thousandth call is checked against the rule itself."""
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
        raise CommandError(f"the cached deadline {due} for {start} differs from {rule.__name__}: fix seed_cases")
    return due


def standard_triage_due(start: datetime) -> datetime:
    return deadlines.triage_due(start, urgent=False)


def triage_due(start: datetime, *, urgent: bool) -> datetime:
    if urgent:
        return deadlines.triage_due(start, urgent=True)
    return cached_deadline(standard_triage_due, start)


# --- the key pool -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PooledKey:
    """A data key with its two envelopes, shared by every seeded report sealed under it."""

    data_key: bytes
    access_code: str
    helpline_key_id: str
    helpline_sealed_key: bytes
    wrap: crypto.ReporterWrap


def key_pool(size: int) -> list[PooledKey]:
    pool = []
    for _ in range(size):
        data_key = crypto.new_data_key()
        code = crypto.generate_access_code()
        key_id, sealed = crypto.seal_key_for_helpline(data_key)
        pool.append(PooledKey(data_key, code, key_id, sealed, crypto.wrap_key_for_reporter(data_key, code)))
    return pool


# --- COPY targets -----------------------------------------------------------------------------------


class _Table:
    """A model's table as COPY sees it: every column the database has, in model order. Values not given
    per row take the field's default; a required column without one stops the run before it starts."""

    def __init__(self, model: type[models.Model], given: Iterable[str]) -> None:
        table = model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT attname, format_type(atttypid, NULL) FROM pg_attribute "
                "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                [table],
            )
            types = dict(cursor.fetchall())
        fields = [f for f in model._meta.concrete_fields if str(f.column) in types]
        given = set(given)
        missing = [f.name for f in fields if f.attname not in given and not f.null and f.get_default() is None]
        if missing:
            raise CommandError(f"seed_cases does not know how to fill {table}.{', '.join(missing)}: update it.")
        self.table = table
        self.attnames = [f.attname for f in fields]
        self.defaults = {f.attname: (None if f.null else f.get_default()) for f in fields}
        # Binary COPY: bytea goes as it is (no hex), and dumping is cheaper on both sides.
        self.types = [types[str(f.column)] for f in fields]
        qn = connection.ops.quote_name
        columns = ", ".join(qn(str(f.column)) for f in fields)
        self.copy_sql = f"COPY {qn(table)} ({columns}) FROM STDIN (FORMAT BINARY)"
        self.sequence_sql = f"pg_get_serial_sequence('{table}', 'id')"

    def row(self, values: dict[str, Any]) -> tuple[Any, ...]:
        defaults = self.defaults
        return tuple(values[name] if name in values else defaults[name] for name in self.attnames)

    def reserve_ids(self, count: int) -> list[int]:
        """``count`` ids from the table's own sequence, so concurrent inserts never collide with ours."""
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT nextval({self.sequence_sql}) FROM generate_series(1, %s)", [count])  # noqa: S608
            return [row[0] for row in cursor.fetchall()]

    def copy(self, rows: Iterable[tuple[Any, ...]]) -> None:
        with connection.cursor() as cursor, cursor.copy(self.copy_sql) as copy:
            copy.set_types(self.types)
            for row in rows:
                copy.write_row(row)

    def sequence_check(self) -> None:
        """The sequence must be past every id (ours came from it; an explicit id from elsewhere may not)."""
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT setval(seq, top) FROM (SELECT {self.sequence_sql} AS seq, "  # noqa: S608
                f"(SELECT max(id) FROM {self.table}) AS top) AS t "
                "WHERE top > COALESCE(pg_sequence_last_value(seq::regclass), 0)"
            )


REPORT_FIELDS = (
    "id",
    "reference",
    "channel",
    "anonymity",
    "reporter_sector",
    "concern_types",
    "local_authority_id",
    "about_authority_id",
    "child_at_immediate_risk",
    "raised_internally",
    "organisation_hash",
    "has_contact_email",
    "status",
    "submitted_at",
    "content",
    "helpline_key_id",
    "helpline_sealed_key",
    "reporter_kdf_salt",
    "reporter_kdf_opslimit",
    "reporter_kdf_memlimit",
    "reporter_wrapped_key",
)
CASE_FIELDS = (
    "id",
    "case_number",
    "report_id",
    "authority_id",
    "conflict_authority_id",
    "independent_review",
    "priority",
    "status",
    "queue_id",
    "assignee_id",
    "created_at",
    "triage_due_at",
    "reporter_feedback_due_at",
    "referred_at",
    "authority_ack_due_at",
    "authority_outcome_due_at",
    "authority_ack_escalate_at",
    "authority_outcome_escalate_at",
    "authority_acknowledged_at",
    "authority_outcome",
    "authority_outcome_at",
    "closed_at",
    "outcome",
    "escalated",
    "escalated_to_police",
)


# --- generating rows --------------------------------------------------------------------------------


def _json(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def reference(rng: random.Random) -> str:
    """A reference as reports.services.new_reference makes them (same alphabet and shape)."""
    chars = "".join(rng.choices(REFERENCE_ALPHABET, k=8))
    return f"{chars[:4]}-{chars[4:]}"


def case_number(rng: random.Random, year: int) -> str:
    """A case number as triage.services.new_case_number makes them (same alphabet and shape)."""
    return f"{year}-" + "".join(rng.choices(CASE_NUMBER_ALPHABET, k=6))


@dataclass
class _Planned:
    report: dict[str, Any]
    case: dict[str, Any]


class _Generator:
    """Plans rows without touching the database (it may run in a thread of its own)."""

    def __init__(self, *, pool: list[PooledKey], open_fraction: float, now: datetime) -> None:
        self.rng = random.Random()  # noqa: S311 - synthetic data; nothing here is a secret
        self.pool = pool
        self.now = now
        authorities = list(LocalAuthority.objects.order_by("gss_code").values_list("pk", "gss_code", "region"))
        if not authorities:
            raise CommandError("No local authorities: run `manage.py load_local_authorities` first.")
        self.authority_by_code = {code: pk for pk, code, _ in authorities}
        # Uneven, as real volumes are: a few authorities get many more reports than most.
        weights = [1 / (rank + 1) ** 0.6 for rank in range(len(authorities))]
        self.rng.shuffle(weights)
        self.authorities = _Weighted(list(zip(authorities, weights, strict=True)), resolution=16384)
        self.regional = frozenset(settings_regional_queues())
        # Every queue routing can choose, made now: nothing below may query the database.
        slugs = {"urgent", "national"} | {
            routing.queue_slug(urgent=False, region=region, regional_queues=self.regional) for region in self.regional
        }
        self.queue_ids = {slug: queue_for(slug).pk for slug in slugs}
        self.staff = [user.pk for user in _seed_staff()]
        self.channels = _Weighted(CHANNELS)
        self.anonymity = _Weighted(ANONYMITY)
        self.sectors = _Weighted(SECTORS)
        self.raised = _Weighted(RAISED)
        self.concern_counts = _Weighted(CONCERN_COUNTS)
        self.concern_types = list(ConcernType.values)
        self.span_days = YEARS * 365.0
        self.open_tau = _open_tau(open_fraction, self.span_days)
        self.open_by_age = [(days, _Weighted(statuses)) for days, statuses in OPEN_BY_AGE]
        self.outcomes = _Weighted(OUTCOMES)
        self.authority_outcomes = list(AuthorityOutcome.values)
        # The sealed content is JSON as crypto.seal_content writes it, assembled from pieces encoded once.
        self.organisations = [(_json(name), crypto.organisation_hash(name)) for name in _organisation_names()]
        self.summaries = [_json("Seeded: " + self._text(20, 90)) for _ in range(512)]
        self.details = [_json(self._text(120, 1200)) for _ in range(512)]
        self.responses = [_json("")] * 200 + [_json(self._text(20, 300)) for _ in range(312)]

    def _text(self, low: int, high: int) -> str:
        target = self.rng.randint(low, high)
        words: list[str] = []
        length = 0
        while length < target:
            word = self.rng.choice(WORDS)
            words.append(word)
            length += len(word) + 1
        return " ".join(words)[:high].strip().capitalize() + "."

    def at_most_now(self, moment: datetime, *, after: datetime) -> datetime:
        if moment < self.now:
            return moment
        return after + (self.now - after) * self.rng.uniform(0.5, 0.99)

    def plan(self, age: float) -> _Planned:
        """One report and its case, submitted ``age`` days ago."""
        rng = self.rng
        key = self.pool[int(rng.random() * len(self.pool))]
        anonymity = self.anonymity.pick(rng)
        authority = None if rng.random() < UNKNOWN_AUTHORITY else self.authorities.pick(rng)
        about = None
        if rng.random() < INDEPENDENT_REVIEW:
            # Usually a concern about the reporter's own council; sometimes about another one.
            about = authority if authority is not None and rng.random() < 0.7 else self.authorities.pick(rng)
        urgent_risk = rng.random() < URGENT
        concern_types = sorted(rng.sample(self.concern_types, self.concern_counts.pick(rng)))
        decision = routing.decide(
            routing.RoutingFacts(
                child_at_immediate_risk=urgent_risk,
                concern_types=tuple(concern_types),
                authority_code=authority[1] if authority else None,
                about_authority_code=about[1] if about else None,
                region=authority[2] if authority else None,
            ),
            regional_queues=self.regional,
        )
        organisation, organisation_hash = (
            self.organisations[int(rng.random() * len(self.organisations))] if rng.random() < 0.85 else ('""', "")
        )
        has_email = anonymity != Anonymity.ANONYMOUS and rng.random() < 0.6
        name = email = phone = ""
        if anonymity != Anonymity.ANONYMOUS:
            # Letters, digits, spaces, "@" and "." only: nothing to escape in JSON.
            name = f"Seeded Reporter {int(rng.random() * 10**6)}"
            if has_email:
                email = f"reporter{int(rng.random() * 10**9)}@example.com"
            if rng.random() < 0.3:
                phone = f"07700 9{int(rng.random() * 10**5):05d}"
        content = (
            f'{{"summary":{self.summaries[int(rng.random() * 512)]},'
            f'"details":{self.details[int(rng.random() * 512)]},'
            f'"organisation_name":{organisation},'
            f'"internal_response":{self.responses[int(rng.random() * 512)]},'
            f'"contact":{{"name":"{name}","email":"{email}","phone":"{phone}"}}}}'
        )
        case = self._case(decision, age=age, independent=decision.independent_review)
        submitted_at = case.pop("submitted_at")
        case["case_number"] = case_number(rng, submitted_at.year)
        report = {
            "reference": reference(rng),
            "channel": self.channels.pick(rng),
            "anonymity": anonymity,
            "reporter_sector": self.sectors.pick(rng),
            "concern_types": concern_types,
            "local_authority_id": authority[0] if authority else None,
            "about_authority_id": about[0] if about else None,
            "child_at_immediate_risk": urgent_risk,
            "raised_internally": self.raised.pick(rng),
            "organisation_hash": organisation_hash,
            "has_contact_email": has_email,
            "status": Report.Status.ROUTED,
            "submitted_at": submitted_at,
            "content": crypto.seal_text(key.data_key, content),
            "helpline_key_id": key.helpline_key_id,
            "helpline_sealed_key": key.helpline_sealed_key,
            "reporter_kdf_salt": key.wrap.salt,
            "reporter_kdf_opslimit": key.wrap.params.opslimit,
            "reporter_kdf_memlimit": key.wrap.params.memlimit,
            "reporter_wrapped_key": key.wrap.wrapped_key,
        }
        return _Planned(report=report, case=case)

    def _case(self, decision: routing.RoutingDecision, *, age: float, independent: bool) -> dict[str, Any]:
        rng = self.rng
        submitted_at = self.now - DAY * age
        authority_id = self.authority_by_code.get(decision.refer_to_authority_code or "")
        closed = rng.random() >= math.exp(-age / self.open_tau) if self.open_tau else True
        if closed:
            status = Case.Status.CLOSED
        else:
            status = next(statuses for days, statuses in self.open_by_age if age >= days).pick(rng)
            if independent and age >= 1 and rng.random() < 0.6:
                status = Case.Status.NATIONAL_REVIEW
            if status == Case.Status.REFERRED and (authority_id is None or independent):
                # Nothing to refer to (authority unknown), or never to the council the concern is about.
                status = Case.Status.NATIONAL_REVIEW if independent else Case.Status.AWAITING_REPORTER
        case: dict[str, Any] = {
            "submitted_at": submitted_at,
            "authority_id": authority_id,
            "conflict_authority_id": self.authority_by_code.get(decision.conflict_authority_code or ""),
            "independent_review": decision.independent_review,
            "priority": Case.Priority.URGENT if decision.urgent else Case.Priority.STANDARD,
            "status": status,
            "queue_id": self.queue_ids[decision.queue_slug],
            "assignee_id": None if status == Case.Status.NEW or rng.random() < 0.07 else rng.choice(self.staff),
            "created_at": submitted_at + timedelta(seconds=rng.uniform(0.2, 3.0)),
            "triage_due_at": triage_due(submitted_at, urgent=decision.urgent),
            "reporter_feedback_due_at": cached_deadline(deadlines.reporter_feedback_due, submitted_at),
            "escalated_to_police": rng.random() < 0.03,
        }
        outcome = self.outcomes.pick(rng) if closed else ""
        referred = status == Case.Status.REFERRED or (
            closed and outcome in REFERRED_OUTCOMES and authority_id is not None and not independent
        )
        closed_at = self.at_most_now(submitted_at + DAY * rng.uniform(1, 120), after=submitted_at) if closed else None
        if referred:
            case.update(self._referral(submitted_at, closed_at))
            if closed_at is not None and case["authority_outcome_at"] is not None:
                closed_at = max(closed_at, self.at_most_now(case["authority_outcome_at"] + DAY, after=submitted_at))
        case["closed_at"] = closed_at
        case["outcome"] = outcome
        return case

    def _referral(self, submitted_at: datetime, closed_at: datetime | None) -> dict[str, Any]:
        rng = self.rng
        end = closed_at or self.now
        referred_at = self.at_most_now(submitted_at + DAY * rng.uniform(0.2, 5), after=submitted_at)
        referred_at = min(referred_at, end)
        ack_due = cached_deadline(deadlines.authority_ack_due, referred_at)
        outcome_due = cached_deadline(deadlines.authority_outcome_due, referred_at)
        ack_escalate = cached_deadline(deadlines.authority_ack_escalate, referred_at)
        outcome_escalate = cached_deadline(deadlines.authority_outcome_escalate, referred_at)
        acknowledged = referred_at + DAY * rng.uniform(0.05, 3)
        acknowledged_at = acknowledged if acknowledged < end and (closed_at or rng.random() < 0.9) else None
        outcome_at = None
        if acknowledged_at is not None:
            candidate = referred_at + DAY * rng.uniform(5, 75)
            if candidate < end and (closed_at or rng.random() < 0.5):
                outcome_at = candidate
        return {
            "referred_at": referred_at,
            "authority_ack_due_at": ack_due,
            "authority_outcome_due_at": outcome_due,
            "authority_ack_escalate_at": ack_escalate,
            "authority_outcome_escalate_at": outcome_escalate,
            "authority_acknowledged_at": acknowledged_at,
            "authority_outcome": rng.choice(self.authority_outcomes) if outcome_at else "",
            "authority_outcome_at": outcome_at,
            # What the deadline sweeper would have done: the second rung passed without an answer.
            "escalated": (acknowledged_at is None and ack_escalate < end)
            or (outcome_at is None and outcome_escalate < end),
        }


def _open_tau(open_fraction: float, span_days: float) -> float:
    """The decay (days) for which exp(-age / tau), averaged over ages 0..span_days, is open_fraction;
    0 means every case is closed, inf that every case is open."""
    if open_fraction <= 0:
        return 0.0
    if open_fraction >= 1:
        return math.inf

    def share(tau: float) -> float:
        return tau / span_days * (1 - math.exp(-span_days / tau))

    low, high = 1e-6, span_days * 1e6
    for _ in range(200):
        middle = (low + high) / 2
        low, high = (middle, high) if share(middle) < open_fraction else (low, middle)
    return (low + high) / 2


def _organisation_names() -> list[str]:
    return [f"{place} {kind}" for place in PLACES for kind in KINDS] + [
        f"{place} {kind} {n}" for place in PLACES[:4] for kind in KINDS[:5] for n in range(2, 12)
    ]


def _seed_staff() -> list[User]:
    """Assignees for the seeded cases: demo users with no password and no email (so no alerts)."""
    staff = []
    for username, role in SEED_STAFF:
        user, created = User.objects.get_or_create(
            username=username, defaults={"role": role, "email": "", "is_demo": True, "is_active": True}
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        staff.append(user)
    return staff


class _Claims:
    """Unique-column values held by batches not yet committed, across writer threads: a batch's
    values are checked against these (and against the table), so two batches in flight never clash."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.held: set[str] = set()

    def release(self, values: set[str]) -> None:
        with self.lock:
            self.held -= values


def _unique(
    planned: list[_Planned],
    *,
    column: str,
    table: str,
    key: Callable[[_Planned], dict[str, Any]],
    make: Callable[[_Planned], str],
    claims: _Claims,
    mine: set[str],
) -> int:
    """Make every planned row's ``column`` value unique: within the batch, among the batches being
    written and in ``table``. Values claimed are added to ``mine`` (release them after the commit).
    Returns how many values had to be drawn again."""
    again: dict[int, _Planned] = {}
    fresh: set[str] = set()
    with claims.lock:
        for item in planned:
            value = key(item)[column]
            if value in claims.held:
                again[id(item)] = item
            else:
                claims.held.add(value)
                fresh.add(value)
    mine |= fresh
    candidates, redrawn = planned, 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {column} FROM {table} WHERE {column} = ANY(%s)", [list(fresh)])  # noqa: S608
            taken = {row[0] for row in cursor.fetchall()}
        again.update((id(item), item) for item in candidates if key(item)[column] in taken)
        if not again:
            return redrawn
        fresh = set()
        with claims.lock:
            for item in again.values():
                value = make(item)
                while value in claims.held:
                    value = make(item)
                key(item)[column] = value
                claims.held.add(value)
                fresh.add(value)
                redrawn += 1
        mine |= fresh
        candidates, again = list(again.values()), {}


@dataclass
class SeedResult:
    cases: int
    seconds: float
    access_codes: list[str]
    redrawn: int


class Command(BaseCommand):
    help = (
        "Create COUNT realistic encrypted reports with their routed cases, fast, with PostgreSQL COPY "
        "(development and benchmarks only; refused in production). Every report's content is sealed with "
        "secretbox, but under one of a small pool of precomputed data keys: seeded cases share a few "
        "precomputed access-code wraps (and helpline-sealed keys), so each access code printed at the end "
        "opens every seeded report sealed under its key. Real reports never share keys."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, required=True, help="How many reports and cases to create.")
        parser.add_argument("--batch", type=int, default=20_000, help="Rows per COPY transaction (20000).")
        parser.add_argument(
            "--open-fraction", type=float, default=0.1, help="Share of cases still open (0.1); the rest are closed."
        )
        parser.add_argument("--keys", type=int, default=8, help="Data keys (and access codes) in the pool (8).")
        parser.add_argument(
            "--writers",
            type=int,
            default=2,
            help="Database connections writing batches at once (2). Inside a transaction (tests) always 1.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("seed_cases is refused in production.")
        count, batch, keys, writers = options["count"], options["batch"], options["keys"], options["writers"]
        open_fraction = options["open_fraction"]
        if count < 0 or batch < 1 or keys < 1 or writers < 1 or not 0 <= open_fraction <= 1:
            raise CommandError("--count >= 0, --batch >= 1, --keys >= 1, --writers >= 1, 0 <= --open-fraction <= 1")
        result = self.seed(count=count, batch=batch, open_fraction=open_fraction, keys=keys, writers=writers)
        rate = result.cases / result.seconds if result.seconds else 0.0
        self.stdout.write(
            f"Seeded {result.cases:,} cases in {result.seconds:.1f}s ({rate:,.0f} cases/s); "
            f"{result.redrawn} references or case numbers drawn again to stay unique."
        )
        self.stdout.write("Access codes of the key pool (each opens every seeded report sealed under its key):")
        for n, code in enumerate(result.access_codes, 1):
            self.stdout.write(f"  key {n}: {code}")

    def seed(self, *, count: int, batch: int, open_fraction: float, keys: int, writers: int = 2) -> SeedResult:
        began = clock.perf_counter()
        pool = key_pool(keys)
        self.stdout.write(f"Key pool of {keys} ready in {clock.perf_counter() - began:.1f}s.")
        reports = _Table(Report, REPORT_FIELDS)
        cases = _Table(Case, CASE_FIELDS)
        generator = _Generator(pool=pool, open_fraction=open_fraction, now=datetime.now(UTC))
        # Other threads have connections of their own, outside this transaction: inside one, write here only.
        if connection.in_atomic_block:
            writers = 1
        claims = {"reference": _Claims(), "case_number": _Claims()}
        progress = _Progress(self, count)
        # A thread plans batches (pure Python) while the writers' COPY and commits wait for the server.
        with _Planner(generator, count=count, batch=batch) as planner:
            if writers == 1:
                self._write_all(planner, reports, cases, claims, progress.add)
            else:
                self._write_in_threads(planner, reports, cases, claims, progress, writers)
        for table in (reports, cases):
            table.sequence_check()
        # Fresh statistics: until autovacuum gets round to it the planner would guess from an empty table
        # (seconds-long case lists at a million cases, where milliseconds are possible).
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {reports.table}, {cases.table}")
        return SeedResult(
            cases=progress.done,
            seconds=clock.perf_counter() - progress.started,
            access_codes=[key.access_code for key in pool],
            redrawn=progress.redrawn,
        )

    def _write_all(
        self,
        planner: _Planner,
        reports: _Table,
        cases: _Table,
        claims: dict[str, _Claims],
        done: Callable[[int, int], None],
    ) -> None:
        rng = random.Random()  # noqa: S311 - synthetic data
        while (planned := planner.take()) is not None:
            done(len(planned), self._write(planned, reports, cases, claims, rng))

    def _write_in_threads(
        self,
        planner: _Planner,
        reports: _Table,
        cases: _Table,
        claims: dict[str, _Claims],
        progress: _Progress,
        writers: int,
    ) -> None:
        events: queue.Queue[tuple[int, int] | BaseException | None] = queue.Queue()

        def writer() -> None:
            try:
                self._write_all(planner, reports, cases, claims, lambda size, redrawn: events.put((size, redrawn)))
                events.put(None)
            except BaseException as error:  # handed to the main thread, which raises it
                planner.stop.set()
                events.put(error)
            finally:
                connection.close()  # this thread's own connection

        threads = [threading.Thread(target=writer, name=f"seed-writer-{n}", daemon=True) for n in range(writers)]
        for thread in threads:
            thread.start()
        failure: BaseException | None = None
        running = writers
        try:
            while running:
                event = events.get()
                if event is None:
                    running -= 1
                elif isinstance(event, BaseException):
                    running -= 1
                    failure = failure or event
                else:
                    progress.add(*event)
        finally:
            planner.stop.set()
            for thread in threads:
                thread.join()
        if failure is not None:
            raise CommandError(f"a writer failed: {failure!r}") from failure

    def _write(
        self, planned: list[_Planned], reports: _Table, cases: _Table, claims: dict[str, _Claims], rng: random.Random
    ) -> int:
        """One batch, one transaction: unique references and case numbers, ids, then COPY."""
        size = len(planned)
        held: dict[str, set[str]] = {"reference": set(), "case_number": set()}
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    # Seed data: a crash loses at most the last batches; no need to wait for the disk.
                    cursor.execute("SET LOCAL synchronous_commit TO OFF")
                redrawn = _unique(
                    planned,
                    column="reference",
                    table=reports.table,
                    key=lambda item: item.report,
                    make=lambda item: reference(rng),
                    claims=claims["reference"],
                    mine=held["reference"],
                )
                redrawn += _unique(
                    planned,
                    column="case_number",
                    table=cases.table,
                    key=lambda item: item.case,
                    make=lambda item: case_number(rng, item.report["submitted_at"].year),
                    claims=claims["case_number"],
                    mine=held["case_number"],
                )
                for item, report_id, case_id in zip(
                    planned, reports.reserve_ids(size), cases.reserve_ids(size), strict=True
                ):
                    item.report["id"] = item.case["report_id"] = report_id
                    item.case["id"] = case_id
                reports.copy(reports.row(item.report) for item in planned)
                cases.copy(cases.row(item.case) for item in planned)
        finally:
            for column, values in held.items():
                claims[column].release(values)
        return redrawn


class _Progress:
    def __init__(self, command: BaseCommand, count: int) -> None:
        self.command = command
        self.count = count
        self.done = self.redrawn = 0
        self.started = clock.perf_counter()

    def add(self, size: int, redrawn: int) -> None:
        self.done += size
        self.redrawn += redrawn
        elapsed = clock.perf_counter() - self.started
        self.command.stdout.write(
            f"  {self.done:>10,} / {self.count:,} cases  {elapsed:7.1f}s  {self.done / elapsed:8,.0f} cases/s"
        )
        self.command.stdout.flush()


class _Planner:
    """Plans batches in a background thread, at most two ahead; writers ``take`` them."""

    _DONE = object()

    def __init__(self, generator: _Generator, *, count: int, batch: int) -> None:
        self.generator = generator
        self.count = count
        self.starts = list(range(0, count, batch))
        self.batch = batch
        self.batches: queue.Queue[object] = queue.Queue(maxsize=2)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="seed-planner", daemon=True)

    def __enter__(self) -> _Planner:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        while self.thread.is_alive():
            with contextlib.suppress(queue.Empty):
                self.batches.get(timeout=0.1)
        self.thread.join()

    def _put(self, item: object) -> None:
        while not self.stop.is_set():
            try:
                self.batches.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def _run(self) -> None:
        try:
            # Oldest first, evenly over the span, as a live system fills its tables: ids and the rows'
            # places on disk follow time (recent, mostly open, cases end up together at the end).
            span, count, rng = self.generator.span_days, self.count, self.generator.rng
            for start in self.starts:
                if self.stop.is_set():
                    return
                end = min(start + self.batch, count)
                self._put([self.generator.plan(span * (1 - (n + rng.random()) / count)) for n in range(start, end)])
            self._put(self._DONE)
        except BaseException as error:  # handed to the writers, which raise it
            self._put(error)

    def take(self) -> list[_Planned] | None:
        """The next batch; None when there are no more (or the run is stopping)."""
        while not self.stop.is_set():
            try:
                item = self.batches.get(timeout=0.1)
            except queue.Empty:
                continue
            if item is self._DONE or isinstance(item, BaseException):
                self.batches.put(item)  # for the other writers; there is room: this one was just taken
            if item is self._DONE:
                return None
            if isinstance(item, BaseException):
                raise CommandError(f"planning failed: {item!r}") from item
            return item  # type: ignore[return-value]
        return None
