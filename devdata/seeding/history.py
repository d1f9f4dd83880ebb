"""A synthetic weekly history for pattern detection (``manage.py seed_history``), with injected clusters.

Background: for each of the last ``weeks`` weeks (weeks start on Monday, London time; week 0 is this week,
up to now), a Poisson number of reports around ``per_week``, with a yearly seasonality (+-30%), each planned
by the bulk seeder's generator (devdata.seeding.generator: routing, deadlines and identifiers as the services
make them, content sealed) and written with binary COPY. Background reports name no organisation (so that
no organisation repeats by chance), and referrals are acknowledged on time, bar a few.

Injected clusters (``Spec``; the grammar is in the command's help):

* ``surge:REGION:CONCERN_TYPE:WEEK:FACTOR``: in week WEEK, that region x concern type gets FACTOR times its
  background weekly average (taken as at least 1), the extra reports spread over the region's authorities;
* ``late:GSS_CODE:WEEK``: the authority gets ``authority_referrals`` referred cases every week of the
  history, acknowledged on time until week WEEK, and from that week on never acknowledged;
* ``organisation:NAME:REPORTS:AUTHORITIES:WEEK``: REPORTS reports in week WEEK naming the organisation NAME,
  spread over AUTHORITIES authorities.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from core.timetrail import day_start
from devdata.seeding.bulk import new_claims, outbox_table, report_and_case_tables, write_batch
from devdata.seeding.generator import DAY, CustodyWraps, Generator, Planned, key_pool
from directory.models import LocalAuthority
from oversight.series import period_start
from referrals.models import Referral
from reports.models import ConcernType

GRAMMAR = (
    "surge:REGION:CONCERN_TYPE:WEEK:FACTOR | late:GSS_CODE:WEEK | organisation:NAME:REPORTS:AUTHORITIES:WEEK "
    "(WEEK counts back from this week, 0 = this week)"
)


@dataclass(frozen=True)
class Surge:
    region: str
    concern_type: str
    week: int
    factor: float


@dataclass(frozen=True)
class Late:
    authority: str
    week: int


@dataclass(frozen=True)
class Organisation:
    name: str
    reports: int
    authorities: int
    week: int


Spec = Surge | Late | Organisation


def _int(text: str, what: str, spec: str, *, low: int = 0) -> int:
    try:
        value = int(text)
    except ValueError:
        raise CommandError(f"{spec!r}: {what} must be a whole number, not {text!r}") from None
    if value < low:
        raise CommandError(f"{spec!r}: {what} must be at least {low}")
    return value


def spec_parse(text: str, *, weeks: int, regions: dict[str, str], authorities: set[str]) -> Spec:
    """One --inject SPEC, checked against the history's length and the authority directory; CommandError
    saying what is wrong otherwise. ``regions``: each region's name by its lower-cased name."""
    kind, _, rest = text.partition(":")
    parts = rest.split(":") if rest else []
    if kind == "surge":
        if len(parts) != 4:
            raise CommandError(f"{text!r}: expected surge:REGION:CONCERN_TYPE:WEEK:FACTOR")
        region = regions.get(parts[0].strip().lower())
        if region is None:
            raise CommandError(f"{text!r}: no region {parts[0]!r}; one of: {', '.join(sorted(regions.values()))}")
        if parts[1] not in ConcernType.values:
            raise CommandError(f"{text!r}: no concern type {parts[1]!r}; one of: {', '.join(ConcernType.values)}")
        try:
            factor = float(parts[3])
        except ValueError:
            raise CommandError(f"{text!r}: FACTOR must be a number, not {parts[3]!r}") from None
        if not math.isfinite(factor) or factor <= 1:
            raise CommandError(f"{text!r}: FACTOR must be more than 1")
        return Surge(region, parts[1], _week(parts[2], text, weeks), factor)
    if kind == "late":
        if len(parts) != 2:
            raise CommandError(f"{text!r}: expected late:GSS_CODE:WEEK")
        if parts[0] not in authorities:
            raise CommandError(f"{text!r}: no local authority with GSS code {parts[0]!r}")
        return Late(parts[0], _week(parts[1], text, weeks))
    if kind == "organisation":
        if len(parts) != 4 or not parts[0].strip():
            raise CommandError(f"{text!r}: expected organisation:NAME:REPORTS:AUTHORITIES:WEEK")
        reports = _int(parts[1], "REPORTS", text, low=1)
        spread = _int(parts[2], "AUTHORITIES", text, low=1)
        if spread > reports or spread > len(authorities):
            raise CommandError(f"{text!r}: AUTHORITIES must be at most REPORTS and the authorities there are")
        return Organisation(parts[0].strip(), reports, spread, _week(parts[3], text, weeks))
    raise CommandError(f"{text!r}: not a SPEC; expected one of {GRAMMAR}")


def _week(text: str, spec: str, weeks: int) -> int:
    week = _int(text, "WEEK", spec)
    if week >= weeks:
        raise CommandError(f"{spec!r}: WEEK must be less than --weeks ({weeks})")
    return week


@dataclass
class HistoryResult:
    reports: int
    injected: int


class History:
    """Plans the rows of a history, then writes them."""

    def __init__(self, *, weeks: int, seed: int, per_week: float, authority_referrals: int) -> None:
        self.weeks = weeks
        self.per_week = per_week
        self.authority_referrals = authority_referrals
        self.rng = random.Random(seed)  # noqa: S311 - synthetic data
        self.counts = np.random.default_rng(seed)
        self.now = timezone.now()
        self.generator = Generator(pool=key_pool(2), open_fraction=0.1, now=self.now, seed=seed)
        self.this_week = period_start(timezone.localdate(self.now))
        rows = list(LocalAuthority.objects.values_list("gss_code", "region"))
        self.by_region: dict[str, list[str]] = {}
        for code, region in rows:
            self.by_region.setdefault(region, []).append(code)
        self.codes = sorted(code for code, _ in rows)
        self.planned: list[Planned] = []
        self.injected = 0

    def regions(self) -> dict[str, str]:
        return {region.lower(): region for region in self.by_region}

    def age_in(self, week: int) -> float:
        """A random moment of week ``week`` (0: this week, up to now), as days before now."""
        start = day_start(self.this_week - timedelta(weeks=week))
        end = min(start + timedelta(weeks=1), self.now)
        moment = start + (end - start) * self.rng.uniform(0.001, 0.999)
        return (self.now - moment) / DAY

    def elapsed(self, week: int) -> float:
        """The share of week ``week`` that has passed (1 but for this week)."""
        start = day_start(self.this_week - timedelta(weeks=week))
        return min(1.0, (self.now - start) / timedelta(weeks=1))

    def season(self, week: int) -> float:
        day = self.this_week - timedelta(weeks=week)
        return 1 + 0.3 * math.sin(2 * math.pi * day.timetuple().tm_yday / 365.25)

    def plan(self, specs: list[Spec]) -> None:
        late = {spec.authority: spec.week for spec in specs if isinstance(spec, Late)}
        background: list[Planned] = []
        for week in range(self.weeks - 1, -1, -1):
            rate = self.per_week * self.season(week) * self.elapsed(week)
            for _ in range(int(self.counts.poisson(rate))):
                background.append(self.generator.plan(self.age_in(week), organisation=""))
            for code, from_week in late.items():
                for _ in range(self.authority_referrals):
                    planned = self.generator.plan(self.age_in(week), authority_code=code, organisation="", refer=True)
                    if week <= from_week:
                        self._unacknowledged(planned)
                        self.injected += 1
                    background.append(planned)
        for planned in background:
            self._on_time(planned)
        self.planned = background
        for spec in specs:
            if isinstance(spec, Surge):
                self._surge(spec, background)
            elif isinstance(spec, Organisation):
                self._organisation(spec)

    def _surge(self, spec: Surge, background: list[Planned]) -> None:
        ids = {
            pk
            for pk, code, region in self.generator.authority_rows.values()
            if region == spec.region and code in self.generator.authority_by_code
        }
        matching = sum(
            1
            for planned in background
            if planned.case
            and planned.case["authority_id"] in ids
            and spec.concern_type in planned.report["concern_types"]
        )
        average = max(matching / self.weeks, 1.0)
        extra = math.ceil((spec.factor - 1) * average)
        codes = self.by_region[spec.region]
        for _ in range(extra):
            self.planned.append(
                self.generator.plan(
                    self.age_in(spec.week),
                    authority_code=self.rng.choice(codes),
                    concern_types=[spec.concern_type],
                    organisation="",
                )
            )
        self.injected += extra

    def _organisation(self, spec: Organisation) -> None:
        codes = self.rng.sample(self.codes, spec.authorities)
        for n in range(spec.reports):
            self.planned.append(
                self.generator.plan(
                    self.age_in(spec.week), authority_code=codes[n % len(codes)], organisation=spec.name
                )
            )
        self.injected += spec.reports

    def _on_time(self, planned: Planned) -> None:
        """Background referrals are acknowledged within the working day after, bar one in twenty."""
        referral = planned.referral
        if referral is None or referral.get("_late"):
            return
        if self.rng.random() < 0.95:
            acknowledged = referral["referred_at"] + DAY * self.rng.uniform(0.02, 0.9)
            referral["acknowledged_at"] = self.generator.at_most_now(acknowledged, after=referral["referred_at"])

    def _unacknowledged(self, planned: Planned) -> None:
        referral = planned.referral
        if referral is None:
            return
        referral.update(
            _late=True,
            acknowledged_at=None,
            outcome_at=None,
            outcome="",
            status=Referral.Status.AWAITING_ACKNOWLEDGEMENT,
            escalated=referral["ack_escalate_at"] < self.now,
        )

    def write(self, batch: int = 5000) -> HistoryResult:
        for planned in self.planned:
            if planned.referral is not None:
                planned.referral.pop("_late", None)
        # Oldest first, as a live system fills its tables.
        self.planned.sort(key=lambda item: item.report["submitted_at"])
        reports, cases, referrals = report_and_case_tables()
        claims, custody, outbox = new_claims(), CustodyWraps(self.generator.pool), outbox_table()
        for start in range(0, len(self.planned), batch):
            write_batch(
                self.planned[start : start + batch],
                reports,
                cases,
                claims,
                self.rng,
                referrals,
                custody=custody,
                outbox=outbox,
            )
        for table in (reports, cases, referrals, outbox):
            table.sequence_check()
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {reports.table}, {cases.table}, {referrals.table}")
        return HistoryResult(reports=len(self.planned), injected=self.injected)


def seed_history(
    *, weeks: int, seed: int, inject: list[str], per_week: float = 60.0, authority_referrals: int = 8
) -> HistoryResult:
    if weeks < 1:
        raise CommandError("--weeks must be at least 1")
    if not LocalAuthority.objects.exists():
        raise CommandError("No local authorities: run `manage.py load_local_authorities` first.")
    history = History(weeks=weeks, seed=seed, per_week=per_week, authority_referrals=authority_referrals)
    specs = [
        spec_parse(text, weeks=weeks, regions=history.regions(), authorities=set(history.codes)) for text in inject
    ]
    history.plan(specs)
    return history.write()
