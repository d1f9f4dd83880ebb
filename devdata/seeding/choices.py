"""The shares seeded data is drawn in, and the cheap weighted choice that draws from them.

The tables say how often each value turns up (channels, anonymity, statuses by age, outcomes, ...), so
that a seeded database looks like a few years of a live one to the pages, the queries and the planner.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Generic, TypeVar

from accounts.models import User
from reports.models import Anonymity, Channel, RaisedInternally, ReporterSector
from triage.models import Case, Outcome

T = TypeVar("T")

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
# A case closed with one of these went to its authority first (when it had one and no conflict).
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


def organisation_names() -> list[str]:
    """About three hundred made-up organisations: enough for pattern detection to find repeats."""
    return [f"{place} {kind}" for place in PLACES for kind in KINDS] + [
        f"{place} {kind} {n}" for place in PLACES[:4] for kind in KINDS[:5] for n in range(2, 12)
    ]


class Weighted(Generic[T]):
    """Weighted choice by table lookup (weights rounded to 1/resolution): far cheaper per pick than
    random.choices, which matters a million times over."""

    def __init__(self, pairs: Sequence[tuple[T, float]], resolution: int = 4096) -> None:
        total = sum(weight for _, weight in pairs)
        self.table: list[T] = []
        for value, weight in pairs:
            self.table += [value] * max(1, round(weight / total * resolution))
        self.size = len(self.table)

    def pick(self, rng: random.Random) -> T:
        return self.table[int(rng.random() * self.size)]
